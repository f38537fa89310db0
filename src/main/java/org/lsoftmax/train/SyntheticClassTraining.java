package org.lsoftmax.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.MemoryBudget;
import org.lsoftmax.data.AtomicFiles;
import org.lsoftmax.data.SyntheticClasses;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.MarginLoss;
import org.lsoftmax.head.PassOptions;
import org.lsoftmax.head.ShardLayout;
import org.lsoftmax.head.ShardOptions;
import org.lsoftmax.head.ShardedHead;
import org.lsoftmax.head.select.HeadFactory;
import org.lsoftmax.math.SplitMix64;
import org.lsoftmax.model.Parameter;
import org.lsoftmax.model.RowSelection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Training the class-sharded head alone on {@link SyntheticClasses} (no trunk: the features are the
 * generated points), for heads of 10^5-10^6 classes on one machine (docs/SCALING.md): per step a fresh
 * batch, the head's forward and backward, SGD with momentum on the rows the step touched (all, or with
 * sampled negatives only the sampled ones); after every "epoch" of {@code stepsPerEpoch} steps, the plain
 * top-1 accuracy and cross-entropy over every class on held-out samples ({@link ShardedHead#evaluate}),
 * next to chance (1/C). Writes OUT/metrics.csv (the train command's format: angles are NaN) and
 * OUT/steps.csv (each step's loss and time); no checkpoint (a 10^6 x 128 head is 1.5 GB with its
 * momentum and gradient).
 */
public final class SyntheticClassTraining implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SyntheticClassTraining.class);

    /** The weight initialisation's stream of the seed. */
    private static final long INIT_STREAM = 0;

    /**
     * @param stepsPerEpoch training steps between two held-out evaluations
     * @param evalSamples   held-out samples per evaluation (whole batches)
     */
    public record Config(int classes, int dimension, double noise, int batchSize, int epochs, int stepsPerEpoch, int evalSamples,
            double learningRate, List<Integer> learningRateSteps, double momentum, double weightDecay, MarginLoss loss, BetaSchedule schedule,
            long seed, String passName) {

        public Config {
            learningRateSteps = List.copyOf(learningRateSteps);
            if (batchSize < 1 || epochs < 1 || stepsPerEpoch < 1 || evalSamples < 0) {
                throw new InvalidInputException("need batch >= 1, epochs >= 1, --steps-per-epoch >= 1 and --eval-samples >= 0, got " + batchSize
                        + ", " + epochs + ", " + stepsPerEpoch + ", " + evalSamples);
            }
            if (!(learningRate > 0.0) || Double.isInfinite(learningRate)) {
                throw new InvalidInputException("learning rate must be a finite number > 0, got " + learningRate);
            }
        }

        double learningRateAt(int epoch) {
            double rate = learningRate;
            for (int step : learningRateSteps) {
                if (epoch >= step) {
                    rate *= 0.1;
                }
            }
            return rate;
        }
    }

    private final Config config;
    private final SyntheticClasses data;
    private final List<Parameter> weights;
    private final ShardedHead head;
    private final SgdMomentum optimizer;
    private final Path outputDirectory;
    private final List<EpochMetrics> history = new ArrayList<>();
    private final StringBuilder steps = new StringBuilder("iteration,loss,step_ms\n");
    private long iteration;
    private long peakHeapBytes;
    private long peakLiveHeapBytes;

    private SyntheticClassTraining(Config config, PassOptions passOptions, ShardOptions shardOptions, Path outputDirectory) {
        this.config = config;
        this.data = new SyntheticClasses(config.seed(), config.classes(), config.dimension(), config.noise());
        this.outputDirectory = outputDirectory;
        HeadShape shape = new HeadShape(config.batchSize(), config.dimension(), config.classes());
        ShardOptions shards = shardOptions.withSeed(config.seed());
        ShardLayout layout = new ShardLayout(config.classes(), shards.shards());
        long bytes = 0;
        for (HeadFactory.ShardMemory shard : HeadFactory.memory(config.passName(), shape, config.loss(), shards, passOptions)) {
            bytes += shard.parameterBytes() + shard.heapBytes();
        }
        MemoryBudget.requireHeap("the head " + shape + " in " + layout + " (W, gradient and momentum: " + 12L * config.classes() * config.dimension()
                + " bytes)", bytes);
        this.weights = HeadFactory.zeroWeights(layout, config.dimension());
        // W ~ N(0, 1/D) in class order, block after block: the same values however W is split
        SplitMix64 random = SplitMix64.forStream(config.seed(), INIT_STREAM);
        double std = Math.sqrt(1.0 / config.dimension());
        for (Parameter block : weights) {
            float[] w = block.value();
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) (std * random.nextGaussian());
            }
        }
        this.head = HeadFactory.createSharded(config.passName(), shape, config.loss(), passOptions, shards, weights);
        this.optimizer = new SgdMomentum(config.momentum(), config.weightDecay());
    }

    /** A fresh run; {@code outputDirectory} null writes nothing (tests). */
    public static SyntheticClassTraining start(Config config, PassOptions passOptions, ShardOptions shardOptions, Path outputDirectory) {
        return new SyntheticClassTraining(config, passOptions, shardOptions, outputDirectory);
    }

    /** Every epoch of the run; returns their metrics. */
    public List<EpochMetrics> run() {
        LOG.info("{}; head {}; loss {}, batch {}, lr {}, {} epochs of {} steps, {} held-out samples per evaluation, chance {}",
                data, head.description(), config.loss(), config.batchSize(), config.learningRate(), config.epochs(), config.stepsPerEpoch(),
                config.evalSamples(), String.format(Locale.ROOT, "%.3g%%", 100.0 / config.classes()));
        for (int epoch = 1; epoch <= config.epochs(); epoch++) {
            trainEpoch(epoch);
        }
        return List.copyOf(history);
    }

    private void trainEpoch(int epoch) {
        int n = config.batchSize();
        float[] features = new float[n * config.dimension()];
        int[] labels = new int[n];
        double learningRate = config.learningRateAt(epoch);
        double lossSum = 0.0;
        long correct = 0;
        double beta = 0.0;
        long computeNanos = 0;
        for (int step = 0; step < config.stepsPerEpoch(); step++) {
            data.trainBatch(iteration, features, labels);
            beta = config.schedule().betaAt(iteration);
            long start = System.nanoTime();
            head.setIteration(iteration);
            double loss = head.forward(features, labels, beta);
            if (!Double.isFinite(loss)) {
                throw new TrainingDivergedException(epoch, iteration, OffendingValue.scalar("loss", loss), null, 0);
            }
            head.backward();
            correct += head.correct();
            optimizer.step(weights, learningRate, head::touchedRows);
            clearGradients();
            long nanos = System.nanoTime() - start;
            computeNanos += nanos;
            lossSum += loss;
            steps.append(String.format(Locale.ROOT, "%d,%.6f,%.3f%n", iteration, loss, nanos / 1e6));
            iteration++;
            Runtime runtime = Runtime.getRuntime();
            peakHeapBytes = Math.max(peakHeapBytes, runtime.totalMemory() - runtime.freeMemory());
        }
        peakLiveHeapBytes = Math.max(peakLiveHeapBytes, liveHeapBytes());
        double seconds = computeNanos / 1e9;
        long evalStart = System.nanoTime();
        double[] heldOut = evaluate();
        double evalSeconds = (System.nanoTime() - evalStart) / 1e9;
        long samples = (long) config.stepsPerEpoch() * n;
        EpochMetrics metrics = new EpochMetrics(epoch, iteration, learningRate, beta, lossSum / config.stepsPerEpoch(), (double) correct / samples,
                heldOut[0], heldOut[1], Double.NaN, Double.NaN, seconds, samples / seconds);
        history.add(metrics);
        LOG.info(String.format(Locale.ROOT,
                "epoch %d/%d  lr %.3g  train loss %.4f acc %.2f%% (over the computed classes)  held-out loss %.4f acc %.3f%% over %d classes"
                        + " (chance %.2g%%)  %.1f ms/step, %.0f samples/s; evaluation %.1f s; heap: peak in use %.0f MiB, live after a full GC %.0f MiB",
                epoch, config.epochs(), learningRate, metrics.trainLoss(), 100 * metrics.trainAccuracy(), metrics.testLoss(),
                100 * metrics.testAccuracy(), config.classes(), 100.0 / config.classes(), 1e3 * seconds / config.stepsPerEpoch(),
                metrics.samplesPerSecond(), evalSeconds, peakHeapBytes / (1024.0 * 1024.0), peakLiveHeapBytes / (1024.0 * 1024.0)));
        if (outputDirectory != null) {
            try {
                Files.createDirectories(outputDirectory);
                MetricsCsv.write(outputDirectory.resolve(MetricsCsv.FILE_NAME), history);
                AtomicFiles.write(outputDirectory.resolve("steps.csv"), steps.toString().getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write into " + outputDirectory, e);
            }
        }
    }

    /** The gradients the step filled (the touched rows only, with sampling), zeroed for the next step. */
    private void clearGradients() {
        for (Parameter parameter : weights) {
            RowSelection rows = head.touchedRows(parameter);
            float[] gradient = parameter.gradient();
            if (rows == null) {
                Arrays.fill(gradient, 0.0f);
            } else {
                int length = rows.rowLength();
                for (int k = 0; k < rows.count(); k++) {
                    Arrays.fill(gradient, rows.row(k) * length, (rows.row(k) + 1) * length, 0.0f);
                }
            }
        }
    }

    /** {plain cross-entropy, top-1 accuracy} over every class on the held-out samples (NaN without any). */
    private double[] evaluate() {
        int n = config.batchSize();
        int batches = (config.evalSamples() + n - 1) / n;
        if (batches == 0) {
            return new double[] {Double.NaN, Double.NaN};
        }
        float[] features = new float[n * config.dimension()];
        int[] labels = new int[n];
        int[] predictions = new int[n];
        double lossSum = 0.0;
        long correct = 0;
        for (int b = 0; b < batches; b++) {
            data.heldOutBatch(b, features, labels);
            lossSum += head.evaluate(features, labels, predictions);
            for (int i = 0; i < n; i++) {
                if (predictions[i] == labels[i]) {
                    correct++;
                }
            }
        }
        return new double[] {lossSum / batches, (double) correct / ((long) batches * n)};
    }

    public ShardedHead head() {
        return head;
    }

    public List<Parameter> weights() {
        return weights;
    }

    public long iteration() {
        return iteration;
    }

    /** Heap bytes in use right after a full collection: what the run keeps (W, its gradient and momentum, the buffers). */
    private static long liveHeapBytes() {
        System.gc();
        Runtime runtime = Runtime.getRuntime();
        return runtime.totalMemory() - runtime.freeMemory();
    }

    /** The largest of {@link #liveHeapBytes} seen at the end of an epoch: what the run keeps, without its garbage. */
    public long peakLiveHeapBytes() {
        return peakLiveHeapBytes;
    }

    /** The largest heap in use seen after a step (sampled once per step, garbage included). */
    public long peakHeapBytes() {
        return peakHeapBytes;
    }

    public List<EpochMetrics> history() {
        return List.copyOf(history);
    }

    @Override
    public void close() {
        head.close();
    }
}
