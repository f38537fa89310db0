package org.lsoftmax.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lsoftmax.data.SyntheticDataset;
import org.lsoftmax.data.TrainTestData;
import org.lsoftmax.head.PassOptions;
import org.lsoftmax.head.ShardOptions;

/**
 * Bit-for-bit reproducibility of training: across worker-thread counts (the jvm pass and the dense
 * layers' Sgemm), run to run, and in metrics.csv.
 */
class DeterminismTest {

    static final TrainTestData DATA = SyntheticDataset.createDefault();

    /**
     * Sized so that every parallel path really runs in parallel: batch 256 x D 64 = 16384 row elements
     * reaches the jvm pass's parallel row loops (2^14), and the dense products (256 x 128 x 32 and
     * 256 x 64 x 128 multiply-adds, forward and backward) are above Sgemm's 2^18 serial limit. With 4000
     * samples an epoch is 15 steps; 3 epochs = 45 steps.
     */
    static TrainConfig config(String passName) {
        return new TrainConfig(3, List.of(128), 64, 256, 0.05, List.of(), 0.9, 5e-4, 3, 17,
                new BetaSchedule.Geometric(100, 0.9, 1), passName);
    }

    /** Every parameter's values then momentum, as raw float bits. */
    static List<int[]> trainedBits(String passName, int threads, Path outputDirectory) {
        try (Trainer trainer = Trainer.start(config(passName), DATA, new PassOptions(threads, null), outputDirectory)) {
            trainer.showProgress(false).run();
            assertEquals(45, trainer.iteration());
            return bits(trainer.checkpoint());
        }
    }

    static List<int[]> bits(Checkpoint checkpoint) {
        List<int[]> all = new ArrayList<>();
        for (Checkpoint.Tensor tensor : checkpoint.tensors()) {
            all.add(rawBits(tensor.values()));
            all.add(rawBits(tensor.momentum()));
        }
        return all;
    }

