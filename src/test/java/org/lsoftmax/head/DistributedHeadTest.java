package org.lsoftmax.head;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lsoftmax.check.RandomInputs;
import org.lsoftmax.head.select.HeadFactory;
import org.lsoftmax.model.Parameter;
import org.lsoftmax.testing.Seeds;

/**
 * The data-parallel head ({@link DistributedHead}: each rank its rows of the batch and its class shard,
 * the rows all-gathered, dX reduce-scattered) run as K ranks on threads over a {@link LocalCollective},
 * against the in-process {@link ShardedHead} of the same K (whose correctness against K = 1 and the
 * reference {@link ShardedHeadTest} establishes): the same loss, dX rows, dW blocks and training
 * accuracy, bit for bit, for every loss, with and without sampled negatives, N not a multiple of K.
 */
class DistributedHeadTest {

    /** What one rank returns from a step. */
    private record RankResult(double loss, float[] localDx, float[] dw, int correct) {
    }

    private static List<RankResult> runDistributed(HeadShape shape, MarginLoss loss, RandomInputs inputs, double beta, int ranks, double rate,
            long seed, long iteration) throws Exception {
        ShardLayout layout = new ShardLayout(shape.classes(), ranks);
        List<Parameter> blocks = ShardedHeadTest.blocks(layout, inputs.wFloat(), shape.features());
        List<LocalCollective> collectives = LocalCollective.create(ranks);
        ExecutorService threads = Executors.newFixedThreadPool(ranks);
        try {
            List<Future<RankResult>> futures = new ArrayList<>();
            for (int r = 0; r < ranks; r++) {
                int rank = r;
                futures.add(threads.submit(() -> {
                    try (DistributedHead head = HeadFactory.createDistributed("jvm", shape, loss, new PassOptions(1, null),
                            new ShardOptions(ranks, List.of(), rate, seed), blocks.get(rank), collectives.get(rank))) {
                        head.setIteration(iteration);
                        int d = shape.features();
                        int from = head.ownRowStart();
                        float[] x = Arrays.copyOfRange(inputs.xFloat(), from * d, (from + head.ownRows()) * d);
                        int[] labels = Arrays.copyOfRange(inputs.labels(), from, from + head.ownRows());
                        double lossValue = head.forward(x, labels, beta);
                        float[] dx = head.backward().clone();
                        int correct = head.correct();
                        return new RankResult(lossValue, dx, blocks.get(rank).gradient().clone(), correct);
                    }
                }));
            }
            List<RankResult> results = new ArrayList<>();
            for (Future<RankResult> future : futures) {
                results.add(future.get());
            }
            return results;
        } finally {
            threads.shutdownNow();
        }
    }

    private static void assertSameAsShardedHead(HeadShape shape, MarginLoss loss, int ranks, double rate, long seed) throws Exception {
        RandomInputs inputs = RandomInputs.generate(shape, loss, seed);
        double beta = 0.5;
        ShardLayout layout = new ShardLayout(shape.classes(), ranks);
        List<Parameter> blocks = ShardedHeadTest.blocks(layout, inputs.wFloat(), shape.features());
        double expectedLoss;
        float[] expectedDx;
        int expectedCorrect;
        try (ShardedHead head = (ShardedHead) HeadFactory.create("jvm", shape, loss, new PassOptions(ranks, null),
                new ShardOptions(ranks, List.of(), rate, seed), blocks)) {
            head.setIteration(7);
            expectedLoss = head.forward(inputs.xFloat(), inputs.labels(), beta);
            expectedDx = head.backward().clone();
            expectedCorrect = head.correct();
        }
        List<RankResult> results = runDistributed(shape, loss, inputs, beta, ranks, rate, seed, 7);
        String context = "seed " + seed + ", " + loss + ", K = " + ranks + ", r = " + rate;
        int d = shape.features();
        for (int r = 0; r < ranks; r++) {
            RankResult result = results.get(r);
            assertEquals(expectedLoss, result.loss(), 0.0, context + ": the loss on rank " + r);
            int from = DistributedHead.rowStart(shape.batch(), ranks, r);
            int to = DistributedHead.rowStart(shape.batch(), ranks, r + 1);
            assertArrayEquals(Arrays.copyOfRange(expectedDx, from * d, to * d), result.localDx(), 0.0f, context + ": dX of rank " + r + "'s rows");
            assertArrayEquals(blocks.get(r).gradient(), result.dw(), 0.0f, context + ": dW of shard " + r);
            assertEquals(expectedCorrect, result.correct(), context + ": the batch's correct predictions on rank " + r);
        }
    }

    @ParameterizedTest(name = "K = {0}")
    @ValueSource(ints = {2, 3})
    void everyRankGetsTheShardedHeadsLossItsRowsDxAndItsBlocksDw(int ranks) throws Exception {
        long seed = Seeds.draw();
        for (MarginLoss loss : ShardedHeadTest.LOSSES) {
            assertSameAsShardedHead(ShardedHeadTest.SHAPE, loss, ranks, 1.0, seed);
        }
    }

    @Test
    void sampledNegativesAreTheShardedHeadsSample() throws Exception {
        long seed = Seeds.draw();
        assertSameAsShardedHead(ShardedHeadTest.SAMPLED_SHAPE, MarginLoss.cosface(16, 0.35), 2, 0.3, seed);
    }

    @Test
    void rowSlicesCoverTheBatchOnceInRankOrder() {
        for (int n : new int[] {2, 3, 23, 256}) {
            for (int k = 1; k <= Math.min(n, 5); k++) {
                assertEquals(0, DistributedHead.rowStart(n, k, 0));
                assertEquals(n, DistributedHead.rowStart(n, k, k));
                for (int r = 0; r < k; r++) {
                    int size = DistributedHead.rowStart(n, k, r + 1) - DistributedHead.rowStart(n, k, r);
                    assertTrue(size == n / k || size == n / k + 1, n + " rows over " + k + ": rank " + r + " has " + size);
                }
            }
        }
    }

    @Test
    void aRankGivenTheWrongNumberOfRowsIsRefusedBeforeAnyExchange() {
        HeadShape shape = ShardedHeadTest.SHAPE;
        ShardLayout layout = new ShardLayout(shape.classes(), 1);
        List<Parameter> blocks = HeadFactory.zeroWeights(layout, shape.features());
        try (DistributedHead head = HeadFactory.createDistributed("jvm", shape, MarginLoss.lsoftmax(2), PassOptions.DEFAULTS,
                ShardOptions.NONE, blocks.get(0), LocalCollective.create(1).get(0))) {
            assertEquals(shape.batch(), head.ownRows());
            IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                    () -> head.forward(new float[5 * shape.features()], new int[5], 0.0));
            assertTrue(error.getMessage().contains("this rank's features"), error.getMessage());
        }
    }
}
