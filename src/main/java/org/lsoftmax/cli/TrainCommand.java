package org.lsoftmax.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.data.TrainTestData;
import org.lsoftmax.head.PassOptions;
import org.lsoftmax.plot.RunFolder;
import org.lsoftmax.plot.RunPictures;
import org.lsoftmax.train.BetaSchedule;
import org.lsoftmax.train.Checkpoint;
import org.lsoftmax.train.CheckpointFiles;
import org.lsoftmax.train.CheckpointFormat;
import org.lsoftmax.train.DivergencePolicy;
import org.lsoftmax.train.EpochMetrics;
import org.lsoftmax.train.TrainConfig;
import org.lsoftmax.train.Trainer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code lsoftmax train}: trains the MLP + L-Softmax network, writing metrics.csv and checkpoints to --out. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trains an MLP feature extractor with an L-Softmax head on Fashion-MNIST (or the built-in "
                + "synthetic data), writing OUT/metrics.csv, OUT/last.ckpt (+ previous.ckpt), OUT/curves.png and, for 2-D "
                + "features, OUT/features.csv and OUT/features.png."})
public final class TrainCommand implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(TrainCommand.class);

    @Option(names = "--data", paramLabel = "DIR",
            description = "Directory with the MNIST-style IDX files (default: /usr/share/datasets/fashion-mnist, "
                    + "else built-in synthetic data).")
    Path data;

    @Option(names = "--synthetic", description = "Use the built-in synthetic data even when Fashion-MNIST is installed.")
    boolean synthetic;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "runs/latest", description = "Output directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--epochs", defaultValue = "10", description = "Total epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

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
            description = "Continue from CHECKPOINT (default: OUT/last.ckpt); network, schedule and seed come from the checkpoint.")
    String resume;

    @Option(names = "--max-divergence-retries", defaultValue = "3", paramLabel = "N",
            description = "Diverged steps (NaN/Inf loss, gradient or update) survived in a row, each skipped with the "
                    + "learning rate halved and beta raised for the rest of the epoch; one more stops training with "
                    + "exit code 3 (default: ${DEFAULT-VALUE}).")
    int maxDivergenceRetries;

    @Option(names = "--quiet", description = "No progress bar.")
    boolean quiet;

    @Mixin
    ShardSelection shardSelection;

    @Mixin
    SyntheticClassOptions syntheticClasses;

    @Override
    public Integer call() {
        if (syntheticClasses.given()) {
            return SyntheticClassRun.train(this);
        }
        PassOptions passOptions = passSelection.options();
        DivergencePolicy divergencePolicy = DivergencePolicy.DEFAULTS.withMaxRetries(maxDivergenceRetries);
        TrainTestData rawData = DataOptions.load(data, synthetic);
        String pass = passSelection.resolvedPass();
        Trainer trainer;
        if (resume != null) {
            Path checkpointFile = resume.isEmpty() ? out.resolve(CheckpointFiles.LAST_FILE) : Path.of(resume);
            if (resume.isEmpty() && !Files.isRegularFile(checkpointFile)) {
                throw new InvalidInputException(checkpointFile + ": no checkpoint to resume from (train without --resume first)");
            }
            Checkpoint checkpoint = CheckpointFormat.read(checkpointFile);
            LOG.info("Resuming: network, loss, schedule, learning rate, classes and seed come from {}; only --epochs, --pass, "
                    + "--threads, --device, --max-divergence-retries and the data options apply", checkpointFile);
            trainer = Trainer.resume(checkpoint, checkpointFile, epochs, pass, rawData, passOptions,
                    shardSelection.given() ? shardSelection.options(checkpoint.classShards(), checkpoint.config().seed()) : null, out);
        } else {
            TrainConfig config = new TrainConfig(lossOptions.resolve(2), TrainConfig.parseList(hidden), featureDimension, batch,
                    learningRate, TrainConfig.parseList(learningRateSteps), TrainConfig.DEFAULT_MOMENTUM,
                    TrainConfig.DEFAULT_WEIGHT_DECAY, epochs, seed, betaSchedule(), pass,
                    new TrainConfig.Warmup(marginWarmup, scaleWarmup), ClassList.parse(classes));
            trainer = Trainer.start(config, rawData, passOptions, shardSelection.options(1, seed), out);
        }
        try (trainer) {
            List<EpochMetrics> history = trainer.showProgress(!quiet).divergencePolicy(divergencePolicy).run();
            if (!history.isEmpty()) {
                List<Path> pictures = RunPictures.draw(RunFolder.read(out), 520, 4000);
                EpochMetrics last = history.get(history.size() - 1);
                System.out.printf(java.util.Locale.ROOT, "test accuracy %.2f%% after %d epochs; results in %s (%s)%n",
                        100 * last.testAccuracy(), last.epoch(), out, String.join(", ", pictures.stream()
                                .map(file -> file.getFileName().toString()).toList()));
            }
        }
        return 0;
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