    static int[] rawBits(float[] values) {
        int[] result = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            result[i] = Float.floatToRawIntBits(values[i]);
        }
        return result;
    }

    /** Counts differing elements, so a failure says how far apart the runs are. */
    static void assertSameBits(List<int[]> expected, List<int[]> actual, String what) {
        assertEquals(expected.size(), actual.size());
        long total = 0;
        long differing = 0;
        for (int t = 0; t < expected.size(); t++) {
            assertEquals(expected.get(t).length, actual.get(t).length);
            for (int i = 0; i < expected.get(t).length; i++) {
                total++;
                if (expected.get(t)[i] != actual.get(t)[i]) {
                    differing++;
                }
            }
        }
        assertEquals(0, differing, what + ": " + differing + " of " + total + " values (weights and momentum) differ");
        assertTrue(total > 10_000, "compared " + total + " values");
    }

    @Test
    void jvmPassIsBitIdenticalForOneTwoAndThreeThreads() {
        List<int[]> oneThread = trainedBits("jvm", 1, null);
        for (int threads : new int[] {2, 3}) {
            assertSameBits(oneThread, trainedBits("jvm", threads, null), "jvm pass, 1 vs " + threads + " threads");
        }
        // the comparison is sharp enough to see the last-bit differences between two passes
        assertTrue(countDiffering(oneThread, trainedBits("reference", 1, null)) > 0,
                "the jvm and reference passes should differ in the last bits after 45 steps");
    }

    static long countDiffering(List<int[]> first, List<int[]> second) {
        long differing = 0;
        for (int t = 0; t < first.size(); t++) {
            for (int i = 0; i < first.get(t).length; i++) {
                if (first.get(t)[i] != second.get(t)[i]) {
                    differing++;
                }
            }
        }
        return differing;
    }

    /**
     * The issue's network (784-512-256-64, batch 256) on synthetic data, 2 epochs of 4 steps: large
     * enough that every parallel path of a step runs on the pool (the chunked products, the sweeps of
     * the layers by rows and by columns, the batch gather, the optimizer's segments), and bit-identical
     * for 1, 2 and 3 threads.
     */
    @Test
    void theIssuesNetworkIsBitIdenticalForOneTwoAndThreeThreads() {
        TrainTestData data = SyntheticDataset.create(7, 10, 784, 1024, 256, 0.3);
        TrainConfig config = new TrainConfig(4, List.of(512, 256), 64, 256, 0.05, List.of(), 0.9, 5e-4, 2, 3,
                new BetaSchedule.Geometric(100, 0.9, 1), "jvm");
        List<int[]> reference = null;
        for (int threads : new int[] {1, 2, 3}) {
            try (Trainer trainer = Trainer.start(config, data, new PassOptions(threads, null), null)) {
                trainer.showProgress(false).run();
                assertEquals(8, trainer.iteration());
                List<int[]> bits = bits(trainer.checkpoint());
                if (reference == null) {
                    reference = bits;
                } else {
                    assertSameBits(reference, bits, "784-512-256-64, 1 vs " + threads + " threads");
                }
            }
        }
    }

    /**
     * The class-sharded head (2 shards of W, each its own parameter) with and without sampled negatives
     * (the optimizer's row-selection sweeps): bit-identical for 1, 2, 3 and 4 threads, as the unsharded head.
     */
    @Test
    void theShardedHeadIsBitIdenticalForOneToFourThreads() {
        for (ShardOptions shards : List.of(new ShardOptions(2, List.of(), 1.0, 0), new ShardOptions(2, List.of(), 0.5, 0))) {
            List<int[]> reference = null;
            // 4 threads: 2 per shard, the two shards' passes running their jobs on the shared pool at once
            for (int threads : new int[] {1, 2, 3, 4}) {
                try (Trainer trainer = Trainer.start(config("jvm"), DATA, new PassOptions(threads, null), shards, null)) {
                    trainer.showProgress(false).run();
                    assertEquals(45, trainer.iteration());
                    List<int[]> bits = bits(trainer.checkpoint());
                    if (reference == null) {
                        reference = bits;
                    } else {
                        assertSameBits(reference, bits, shards + ", 1 vs " + threads + " threads");
                    }
                }
            }
        }
    }

    /**
     * A data-parallel job of 2 ranks in this JVM (threads joined by a LocalCollective, as
     * DataParallelTrainingTest runs it): every rank's final state bit-identical for 1, 2 and 3 threads per
     * rank. The ranks run at once, each with its own products and pass of the same thread count.
     */
    @Test
    void aDataParallelJobIsBitIdenticalForOneTwoAndThreeThreadsPerRank() throws Exception {
        List<List<int[]>> reference = null;
        for (int threads : new int[] {1, 2, 3}) {
            PassOptions options = new PassOptions(threads, null);
            List<List<int[]>> ranks = DataParallelTrainingTest.runJob(2, job -> {
                try (Trainer trainer = Trainer.startDistributed(config("jvm"), DATA, options, ShardOptions.NONE, job, null, null)) {
                    trainer.showProgress(false).run();
                    assertEquals(45, trainer.iteration());
                    return bits(trainer.checkpoint());
                }
            });
            if (reference == null) {
                reference = ranks;
            } else {
                for (int rank = 0; rank < ranks.size(); rank++) {
                    assertSameBits(reference.get(rank), ranks.get(rank), "job of 2, rank " + rank + ", 1 vs " + threads + " threads");
                }
            }
        }
    }

    @Test
    void referencePassIsBitIdenticalRunToRunAndAcrossDenseLayerThreads() {
        List<int[]> first = trainedBits("reference", 1, null);
        assertSameBits(first, trainedBits("reference", 1, null), "reference pass, run 1 vs run 2");
        // the reference head is single-threaded, but the dense layers' products use the threads
        assertSameBits(first, trainedBits("reference", 3, null), "reference pass, 1 vs 3 dense-layer threads");
    }

    @Test
    void sameSeedWritesTheSameMetricsCsv(@TempDir Path directory) throws IOException {
        Path first = directory.resolve("first");
        Path second = directory.resolve("second");
        List<int[]> firstBits = trainedBits("jvm", 2, first);
        List<int[]> secondBits = trainedBits("jvm", 3, second);
        assertSameBits(firstBits, secondBits, "jvm pass, 2 vs 3 threads, with output");
        List<String> firstRows = withoutTimings(first.resolve(MetricsCsv.FILE_NAME));
        List<String> secondRows = withoutTimings(second.resolve(MetricsCsv.FILE_NAME));
        assertEquals(4, firstRows.size(), "header and 3 epochs");
        assertEquals(firstRows, secondRows);
        // the checkpoints, written from identical states, are identical files
        assertEquals(-1L, Files.mismatch(first.resolve(CheckpointFiles.LAST_FILE), second.resolve(CheckpointFiles.LAST_FILE)));
    }

    /** metrics.csv without its last two columns, epoch_seconds and samples_per_second (wall-clock times). */
    static List<String> withoutTimings(Path file) throws IOException {
        List<String> rows = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            String[] columns = line.split(",");
            assertEquals(12, columns.length, line);
            rows.add(String.join(",", List.of(columns).subList(0, 10)));
        }
        assertTrue(rows.get(0).endsWith("mean_angle_nearest_other_deg"), rows.get(0));
        return rows;
    }
}
