package org.lsoftmax.head;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.math.LSoftmaxMath;
import org.lsoftmax.math.MarginMath;

/**
 * One loss of the angular-margin family, as it travels from the command line to the kernels: the kind
 * and its parameters (docs/DERIVATION.md, (F1), (F2)). Every loss is the mean softmax cross-entropy of
 * logits whose target entry alone carries the margin:
 * <pre>
 *   kind        non-target f_j        target f_y (before annealing)      parameters (defaults)
 *   lsoftmax    w_j.x                 |w_y||x| psi_m(theta)             margin m (integer 1..16)
 *   sphereface  |x| cos(theta_j)      |x| psi_m(theta)                  margin m (integer 1..16)
 *   cosface     s cos(theta_j)        s (cos(theta) - m3)               scale s (64), m3 (0.35)
 *   arcface     s cos(theta_j)        s cos(theta + m2)                 scale s (64), m2 (0.5)
 *   combined    s cos(theta_j)        s (cos(m1 theta + m2) - m3)       s (64), m1 (1.0), m2 (0.3), m3 (0.2)
 * </pre>
 * Annealing blends the target with its margin-free value for every kind alike:
 * {@code f_y = (beta plain_y + margin_y) / (1 + beta)}. Parameters a kind does not use are kept at
 * their neutral values (m = 1, m1 = 1, m2 = m3 = 0, s = 1) so that equal losses compare equal.
 *
 * @param kind   which loss
 * @param margin the integer margin m of lsoftmax and sphereface (1 for the others)
 * @param m1     the multiplicative angular margin of combined (1 for the others)
 * @param m2     the additive angular margin of arcface and combined, radians in [0, pi)
 * @param m3     the additive cosine margin of cosface and combined, in [0, 2]
 * @param scale  the logit scale s of cosface, arcface and combined (1 for lsoftmax and sphereface)
 */
public record MarginLoss(Kind kind, int margin, double m1, double m2, double m3, double scale) {

    /** The kinds, with the codes {@link MarginMath} and the kernels take. */
    public enum Kind {
        LSOFTMAX(MarginMath.LSOFTMAX, false, false),
        SPHEREFACE(MarginMath.SPHEREFACE, true, false),
        COSFACE(MarginMath.COSFACE, true, true),
        ARCFACE(MarginMath.ARCFACE, true, true),
        COMBINED(MarginMath.COMBINED, true, true);

        private final int code;
        private final boolean normalisesWeights;
        private final boolean normalisesFeatures;

        Kind(int code, boolean normalisesWeights, boolean normalisesFeatures) {
            this.code = code;
            this.normalisesWeights = normalisesWeights;
            this.normalisesFeatures = normalisesFeatures;
        }

        /** The int the kernels and {@link MarginMath} take. */
        public int code() {
            return code;
        }

        /** Whether the logits use w_j / |w_j| (sphereface, cosface, arcface, combined). */
        public boolean normalisesWeights() {
            return normalisesWeights;
        }

        /** Whether the logits use s x / |x| instead of x (cosface, arcface, combined). */
        public boolean normalisesFeatures() {
            return normalisesFeatures;
        }

        /** Whether the margin is the integer m of psi (lsoftmax, sphereface). */
        public boolean integerMargin() {
            return !normalisesFeatures;
        }

        /** The name on the command line. */
        public String cliName() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Kind parse(String name) {
            for (Kind kind : values()) {
                if (kind.cliName().equals(name.trim().toLowerCase(Locale.ROOT))) {
                    return kind;
                }
            }
            throw new InvalidInputException("unknown loss '" + name + "', expected one of lsoftmax, sphereface, cosface, arcface, combined");
        }
    }

