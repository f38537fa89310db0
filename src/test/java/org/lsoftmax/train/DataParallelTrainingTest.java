package org.lsoftmax.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.data.SyntheticDataset;
import org.lsoftmax.data.TrainTestData;
import org.lsoftmax.head.LocalCollective;
import org.lsoftmax.head.PassOptions;
import org.lsoftmax.head.ShardOptions;

/**
 * Training as a data-parallel job (each process the trunk on its rows of every batch and one block of W),
 * its K ranks run on threads over a {@link LocalCollective}: an epoch gives the single-process run of the
 * class-sharded head of the same K (and seed) within float rounding (the trunk's gradient is summed over
 * the replicas in another order); the checkpoint sets hold every rank's part, assemble into the
 * single-process checkpoint, resume bit for bit, fall back to the previous set when the newest is
 * damaged, and refuse another K.
 */
class DataParallelTrainingTest {

    private static final TrainTestData DATA = SyntheticDataset.createDefault();
    private static final PassOptions ONE_THREAD = new PassOptions(1, null);

    private static TrainConfig config(int epochs) {
        return new TrainConfig(3, List.of(32), 8, 64, 0.05, List.of(), 0.9, 5e-4, epochs, 3, new BetaSchedule.Geometric(100, 0.98, 2), "jvm");
    }

