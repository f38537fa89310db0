package org.lsoftmax.train;

import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.head.HeadChecks;
import org.lsoftmax.head.MarginLoss;

/**
 * Everything that determines a training run's numbers (with the data and the pass). Stored in every
 * checkpoint as {@code key=value} text, so that {@code train --resume} and {@code test} rebuild the
 * same network and continue the same schedule.
 *
 * @param hidden             widths of the hidden layers of the MLP feature extractor
 * @param featureDimension   D, the feature size fed to the L-Softmax head (2 for pictures)
 * @param learningRateSteps  1-based epochs at whose start the learning rate is divided by 10
 * @param epochs             total epochs of the run (a resumed run may raise it)
 */
public record TrainConfig(MarginLoss loss, List<Integer> hidden, int featureDimension, int batchSize,
        double learningRate, List<Integer> learningRateSteps, double momentum, double weightDecay,
        int epochs, long seed, BetaSchedule schedule, String passName, Warmup warmup, List<Integer> trainClasses) {

    public static final double DEFAULT_MOMENTUM = 0.9;
    public static final double DEFAULT_WEIGHT_DECAY = 5e-4;

    /**
     * Warm-ups of the normalising losses over the first iterations (0 = none): the margins (m2, m3,
     * m1 - 1) grow linearly from 0, the scale s linearly from 1, reaching the configured values at the
     * given iteration ({@link #lossAt}).
     */
    public record Warmup(long marginIterations, long scaleIterations) {
        public static final Warmup NONE = new Warmup(0, 0);

        public Warmup {
            if (marginIterations < 0 || scaleIterations < 0) {
                throw new InvalidInputException("warm-up lengths must be >= 0 iterations, got " + marginIterations + " and " + scaleIterations);
            }
        }
    }

    /** The L-Softmax configuration of before the margin family: integer margin m, no warm-up, all classes. */
    public TrainConfig(int margin, List<Integer> hidden, int featureDimension, int batchSize, double learningRate,
            List<Integer> learningRateSteps, double momentum, double weightDecay, int epochs, long seed, BetaSchedule schedule,
            String passName) {
        this(MarginLoss.lsoftmax(HeadChecks.checkMargin(margin)), hidden, featureDimension, batchSize, learningRate, learningRateSteps,
                momentum, weightDecay, epochs, seed, schedule, passName, Warmup.NONE, List.of());
    }

    public TrainConfig {
        if (loss == null) {
            throw new InvalidInputException("a training configuration needs a loss");
        }
        warmup = warmup == null ? Warmup.NONE : warmup;
        trainClasses = List.copyOf(trainClasses == null ? List.of() : trainClasses);
        hidden = List.copyOf(hidden);
        learningRateSteps = List.copyOf(learningRateSteps);
        if (featureDimension < 1) {
            throw new InvalidInputException("feature dimension must be >= 1, got " + featureDimension);
        }
        if (batchSize < 1) {
            throw new InvalidInputException("batch size must be >= 1, got " + batchSize);
        }
        if (!(learningRate > 0.0) || Double.isInfinite(learningRate)) {
            throw new InvalidInputException("learning rate must be a finite number > 0, got " + learningRate);
        }
        if (!(momentum >= 0.0 && momentum < 1.0) || !(weightDecay >= 0.0) || Double.isInfinite(weightDecay)) {
            throw new InvalidInputException("need 0 <= momentum < 1 and finite weight decay >= 0, got " + momentum
                    + " and " + weightDecay);
        }
        if (epochs < 1) {
            throw new InvalidInputException("epochs must be >= 1, got " + epochs);
        }
        for (int step : learningRateSteps) {
            if (step < 1) {
                throw new InvalidInputException("learning-rate steps are 1-based epochs, so each must be >= 1, got "
                        + learningRateSteps);
            }
        }
        for (int width : hidden) {
            if (width < 1) {
                throw new InvalidInputException("hidden layer widths must be >= 1, got " + hidden);
            }
        }
    }

    /** The integer margin m (L-Softmax, SphereFace; 1 for the other losses). */
    public int margin() {
        return loss.margin();
    }

    /** The loss at an iteration: the configured one, or on its way there during a warm-up. */
    public MarginLoss lossAt(long iteration) {
        MarginLoss at = loss;
        if (warmup.marginIterations() > 0 && iteration < warmup.marginIterations()) {
            at = at.withMarginFraction((double) iteration / warmup.marginIterations());
        }
        if (warmup.scaleIterations() > 0 && iteration < warmup.scaleIterations() && !loss.kind().integerMargin()) {
            at = at.withScale(1.0 + (loss.scale() - 1.0) * iteration / warmup.scaleIterations());
        }
        return at;
    }

    /** Learning rate of a 1-based epoch: divided by 10 at each step epoch reached. */
    public double learningRateAt(int epoch) {
        double rate = learningRate;
        for (int step : learningRateSteps) {
            if (epoch >= step) {
                rate *= 0.1;
            }
        }
        return rate;
    }

    public TrainConfig withEpochs(int newEpochs) {
        return new TrainConfig(loss, hidden, featureDimension, batchSize, learningRate, learningRateSteps, momentum,
                weightDecay, newEpochs, seed, schedule, passName, warmup, trainClasses);
    }

    public TrainConfig withPassName(String newPassName) {
        return new TrainConfig(loss, hidden, featureDimension, batchSize, learningRate, learningRateSteps, momentum,
                weightDecay, epochs, seed, schedule, newPassName, warmup, trainClasses);
    }

    public TrainConfig withWarmup(Warmup newWarmup) {
        return new TrainConfig(loss, hidden, featureDimension, batchSize, learningRate, learningRateSteps, momentum,
                weightDecay, epochs, seed, schedule, passName, newWarmup, trainClasses);
    }

    /** Training on a subset of the classes (their labels in this order become 0, 1, ...); empty = all. */
    public TrainConfig withTrainClasses(List<Integer> classes) {
        return new TrainConfig(loss, hidden, featureDimension, batchSize, learningRate, learningRateSteps, momentum,
                weightDecay, epochs, seed, schedule, passName, warmup, classes);
    }

    /** The {@code key=value} lines stored in checkpoints. */
    public String toText() {
        return "loss=" + loss.toText() + "\n"
                + "margin=" + loss.margin() + "\n"
                + "hidden=" + join(hidden) + "\n"
                + "featureDimension=" + featureDimension + "\n"
                + "batchSize=" + batchSize + "\n"
                + "learningRate=" + learningRate + "\n"
                + "learningRateSteps=" + join(learningRateSteps) + "\n"
                + "momentum=" + momentum + "\n"
                + "weightDecay=" + weightDecay + "\n"
                + "epochs=" + epochs + "\n"
                + "seed=" + seed + "\n"
                + "schedule=" + ScheduleText.format(schedule) + "\n"
                + "pass=" + passName + "\n"
                + "marginWarmup=" + warmup.marginIterations() + "\n"
                + "scaleWarmup=" + warmup.scaleIterations() + "\n"
                + "trainClasses=" + join(trainClasses) + "\n";
    }

    public static TrainConfig fromText(String text, String source) {
        Properties properties = new Properties();
        try {
            properties.load(new StringReader(text));
            String lossText = properties.getProperty("loss");
            MarginLoss loss = lossText != null ? MarginLoss.parse(lossText)
                    : MarginLoss.lsoftmax(HeadChecks.checkMargin(Integer.parseInt(required(properties, "margin", source))));
            return new TrainConfig(
                    loss,
                    parseList(required(properties, "hidden", source)),
                    Integer.parseInt(required(properties, "featureDimension", source)),
                    Integer.parseInt(required(properties, "batchSize", source)),
                    Double.parseDouble(required(properties, "learningRate", source)),
                    parseList(required(properties, "learningRateSteps", source)),
                    Double.parseDouble(required(properties, "momentum", source)),
                    Double.parseDouble(required(properties, "weightDecay", source)),
                    Integer.parseInt(required(properties, "epochs", source)),
                    Long.parseLong(required(properties, "seed", source)),
                    ScheduleText.parse(required(properties, "schedule", source)),
                    required(properties, "pass", source),
                    new Warmup(Long.parseLong(properties.getProperty("marginWarmup", "0")),
                            Long.parseLong(properties.getProperty("scaleWarmup", "0"))),
                    parseList(properties.getProperty("trainClasses", "")));
        } catch (IOException | NumberFormatException e) {
            throw new InvalidInputException(source + ": unreadable training configuration (" + e.getMessage() + ")", e);
        } catch (InvalidInputException e) {
            if (e.getMessage().startsWith(source + ":")) {
                throw e;
            }
            throw new InvalidInputException(source + ": training configuration: " + e.getMessage(), e);
        }
    }

    /** Parses "256,128" (empty text: no hidden layers). */
    public static List<Integer> parseList(String text) {
        List<Integer> values = new ArrayList<>();
        for (String part : text.split(",")) {
            if (!part.isBlank()) {
                try {
                    values.add(Integer.parseInt(part.trim()));
                } catch (NumberFormatException e) {
                    throw new InvalidInputException("'" + text + "' is not a comma-separated list of integers", e);
                }
            }
        }
        return values;
    }

    private static String join(List<Integer> values) {
        StringBuilder text = new StringBuilder();
        for (int value : values) {
            text.append(text.isEmpty() ? "" : ",").append(value);
        }
        return text.toString();
    }

    private static String required(Properties properties, String key, String source) {
        String value = properties.getProperty(key);
        if (value == null) {
            throw new InvalidInputException(source + ": training configuration lacks '" + key + "'");
        }
        return value;
    }
}
