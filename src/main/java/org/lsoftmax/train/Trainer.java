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
 *
 * <h2>Divergence guard</h2>
 * Every step is checked <em>before</em> anything is applied: the features F, the loss, dL/dF and dL/dW
 * of the head, the gradient of every layer's parameters, and the update SGD would make (new momentum
 * and weight finite, and no parameter moved by more than {@link DivergencePolicy#maxWeightChange()}).
 * The first offending value makes the step "diverged": no weight and no momentum changes, a WARN line
 * names the epoch, iteration, batch (its positions in the epoch's shuffled order, and the training
 * sample when the value sits in a sample's row), the tensor and the value. Then the
 * {@link DivergencePolicy} applies (defaults in brackets):
 * <ol>
 *   <li>first diverged step in a row: the step is skipped; the state from before it is intact;</li>
 *   <li>another diverged step right after: the weights themselves may be the trouble, so the last
 *       good in-memory snapshot (taken at the end of the previous epoch, or at the start or resume of
 *       the run) is restored, weights and momentum;</li>
 *   <li>after every diverged step the learning rate of the rest of the epoch is multiplied by the
 *       back-off factor [0.5] and beta is raised [x10, capped at 1000, never below the schedule]:
 *       nearer plain softmax, the easier problem the schedule started from;</li>
 *   <li>more than {@link DivergencePolicy#maxRetries()} [3] diverged steps in a row end training
 *       with a {@link TrainingDivergedException} naming the epoch, iteration, tensor, value and the
 *       last good checkpoint on disk.</li>
 * </ol>
 * Skipped steps still advance the iteration count, so the beta schedule and the checkpoints keep
 * their meaning. The back-off lasts until the end of the epoch: the next epoch starts from the
 * configured learning rate and schedule again, so a run resumed from a checkpoint (always an epoch
 * boundary) continues exactly as the uninterrupted run. A checkpoint is only written from a state
 * that is finite everywhere and whose test loss is finite; otherwise training stops and the files
 * on disk keep the last good epoch.
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
    private final List<DivergenceEvent> divergenceEvents = new ArrayList<>();
    private boolean showProgress = true;
    private int epochsCompleted;
    private long iteration;
    private DivergencePolicy divergencePolicy = DivergencePolicy.DEFAULTS;
    private BatchHook batchHook;
    /** Weights and momentum of the last state known to be good: end of an epoch, start or resume of the run. */
    private Checkpoint lastGoodSnapshot;
    /** The newest intact checkpoint file (written or resumed from) and its epoch; null when there is none. */
    private Path lastGoodCheckpointFile;
    private int lastGoodCheckpointEpoch;
    // back-off state of the epoch in progress (reset at each epoch start)
    private int consecutiveDivergedSteps;
    private double learningRateScale = 1.0;
    private double betaBoost = 1.0;

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
        trainer.lastGoodSnapshot = trainer.checkpoint();
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
        OffendingValue nonFinite = checkpoint.firstNonFinite();
        if (nonFinite != null) {
            throw new InvalidInputException(source + ": checkpoint holds a non-finite value: " + nonFinite.summary()
                    + " at index " + nonFinite.index());
        }
        Trainer trainer = new Trainer(config, rawData, checkpoint.normalization(), passOptions, outputDirectory);
        try {
            checkpoint.restoreInto(trainer.network, source);
            trainer.epochsCompleted = checkpoint.epochsCompleted();
            trainer.iteration = checkpoint.iteration();
            trainer.lastGoodSnapshot = trainer.checkpoint();
            trainer.lastGoodCheckpointFile = source;
            trainer.lastGoodCheckpointEpoch = checkpoint.epochsCompleted();
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

    /** How diverged steps are handled (see the class comment); {@link DivergencePolicy#DEFAULTS} unless set. */
    public Trainer divergencePolicy(DivergencePolicy policy) {
        this.divergencePolicy = java.util.Objects.requireNonNull(policy, "policy");
        return this;
    }

    /** Test-only fault injection: {@code hook} sees (and may poison) every batch just before its step. */
    Trainer batchHook(BatchHook hook) {
        this.batchHook = hook;
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

    /**
     * One epoch: the training steps, then evaluation, metrics and checkpoint.
     *
     * @throws TrainingDivergedException when more diverged steps in a row than the policy allows occur,
     *                                   or the epoch ends in a state that must not be saved
     */
    public EpochMetrics trainEpoch() {
        int epoch = epochsCompleted + 1;
        int batchSize = config.batchSize();
        int batches = train.size() / batchSize;
        int dimension = train.dimension();
        double scheduledLearningRate = config.learningRateAt(epoch);
        LSoftmaxPass pass = passFor(batchSize);

        int[] order = new int[train.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        SplitMix64.forStream(config.seed(), epoch).shuffle(order);

        // the back-off lasts one epoch, so a run resumed at an epoch boundary continues exactly
        consecutiveDivergedSteps = 0;
        learningRateScale = 1.0;
        betaBoost = 1.0;
        StepBuffers step = new StepBuffers(batchSize, dimension, config.featureDimension(), train.classes());
        ProgressBar progress = showProgress
                ? ProgressBar.onStderr(String.format(Locale.ROOT, "epoch %d/%d", epoch, config.epochs()),
                        (long) batches * batchSize)
                : null;
        double lossSum = 0.0;
        long correct = 0;
        int appliedSteps = 0;
        double beta = Double.NaN;
        double learningRate = scheduledLearningRate;
        long startNanos = System.nanoTime();
        for (int b = 0; b < batches; b++) {
            for (int i = 0; i < batchSize; i++) {
                int sample = order[b * batchSize + i];
                System.arraycopy(train.features(), sample * dimension, step.input, i * dimension, dimension);
                step.labels[i] = train.labels()[sample];
            }
            if (batchHook != null) {
                batchHook.beforeStep(epoch, iteration, b, step.input, step.labels);
            }
            learningRate = scheduledLearningRate * learningRateScale;
            beta = betaAt(iteration);
            OffendingValue problem = computeStep(pass, step, beta, learningRate);
            if (problem == null) {
                optimizer.step(network.parameters(), learningRate);
                consecutiveDivergedSteps = 0;
                appliedSteps++;
                lossSum += step.loss;
                correct += step.correct;
            } else {
                handleDivergedStep(epoch, b, order, problem, scheduledLearningRate);
            }
            iteration++;
            if (progress != null) {
                progress.update((long) (b + 1) * batchSize);
            }
        }
        if (progress != null) {
            progress.finish();
        }
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        long samples = (long) appliedSteps * batchSize;
        Evaluation evaluation = Evaluator.evaluate(network, test, products, false);
        Checkpoint state = Checkpoint.capture(config, normalization, network, epoch, iteration);
        refuseToSaveBadState(epoch, state, evaluation);
        epochsCompleted = epoch;
        lastGoodSnapshot = state;
        EpochMetrics metrics = new EpochMetrics(epoch, iteration, learningRate, beta,
                appliedSteps == 0 ? Double.NaN : lossSum / appliedSteps,
                appliedSteps == 0 ? Double.NaN : (double) correct / samples, evaluation.loss(), evaluation.accuracy(),
                evaluation.meanOwnAngle(), evaluation.meanNearestOtherAngle(), seconds, samples / seconds);
        history.add(metrics);
        LOG.info(String.format(Locale.ROOT,
                "epoch %d/%d  lr %.3g  beta %.3g  train loss %.4f acc %.2f%%  test loss %.4f acc %.2f%%  "
                        + "angle to own class %.1f deg, to nearest other %.1f deg  %.1f s, %.0f samples/s",
                epoch, config.epochs(), learningRate, beta, metrics.trainLoss(), 100 * metrics.trainAccuracy(),
                metrics.testLoss(), 100 * metrics.testAccuracy(), metrics.meanOwnAngle(),
                metrics.meanNearestOtherAngle(), seconds, metrics.samplesPerSecond()));
        if (appliedSteps < batches) {
            LOG.warn("epoch {}: {} of {} steps diverged and were not applied (see the warnings above)", epoch,
                    batches - appliedSteps, batches);
        }
        if (outputDirectory != null) {
            try {
                Files.createDirectories(outputDirectory);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create " + outputDirectory, e);
            }
            MetricsCsv.write(outputDirectory.resolve(MetricsCsv.FILE_NAME), history);
            state.saveRotating(outputDirectory);
            lastGoodCheckpointFile = outputDirectory.resolve(Checkpoint.LAST_FILE);
            lastGoodCheckpointEpoch = epoch;
        }
        return metrics;
    }

    /** The buffers of one training step, and what it measured. */
    private static final class StepBuffers {
        final float[] input;
        final int[] labels;
        final float[] logits;
        final float[] featureGradient;
        final float[] classWeightGradient;
        double loss;
        int correct;

        StepBuffers(int batchSize, int dimension, int featureDimension, int classes) {
            input = new float[batchSize * dimension];
            labels = new int[batchSize];
            logits = new float[batchSize * classes];
            featureGradient = new float[batchSize * featureDimension];
            classWeightGradient = new float[classes * featureDimension];
        }
    }

    /**
     * Forward and backward of one batch, leaving every parameter's gradient filled, and checks each
     * result as soon as it exists. Changes no weight and no momentum.
     *
     * @return the first offending value, or null when the step may be applied
     */
    private OffendingValue computeStep(LSoftmaxPass pass, StepBuffers step, double beta, double learningRate) {
        int batchSize = config.batchSize();
        int featureDimension = config.featureDimension();
        int classes = train.classes();
        Parameter classWeights = network.classWeights();
        network.zeroGradients();
        float[] features = network.features(step.input, batchSize);
        OffendingValue problem = OffendingValue.firstNonFiniteInRows("features", features, batchSize, featureDimension);
        if (problem != null) {
            return problem;
        }
        step.loss = pass.forward(features, classWeights.value(), step.labels, beta, step.logits);
        if (!Double.isFinite(step.loss)) {
            return OffendingValue.scalar("loss", step.loss);
        }
        pass.backward(step.featureGradient, step.classWeightGradient);
        problem = OffendingValue.firstNonFiniteInRows("gradient of features", step.featureGradient, batchSize,
                featureDimension);
        if (problem == null) {
            problem = OffendingValue.firstNonFinite("gradient of " + classWeights.name(), step.classWeightGradient,
                    step.classWeightGradient.length);
        }
        if (problem != null) {
            return problem;
        }
        // training accuracy with the plain logits, as prediction does (before this step's update)
        products.multiplyABt(features, classWeights.value(), step.logits, batchSize, classes, featureDimension, false);
        step.correct = 0;
        for (int i = 0; i < batchSize; i++) {
            if (Evaluator.argmax(step.logits, i * classes, classes) == step.labels[i]) {
                step.correct++;
            }
        }
        float[] dw = classWeights.gradient();
        for (int i = 0; i < dw.length; i++) {
            dw[i] += step.classWeightGradient[i];
        }
        network.backward(step.featureGradient, batchSize);
        List<Parameter> parameters = network.parameters();
        for (Parameter parameter : parameters) {
            if (parameter != classWeights) { // its gradient is the head's dW, checked above
                problem = OffendingValue.firstNonFinite("gradient of " + parameter.name(), parameter.gradient(),
                        parameter.size());
                if (problem != null) {
                    return problem;
                }
            }
        }
        return optimizer.checkStep(parameters, learningRate, divergencePolicy.maxWeightChange());
    }

    /** Beta of an iteration: the schedule's, raised while the epoch is backing off (capped, never lowered). */
    private double betaAt(long step) {
        double scheduled = config.schedule().betaAt(step);
        if (betaBoost == 1.0) {
            return scheduled;
        }
        // max(beta, 1): a schedule at beta 0 (pure margin) must be raised too
        double raised = Math.min(divergencePolicy.betaCap(), Math.max(scheduled, 1.0) * betaBoost);
        return Math.max(scheduled, raised);
    }

    /** Applies the divergence policy to a step that was not applied (see the class comment). */
    private void handleDivergedStep(int epoch, int batch, int[] order, OffendingValue problem,
            double scheduledLearningRate) {
        consecutiveDivergedSteps++;
        int batchSize = config.batchSize();
        String where = String.format(Locale.ROOT, "batch %d (positions %d-%d of the epoch's shuffled order%s)", batch,
                batch * batchSize, (batch + 1) * batchSize - 1,
                problem.row() >= 0 ? ", training sample " + order[batch * batchSize + problem.row()] + " in row "
                        + problem.row() + " column " + problem.column() : "");
        if (consecutiveDivergedSteps > divergencePolicy.maxRetries()) {
            divergenceEvents.add(new DivergenceEvent(epoch, iteration, batch, problem, DivergenceEvent.Action.STOPPED,
                    scheduledLearningRate * learningRateScale, betaBoost));
            LOG.warn("Diverged step at epoch {} iteration {}, {}: {} (index {}); diverged steps in a row: {}, "
                    + "retries allowed: {}; stopping", epoch, iteration, where, problem.summary(), problem.index(),
                    consecutiveDivergedSteps, divergencePolicy.maxRetries());
            throw new TrainingDivergedException(epoch, iteration, problem, lastGoodCheckpointFile,
                    lastGoodCheckpointEpoch);
        }
        DivergenceEvent.Action action;
        if (consecutiveDivergedSteps == 1) {
            action = DivergenceEvent.Action.SKIPPED; // nothing was applied: the state from before the step is intact
        } else {
            action = DivergenceEvent.Action.RESTORED_SNAPSHOT; // repeated trouble: the weights may be the cause
            lastGoodSnapshot.restoreInto(network, Path.of("the last good in-memory snapshot"));
        }
        learningRateScale *= divergencePolicy.learningRateFactor();
        betaBoost *= divergencePolicy.betaFactor();
        double nextLearningRate = scheduledLearningRate * learningRateScale;
        divergenceEvents.add(new DivergenceEvent(epoch, iteration, batch, problem, action, nextLearningRate, betaBoost));
        LOG.warn("Diverged step at epoch {} iteration {}, {}: {} (index {}); {}; rest of the epoch with learning "
                + "rate {} and beta {} instead of {} (retry {} of {} in a row)", epoch, iteration, where,
                problem.summary(), problem.index(),
                action == DivergenceEvent.Action.SKIPPED ? "step skipped, weights unchanged"
                        : "step skipped and " + snapshotText() + " restored",
                String.format(Locale.ROOT, "%.3g", nextLearningRate),
                String.format(Locale.ROOT, "%.3g", betaAt(iteration + 1)),
                String.format(Locale.ROOT, "%.3g", config.schedule().betaAt(iteration + 1)),
                consecutiveDivergedSteps, divergencePolicy.maxRetries());
    }

    private String snapshotText() {
        int epoch = lastGoodSnapshot.epochsCompleted();
        return epoch == 0 ? "the initial weights" : "the state after epoch " + epoch;
    }

    /**
     * Stops before an epoch whose state must not become the last good one is saved: a non-finite
     * weight or momentum (cannot happen while every update is checked; this guards the file), or a
     * non-finite test loss (weights so large that the plain logits overflow). The network is reset to
     * the last good snapshot, and the checkpoint files stay as they are.
     */
    private void refuseToSaveBadState(int epoch, Checkpoint state, Evaluation evaluation) {
        OffendingValue problem = state.firstNonFinite();
        if (problem == null && !Double.isFinite(evaluation.loss())) {
            problem = OffendingValue.scalar("test loss", evaluation.loss());
        }
        if (problem != null) {
            LOG.warn("Epoch {} ends in a state that will not be saved: {} (index {}); restoring {} and stopping",
                    epoch, problem.summary(), problem.index(), snapshotText());
            divergenceEvents.add(new DivergenceEvent(epoch, iteration - 1, -1, problem, DivergenceEvent.Action.STOPPED,
                    config.learningRateAt(epoch) * learningRateScale, betaBoost));
            lastGoodSnapshot.restoreInto(network, Path.of("the last good in-memory snapshot"));
            throw new TrainingDivergedException(epoch, iteration - 1, problem, lastGoodCheckpointFile,
                    lastGoodCheckpointEpoch);
        }
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

    /** Every diverged step of this trainer's run so far, in order. */
    public List<DivergenceEvent> divergenceEvents() {
        return List.copyOf(divergenceEvents);
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