    /** Largest scale accepted: far beyond any published setting (64), below what makes exp overflow float64. */
    public static final double MAX_SCALE = 1e4;
    /** Largest multiplicative margin of combined (as for the integer margin). */
    public static final double MAX_M1 = LSoftmaxMath.MAX_MARGIN;
    /** Largest additive cosine margin: cos(theta) - m3 spans [-1 - m3, 1 - m3]. */
    public static final double MAX_M3 = 2.0;

    public static final double DEFAULT_SCALE = 64.0;
    public static final double DEFAULT_COSFACE_M3 = 0.35;
    public static final double DEFAULT_ARCFACE_M2 = 0.5;
    public static final double DEFAULT_COMBINED_M1 = 1.0;
    public static final double DEFAULT_COMBINED_M2 = 0.3;
    public static final double DEFAULT_COMBINED_M3 = 0.2;

    public MarginLoss {
        if (kind == null) {
            throw new InvalidInputException("a loss needs a kind");
        }
        if (kind.integerMargin()) {
            HeadChecks.checkMargin(margin);
            requireNeutral(kind, "m1", m1, 1.0);
            requireNeutral(kind, "m2", m2, 0.0);
            requireNeutral(kind, "m3", m3, 0.0);
            requireNeutral(kind, "the scale s", scale, 1.0);
        } else {
            if (margin != 1) {
                throw new InvalidInputException(kind.cliName() + " takes no integer margin m (got " + margin
                        + "): its margins are " + (kind == Kind.COSFACE ? "--m3" : kind == Kind.ARCFACE ? "--m2" : "--m1, --m2, --m3"));
            }
            if (!(scale > 0.0 && scale <= MAX_SCALE)) {
                throw new InvalidInputException("the scale s of " + kind.cliName() + " must be in (0, " + (long) MAX_SCALE + "], got " + scale);
            }
            if (!(m1 >= 1.0 && m1 <= MAX_M1)) {
                throw new InvalidInputException("m1 must be a real number in [1, " + (long) MAX_M1 + "], got " + m1);
            }
            if (!(m2 >= 0.0 && m2 < Math.PI)) {
                throw new InvalidInputException("m2 must be an angle in radians in [0, pi), got " + m2);
            }
            if (!(m3 >= 0.0 && m3 <= MAX_M3)) {
                throw new InvalidInputException("m3 must be in [0, " + MAX_M3 + "], got " + m3);
            }
            if (kind == Kind.COSFACE) {
                requireNeutral(kind, "m1", m1, 1.0);
                requireNeutral(kind, "m2", m2, 0.0);
            } else if (kind == Kind.ARCFACE) {
                requireNeutral(kind, "m1", m1, 1.0);
                requireNeutral(kind, "m3", m3, 0.0);
            }
        }
    }

    private static void requireNeutral(Kind kind, String name, double value, double neutral) {
        if (value != neutral) {
            throw new InvalidInputException(kind.cliName() + " takes no " + name + " (got " + value + ")");
        }
    }

    public static MarginLoss lsoftmax(int margin) {
        return new MarginLoss(Kind.LSOFTMAX, margin, 1.0, 0.0, 0.0, 1.0);
    }

    public static MarginLoss sphereface(int margin) {
        return new MarginLoss(Kind.SPHEREFACE, margin, 1.0, 0.0, 0.0, 1.0);
    }

    public static MarginLoss cosface(double scale, double m3) {
        return new MarginLoss(Kind.COSFACE, 1, 1.0, 0.0, m3, scale);
    }

    public static MarginLoss arcface(double scale, double m2) {
        return new MarginLoss(Kind.ARCFACE, 1, 1.0, m2, 0.0, scale);
    }

    public static MarginLoss combined(double scale, double m1, double m2, double m3) {
        return new MarginLoss(Kind.COMBINED, 1, m1, m2, m3, scale);
    }

    /** The loss without its margin: plain (normalised, scaled) softmax of the same kind's logits. */
    public boolean isMarginFree() {
        return switch (kind) {
            case LSOFTMAX, SPHEREFACE -> margin == 1;
            default -> m1 == 1.0 && m2 == 0.0 && m3 == 0.0;
        };
    }

