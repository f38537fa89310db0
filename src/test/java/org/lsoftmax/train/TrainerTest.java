package org.lsoftmax.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lsoftmax.data.SyntheticDataset;
import org.lsoftmax.data.TrainTestData;
import org.lsoftmax.head.PassOptions;

class TrainerTest {

    static final TrainTestData DATA = SyntheticDataset.createDefault();

    /** A small network on the synthetic data: 62 steps per epoch of batch 64. */
    static TrainConfig smallConfig(int margin, int epochs) {
        return new TrainConfig(margin, List.of(32), 8, 64, 0.05, List.of(), 0.9, 5e-4, epochs, 3,
                new BetaSchedule.Geometric(100, 0.98, 2), "reference");
    }

    @Test
    void lossFallsAndAccuracyIsFarAboveChance() {
        for (int margin : new int[] {1, 3}) {
            // a constant beta keeps the margin loss of different epochs comparable (an annealed beta makes it harder)
            TrainConfig config = new TrainConfig(margin, List.of(32), 8, 64, 0.05, List.of(), 0.9, 5e-4, 5, 3,
                    new BetaSchedule.Constant(2), "reference");
            List<EpochMetrics> history;
            try (Trainer trainer = Trainer.start(config, DATA, PassOptions.DEFAULTS, null)) {
                history = trainer.showProgress(false).run();
                assertEquals(5 * 62, trainer.iteration());
            }
            EpochMetrics first = history.get(0);
            EpochMetrics last = history.get(history.size() - 1);
            double chance = 1.0 / DATA.classes();
            assertTrue(last.trainLoss() < 0.6 * first.trainLoss(),
                    "m=" + margin + ": training loss did not fall enough: " + first.trainLoss() + " -> " + last.trainLoss());
            assertTrue(last.testAccuracy() > 0.75, "m=" + margin + ": test accuracy " + last.testAccuracy()
                    + " (chance " + chance + ")");
            System.out.println("m=" + margin + ": loss " + first.trainLoss() + " -> " + last.trainLoss() + ", test accuracy "
                    + last.testAccuracy() + ", angles " + last.meanOwnAngle() + " / " + last.meanNearestOtherAngle());
            assertTrue(last.meanOwnAngle() < last.meanNearestOtherAngle(),
                    "m=" + margin + ": features should be closer to their own class weight: " + last);
        }
    }

    @Test
    void sameSeedGivesIdenticalWeights() {
        float[] first;
        float[] second;
        try (Trainer trainer = Trainer.start(smallConfig(2, 1), DATA, PassOptions.DEFAULTS, null)) {
            trainer.showProgress(false).run();
            first = trainer.network().classWeights().value().clone();
        }
        try (Trainer trainer = Trainer.start(smallConfig(2, 1), DATA, PassOptions.DEFAULTS, null)) {
            trainer.showProgress(false).run();
            second = trainer.network().classWeights().value().clone();
        }
        assertArrayEquals(first, second);
    }

    @Test
    void resumedRunEndsWithBitIdenticalWeights(@TempDir Path directory) {
        Path uninterrupted = directory.resolve("uninterrupted");
        Path interrupted = directory.resolve("interrupted");
        Checkpoint expected;
        try (Trainer trainer = Trainer.start(smallConfig(4, 4), DATA, PassOptions.DEFAULTS, uninterrupted)) {
            trainer.showProgress(false).run();
            expected = trainer.checkpoint();
        }
        // "interrupted" after epoch 2, then continued from its checkpoint by a fresh trainer
        try (Trainer trainer = Trainer.start(smallConfig(4, 2), DATA, PassOptions.DEFAULTS, interrupted)) {
            trainer.showProgress(false).run();
        }
        Path checkpointFile = interrupted.resolve(CheckpointFiles.LAST_FILE);
        Checkpoint resumed;
        List<EpochMetrics> history;
        try (Trainer trainer = Trainer.resume(CheckpointFormat.read(checkpointFile), checkpointFile, 4, "reference", DATA,
                PassOptions.DEFAULTS, interrupted)) {
            history = trainer.showProgress(false).run();
            resumed = trainer.checkpoint();
        }
        assertEquals(expected.iteration(), resumed.iteration());
        assertEquals(4, resumed.epochsCompleted());
        assertEquals(expected.tensors().size(), resumed.tensors().size());
        for (int t = 0; t < expected.tensors().size(); t++) {
            Checkpoint.Tensor want = expected.tensors().get(t);
            Checkpoint.Tensor got = resumed.tensors().get(t);
            assertEquals(want.name(), got.name());
            assertArrayEquals(want.values(), got.values(), "values of " + want.name()); // bitwise float equality
            assertArrayEquals(want.momentum(), got.momentum(), "momentum of " + want.name());
        }
        assertEquals(4, history.size(), "metrics of epochs 1-2 are kept from metrics.csv");
        assertEquals(4, MetricsCsv.read(interrupted.resolve(MetricsCsv.FILE_NAME)).size());
        assertEquals(MetricsCsv.read(uninterrupted.resolve(MetricsCsv.FILE_NAME)).get(3).testAccuracy(),
                history.get(3).testAccuracy());
        assertTrue(Files.isRegularFile(interrupted.resolve(CheckpointFiles.PREVIOUS_FILE)));
    }

    @Test
    void twoDimensionalRunWritesFeatures(@TempDir Path directory) throws Exception {
        TrainConfig config = new TrainConfig(2, List.of(16), 2, 128, 0.05, List.of(), 0.9, 5e-4, 1, 5,
                new BetaSchedule.Constant(10), "reference");
        try (Trainer trainer = Trainer.start(config, DATA, PassOptions.DEFAULTS, directory)) {
            trainer.showProgress(false).run();
        }
        List<String> lines = Files.readAllLines(directory.resolve(FeaturesCsv.FILE_NAME));
        assertEquals("label,x,y", lines.get(0));
        assertEquals(DATA.test().size() + 1, lines.size());
    }
}
