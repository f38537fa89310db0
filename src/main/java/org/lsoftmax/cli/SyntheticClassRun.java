package org.lsoftmax.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.head.PassOptions;
import org.lsoftmax.head.ShardOptions;
import org.lsoftmax.plot.Charts;
import org.lsoftmax.plot.CurvesChart;
import org.lsoftmax.plot.RunPictures;
import org.lsoftmax.train.EpochMetrics;
import org.lsoftmax.train.RunDirectory;
import org.lsoftmax.train.SyntheticClassTraining;
import org.lsoftmax.train.TrainConfig;

/** {@code train --synthetic-classes C}: the class-sharded head trained alone on the synthetic large-class task. */
final class SyntheticClassRun {

    private SyntheticClassRun() {
    }

    static int train(TrainCommand command, boolean outGiven) {
        if (command.resume != null) {
            throw new InvalidInputException("--synthetic-classes runs keep no checkpoint: --resume does not apply");
        }
        SyntheticClassOptions synthetic = command.syntheticClasses;
        String pass = command.passSelection.resolvedPass();
        PassOptions passOptions = command.passSelection.options();
        ShardOptions shards = command.shardSelection.options(1, command.seed);
        SyntheticClassTraining.Config config = new SyntheticClassTraining.Config(synthetic.classes, synthetic.dimension, synthetic.noise,
                command.batch, command.epochs == null ? TrainCommand.DEFAULT_EPOCHS : command.epochs, synthetic.stepsPerEpoch, synthetic.evalSamples, command.learningRate,
                TrainConfig.parseList(command.learningRateSteps), TrainConfig.DEFAULT_MOMENTUM, TrainConfig.DEFAULT_WEIGHT_DECAY,
                command.lossOptions.resolve(2), command.betaSchedule(), command.seed, pass);
        // a run folder as train's: one writer, never another run's results replaced (unless --overwrite)
        try (RunDirectory run = outGiven || command.overwrite ? RunDirectory.forNewRun(command.out, command.overwrite)
                : RunDirectory.forNewRunBeside(command.out)) {
            run.begin(0);
            return train(command, config, passOptions, shards, run.directory());
        }
    }

    private static int train(TrainCommand command, SyntheticClassTraining.Config config, PassOptions passOptions, ShardOptions shards,
            Path out) {
        try (SyntheticClassTraining training = SyntheticClassTraining.start(config, passOptions, shards, out)) {
            List<EpochMetrics> history = training.run();
            Path curves = out.resolve(RunPictures.CURVES_FILE);
            String title = String.format(Locale.ROOT, "%s, %d classes, D=%d, %s", config.loss(), config.classes(), config.dimension(),
                    training.head().layout() + (shards.samples() ? ", r=" + shards.sampleRate() : ""));
            Charts.savePng(CurvesChart.create(title, List.of(new CurvesChart.Run("synthetic", history))), curves, 800, 700);
            EpochMetrics last = history.get(history.size() - 1);
            System.out.printf(Locale.ROOT, "held-out top-1 accuracy %.3f%% over %d classes (chance %.2g%%) after %d steps; results in %s (%s)%n",
                    100 * last.testAccuracy(), config.classes(), 100.0 / config.classes(), training.iteration(), out, curves.getFileName());
        }
        return 0;
    }
}