    /** The same loss with another scale (warm-ups of s); lsoftmax and sphereface have none. */
    public MarginLoss withScale(double newScale) {
        return new MarginLoss(kind, margin, m1, m2, m3, newScale);
    }

    /** The same loss with its margins multiplied by {@code fraction} in [0, 1] (warm-ups of m2, m3, m1 - 1). */
    public MarginLoss withMarginFraction(double fraction) {
        if (kind.integerMargin()) {
            return this;
        }
        return new MarginLoss(kind, margin, 1.0 + fraction * (m1 - 1.0), fraction * m2, fraction * m3, scale);
    }

    /** E.g. "lsoftmax(m=4)", "arcface(s=30, m2=0.5)". */
    @Override
    public String toString() {
        return kind.cliName() + "(" + String.join(", ", parameters().entrySet().stream()
                .map(entry -> entry.getKey() + "=" + format(entry.getValue())).toList()) + ")";
    }

    /** The parameters that mean something for this kind, in the order of the table above. */
    public Map<String, Double> parameters() {
        Map<String, Double> values = new LinkedHashMap<>();
        switch (kind) {
            case LSOFTMAX, SPHEREFACE -> values.put("m", (double) margin);
            case COSFACE -> {
                values.put("s", scale);
                values.put("m3", m3);
            }
            case ARCFACE -> {
                values.put("s", scale);
                values.put("m2", m2);
            }
            case COMBINED -> {
                values.put("s", scale);
                values.put("m1", m1);
                values.put("m2", m2);
                values.put("m3", m3);
            }
        }
        return values;
    }

    private static String format(double value) {
        return value == Math.rint(value) && Math.abs(value) < 1e9 ? Long.toString((long) value) : Double.toString(value);
    }

    /** The text stored in checkpoints: {@code kind:name=value,...} with values as {@link Double#toString}. */
    public String toText() {
        StringBuilder text = new StringBuilder(kind.cliName()).append(':');
        boolean first = true;
        for (Map.Entry<String, Double> entry : parameters().entrySet()) {
            text.append(first ? "" : ",").append(entry.getKey()).append('=')
                    .append(entry.getKey().equals("m") ? Integer.toString(entry.getValue().intValue()) : Double.toString(entry.getValue()));
            first = false;
        }
        return text.toString();
    }

    /** Reads {@link #toText()}; every problem is an {@link InvalidInputException} naming the text. */
    public static MarginLoss parse(String text) {
        int colon = text.indexOf(':');
        if (colon < 0) {
            throw new InvalidInputException("loss '" + text + "' must look like kind:name=value,...");
        }
        Kind kind = Kind.parse(text.substring(0, colon));
        Map<String, Double> values = new LinkedHashMap<>();
        for (String pair : text.substring(colon + 1).split(",")) {
            if (pair.isBlank()) {
                continue;
            }
            int equals = pair.indexOf('=');
            if (equals < 0) {
                throw new InvalidInputException("loss '" + text + "': '" + pair + "' is not name=value");
            }
            try {
                values.put(pair.substring(0, equals).trim(), Double.parseDouble(pair.substring(equals + 1).trim()));
            } catch (NumberFormatException e) {
                throw new InvalidInputException("loss '" + text + "': '" + pair + "' has no number", e);
            }
        }
        double m = values.getOrDefault("m", 1.0);
        if (m != Math.rint(m) || Math.abs(m) > LSoftmaxMath.MAX_MARGIN) {
            throw new InvalidInputException("loss '" + text + "': the margin m must be an integer in [1, " + LSoftmaxMath.MAX_MARGIN + "]");
        }
        return new MarginLoss(kind, (int) m, values.getOrDefault("m1", 1.0), values.getOrDefault("m2", 0.0),
                values.getOrDefault("m3", 0.0), values.getOrDefault("s", 1.0));
    }
}
