package org.lsoftmax.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.lsoftmax.data.Dataset;
import org.lsoftmax.data.Normalization;
import org.lsoftmax.data.TrainTestData;
import org.lsoftmax.layer.InvalidInputException;
import org.lsoftmax.layer.LSoftmaxPass;
import org.lsoftmax.layer.LayerShape;
import org.lsoftmax.layer.PassFactory;
import org.lsoftmax.layer.PassOptions;
import org.lsoftmax.math.SplitMix64;
import org.lsoftmax.model.MatrixProducts;
import org.lsoftmax.model.Network;
import org.lsoftmax.model.Parameter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The training loop: MLP features, L-Softmax head through an {@link LSoftmaxPass}, SGD with momentum.
 * <pre>
 * for each epoch e (1-based):
 *   order = shuffle(0..n-1) drawn from stream (seed, e)         reproducible, and resumable at any epoch
 *   lr    = base lr / 10^(number of --lr-steps <= e)
 *   for each full batch B of order (the incomplete tail is dropped):
 *     F     = mlp(X_B)                                          N x D features
 *     beta  = schedule(iteration)                               annealing, paper section 5.1
 *     loss  = pass.forward(F, W, y_B, beta)                     margin logits + mean cross-entropy
 *     dF,dW = pass.backward()
 *     mlp.backward(dF)                                          gradients of every layer
 *     v = 0.9 v + lr (g + 5e-4 w);  w -= v                      SgdMomentum
 *     iteration++
 *   evaluate on the test split with plain logits F W^T; write metrics.csv and last.ckpt
 * </pre>
 */
