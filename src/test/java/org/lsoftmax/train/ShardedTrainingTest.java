package org.lsoftmax.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.data.SyntheticDataset;
import org.lsoftmax.data.TrainTestData;
import org.lsoftmax.head.MarginHead;
import org.lsoftmax.head.MarginLoss;
import org.lsoftmax.head.PassOptions;
import org.lsoftmax.head.ShardOptions;
import org.lsoftmax.head.ShardedHead;
import org.lsoftmax.model.Parameter;

/**
 * The training loop with the class-sharded head: K = 2 trains as K = 1 does (the same initial W, split;
 * the same numbers to float rounding), its checkpoint holds the W blocks and resumes bit for bit,
 * sampled negatives train; and the synthetic large-class task learns far above chance.
 */
class ShardedTrainingTest {

    private static final TrainTestData DATA = SyntheticDataset.createDefault();

    private static TrainConfig config(int epochs, String pass) {
        return new TrainConfig(3, List.of(32), 8, 64, 0.05, List.of(), 0.9, 5e-4, epochs, 3, new BetaSchedule.Geometric(100, 0.98, 2), pass);
    }

    @Test
    void twoShardsTrainAsOne() {
        List<EpochMetrics> single;
        float[] singleWeights;
        try (Trainer trainer = Trainer.start(config(1, "jvm"), DATA, PassOptions.DEFAULTS, null)) {
            assertInstanceOf(MarginHead.class, trainer.head());
            single = trainer.showProgress(false).run();
            singleWeights = trainer.network().classWeightMatrix().clone();
        }
        float[] initialSingle;
        float[] initialSharded;
        try (Trainer one = Trainer.start(config(1, "jvm"), DATA, PassOptions.DEFAULTS, null);
                Trainer two = Trainer.start(config(1, "jvm"), DATA, PassOptions.DEFAULTS, new ShardOptions(2, List.of(), 1.0, 0), null)) {
            initialSingle = one.network().classWeightMatrix().clone();
            initialSharded = two.network().classWeightMatrix().clone();
        }
        assertArrayEquals(initialSingle, initialSharded, "the same initial W, split in two blocks");
        try (Trainer trainer = Trainer.start(config(1, "jvm"), DATA, PassOptions.DEFAULTS, new ShardOptions(2, List.of(), 1.0, 0), null)) {
            ShardedHead head = assertInstanceOf(ShardedHead.class, trainer.head());
            assertEquals(2, head.weightParameters().size());
            assertEquals(List.of("lsoftmax.weight.shard0", "lsoftmax.weight.shard1"), head.weightParameters().stream().map(Parameter::name).toList());
            List<EpochMetrics> sharded = trainer.showProgress(false).run();
            double lossSingle = single.get(0).trainLoss();
            double lossSharded = sharded.get(0).trainLoss();
            assertEquals(lossSingle, lossSharded, 1e-4 * lossSingle, "train loss of the epoch");
            assertEquals(single.get(0).testAccuracy(), sharded.get(0).testAccuracy(), 0.01, "test accuracy");
            float[] weights = trainer.network().classWeightMatrix();
            double maxDifference = 0.0;
            double maxValue = 0.0;
            for (int i = 0; i < weights.length; i++) {
                maxDifference = Math.max(maxDifference, Math.abs(weights[i] - singleWeights[i]));
                maxValue = Math.max(maxValue, Math.abs(singleWeights[i]));
            }
            assertTrue(maxDifference < 1e-3 * maxValue, "W after an epoch: " + maxDifference + " of " + maxValue);
        }
    }

    @Test
    void aShardedCheckpointResumesBitForBitAndKeepsItsShards(@TempDir Path directory) {
        ShardOptions two = new ShardOptions(2, List.of(), 1.0, 0);
        Checkpoint expected;
        try (Trainer trainer = Trainer.start(config(2, "jvm"), DATA, PassOptions.DEFAULTS, two, directory.resolve("whole"))) {
            trainer.showProgress(false).run();
            expected = trainer.checkpoint();
        }
        Path interrupted = directory.resolve("interrupted");
        try (Trainer trainer = Trainer.start(config(1, "jvm"), DATA, PassOptions.DEFAULTS, two, interrupted)) {
            trainer.showProgress(false).run();
        }
        Path file = interrupted.resolve(CheckpointFiles.LAST_FILE);
        Checkpoint saved = CheckpointFormat.read(file);
        assertEquals(2, saved.classShards());
        InvalidInputException refused = assertThrows(InvalidInputException.class,
                () -> Trainer.resume(saved, file, 2, "jvm", DATA, PassOptions.DEFAULTS, new ShardOptions(3, List.of(), 1.0, 0), interrupted));
        assertTrue(refused.getMessage().contains("--shards 2"), refused.getMessage());
        try (Trainer trainer = Trainer.resume(saved, file, 2, "jvm", DATA, PassOptions.DEFAULTS, interrupted)) {
            trainer.showProgress(false).run();
            Checkpoint resumed = trainer.checkpoint();
            for (int t = 0; t < expected.tensors().size(); t++) {
                assertEquals(expected.tensors().get(t).name(), resumed.tensors().get(t).name());
                assertArrayEquals(expected.tensors().get(t).values(), resumed.tensors().get(t).values(), expected.tensors().get(t).name());
                assertArrayEquals(expected.tensors().get(t).momentum(), resumed.tensors().get(t).momentum(), expected.tensors().get(t).name());
            }
        }
    }

    /** 400 classes in 2 shards of 200, batch 16, r = 0.25: 50 classes per shard per step; the loss falls. */
    @Test
    void sampledNegativesTrain() {
        TrainTestData data = SyntheticDataset.create(7, 400, 16, 8000, 800, 0.2);
        TrainConfig config = new TrainConfig(MarginLoss.cosface(16, 0.2), List.of(), 16, 16, 0.1, List.of(), 0.9, 5e-4, 3, 3,
                new BetaSchedule.Constant(0), "jvm", TrainConfig.Warmup.NONE, List.of());
        try (Trainer trainer = Trainer.start(config, data, PassOptions.DEFAULTS, new ShardOptions(2, List.of(), 0.25, 0), null)) {
            List<EpochMetrics> history = trainer.showProgress(false).run();
            assertTrue(history.get(2).trainLoss() < history.get(0).trainLoss(), history.toString());
            assertTrue(history.get(2).testAccuracy() > 20.0 / 400, "test accuracy " + history.get(2).testAccuracy() + ", chance 1/400");
        }
    }

    /** The synthetic large-class task: 5000 classes, 2 shards, r = 0.2; held-out top-1 far above chance (1/5000) after 160 steps. */
    @Test
    void theSyntheticLargeClassTaskLearns() {
        SyntheticClassTraining.Config config = new SyntheticClassTraining.Config(5000, 32, 0.1, 128, 2, 80, 512, 2.0, List.of(), 0.9, 5e-4,
                MarginLoss.cosface(30, 0.2), new BetaSchedule.Constant(0), 5, "jvm");
        try (SyntheticClassTraining training = SyntheticClassTraining.start(config, PassOptions.DEFAULTS, new ShardOptions(2, List.of(), 0.2, 0),
                null)) {
            List<EpochMetrics> history = training.run();
            System.out.println("synthetic 5000 classes: " + history);
            assertTrue(history.get(1).trainLoss() < history.get(0).trainLoss(), history.toString());
            assertTrue(history.get(1).testAccuracy() > 50.0 / 5000, "held-out accuracy " + history.get(1).testAccuracy() + ", chance 1/5000");
        }
    }
}