    /** Runs {@code body} as each of K ranks on its own thread; a rank that fails aborts the others. */
    static <T> List<T> runJob(int ranks, Function<DataParallel, T> body) throws Exception {
        List<LocalCollective> collectives = LocalCollective.create(ranks);
        ExecutorService threads = Executors.newFixedThreadPool(ranks);
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (int r = 0; r < ranks; r++) {
                LocalCollective collective = collectives.get(r);
                futures.add(threads.submit(() -> {
                    try {
                        return body.apply(new DataParallel(collective));
                    } catch (RuntimeException | Error e) {
                        collective.group().abort();
                        throw e;
                    }
                }));
            }
            List<T> results = new ArrayList<>();
            Exception first = null;
            for (Future<T> future : futures) {
                try {
                    results.add(future.get());
                } catch (ExecutionException e) {
                    if (first == null || first.getCause() instanceof LocalCollective.AbortedException) {
                        first = e;
                    }
                }
            }
            if (first != null) {
                throw first;
            }
            return results;
        } finally {
            threads.shutdownNow();
        }
    }

    /** What a rank returns: the metrics of the run and its part of the final state. */
    private record RankRun(List<EpochMetrics> history, Checkpoint part) {
    }

    private static RankRun train(DataParallel job, TrainConfig config, Path folder) {
        try (Trainer trainer = Trainer.startDistributed(config, DATA, ONE_THREAD, ShardOptions.NONE, job, null, folder)) {
            List<EpochMetrics> history = trainer.showProgress(false).run();
            return new RankRun(history, trainer.checkpoint());
        }
    }

    private static RankRun resume(DataParallel job, int epochs, Path folder) {
        ShardSets.Restored restored = new ShardSets(folder, job.collective()).resume(null);
        try (Trainer trainer = Trainer.resumeDistributed(restored, epochs, "jvm", DATA, ONE_THREAD, ShardOptions.NONE, job, null, folder,
                false)) {
            List<EpochMetrics> history = trainer.showProgress(false).run();
            return new RankRun(history, trainer.checkpoint());
        }
    }

    /** The whole state of a job: rank 0's trunk and every rank's block, as the single-process sharded run holds it. */
    private static Checkpoint whole(List<RankRun> runs) {
        List<Checkpoint.Tensor> tensors = new ArrayList<>();
        for (Checkpoint.Tensor tensor : runs.get(0).part().tensors()) {
            if (!tensor.name().startsWith("lsoftmax.weight")) {
                tensors.add(tensor);
            }
        }
        for (int k = 0; k < runs.size(); k++) {
            String block = "lsoftmax.weight.shard" + k;
            tensors.add(runs.get(k).part().tensors().stream().filter(t -> t.name().equals(block)).findFirst().orElseThrow());
        }
        Checkpoint first = runs.get(0).part();
        return new Checkpoint(first.config(), first.normalization(), first.inputSize(), first.classes(), first.epochsCompleted(),
                first.iteration(), tensors);
    }

    private static EpochMetrics withoutTimes(EpochMetrics metrics) {
        return new EpochMetrics(metrics.epoch(), metrics.iteration(), metrics.learningRate(), metrics.beta(), metrics.trainLoss(),
                metrics.trainAccuracy(), metrics.testLoss(), metrics.testAccuracy(), metrics.meanOwnAngle(), metrics.meanNearestOtherAngle(),
                0.0, 0.0);
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3})
    void anEpochOfTheJobIsTheSingleProcessShardedRun(int ranks) throws Exception {
        List<EpochMetrics> single;
        Checkpoint singleState;
        try (Trainer trainer = Trainer.start(config(1), DATA, ONE_THREAD, new ShardOptions(ranks, List.of(), 1.0, 0), null)) {
            single = trainer.showProgress(false).run();
            singleState = trainer.checkpoint();
        }
        List<RankRun> runs = runJob(ranks, job -> train(job, config(1), null));
        for (RankRun run : runs) {
            EpochMetrics expected = single.get(0);
            EpochMetrics actual = run.history().get(0);
            assertEquals(expected.iteration(), actual.iteration());
            assertEquals(expected.trainLoss(), actual.trainLoss(), 1e-4 * expected.trainLoss(), "train loss");
            assertEquals(expected.testLoss(), actual.testLoss(), 1e-4 * expected.testLoss(), "test loss");
            assertEquals(expected.trainAccuracy(), actual.trainAccuracy(), 2e-3, "train accuracy");
            assertEquals(expected.testAccuracy(), actual.testAccuracy(), 2e-3, "test accuracy");
            assertEquals(expected.meanOwnAngle(), actual.meanOwnAngle(), 1e-2, "angle to the own class");
            assertEquals(expected.meanNearestOtherAngle(), actual.meanNearestOtherAngle(), 1e-2, "angle to the nearest other");
            assertEquals(withoutTimes(runs.get(0).history().get(0)), withoutTimes(actual), "every rank reports the same metrics");
        }
        Checkpoint job = whole(runs);
        assertEquals(singleState.tensors().size(), job.tensors().size());
        for (int t = 0; t < job.tensors().size(); t++) {
            Checkpoint.Tensor expected = singleState.tensors().get(t);
            Checkpoint.Tensor actual = job.tensors().get(t);
            assertEquals(expected.name(), actual.name());
            double maxValue = 0.0;
            double maxDifference = 0.0;
            for (int i = 0; i < expected.values().length; i++) {
                maxValue = Math.max(maxValue, Math.abs(expected.values()[i]));
                maxDifference = Math.max(maxDifference, Math.abs(expected.values()[i] - actual.values()[i]));
            }
            assertTrue(maxDifference <= 1e-4 * Math.max(1.0, maxValue), expected.name() + " after an epoch: off by " + maxDifference);
        }
    }

    @Test
    void theEvaluationOfTheJobIsTheSingleProcessOne() throws Exception {
        // the initial network of the seed: the same trunk, W split in two blocks
        Evaluation expected;
        try (Trainer trainer = Trainer.start(config(1), DATA, ONE_THREAD, new ShardOptions(2, List.of(), 1.0, 0), null)) {
            expected = trainer.evaluateTest(true);
        }
        List<Evaluation> evaluations = runJob(2, job -> {
            try (Trainer trainer = Trainer.startDistributed(config(1), DATA, ONE_THREAD, ShardOptions.NONE, job, null, null)) {
                return trainer.evaluateTest(true);
            }
        });
        for (Evaluation actual : evaluations) {
            assertEquals(expected.accuracy(), actual.accuracy(), 0.0);
            assertEquals(expected.loss(), actual.loss(), 1e-6 * expected.loss());
            assertEquals(expected.meanOwnAngle(), actual.meanOwnAngle(), 1e-9);
            assertEquals(expected.meanNearestOtherAngle(), actual.meanNearestOtherAngle(), 1e-9);
            assertArrayEquals(expected.features(), actual.features(), "the features of every test sample, all-gathered");
        }
    }

    @Test
    void checkpointSetsResumeBitForBit(@TempDir Path directory) throws Exception {
        Path interrupted = directory.resolve("interrupted");
        Path straight = directory.resolve("straight");
        List<RankRun> uninterrupted = runJob(2, job -> train(job, config(3), straight));
        runJob(2, job -> train(job, config(1), interrupted));
        assertTrue(Files.exists(ShardSets.setFolder(interrupted, 1).resolve(ShardSets.SET_FILE)));
        List<RankRun> resumed = runJob(2, job -> resume(job, 3, interrupted));
        for (int k = 0; k < 2; k++) {
            List<Checkpoint.Tensor> expected = uninterrupted.get(k).part().tensors();
            List<Checkpoint.Tensor> actual = resumed.get(k).part().tensors();
            for (int t = 0; t < expected.size(); t++) {
                assertArrayEquals(expected.get(t).values(), actual.get(t).values(), "rank " + k + " " + expected.get(t).name());
                assertArrayEquals(expected.get(t).momentum(), actual.get(t).momentum(), "rank " + k + " momentum of " + expected.get(t).name());
            }
        }
        // the last two sets are kept
        assertEquals(List.of(3, 2), ShardSets.setEpochs(straight));
        // a set assembles into the single-process checkpoint of --shards 2
        Checkpoint assembled = CheckpointFormat.read(straight.resolve(ShardSets.LAST_SET_FILE));
        assertEquals(2, assembled.classShards());
        assertFalse(assembled.isPart());
        Checkpoint whole = whole(uninterrupted);
        for (int t = 0; t < whole.tensors().size(); t++) {
            assertEquals(whole.tensors().get(t).name(), assembled.tensors().get(t).name());
            assertArrayEquals(whole.tensors().get(t).values(), assembled.tensors().get(t).values());
        }
        // one rank's part alone is refused with a line that says what to give
        Path part = ShardSets.rankFile(ShardSets.setFolder(straight, 3), 1, 2);
        InvalidInputException refused = assertThrows(InvalidInputException.class, () -> CheckpointFormat.read(part));
        assertTrue(refused.getMessage().contains("part of a checkpoint set"), refused.getMessage());
    }

    @Test
    void aDamagedNewestSetFallsBackToThePreviousAndAnotherKIsRefused(@TempDir Path directory) throws Exception {
        runJob(2, job -> train(job, config(2), directory));
        Path damaged = ShardSets.rankFile(ShardSets.setFolder(directory, 2), 1, 2);
        byte[] bytes = Files.readAllBytes(damaged);
        bytes[bytes.length / 2] ^= 0x10;
        Files.write(damaged, bytes);
        List<Integer> epochs = runJob(2, job -> new ShardSets(directory, job.collective()).resume(null).epoch());
        assertEquals(List.of(1, 1), epochs, "every rank restores the whole set of epoch 1");

        Exception otherK = assertThrows(Exception.class, () -> runJob(3, job -> new ShardSets(directory, job.collective()).resume(null)));
        Throwable cause = otherK.getCause();
        assertNotNull(cause);
        assertTrue(cause instanceof InvalidInputException && cause.getMessage().contains("mpirun -np 2"), String.valueOf(cause));
    }

    /** A job with rank 0's run folder (metrics.csv, run.properties) and each rank's sets in {@code folders.get(rank)}. */
    private static int trainWithRunFolder(DataParallel job, int epochs, List<Path> folders) {
        RunDirectory run = job.isLeader() ? RunDirectory.forNewRun(folders.get(0), false) : null;
        try (Trainer trainer = Trainer.startDistributed(config(epochs), DATA, ONE_THREAD, ShardOptions.NONE, job, run,
                folders.get(job.rank()))) {
            trainer.showProgress(false).run();
            return trainer.epochsCompleted();
        } finally {
            if (run != null) {
                run.close();
            }
        }
    }

    private static int resumeWithRunFolder(DataParallel job, int epochs, List<Path> folders) {
        RunDirectory run = job.isLeader() ? RunDirectory.forSetResume(folders.get(0)) : null;
        try {
            ShardSets.Restored restored = new ShardSets(folders.get(job.rank()), job.collective()).resume(null);
            try (Trainer trainer = Trainer.resumeDistributed(restored, epochs, "jvm", DATA, ONE_THREAD, ShardOptions.NONE, job, run,
                    folders.get(job.rank()), false)) {
                trainer.showProgress(false).run();
                return trainer.epochsCompleted();
            }
        } finally {
            if (run != null) {
                run.close();
            }
        }
    }

    @Test
    void aResumeThatFallsBackToThePreviousSetReplacesTheDamagedOneAndKeepsTheHistory(@TempDir Path directory) throws Exception {
        List<Path> shared = List.of(directory, directory);
        runJob(2, job -> trainWithRunFolder(job, 2, shared));
        Path damaged = ShardSets.rankFile(ShardSets.setFolder(directory, 2), 1, 2);
        byte[] bytes = Files.readAllBytes(damaged);
        bytes[bytes.length / 3] ^= 0x01;
        Files.write(damaged, bytes);
        assertEquals(List.of(3, 3), runJob(2, job -> resumeWithRunFolder(job, 3, shared)));
        assertEquals(3, MetricsCsv.read(directory.resolve(MetricsCsv.FILE_NAME)).size());
        assertEquals(List.of(3, 2), ShardSets.setEpochs(directory));
        CheckpointFormat.read(ShardSets.setFolder(directory, 2)); // epoch 2's set written anew, whole
        assertEquals(3, CheckpointFormat.read(directory.resolve(ShardSets.LAST_SET_FILE)).epochsCompleted());
    }

    @Test
    void aFolderPerHostKeepsEachRanksPartsOfTheLastTwoSetsAndResumes(@TempDir Path directory) throws Exception {
        // as on two machines with a local OUT each: rank 0's host has the manifests, rank 1's only its parts
        List<Path> hosts = List.of(directory.resolve("host0"), directory.resolve("host1"));
        runJob(2, job -> trainWithRunFolder(job, 4, hosts));
        assertEquals(List.of(4, 3), ShardSets.setEpochs(hosts.get(0)));
        assertEquals(List.of(4, 3), ShardSets.setEpochs(hosts.get(1)), "rank 1 keeps its parts of both sets, and no empty folders");
        assertTrue(Files.exists(ShardSets.rankFile(ShardSets.setFolder(hosts.get(1), 3), 1, 2)));
        assertFalse(Files.exists(ShardSets.setFolder(hosts.get(1), 3).resolve(ShardSets.SET_FILE)));
        assertEquals(List.of(5, 5), runJob(2, job -> resumeWithRunFolder(job, 5, hosts)));
    }

    @Test
    void aSetWithoutItsManifestIsIgnored(@TempDir Path directory) throws Exception {
        runJob(2, job -> train(job, config(2), directory));
        // as if the job died after the ranks wrote their parts of epoch 2, before rank 0's manifest
        Files.delete(ShardSets.setFolder(directory, 2).resolve(ShardSets.SET_FILE));
        List<Integer> epochs = runJob(2, job -> new ShardSets(directory, job.collective()).resume(null).epoch());
        assertEquals(List.of(1, 1), epochs);
    }

    @Test
    void aRankThatCannotWriteStopsEveryRankWithOneLineNamingIt(@TempDir Path directory) throws IOException {
        // rank 1's place for its part is a file: it cannot create the set's folder there
        Path folder = directory.resolve("run");
        Files.createDirectories(folder.resolve(ShardSets.FOLDER));
        Files.writeString(ShardSets.setFolder(folder, 1), "in the way");
        Exception failure = assertThrows(Exception.class, () -> runJob(2, job -> train(job, config(1), folder)));
        assertNotNull(failure.getCause());
        assertTrue(String.valueOf(failure.getCause().getMessage()).contains("rank"), String.valueOf(failure.getCause()));
    }
}
