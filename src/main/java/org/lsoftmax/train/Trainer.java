package org.lsoftmax.train;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.StepProfile;
import org.lsoftmax.data.Dataset;
import org.lsoftmax.data.Normalization;
import org.lsoftmax.data.TrainTestData;
import org.lsoftmax.head.Head;
import org.lsoftmax.head.HeadOverflowException;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.MarginHead;
import org.lsoftmax.head.PassOptions;
import org.lsoftmax.head.ShardOptions;
import org.lsoftmax.head.select.HeadFactory;
import org.lsoftmax.linalg.MatrixProducts;
import org.lsoftmax.linalg.Sgemm;
import org.lsoftmax.linalg.WorkerPool;
import org.lsoftmax.math.SplitMix64;
import org.lsoftmax.model.Architecture;
import org.lsoftmax.model.Network;
import org.lsoftmax.model.Parameter;
import org.lsoftmax.model.RowSelection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The training loop: the MLP trunk ({@link Network}), the L-Softmax head ({@link MarginHead}), SGD with
 * momentum. It only calls forward, backward and update; what happens to a step that diverges is the
 * {@link DivergenceGuard}'s business.
 * <pre>
 * for each epoch e (1-based):
 *   order = shuffle(0..n-1) drawn from stream (seed, e)         reproducible, and resumable at any epoch
 *   lr    = base lr / 10^(number of --lr-steps <= e)
 *   for each full batch B of order (the incomplete tail is dropped):
 *     F     = trunk.forward(X_B)                                N x D features
 *     beta  = schedule(iteration)                               annealing, paper section 5.1
 *     loss  = head.forward(F, y_B, beta)                        margin logits + mean cross-entropy
 *     dF    = head.backward()                                   (also adds dL/dW into W's gradient)
 *     trunk.backward(dF)                                        gradients of every layer
 *     v = 0.9 v + lr (g + 5e-4 w);  w -= v                      SgdMomentum
 *     iteration++
 *   evaluate on the test split with plain logits F W^T; write metrics.csv and last.ckpt
 * </pre>
 * A checkpoint is only written from a state that is finite everywhere and whose test loss is finite;
 * otherwise training stops and the files on disk keep the last good epoch.
 */
public final class Trainer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);

    /** Stream index of the weight initialisation; epoch e shuffles with stream e (>= 1). */
    private static final long INIT_STREAM = 0;

    private final TrainConfig config;
    private final Dataset train;
    private final Dataset test;
    private final Normalization normalization;
    /** Where metrics.csv and the checkpoints go; null writes nothing (tests). */
    private final RunDirectory runDirectory;
    /** Whether this trainer opened {@link #runDirectory} (and closes it). */
    private final boolean ownsRunDirectory;
    private final MatrixProducts products;
    private final Network network;
    private final Head head;
    /** The job this trainer is one process of (docs/SCALING.md, "Training across processes"); null for a run of one process. */
    private final DataParallel job;
    /** A job's checkpoint sets (every rank writes its part); null for one process, or when nothing is written. */
    private final ShardSets shardSets;
    /** The rows of each batch this process's trunk computes: all of them, or the job's share, from {@link #firstOwnRow}. */
    private final int ownRows;
    private final int firstOwnRow;
    private final SgdMomentum optimizer;
    /** The head's rows touched per step ({@code head::touchedRows}, made once: no allocation per step). */
    private final Function<Parameter, RowSelection> touchedRows;
    private final DivergenceGuard guard = new DivergenceGuard();
    private final List<EpochMetrics> history = new ArrayList<>();
    private boolean showProgress = true;
    private int epochsCompleted;
    private long iteration;
    private BatchHook batchHook;
    private List<Parameter> trunk;
    /** Weights and momentum of the last state known to be good: end of an epoch, start or resume of the run. */
    private Checkpoint lastGoodSnapshot;
    /** The newest intact checkpoint file (written or resumed from) and its epoch; null when there is none. */
    private Path lastGoodCheckpointFile;
    private int lastGoodCheckpointEpoch;

    private Trainer(TrainConfig config, TrainTestData rawData, Normalization normalization, PassOptions passOptions,
            ShardOptions shardOptions, RunDirectory runDirectory, boolean ownsRunDirectory) {
        this(config, rawData, normalization, passOptions, shardOptions, runDirectory, ownsRunDirectory, null, null);
    }

    private Trainer(TrainConfig config, TrainTestData rawData, Normalization normalization, PassOptions passOptions,
            ShardOptions shardOptions, RunDirectory runDirectory, boolean ownsRunDirectory, DataParallel job, Path jobFolder) {
        this.config = config;
        this.normalization = normalization;
        this.runDirectory = runDirectory;
        this.ownsRunDirectory = ownsRunDirectory;
        TrainTestData data = rawData.restrictedTo(config.trainClasses());
        this.train = normalization.apply(data.train());
        this.test = normalization.apply(data.test());
        if (config.batchSize() > train.size()) {
            throw new InvalidInputException("batch size " + config.batchSize() + " is larger than the " + train.size()
                    + " training samples");
        }
        this.job = job;
        this.shardSets = job != null && jobFolder != null ? new ShardSets(jobFolder, job.collective()) : null;
        this.ownRows = job == null ? config.batchSize() : job.ownRows(config.batchSize());
        this.firstOwnRow = job == null ? 0 : job.rowStart(config.batchSize());
        if (job != null && config.batchSize() < job.size()) {
            throw new InvalidInputException("--batch " + config.batchSize() + " cannot give each of the job's " + job.size()
                    + " processes a row");
        }
        this.products = new Sgemm(passOptions.threads());
        try {
            Architecture architecture = new Architecture(train.dimension(), config.hidden(), config.featureDimension(), train.classes());
            HeadShape headShape = new HeadShape(config.batchSize(), config.featureDimension(), train.classes());
            if (job == null) {
                this.network = new Network(architecture, config.batchSize(), products, shardOptions.shards());
                // one shard, no sampling: a MarginHead, as always; else the class-sharded head (docs/SCALING.md)
                this.head = HeadFactory.create(config.passName(), headShape, config.lossAt(0), passOptions,
                        shardOptions.withSeed(config.seed()), network.classWeightShards());
            } else {
                // this process's replica of the trunk on its rows, and its block of W (Partial FC)
                this.network = Network.forShard(architecture, (config.batchSize() + job.size() - 1) / job.size(), products, job.size(), job.rank());
                this.head = HeadFactory.createDistributed(config.passName(), headShape, config.lossAt(0), passOptions,
                        shardOptions.withSeed(config.seed()), network.classWeightShards().get(0), job.collective());
            }
        } catch (RuntimeException | Error e) {
            products.close(); // its worker threads would outlive a trainer that never existed
            throw e;
        }
        this.optimizer = new SgdMomentum(config.momentum(), config.weightDecay(), ((Sgemm) products).workers());
        this.touchedRows = head::touchedRows;
    }

    /**
     * A fresh run: normalisation fitted on the training split, weights from the seed.
     *
     * @param outputDirectory where metrics.csv and checkpoints go, opened as a new run's
     *                        {@link RunDirectory} (and closed with the trainer); null writes nothing (tests)
     */
    public static Trainer start(TrainConfig config, TrainTestData rawData, PassOptions passOptions, Path outputDirectory) {
        return start(config, rawData, passOptions, ShardOptions.NONE, outputDirectory);
    }

    /** A fresh run with the head split as {@code shardOptions} says ({@code --shards}, {@code --sample-rate}; the sampler's seed is the run's). */
    public static Trainer start(TrainConfig config, TrainTestData rawData, PassOptions passOptions, ShardOptions shardOptions,
            Path outputDirectory) {
        if (outputDirectory == null) {
            return startIn(config, rawData, passOptions, shardOptions, null, false);
        }
        return startIn(config, rawData, passOptions, shardOptions, RunDirectory.forNewRun(outputDirectory, false), true);
    }

    /** A fresh run writing into {@code run}, which the caller opened (and closes, after the trainer). */
    public static Trainer startIn(TrainConfig config, TrainTestData rawData, PassOptions passOptions, RunDirectory run) {
        return startIn(config, rawData, passOptions, ShardOptions.NONE, run, false);
    }

    /** As {@link #startIn(TrainConfig, TrainTestData, PassOptions, RunDirectory)} with the head split as {@code shardOptions} says. */
    public static Trainer startIn(TrainConfig config, TrainTestData rawData, PassOptions passOptions, ShardOptions shardOptions,
            RunDirectory run) {
        return startIn(config, rawData, passOptions, shardOptions, run, false);
    }

    private static Trainer startIn(TrainConfig config, TrainTestData rawData, PassOptions passOptions, ShardOptions shardOptions,
            RunDirectory run, boolean ownsRun) {
        Trainer trainer;
        try {
            trainer = new Trainer(config, rawData, Normalization.fit(rawData.restrictedTo(config.trainClasses()).train()), passOptions,
                    shardOptions, run, ownsRun);
        } catch (RuntimeException | Error e) {
            if (ownsRun) {
                run.close();
            }
            throw e;
        }
        return trainer.initialiseFresh();
    }

    /**
     * Continues a run from a checkpoint with its configuration, except the total epoch count and the
     * pass (which only changes speed, and the last bits of the numbers), which may be given anew.
     *
     * @param epochs          the total to reach, at least the checkpoint's epochs
     * @param outputDirectory opened as the {@link RunDirectory} of a resume from {@code source} (and closed
     *                        with the trainer); null writes nothing (tests)
     */
    public static Trainer resume(Checkpoint checkpoint, Path source, int epochs, String passName, TrainTestData rawData,
            PassOptions passOptions, Path outputDirectory) {
        return resume(checkpoint, source, epochs, passName, rawData, passOptions, null, outputDirectory);
    }

    /**
     * As {@link #resume(Checkpoint, Path, int, String, TrainTestData, PassOptions, Path)} with the head split
     * as {@code shardOptions} says; null: as the checkpoint's W is split, without sampling. The number of
     * shards must be the checkpoint's (its W blocks are restored as they are).
     */
    public static Trainer resume(Checkpoint checkpoint, Path source, int epochs, String passName, TrainTestData rawData,
            PassOptions passOptions, ShardOptions shardOptions, Path outputDirectory) {
        if (outputDirectory == null) {
            return resumeIn(checkpoint, source, epochs, passName, rawData, passOptions, shardOptions, null, false);
        }
        return resumeIn(checkpoint, source, epochs, passName, rawData, passOptions, shardOptions,
                RunDirectory.forResume(outputDirectory, source, false), true);
    }

    /** Continues a run writing into {@code run}, which the caller opened for this resume (and closes, after the trainer). */
    public static Trainer resumeIn(Checkpoint checkpoint, Path source, int epochs, String passName, TrainTestData rawData,
            PassOptions passOptions, RunDirectory run) {
        return resumeIn(checkpoint, source, epochs, passName, rawData, passOptions, null, run, false);
    }

    /** As {@link #resumeIn(Checkpoint, Path, int, String, TrainTestData, PassOptions, RunDirectory)} with the head split as {@code shardOptions} says (null: as the checkpoint's). */
    public static Trainer resumeIn(Checkpoint checkpoint, Path source, int epochs, String passName, TrainTestData rawData,
            PassOptions passOptions, ShardOptions shardOptions, RunDirectory run) {
        return resumeIn(checkpoint, source, epochs, passName, rawData, passOptions, shardOptions, run, false);
    }

    private static Trainer resumeIn(Checkpoint checkpoint, Path source, int epochs, String passName,
            TrainTestData rawData, PassOptions passOptions, ShardOptions shardOptions, RunDirectory run, boolean ownsRun) {
        Trainer trainer;
        try {
            ShardOptions shards = shardOptions != null ? shardOptions : ShardOptions.NONE.withShards(checkpoint.classShards());
            if (shards.shards() != checkpoint.classShards()) {
                throw new InvalidInputException(source + " holds W in " + checkpoint.classShards() + " shard(s), --shards asks for " + shards.shards()
                        + ": resume with --shards " + checkpoint.classShards());
            }
            checkResumable(checkpoint, source, epochs, rawData);
            TrainConfig config = checkpoint.config().withEpochs(epochs).withPassName(passName);
            trainer = new Trainer(config, rawData, checkpoint.normalization(), passOptions, shards, run, ownsRun);
        } catch (RuntimeException | Error e) {
            if (ownsRun) {
                run.close();
            }
            throw e;
        }
        try {
            trainer.restoreState(checkpoint, source);
            if (run != null) {
                trainer.history.addAll(run.history(checkpoint));
            }
            trainer.beginWriting();
        } catch (RuntimeException | Error e) {
            trainer.close(); // a checkpoint that does not fit must not leave the trainer's worker threads behind
            throw e;
        }
        LOG.info("Resuming from {} after epoch {} (iteration {})", source, trainer.epochsCompleted, trainer.iteration);
        return trainer;
    }

    /**
     * A fresh run as process {@code job.rank()} of a data-parallel job of {@code job.size()} (every process
     * calls it with the same arguments but {@code run}): this process's replica of the trunk and block
     * {@code job.rank()} of W, initialised to their values in the single-process network of the same seed.
     *
     * @param run       rank 0: the run folder, which it opened (and closes, after the trainer); the other ranks: null
     * @param jobFolder the run folder's path on this process's host, where its part of each checkpoint set goes; null writes none (tests)
     */
    public static Trainer startDistributed(TrainConfig config, TrainTestData rawData, PassOptions passOptions, ShardOptions shardOptions,
            DataParallel job, RunDirectory run, Path jobFolder) {
        Normalization normalization = Normalization.fit(rawData.restrictedTo(config.trainClasses()).train());
        Trainer trainer = new Trainer(config, rawData, normalization, passOptions, shardOptions.withShards(job.size()), run, false, job,
                jobFolder);
        return trainer.initialiseFresh();
    }

    /**
     * Continues a data-parallel run from the checkpoint set the job restored ({@link ShardSets#resume}: this
     * process's part); {@code run} (rank 0) checks the run's history against it. As
     * {@link #resume(Checkpoint, Path, int, String, TrainTestData, PassOptions, Path)} otherwise.
     */
    public static Trainer resumeDistributed(ShardSets.Restored restored, int epochs, String passName, TrainTestData rawData,
            PassOptions passOptions, ShardOptions shardOptions, DataParallel job, RunDirectory run, Path jobFolder, boolean overwrite) {
        Checkpoint part = restored.part();
        Path source = restored.manifest();
        checkResumable(part, source, epochs, rawData);
        TrainConfig config = part.config().withEpochs(epochs).withPassName(passName);
        Trainer trainer = new Trainer(config, rawData, part.normalization(), passOptions, shardOptions.withShards(job.size()), run, false,
                job, jobFolder);
        try {
            trainer.restoreState(part, source);
            if (run != null) {
                // a fall-back from a damaged newer set replaces it, as going back with --overwrite does
                run.continueSet(part, source, overwrite || restored.fellBack());
                trainer.history.addAll(run.history(part));
            }
            if (trainer.shardSets != null) {
                trainer.shardSets.discardNewerThan(part.epochsCompleted());
            }
            trainer.beginWriting();
        } catch (RuntimeException | Error e) {
            trainer.close();
            throw e;
        }
        if (job.isLeader()) {
            LOG.info("Resuming the job of {} processes from {} after epoch {} (iteration {})", job.size(), source, trainer.epochsCompleted,
                    trainer.iteration);
        }
        return trainer;
    }

    /** What a resume needs of a checkpoint: the data's shape, a total of epochs not below its own, finite values. */
    private static void checkResumable(Checkpoint checkpoint, Path source, int epochs, TrainTestData rawData) {
        int dataClasses = rawData.restrictedTo(checkpoint.config().trainClasses()).classes();
        if (rawData.dimension() != checkpoint.inputSize() || dataClasses != checkpoint.classes()) {
            throw new InvalidInputException(source + " was trained on " + checkpoint.inputSize() + " features and "
                    + checkpoint.classes() + " classes, the data has " + rawData.dimension() + " and " + dataClasses);
        }
        if (epochs < checkpoint.epochsCompleted()) {
            throw new InvalidInputException(source + " is at epoch " + checkpoint.epochsCompleted() + ": a total of "
                    + epochs + " epochs is fewer than are done");
        }
        OffendingValue nonFinite = checkpoint.firstNonFinite();
        if (nonFinite != null) {
            throw new InvalidInputException(source + ": checkpoint holds a non-finite value: " + nonFinite.summary()
                    + " at index " + nonFinite.index());
        }
    }

    /** A fresh run's state: the weights from the seed, the snapshot, the run folder begun; the trainer closed if any fails. */
    private Trainer initialiseFresh() {
        try {
            network.initialise(SplitMix64.forStream(config.seed(), INIT_STREAM));
            lastGoodSnapshot = checkpoint();
            beginWriting();
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
        return this;
    }

    /** A resumed run's state from {@code checkpoint}: weights, momentum, epoch and iteration, the snapshot and the last good file. */
    private void restoreState(Checkpoint checkpoint, Path source) {
        checkpoint.restoreInto(network, source);
        epochsCompleted = checkpoint.epochsCompleted();
        iteration = checkpoint.iteration();
        lastGoodSnapshot = checkpoint();
        lastGoodCheckpointFile = source;
        lastGoodCheckpointEpoch = checkpoint.epochsCompleted();
    }

    /** Checks the run folder's room for this network's checkpoints, and starts the run there ({@link RunDirectory#begin}). */
    private void beginWriting() {
        if (runDirectory != null) {
            runDirectory.begin(CheckpointFormat.sizeOf(lastGoodSnapshot));
        }
        if (job != null) {
            // rank 0 first (it may replace an old run's files with --overwrite), then the others make their folder
            job.collective().barrier();
            if (runDirectory == null && shardSets != null) {
                shardSets.prepare(3 * CheckpointFormat.sizeOf(lastGoodSnapshot));
            }
        }
    }

    public Trainer showProgress(boolean show) {
        this.showProgress = show;
        return this;
    }

    /** How diverged steps are handled (see the class comment); {@link DivergencePolicy#DEFAULTS} unless set. */
    public Trainer divergencePolicy(DivergencePolicy policy) {
        guard.policy(policy);
        return this;
    }

    /** Test-only fault injection: {@code hook} sees (and may poison) every batch just before its step. */
    Trainer batchHook(BatchHook hook) {
        this.batchHook = hook;
        return this;
    }

    /** Trains until {@code config.epochs()} epochs are done; returns the metrics of every epoch of the run. */
    public List<EpochMetrics> run() {
        if (job == null || job.isLeader()) {
            LOG.info("Network {}; loss {}, schedule {}, pass {}, batch {}, lr {} (steps at epochs {}), seed {}{}",
                network.architecture(), config.loss() + warmupText(), ScheduleText.format(config.schedule()), config.passName(),
                config.batchSize(), config.learningRate(), config.learningRateSteps(), config.seed(),
                job == null ? "" : "; a job of " + job.size() + " processes, each the trunk on its rows of every batch and one block of the "
                        + "classes: " + head.description());
        }
        while (epochsCompleted < config.epochs()) {
            trainEpoch();
        }
        // in a job, every rank evaluates (rank 0 writes): the features are all-gathered
        if (config.featureDimension() == 2 && (job == null ? runDirectory != null : shardSets != null)) {
            Evaluation withFeatures = evaluateTest(true);
            if (runDirectory != null) {
                FeaturesCsv.write(runDirectory.directory().resolve(FeaturesCsv.FILE_NAME), test.labels(), withFeatures.features());
            }
        }
        return List.copyOf(history);
    }

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

        StepProfile.reset();
        long shuffleStart = StepProfile.now();
        int[] order = new int[train.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        SplitMix64.forStream(config.seed(), epoch).shuffle(order);
        StepProfile.record("epoch: shuffle", shuffleStart);

        guard.startEpoch();
        StepBuffers step = new StepBuffers(ownRows, dimension, ((Sgemm) products).workers());
        ProgressBar progress = showProgress && (job == null || job.isLeader())
                ? ProgressBar.onStderr(String.format(Locale.ROOT, "epoch %d/%d", epoch, config.epochs()),
                        (long) batches * batchSize)
                : null;
        double lossSum = 0.0;
        long correct = 0;
        int appliedSteps = 0;
        double beta = Double.NaN;
        double learningRate = scheduledLearningRate;
        long startNanos = System.nanoTime();
        long[] exchangedBefore = job == null ? null : job.exchanged();
        for (int b = 0; b < batches; b++) {
            long phaseStart = StepProfile.now();
            step.gather(train, order, b * batchSize + firstOwnRow);
            StepProfile.record("batch: gather rows", phaseStart);
            if (batchHook != null) {
                batchHook.beforeStep(epoch, iteration, b, step.input, step.labels);
            }
            learningRate = guard.learningRate(scheduledLearningRate);
            beta = guard.betaAt(config.schedule(), iteration);
            head.setLoss(config.lossAt(iteration));
            head.setIteration(iteration);
            OffendingValue problem = computeStep(step, beta, learningRate);
            if (problem == null) {
                phaseStart = StepProfile.now();
                optimizer.step(network.parameters(), learningRate, touchedRows);
                StepProfile.record("optimizer: step", phaseStart);
                guard.stepApplied();
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
        long loopNanos = System.nanoTime() - startNanos;
        double seconds = loopNanos / 1e9;
        if (StepProfile.ENABLED) {
            StepProfile.printAndReset(System.err, String.format(Locale.ROOT, "epoch %d, %d steps of batch %d", epoch,
                    batches, batchSize), loopNanos, batches, products instanceof Sgemm sgemm ? sgemm.threads() : 1);
        }
        long samples = (long) appliedSteps * batchSize;
        if (job != null && job.isLeader() && batches > 0) {
            long[] exchanged = job.exchanged();
            LOG.info(String.format(Locale.ROOT, "epoch %d: rank 0 per training step: %.1f ms; %s", epoch, 1e3 * seconds / batches,
                    DataParallel.exchangeText(exchangedBefore, exchanged, batches)));
        }
        Evaluation evaluation = evaluate(false);
        Checkpoint state = Checkpoint.capture(config, normalization, network, epoch, iteration);
        refuseToSaveBadState(epoch, state, evaluation);
        if (job != null) {
            job.checkReplicasEqual(trunkParameters());
        }
        epochsCompleted = epoch;
        lastGoodSnapshot = state;
        EpochMetrics metrics = new EpochMetrics(epoch, iteration, learningRate, beta,
                appliedSteps == 0 ? Double.NaN : lossSum / appliedSteps,
                appliedSteps == 0 ? Double.NaN : (double) correct / samples, evaluation.loss(), evaluation.accuracy(),
                evaluation.meanOwnAngle(), evaluation.meanNearestOtherAngle(), seconds, samples / seconds);
        history.add(metrics);
        if (job == null || job.isLeader()) {
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
        }
        if (job == null && runDirectory != null) {
            runDirectory.saveEpoch(history, state);
            lastGoodCheckpointFile = runDirectory.lastCheckpointFile();
            lastGoodCheckpointEpoch = epoch;
        } else if (job != null) {
            // metrics.csv first (rank 0), as a run of one process writes it before its checkpoint; then the set
            if (runDirectory != null) {
                runDirectory.saveMetrics(history);
            }
            if (shardSets != null) {
                lastGoodCheckpointFile = shardSets.save(state);
                lastGoodCheckpointEpoch = epoch;
            }
        }
        return metrics;
    }

    /** The buffers of one training step, and what it measured. */
    private static final class StepBuffers {
        /** Rows per chunk of the gather on the worker pool (random rows of a large array: latency-bound, so two threads help). */
        private static final int GATHER_ROWS = 32;

        final float[] input;
        final int[] labels;
        double loss;
        int correct;
        private final WorkerPool workers;
        private final WorkerPool.ChunkTask gatherChunk = (chunk, worker) -> gatherRows(chunk * GATHER_ROWS,
                (chunk + 1) * GATHER_ROWS);
        // the gather in progress
        private Dataset source;
        private int[] order;
        private int offset;

        StepBuffers(int batchSize, int dimension, WorkerPool workers) {
            input = new float[batchSize * dimension];
            labels = new int[batchSize];
            this.workers = workers;
        }

        /** Copies samples {@code order[offset .. offset + batch - 1]} of {@code data} into input and labels. */
        void gather(Dataset data, int[] sampleOrder, int first) {
            source = data;
            order = sampleOrder;
            offset = first;
            if ((long) labels.length * data.dimension() < 1 << 15) {
                gatherRows(0, labels.length); // small: a fork-join would cost more than the copy
            } else {
                workers.runChunks(gatherChunk, (labels.length + GATHER_ROWS - 1) / GATHER_ROWS);
            }
            source = null;
            order = null;
        }

        private void gatherRows(int from, int to) {
            int dimension = source.dimension();
            float[] features = source.features();
            int[] sourceLabels = source.labels();
            for (int i = from; i < Math.min(to, labels.length); i++) {
                int sample = order[offset + i];
                System.arraycopy(features, sample * dimension, input, i * dimension, dimension);
                labels[i] = sourceLabels[sample];
            }
        }
    }

    /**
     * Forward and backward of one batch, leaving every parameter's gradient filled, and checks each
     * result as soon as it exists. Changes no weight and no momentum.
     *
     * @return the first offending value, or null when the step may be applied
     */
    private OffendingValue computeStep(StepBuffers step, double beta, double learningRate) {
        int featureDimension = config.featureDimension();
        List<Parameter> classWeights = head.weightParameters();
        long start = StepProfile.now();
        network.zeroGradients();
        StepProfile.record("zero gradients", start);
        float[] features = network.features(step.input, ownRows);
        start = StepProfile.now();
        OffendingValue problem = OffendingValue.firstNonFiniteInRows("features", features, ownRows, featureDimension);
        StepProfile.record("guard: features finite", start);
        problem = agree(problem, "features");
        if (problem != null) {
            return problem;
        }
        start = StepProfile.now();
        try {
            step.loss = head.forward(features, step.labels, beta);
        } catch (HeadOverflowException overflow) {
            return OffendingValue.scalar("loss", overflow.loss()); // the whole batch's loss: the same verdict on every rank
        }
        StepProfile.record("head forward", start);
        if (!Double.isFinite(step.loss)) {
            return OffendingValue.scalar("loss", step.loss);
        }
        start = StepProfile.now();
        float[] featureGradient = head.backward();
        StepProfile.record("head backward", start);
        start = StepProfile.now();
        problem = OffendingValue.firstNonFiniteInRows("gradient of features", featureGradient, ownRows, featureDimension);
        for (int k = 0; k < classWeights.size() && problem == null; k++) {
            problem = OffendingValue.firstNonFinite("gradient of " + classWeights.get(k).name(), classWeights.get(k).gradient(),
                    classWeights.get(k).size());
        }
        StepProfile.record("guard: dF, dW finite", start);
        problem = agree(problem, "a gradient of the head");
        if (problem != null) {
            return problem;
        }
        // training accuracy with the plain logits, as prediction does (before this step's update)
        start = StepProfile.now();
        step.correct = head.correct();
        StepProfile.record("head correct (predictions)", start);
        network.backward(featureGradient, ownRows);
        List<Parameter> parameters = network.parameters();
        if (job != null) {
            start = StepProfile.now();
            job.sumGradients(trunkParameters()); // each replica saw its rows; the loss is the whole batch's
            StepProfile.record("job: sum the trunk's gradients", start);
        }
        double maxChange = guard.policy().maxWeightChange();
        // the fast check, one vectorised pass: every gradient, new momentum and new weight finite and
        // no change above the limit; only when it fails do the scans below name the first offending value
        start = StepProfile.now();
        boolean safe = optimizer.isSafeStep(parameters, learningRate, maxChange, touchedRows);
        StepProfile.record("guard + optimizer: isSafeStep", start);
        if (safe) {
            return agree(null, "an update"); // in a job every rank takes part in each verdict, also when its own check passed
        }
        for (Parameter parameter : parameters) {
            if (!classWeights.contains(parameter)) { // its gradient is the head's dW, checked above
                problem = OffendingValue.firstNonFinite("gradient of " + parameter.name(), parameter.gradient(),
                        parameter.size());
                if (problem != null) {
                    break;
                }
            }
        }
        if (problem == null) {
            problem = optimizer.checkStep(parameters, learningRate, maxChange, touchedRows);
        }
        return agree(problem, "an update");
    }

    /**
     * In a job of several processes, one verdict for the step from every rank's own check (every rank
     * then skips or applies it together, see {@link DataParallel#agree}); a run of one process keeps its own.
     */
    private OffendingValue agree(OffendingValue local, String what) {
        return job == null ? local : job.agree(local, what, firstOwnRow);
    }

    /** The parameters outside the head: in a job of several processes, every rank's replica of the trunk. */
    private List<Parameter> trunkParameters() {
        if (trunk == null) {
            trunk = DataParallel.trunkOf(network.parameters(), head.weightParameters());
        }
        return trunk;
    }

    /** Applies the divergence policy to a step that was not applied (see {@link DivergenceGuard}). */
    private void handleDivergedStep(int epoch, int batch, int[] order, OffendingValue problem,
            double scheduledLearningRate) {
        int batchSize = config.batchSize();
        String where = String.format(Locale.ROOT, "batch %d (positions %d-%d of the epoch's shuffled order%s)", batch,
                batch * batchSize, (batch + 1) * batchSize - 1,
                problem.row() >= 0 ? ", training sample " + order[batch * batchSize + problem.row()] + " in row "
                        + problem.row() + " column " + problem.column() : "");
        DivergenceGuard.Verdict verdict = guard.diverged(epoch, iteration, batch, where, problem, config.schedule(),
                scheduledLearningRate, snapshotText());
        switch (verdict) {
            case STOP -> throw new TrainingDivergedException(epoch, iteration, problem, lastGoodCheckpointFile,
                    lastGoodCheckpointEpoch);
            case RESTORE_SNAPSHOT -> lastGoodSnapshot.restoreInto(network, Path.of("the last good in-memory snapshot"));
            case SKIP -> {
                // nothing was applied: the state from before the step is intact
            }
        }
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
        OffendingValue problem = job == null ? state.firstNonFinite() : job.agree(state.firstNonFinite(), "the state", 0);
        if (problem == null && !Double.isFinite(evaluation.loss())) {
            problem = OffendingValue.scalar("test loss", evaluation.loss());
        }
        if (problem != null) {
            guard.badEpochEnd(epoch, iteration - 1, problem, config.learningRateAt(epoch), snapshotText());
            lastGoodSnapshot.restoreInto(network, Path.of("the last good in-memory snapshot"));
            throw new TrainingDivergedException(epoch, iteration - 1, problem, lastGoodCheckpointFile,
                    lastGoodCheckpointEpoch);
        }
    }

    private String warmupText() {
        TrainConfig.Warmup warmup = config.warmup();
        if (warmup.marginIterations() == 0 && warmup.scaleIterations() == 0) {
            return "";
        }
        return " (warm-up: margins over " + warmup.marginIterations() + " iterations, scale over " + warmup.scaleIterations() + ")";
    }

    /** The current state as a checkpoint. */
    public Checkpoint checkpoint() {
        return Checkpoint.capture(config, normalization, network, epochsCompleted, iteration);
    }

    /** Evaluates on the (normalised) test split. */
    public Evaluation evaluateTest(boolean keepFeatures) {
        return evaluate(keepFeatures);
    }

    private Evaluation evaluate(boolean keepFeatures) {
        return job == null ? Evaluator.evaluate(network, test, products, keepFeatures, config.loss())
                : DistributedEvaluator.evaluate(network, test, products, keepFeatures, config.loss(), job, config.batchSize());
    }

    public Network network() {
        return network;
    }

    /** Whether this trainer is one process of a data-parallel job. */
    public boolean isDistributed() {
        return job != null;
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
        return guard.events();
    }

    /** The head (class weights and the pass computing the margin loss: a {@link MarginHead}, or the class-sharded head). */
    public Head head() {
        return head;
    }

    @Override
    public void close() {
        try {
            head.close();
            products.close();
        } finally {
            if (ownsRunDirectory) {
                runDirectory.close();
            }
        }
    }
}