public final class Trainer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);

    /** Stream index of the weight initialisation; epoch e shuffles with stream e (>= 1). */
    private static final long INIT_STREAM = 0;

    private final TrainConfig config;
    private final Dataset train;
    private final Dataset test;
    private final Normalization normalization;
    private final PassOptions passOptions;
    private final Path outputDirectory;
    private final MatrixProducts products;
    private final Network network;
    private final SgdMomentum optimizer;
    private final Map<Integer, LSoftmaxPass> passesByBatchSize = new HashMap<>();
    private final List<EpochMetrics> history = new ArrayList<>();
    private boolean showProgress = true;
    private int epochsCompleted;
    private long iteration;

    private Trainer(TrainConfig config, TrainTestData rawData, Normalization normalization, PassOptions passOptions,
            Path outputDirectory) {
        this.config = config;
        this.normalization = normalization;
        this.train = normalization.apply(rawData.train());
        this.test = normalization.apply(rawData.test());
        this.passOptions = passOptions;
        this.outputDirectory = outputDirectory;
        if (config.batchSize() > train.size()) {
            throw new InvalidInputException("batch size " + config.batchSize() + " is larger than the " + train.size()
                    + " training samples");
        }
        this.products = new SgemmProducts(passOptions.threads());
        try {
            this.network = new Network(new org.lsoftmax.model.Architecture(train.dimension(), config.hidden(),
                    config.featureDimension(), train.classes()), config.batchSize(), products);
        } catch (RuntimeException | Error e) {
            products.close(); // its worker threads would outlive a trainer that never existed
            throw e;
        }
        this.optimizer = new SgdMomentum(config.momentum(), config.weightDecay());
    }

    /**
     * A fresh run: normalisation fitted on the training split, weights from the seed.
     *
     * @param outputDirectory where metrics.csv and checkpoints go; null writes nothing (tests)
     */
    public static Trainer start(TrainConfig config, TrainTestData rawData, PassOptions passOptions, Path outputDirectory) {
        Trainer trainer = new Trainer(config, rawData, Normalization.fit(rawData.train()), passOptions, outputDirectory);
        trainer.network.initialise(SplitMix64.forStream(config.seed(), INIT_STREAM));
        return trainer;
    }

    /**
     * Continues a run from a checkpoint with its configuration, except the total epoch count and the
     * pass (which only changes speed, and the last bits of the numbers), which may be given anew.
     */
    public static Trainer resume(Checkpoint checkpoint, Path source, int epochs, String passName, TrainTestData rawData,
            PassOptions passOptions, Path outputDirectory) {
        if (rawData.dimension() != checkpoint.inputSize() || rawData.classes() != checkpoint.classes()) {
            throw new InvalidInputException(source + " was trained on " + checkpoint.inputSize() + " features and "
                    + checkpoint.classes() + " classes, the data has " + rawData.dimension() + " and " + rawData.classes());
        }
        TrainConfig config = checkpoint.config().withEpochs(epochs).withPassName(passName);
        Trainer trainer = new Trainer(config, rawData, checkpoint.normalization(), passOptions, outputDirectory);
        try {
            checkpoint.restoreInto(trainer.network, source);
            trainer.epochsCompleted = checkpoint.epochsCompleted();
            trainer.iteration = checkpoint.iteration();
            if (outputDirectory != null && Files.isRegularFile(outputDirectory.resolve(MetricsCsv.FILE_NAME))) {
                for (EpochMetrics row : MetricsCsv.read(outputDirectory.resolve(MetricsCsv.FILE_NAME))) {
                    if (row.epoch() <= trainer.epochsCompleted) {
                        trainer.history.add(row);
                    }
                }
            }
        } catch (RuntimeException | Error e) {
            trainer.close(); // a checkpoint that does not fit must not leave the trainer's worker threads behind
            throw e;
        }
        LOG.info("Resuming from {} after epoch {} (iteration {})", source, trainer.epochsCompleted, trainer.iteration);
        return trainer;
    }

    public Trainer showProgress(boolean show) {
        this.showProgress = show;
        return this;
    }

    /** Trains until {@code config.epochs()} epochs are done; returns the metrics of every epoch of the run. */
    public List<EpochMetrics> run() {
        LOG.info("Network {}; margin m={}, schedule {}, pass {}, batch {}, lr {} (steps at epochs {}), seed {}",
                network.architecture(), config.margin(), ScheduleText.format(config.schedule()), config.passName(),
                config.batchSize(), config.learningRate(), config.learningRateSteps(), config.seed());
        while (epochsCompleted < config.epochs()) {
            trainEpoch();
        }
        if (outputDirectory != null && config.featureDimension() == 2) {
            writeFeatures(outputDirectory.resolve(FEATURES_FILE));
        }
        return List.copyOf(history);
    }

    /** Test features of a 2-D run, for the scatter plot: "label,x,y" per test sample. */
    public static final String FEATURES_FILE = "features.csv";

    /** One epoch: the training steps, then evaluation, metrics and checkpoint. */
    public EpochMetrics trainEpoch() {
        int epoch = epochsCompleted + 1;
        int batchSize = config.batchSize();
        int batches = train.size() / batchSize;
        int dimension = train.dimension();
        int featureDimension = config.featureDimension();
        int classes = train.classes();
        double learningRate = config.learningRateAt(epoch);
        LSoftmaxPass pass = passFor(batchSize);
        Parameter classWeights = network.classWeights();
        List<Parameter> parameters = network.parameters();

        int[] order = new int[train.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        SplitMix64.forStream(config.seed(), epoch).shuffle(order);

        float[] batchInput = new float[batchSize * dimension];
        int[] batchLabels = new int[batchSize];
        float[] logits = new float[batchSize * classes];
        float[] featureGradient = new float[batchSize * featureDimension];
        float[] classWeightGradient = new float[classes * featureDimension];
        ProgressBar progress = showProgress
                ? ProgressBar.onStderr(String.format(Locale.ROOT, "epoch %d/%d", epoch, config.epochs()),
                        (long) batches * batchSize)
                : null;
        double lossSum = 0.0;
        long correct = 0;
        double beta = Double.NaN;
        long startNanos = System.nanoTime();
        for (int b = 0; b < batches; b++) {
            for (int i = 0; i < batchSize; i++) {
                int sample = order[b * batchSize + i];
                System.arraycopy(train.features(), sample * dimension, batchInput, i * dimension, dimension);
                batchLabels[i] = train.labels()[sample];
            }
            network.zeroGradients();
            float[] features = network.features(batchInput, batchSize);
            beta = config.schedule().betaAt(iteration);
            double loss = pass.forward(features, classWeights.value(), batchLabels, beta, logits);
            if (!Double.isFinite(loss)) {
                throw new InvalidInputException(String.format(Locale.ROOT,
                        "training diverged in epoch %d at iteration %d (beta %.4g, lr %.4g): the loss is %s; "
                                + "lower --lr or keep beta larger (the schedule's minimum)",
                        epoch, iteration, beta, learningRate, loss));
            }
            pass.backward(featureGradient, classWeightGradient);
            // training accuracy with the plain logits, as prediction does (before this step's update)
            products.multiplyABt(features, classWeights.value(), logits, batchSize, classes, featureDimension, false);
            for (int i = 0; i < batchSize; i++) {
                if (Evaluator.argmax(logits, i * classes, classes) == batchLabels[i]) {
                    correct++;
                }
            }
            float[] dw = classWeights.gradient();
            for (int i = 0; i < dw.length; i++) {
                dw[i] += classWeightGradient[i];
            }
            network.backward(featureGradient, batchSize);
            optimizer.step(parameters, learningRate);
            iteration++;
            lossSum += loss;
            if (progress != null) {
                progress.update((long) (b + 1) * batchSize);
            }
        }
        if (progress != null) {
            progress.finish();
        }
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        long samples = (long) batches * batchSize;
        Evaluation evaluation = Evaluator.evaluate(network, test, products, false);
        epochsCompleted = epoch;
        EpochMetrics metrics = new EpochMetrics(epoch, iteration, learningRate, beta, lossSum / batches,
                (double) correct / samples, evaluation.loss(), evaluation.accuracy(), evaluation.meanOwnAngle(),
                evaluation.meanNearestOtherAngle(), seconds, samples / seconds);
        history.add(metrics);
        LOG.info(String.format(Locale.ROOT,
                "epoch %d/%d  lr %.3g  beta %.3g  train loss %.4f acc %.2f%%  test loss %.4f acc %.2f%%  "
                        + "angle to own class %.1f deg, to nearest other %.1f deg  %.1f s, %.0f samples/s",
                epoch, config.epochs(), learningRate, beta, metrics.trainLoss(), 100 * metrics.trainAccuracy(),
                metrics.testLoss(), 100 * metrics.testAccuracy(), metrics.meanOwnAngle(),
                metrics.meanNearestOtherAngle(), seconds, metrics.samplesPerSecond()));
        if (outputDirectory != null) {
            try {
                Files.createDirectories(outputDirectory);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create " + outputDirectory, e);
            }
            MetricsCsv.write(outputDirectory.resolve(MetricsCsv.FILE_NAME), history);
            checkpoint().saveRotating(outputDirectory);
        }
        return metrics;
    }

    /** The current state as a checkpoint. */
    public Checkpoint checkpoint() {
        return Checkpoint.capture(config, normalization, network, epochsCompleted, iteration);
    }

    /** Evaluates on the (normalised) test split. */
    public Evaluation evaluateTest(boolean keepFeatures) {
        return Evaluator.evaluate(network, test, products, keepFeatures);
    }

    private void writeFeatures(Path file) {
        Evaluation evaluation = evaluateTest(true);
        float[] features = evaluation.features();
        StringBuilder text = new StringBuilder("label,x,y\n");
        for (int i = 0; i < test.size(); i++) {
            text.append(test.labels()[i]).append(',').append(features[2 * i]).append(',').append(features[2 * i + 1])
                    .append('\n');
        }
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    private LSoftmaxPass passFor(int batchSize) {
        return passesByBatchSize.computeIfAbsent(batchSize, rows -> PassFactory.create(config.passName(),
                new LayerShape(rows, config.featureDimension(), train.classes()), config.margin(), passOptions));
    }

    public Network network() {
        return network;
    }

    public TrainConfig config() {
        return config;
    }

    public int epochsCompleted() {
        return epochsCompleted;
    }

    public long iteration() {
        return iteration;
    }

    public List<EpochMetrics> history() {
        return List.copyOf(history);
    }

    @Override
    public void close() {
        for (LSoftmaxPass pass : passesByBatchSize.values()) {
            pass.close();
        }
        passesByBatchSize.clear();
        products.close();
    }
}
