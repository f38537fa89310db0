package org.lsoftmax.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lsoftmax.data.SyntheticDataset;
import org.lsoftmax.data.TrainTestData;
import org.lsoftmax.head.PassOptions;
import org.lsoftmax.model.Network;
import org.lsoftmax.model.Parameter;

/**
 * The divergence guard, provoked by poisoned batches injected through {@link BatchHook}: on the
 * synthetic data with batch 64 an epoch is 62 steps, so iteration 70 is batch 8 of epoch 2.
 */
class DivergenceGuardTest {

    static final TrainTestData DATA = SyntheticDataset.createDefault();
    static final int STEPS_PER_EPOCH = 62;

    static TrainConfig config(int epochs) {
        return new TrainConfig(2, List.of(32), 8, 64, 0.05, List.of(), 0.9, 5e-4, epochs, 3,
                new BetaSchedule.Geometric(100, 0.98, 2), "reference");
    }

    /** Values and momentum of every parameter, copied. */
    static List<float[]> state(Network network) {
        List<float[]> copy = new ArrayList<>();
        for (Parameter parameter : network.parameters()) {
            copy.add(parameter.value().clone());
            copy.add(parameter.momentum().clone());
        }
        return copy;
    }

    static void assertBitIdentical(List<float[]> expected, List<float[]> actual, String what) {
        assertEquals(expected.size(), actual.size());
        for (int t = 0; t < expected.size(); t++) {
            float[] want = expected.get(t);
            float[] got = actual.get(t);
            assertEquals(want.length, got.length);
            for (int i = 0; i < want.length; i++) {
                if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
                    throw new AssertionError(what + ": tensor " + t + " element " + i + " differs: " + want[i] + " vs "
                            + got[i]);
                }
            }
        }
    }

    static void assertAllFinite(Network network) {
        for (Parameter parameter : network.parameters()) {
            for (float value : parameter.value()) {
                assertTrue(Float.isFinite(value), parameter.name() + " holds " + value);
            }
        }
    }

    @Test
    void nanBatchIsSkippedWithTheWeightsBitIdenticalAndTrainingRecovers() {
        long poisoned = STEPS_PER_EPOCH + 8;
        List<List<float[]>> around = new ArrayList<>(); // state before the poisoned step, and right after it
        List<EpochMetrics> history;
        List<DivergenceEvent> events;
        try (Trainer trainer = Trainer.start(config(3), DATA, PassOptions.DEFAULTS, null)) {
            trainer.showProgress(false).batchHook((epoch, iteration, batch, input, labels) -> {
                if (iteration == poisoned || iteration == poisoned + 1) {
                    around.add(state(trainer.network()));
                }
                if (iteration == poisoned) {
                    input[5 * DATA.dimension() + 3] = Float.NaN; // one value of row 5
                }
            });
            history = trainer.run();
            events = trainer.divergenceEvents();
            assertAllFinite(trainer.network());
            assertEquals(3L * STEPS_PER_EPOCH, trainer.iteration(), "the skipped step still counts as an iteration");
        }
        assertEquals(2, around.size());
        assertBitIdentical(around.get(0), around.get(1), "weights and momentum across the poisoned step");

        assertEquals(1, events.size(), events.toString());
        DivergenceEvent event = events.get(0);
        assertEquals(DivergenceEvent.Action.SKIPPED, event.action());
        assertEquals(2, event.epoch());
        assertEquals(poisoned, event.iteration());
        assertEquals(8, event.batch());
        assertEquals("features", event.offendingValue().tensor());
        assertTrue(Double.isNaN(event.offendingValue().value()));
        assertEquals(5, event.offendingValue().row(), "the NaN sits in the poisoned row");
        assertEquals(0.025, event.learningRate(), 1e-12, "learning rate halved for the rest of the epoch");
        assertEquals(10.0, event.betaBoost());

        // metrics.csv records the back-off of epoch 2 and the reset in epoch 3
        assertEquals(0.05, history.get(0).learningRate(), 1e-12);
        assertEquals(0.025, history.get(1).learningRate(), 1e-12);
        assertEquals(0.05, history.get(2).learningRate(), 1e-12);
        double chance = 1.0 / DATA.classes();
        EpochMetrics last = history.get(2);
        System.out.println("NaN batch at iteration " + poisoned + " skipped; test accuracy after 3 epochs "
                + last.testAccuracy() + " (chance " + chance + ")");
        assertTrue(last.testAccuracy() > 0.6, "test accuracy " + last.testAccuracy() + ", chance " + chance);
    }

    @Test
    void hugeBatchIsCaughtBeforeItsUpdateIsApplied() {
        long poisoned = STEPS_PER_EPOCH + 8;
        List<List<float[]>> around = new ArrayList<>();
        List<EpochMetrics> history;
        List<DivergenceEvent> events;
        try (Trainer trainer = Trainer.start(config(3), DATA, PassOptions.DEFAULTS, null)) {
            trainer.showProgress(false).batchHook((epoch, iteration, batch, input, labels) -> {
                if (iteration == poisoned || iteration == poisoned + 1) {
                    around.add(state(trainer.network()));
                }
                if (iteration == poisoned) {
                    Arrays.fill(input, 1e30f); // finite, but far beyond anything normalised data holds
                }
            });
            history = trainer.run();
            events = trainer.divergenceEvents();
            assertAllFinite(trainer.network());
        }
        assertBitIdentical(around.get(0), around.get(1), "weights and momentum across the 1e30 step");
        assertEquals(1, events.size(), events.toString());
        assertEquals(DivergenceEvent.Action.SKIPPED, events.get(0).action());
        assertEquals(poisoned, events.get(0).iteration());
        System.out.println("1e30 batch at iteration " + poisoned + ": " + events.get(0).offendingValue().summary()
                + "; test accuracy after 3 epochs " + history.get(2).testAccuracy());
        assertTrue(history.get(2).testAccuracy() > 0.6, "test accuracy " + history.get(2).testAccuracy());
    }

    @Test
    void persistentPoisonStopsTrainingAndLeavesTheLastGoodCheckpointIntact(@TempDir Path directory) {
        long firstPoisoned = STEPS_PER_EPOCH + 38; // epoch 2, batch 38
        List<List<float[]>> afterEpochOne = new ArrayList<>();
        TrainingDivergedException stop;
        List<DivergenceEvent> events;
        try (Trainer trainer = Trainer.start(config(3), DATA, PassOptions.DEFAULTS, directory)) {
            trainer.showProgress(false).batchHook((epoch, iteration, batch, input, labels) -> {
                if (iteration == STEPS_PER_EPOCH) {
                    afterEpochOne.add(state(trainer.network()));
                }
                if (iteration >= firstPoisoned) {
                    Arrays.fill(input, Float.NaN);
                }
            });
            stop = assertThrows(TrainingDivergedException.class, trainer::run);
            events = trainer.divergenceEvents();
            assertEquals(1, trainer.epochsCompleted());
            // two restores happened: the network holds the state after epoch 1
            assertBitIdentical(afterEpochOne.get(0), state(trainer.network()), "network after the stop");
        }
        Path last = directory.resolve(CheckpointFiles.LAST_FILE);
        assertEquals("training diverged at epoch 2 iteration " + (firstPoisoned + 3)
                + ": features is NaN; last good checkpoint: " + last + " (epoch 1)", stop.getMessage());
        assertEquals(List.of(DivergenceEvent.Action.SKIPPED, DivergenceEvent.Action.RESTORED_SNAPSHOT,
                DivergenceEvent.Action.RESTORED_SNAPSHOT, DivergenceEvent.Action.STOPPED),
                events.stream().map(DivergenceEvent::action).toList());
        assertEquals(List.of(firstPoisoned, firstPoisoned + 1, firstPoisoned + 2, firstPoisoned + 3),
                events.stream().map(DivergenceEvent::iteration).toList());
        assertEquals(0.05 / 8, events.get(2).learningRate(), 1e-12, "three halvings");

        Checkpoint saved = CheckpointFormat.read(last);
        assertEquals(1, saved.epochsCompleted());
        assertEquals(STEPS_PER_EPOCH, saved.iteration());
        assertNull(saved.firstNonFinite());
        List<float[]> savedState = new ArrayList<>();
        for (Checkpoint.Tensor tensor : saved.tensors()) {
            savedState.add(tensor.values());
            savedState.add(tensor.momentum());
        }
        assertBitIdentical(afterEpochOne.get(0), savedState, "last.ckpt against the state after epoch 1");
        assertFalse(Files.exists(directory.resolve(CheckpointFiles.PREVIOUS_FILE)), "only epoch 1 was ever saved");
        assertEquals(1, MetricsCsv.read(directory.resolve(MetricsCsv.FILE_NAME)).size());

        // and the run can go on from it
        try (Trainer resumed = Trainer.resume(saved, last, 2, "reference", DATA, PassOptions.DEFAULTS, directory)) {
            List<EpochMetrics> history = resumed.showProgress(false).run();
            assertEquals(2, history.size());
            assertTrue(history.get(1).testAccuracy() > 0.6, "resumed test accuracy " + history.get(1).testAccuracy());
        }
    }

    @Test
    void epochEndingWithANonFiniteWeightIsNeverSaved(@TempDir Path directory) throws Exception {
        long lastStepOfEpochTwo = 2L * STEPS_PER_EPOCH - 1;
        List<List<float[]>> afterEpochOne = new ArrayList<>();
        TrainingDivergedException stop;
        try (Trainer trainer = Trainer.start(config(3), DATA, PassOptions.DEFAULTS, directory)) {
            trainer.showProgress(false).batchHook((epoch, iteration, batch, input, labels) -> {
                if (iteration == STEPS_PER_EPOCH) {
                    afterEpochOne.add(state(trainer.network()));
                }
                if (iteration == lastStepOfEpochTwo) {
                    // a weight corrupted behind the guard's back (as a bug elsewhere could): the step is
                    // skipped, but the epoch ends with the NaN in memory, and it must not reach the disk
                    trainer.network().parameters().get(0).value()[7] = Float.NaN;
                }
            });
            stop = assertThrows(TrainingDivergedException.class, trainer::run);
            assertEquals(1, trainer.epochsCompleted());
            assertBitIdentical(afterEpochOne.get(0), state(trainer.network()), "network reset to the last good state");
        }
        Path last = directory.resolve(CheckpointFiles.LAST_FILE);
        assertEquals("training diverged at epoch 2 iteration " + lastStepOfEpochTwo + ": dense1.weight is NaN; "
                + "last good checkpoint: " + last + " (epoch 1)", stop.getMessage());
        Checkpoint saved = CheckpointFormat.read(last);
        assertEquals(1, saved.epochsCompleted());
        assertNull(saved.firstNonFinite());
        assertFalse(Files.exists(directory.resolve(CheckpointFiles.PREVIOUS_FILE)));
        assertEquals(1, MetricsCsv.read(directory.resolve(MetricsCsv.FILE_NAME)).size());
    }

    @Test
    void zeroRetriesStopAtTheFirstDivergedStepBeforeAnyCheckpoint() {
        try (Trainer trainer = Trainer.start(config(1), DATA, PassOptions.DEFAULTS, null)) {
            trainer.showProgress(false).divergencePolicy(DivergencePolicy.DEFAULTS.withMaxRetries(0))
                    .batchHook((epoch, iteration, batch, input, labels) -> {
                        if (iteration == 5) {
                            input[0] = Float.POSITIVE_INFINITY;
                        }
                    });
            TrainingDivergedException stop = assertThrows(TrainingDivergedException.class, trainer::run);
            assertEquals("training diverged at epoch 1 iteration 5: features is NaN; last good checkpoint: none "
                    + "(no epoch was saved)", stop.getMessage());
            assertNull(stop.lastGoodCheckpoint());
            assertEquals(5, trainer.iteration(), "stopped at the diverged step");
        }
    }

    @Test
    void hugeLearningRateIsCaughtAtTheUpdate() {
        TrainConfig explosive = new TrainConfig(2, List.of(32), 8, 64, 1e30, List.of(), 0.9, 5e-4, 1, 3,
                new BetaSchedule.Constant(0), "reference");
        try (Trainer trainer = Trainer.start(explosive, DATA, PassOptions.DEFAULTS, null)) {
            List<float[]> initial = state(trainer.network());
            TrainingDivergedException stop = assertThrows(TrainingDivergedException.class,
                    () -> trainer.showProgress(false).run());
            assertTrue(stop.offendingValue().tensor().startsWith("update of "), stop.getMessage());
            assertEquals(3, stop.iteration(), "three retries, the fourth diverged step stops");
            assertBitIdentical(initial, state(trainer.network()), "no update was ever applied");
            // beta 0 is raised as well during the back-off: 1 x 10 x 10 x 10
            assertEquals(1000.0, trainer.divergenceEvents().get(2).betaBoost());
        }
    }
}
