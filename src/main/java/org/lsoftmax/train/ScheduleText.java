package org.lsoftmax.train;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.lsoftmax.InvalidInputException;

/**
 * Text form of a {@link BetaSchedule}, used in logs, metrics and checkpoints:
 * {@code constant:beta=5}, {@code power:base=1000,gamma=0.002,power=4,minimum=5},
 * {@code geometric:start=1000,scale=0.99,minimum=5}. Doubles are written with
 * {@link Double#toString}, which reads back to the identical value.
 */
public final class ScheduleText {

    private ScheduleText() {
    }

    public static String format(BetaSchedule schedule) {
        return switch (schedule) {
            case BetaSchedule.Constant c -> "constant:beta=" + c.beta();
            case BetaSchedule.Power p -> "power:base=" + p.base() + ",gamma=" + p.gamma() + ",power=" + p.power()
                    + ",minimum=" + p.minimum();
            case BetaSchedule.Geometric g -> "geometric:start=" + g.start() + ",scale=" + g.scale() + ",minimum=" + g.minimum();
        };
    }

    public static BetaSchedule parse(String text) {
        int colon = text.indexOf(':');
        if (colon < 0) {
            throw new InvalidInputException("schedule '" + text + "' must look like kind:name=value,...");
        }
        String kind = text.substring(0, colon).toLowerCase(Locale.ROOT);
        Map<String, Double> values = new LinkedHashMap<>();
        for (String pair : text.substring(colon + 1).split(",")) {
            int equals = pair.indexOf('=');
            if (equals < 0) {
                throw new InvalidInputException("schedule '" + text + "': '" + pair + "' is not name=value");
            }
            try {
                values.put(pair.substring(0, equals).trim(), Double.parseDouble(pair.substring(equals + 1).trim()));
            } catch (NumberFormatException e) {
                throw new InvalidInputException("schedule '" + text + "': '" + pair + "' has no number", e);
            }
        }
        return switch (kind) {
            case "constant" -> new BetaSchedule.Constant(get(values, "beta", text));
            case "power" -> new BetaSchedule.Power(get(values, "base", text), get(values, "gamma", text),
                    get(values, "power", text), get(values, "minimum", text));
            case "geometric" -> new BetaSchedule.Geometric(get(values, "start", text), get(values, "scale", text),
                    get(values, "minimum", text));
            default -> throw new InvalidInputException("schedule kind '" + kind + "' is not constant, power or geometric");
        };
    }

    private static double get(Map<String, Double> values, String name, String text) {
        Double value = values.get(name);
        if (value == null) {
            throw new InvalidInputException("schedule '" + text + "' lacks " + name);
        }
        return value;
    }
}
