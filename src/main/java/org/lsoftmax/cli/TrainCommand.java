package org.lsoftmax.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.data.TrainTestData;
import org.lsoftmax.head.PassOptions;
import org.lsoftmax.head.ShardOptions;
import org.lsoftmax.plot.RunFolder;
import org.lsoftmax.plot.RunPictures;
import org.lsoftmax.train.BetaSchedule;
import org.lsoftmax.train.Checkpoint;
import org.lsoftmax.train.CheckpointFiles;
import org.lsoftmax.train.DivergenceEvent;
import org.lsoftmax.train.DivergencePolicy;
import org.lsoftmax.train.EpochMetrics;
import org.lsoftmax.train.RunDirectory;
import org.lsoftmax.train.TrainConfig;
import org.lsoftmax.train.Trainer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lsoftmax train}: trains the MLP + L-Softmax network, writing metrics.csv and checkpoints to --out. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trains an MLP feature extractor with an L-Softmax head on Fashion-MNIST (or the built-in "
                + "synthetic data), writing OUT/metrics.csv, OUT/last.ckpt (+ previous.ckpt), OUT/curves.png and, for 2-D "
                + "features, OUT/features.csv and OUT/features.png."})
public final class TrainCommand implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(TrainCommand.class);
    static final int DEFAULT_EPOCHS = 10;
    static final String DEFAULT_OUT = "runs/latest";

    @Option(names = "--data", paramLabel = "DIR",
            description = "Directory with the MNIST-style IDX files (default: /usr/share/datasets/fashion-mnist, "
                    + "else built-in synthetic data).")
    Path data;

    @Option(names = "--synthetic", description = "Use the built-in synthetic data even when Fashion-MNIST is installed.")
    boolean synthetic;

    @Option(names = "--out", paramLabel = "DIR",
            description = "Output directory (default: " + DEFAULT_OUT + "; for a new run, when that holds another run, the first "
                    + DEFAULT_OUT + "-N that does not, as the log says).")
    Path out;

    @Option(names = "--epochs", paramLabel = "N",
            description = "Total epochs (default: " + DEFAULT_EPOCHS + " for a new run; a resumed run continues to the "
                    + "total stored in its checkpoint).")
    Integer epochs;

    @Mixin
    LossOptions lossOptions;

    @Option(names = "--margin-warmup", defaultValue = "0", paramLabel = "ITERATIONS",
            description = "cosface, arcface, combined: grow the margins (m2, m3, m1 - 1) linearly from 0 over the first ITERATIONS (default: ${DEFAULT-VALUE}, none).")
    long marginWarmup;

    @Option(names = "--scale-warmup", defaultValue = "0", paramLabel = "ITERATIONS",
            description = "cosface, arcface, combined: grow the scale s linearly from 1 over the first ITERATIONS (default: ${DEFAULT-VALUE}, none).")
    long scaleWarmup;

    @Option(names = "--classes", paramLabel = "LIST",
            description = "Train on these classes only, e.g. 0-4 or 0,2,4 (relabelled 0, 1, ... in that order; the others can be held out for `retrieval`).")
    String classes;

    @Option(names = "--schedule", defaultValue = "geometric",
            description = "Beta (lambda) annealing: geometric (mx-lsoftmax), power (Caffe) or constant (default: ${DEFAULT-VALUE}).")
    String schedule;

    @Option(names = "--beta-start", defaultValue = "1000", description = "geometric: start beta; power: base (default: ${DEFAULT-VALUE}).")
    double betaStart;

    @Option(names = "--beta-scale", defaultValue = "0.99", description = "geometric: factor per iteration (default: ${DEFAULT-VALUE}).")
    double betaScale;

    @Option(names = "--beta-gamma", defaultValue = "0.002", description = "power: gamma (default: ${DEFAULT-VALUE}).")
    double betaGamma;

    @Option(names = "--beta-power", defaultValue = "4", description = "power: exponent (default: ${DEFAULT-VALUE}).")
    double betaPower;

    @Option(names = "--beta-min", defaultValue = "5", description = "Floor of beta for geometric and power (default: ${DEFAULT-VALUE}).")
    double betaMin;

    @Option(names = "--beta", defaultValue = "0", description = "constant: the beta (default: ${DEFAULT-VALUE}).")
    double betaConstant;

    @Mixin
    PassSelection passSelection;

    @Option(names = "--hidden", defaultValue = "256,128", description = "Hidden layer widths (default: ${DEFAULT-VALUE}).")
    String hidden;

    @Option(names = "--feature-dim", defaultValue = "64", description = "Feature dimension D before the head; 2 for pictures (default: ${DEFAULT-VALUE}).")
    int featureDimension;

    @Option(names = "--batch", defaultValue = "256", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--lr", defaultValue = "0.05", description = "Base learning rate (default: ${DEFAULT-VALUE}).")
    double learningRate;

    @Option(names = "--lr-steps", defaultValue = "", paramLabel = "E1,E2",
            description = "1-based epochs at whose start the learning rate is divided by 10 (default: none).")
    String learningRateSteps;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of weights and shuffles (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--resume", arity = "0..1", fallbackValue = "", paramLabel = "CHECKPOINT",
            description = "Continue from CHECKPOINT (default: OUT/last.ckpt); network, schedule and seed come from the checkpoint. "
                    + "It writes into the checkpoint's own folder, or into an OUT without results (a branch).")
    String resume;

    @Option(names = "--overwrite",
            description = "Replace the results of another run in OUT (its metrics, checkpoints and pictures are deleted "
                    + "when training starts); with --resume, also allow going back to a checkpoint older than another "
                    + "one of its folder. Without it such an OUT is refused.")
    boolean overwrite;

    @Option(names = "--max-divergence-retries", defaultValue = "3", paramLabel = "N",
            description = "Diverged steps (NaN/Inf loss, gradient or update) survived in a row, each skipped with the "
                    + "learning rate halved and beta raised for the rest of the epoch; one more stops training with "
                    + "exit code 3 (default: ${DEFAULT-VALUE}).")
    int maxDivergenceRetries;

    @Option(names = "--quiet", description = "No progress bar.")
    boolean quiet;

    @Spec
    CommandSpec spec;

    @Mixin
    ShardSelection shardSelection;

    @Mixin
    SyntheticClassOptions syntheticClasses;

    @Mixin
    JobSelection jobSelection;

    @Override
    public Integer call() {
        boolean outGiven = out != null;
        if (!outGiven) {
            out = Path.of(DEFAULT_OUT);
        }
        if (out.toString().isEmpty()) {
            throw new InvalidInputException("--out is empty: name a folder for the run (e.g. --out runs/m4)");
        }
        if (epochs != null && epochs < 1) {
            throw new InvalidInputException("--epochs must be >= 1, got " + epochs);
        }
        boolean mpi = jobSelection.mpi();
        if (syntheticClasses.given()) {
            if (mpi) {
                throw new InvalidInputException("--collective mpi trains on --data or --synthetic; the synthetic large-class task "
                        + "(--synthetic-classes) runs in one process (its shards with --shards K)");
            }
            return SyntheticClassRun.train(this, outGiven);
        }
        if (mpi) {
            return DistributedTrain.run(this, outGiven);
        }
        PassOptions passOptions = passSelection.options();
        DivergencePolicy divergencePolicy = divergencePolicy();
        if (resume != null) {
            return resume(passOptions, divergencePolicy);
        }
        // the options first (milliseconds), then the folder (refused before the data is read), then the data
        TrainConfig config = newConfig();
        // the default folder never refuses a new run: it moves aside to runs/latest-N; a folder asked for does
        try (RunDirectory run = outGiven || overwrite ? RunDirectory.forNewRun(out, overwrite) : RunDirectory.forNewRunBeside(out)) {
            out = run.directory();
            TrainTestData rawData = DataOptions.load(data, synthetic);
            config = config.withPassName(passSelection.resolvedPass());
            try (Trainer trainer = Trainer.startIn(config, rawData, passOptions, shardSelection.options(1, seed), run)) {
                train(trainer, divergencePolicy);
            }
        }
        return 0;
    }

    /** The configuration of a new run from the options. */
    TrainConfig newConfig() {
        return new TrainConfig(lossOptions.resolve(2), TrainConfig.parseList(hidden), featureDimension, batch,
                learningRate, TrainConfig.parseList(learningRateSteps), TrainConfig.DEFAULT_MOMENTUM,
                TrainConfig.DEFAULT_WEIGHT_DECAY, epochs == null ? DEFAULT_EPOCHS : epochs, seed, betaSchedule(),
                passSelection.pass, new TrainConfig.Warmup(marginWarmup, scaleWarmup), ClassList.parse(classes));
    }

    DivergencePolicy divergencePolicy() {
        return DivergencePolicy.DEFAULTS.withMaxRetries(maxDivergenceRetries);
    }

    private Integer resume(PassOptions passOptions, DivergencePolicy divergencePolicy) {
        Path checkpointFile = resume.isEmpty() ? out.resolve(CheckpointFiles.LAST_FILE) : Path.of(resume);
        try (RunDirectory run = openForResume(checkpointFile)) {
            Checkpoint checkpoint = run.checkpoint();
            int done = checkpoint.epochsCompleted();
            int total = resumeTotal(checkpointFile, checkpoint, true);
            if (total == done) {
                return 0;
            }
            logResume(checkpointFile, checkpoint, total);
            TrainTestData rawData = DataOptions.load(data, synthetic);
            String pass = passSelection.resolvedPass();
            ShardOptions shards = shardSelection.given()
                    ? shardSelection.options(checkpoint.classShards(), checkpoint.config().seed()) : null;
            try (Trainer trainer = Trainer.resumeIn(checkpoint, checkpointFile, total, pass, rawData, passOptions, shards, run)) {
                train(trainer, divergencePolicy);
            }
        }
        return 0;
    }

    /**
     * The folder for the resume, locked before anything in it is looked at (a run writing it is named,
     * not its half-written state); a missing or damaged last.ckpt names the intact previous.ckpt beside it.
     */
    private RunDirectory openForResume(Path checkpointFile) {
        try {
            return RunDirectory.forResume(out, checkpointFile, overwrite);
        } catch (InvalidInputException e) {
            if (resume.isEmpty() && e.getMessage().startsWith(checkpointFile + ": no such checkpoint file")) {
                Path previous = out.resolve(CheckpointFiles.PREVIOUS_FILE);
                throw new InvalidInputException(checkpointFile + ": no checkpoint to resume from ("
                        + (CheckpointFiles.readIfValid(previous) != null ? previous + " is there: --resume=" + previous
                                : "train without --resume first") + ")", e);
            }
            Path previous = checkpointFile.toAbsolutePath().resolveSibling(CheckpointFiles.PREVIOUS_FILE);
            if (e.getMessage().startsWith(checkpointFile + ":") && checkpointFile.getFileName() != null
                    && checkpointFile.getFileName().toString().equals(CheckpointFiles.LAST_FILE)) {
                Checkpoint intact = CheckpointFiles.readIfValid(previous);
                if (intact != null) {
                    throw new InvalidInputException(e.getMessage() + "; " + checkpointFile.resolveSibling(CheckpointFiles.PREVIOUS_FILE)
                            + " (epoch " + intact.epochsCompleted() + ") is intact: resume with --resume="
                            + checkpointFile.resolveSibling(CheckpointFiles.PREVIOUS_FILE), e);
                }
            }
            throw e;
        }
    }

    /**
     * The total of epochs a resume from {@code checkpoint} trains to: --epochs, or the run's stored total;
     * fewer than it has done is refused; as many says (when {@code reports}) that there is nothing to train.
     */
    int resumeTotal(Path checkpointFile, Checkpoint checkpoint, boolean reports) {
        int done = checkpoint.epochsCompleted();
        int total = epochs != null ? epochs : checkpoint.config().epochs();
        if (total < done) {
            throw new InvalidInputException("--epochs " + total + " is fewer than the " + done + " epochs " + checkpointFile
                    + " has done: give a total of at least " + done);
        }
        if (total == done && reports) {
            spec.commandLine().getOut().printf(Locale.ROOT, "%s has done all %d epochs of its run: nothing to train (give --epochs N > %d "
                    + "to extend it)%n", checkpointFile, done, done);
        }
        return total;
    }

    void logResume(Path checkpointFile, Checkpoint checkpoint, int total) {
        LOG.info("Resuming {} after epoch {} of {}: training epochs {}-{}{} into {}; network, loss, schedule, "
                + "learning rate, classes and seed come from the checkpoint (only --epochs, --pass, --threads, --device, "
                + "--max-divergence-retries and the data options apply)", checkpointFile, checkpoint.epochsCompleted(),
                checkpoint.config().epochs(), checkpoint.epochsCompleted() + 1, total, epochs == null ? " (the run's stored total)" : "", out);
    }

    private void train(Trainer trainer, DivergencePolicy divergencePolicy) {
        train(trainer, divergencePolicy, true);
    }

    /** Runs the trainer; {@code reports}: draws the pictures and prints the summary line (rank 0 of a job, or the one process). */
    void train(Trainer trainer, DivergencePolicy divergencePolicy, boolean reports) {
        List<EpochMetrics> history = trainer.showProgress(!quiet).divergencePolicy(divergencePolicy).run();
        if (history.isEmpty() || !reports) {
            return;
        }
        List<Path> pictures;
        try {
            pictures = RunPictures.draw(RunFolder.read(out), 520, 4000);
        } catch (InvalidInputException e) {
            if (!trainer.isDistributed()) {
                throw e;
            }
            // a job whose ranks write their parts on other hosts: rank 0 cannot assemble the set for the pictures
            LOG.warn("pictures not drawn ({}): draw them with `lsoftmax plot` where every rank's files are", e.getMessage());
            pictures = List.of();
        }
        EpochMetrics last = history.get(history.size() - 1);
        spec.commandLine().getOut().printf(Locale.ROOT, "test accuracy %.2f%% after %d epochs; results in %s (%s)%s%n",
                100 * last.testAccuracy(), last.epoch(), out, String.join(", ", pictures.stream()
                        .map(file -> file.getFileName().toString()).toList()), divergenceSummary(trainer, divergencePolicy));
    }

    /**
     * What the back-off did, for the summary line: steps that diverged and were skipped, each followed by
     * the rest of its epoch at half the learning rate and a raised beta (nearer plain softmax).
     */
    private static String divergenceSummary(Trainer trainer, DivergencePolicy divergencePolicy) {
        List<DivergenceEvent> events = trainer.divergenceEvents();
        if (events.isEmpty()) {
            return "";
        }
        long epochsAffected = events.stream().mapToInt(DivergenceEvent::epoch).distinct().count();
        return String.format(Locale.ROOT, "; but %d training step(s) in %d epoch(s) diverged and were skipped, each "
                + "followed by the rest of its epoch at a lower learning rate and with beta raised toward %.0f (nearer "
                + "plain softmax: the margin was weakened or off), so these are not the results of the margin asked "
                + "for: try a lower --lr", events.size(), epochsAffected, divergencePolicy.betaCap());
    }

    BetaSchedule betaSchedule() {
        return switch (schedule) {
            case "geometric" -> new BetaSchedule.Geometric(betaStart, betaScale, betaMin);
            case "power" -> new BetaSchedule.Power(betaStart, betaGamma, betaPower, betaMin);
            case "constant" -> new BetaSchedule.Constant(betaConstant);
            default -> throw new InvalidInputException("--schedule must be geometric, power or constant, got '" + schedule + "'");
        };
    }
}
