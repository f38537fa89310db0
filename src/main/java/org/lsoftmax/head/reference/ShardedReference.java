package org.lsoftmax.head.reference;

import org.lsoftmax.head.HeadChecks;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.MarginLoss;
import org.lsoftmax.head.ShardCombine;
import org.lsoftmax.head.ShardLayout;
import org.lsoftmax.head.ShardSampler;

/**
 * The class-sharded head in float64, sequentially: the oracle of {@code ShardedHead} and of
 * {@code eval --shards K --pass reference}. The same split ({@link ShardLayout}), the same samples
 * ({@link ShardSampler}, same seed and iteration) and the same combine ({@link ShardCombine}) as the
 * sharded head, with one {@link ReferencePass} shard stage per block, run one after the other.
 */
public final class ShardedReference {

    private ShardedReference() {
    }

    /**
     * One step's results.
     *
     * @param logits  per shard, N x S_k: the logits of its computed classes
     * @param classes per shard, the computed classes (global indices, ascending)
     * @param dx      dL/dX, N x D (the sum of the shards' parts)
     * @param dw      dL/dW, C x D (zero in the rows no shard computed)
     */
    public record Result(double loss, double[][] logits, int[][] classes, double[] dx, double[] dw, double[] logSumExp) {
    }

    /** Forward and backward of the sharded head on X (N x D), W (C x D) and labels in [0, C). */
    public static Result run(HeadShape shape, MarginLoss loss, double[] x, double[] w, int[] labels, double beta, int shards, double sampleRate,
            long seed, long iteration) {
        HeadChecks.checkForwardInputs(shape, x, w, labels, beta);
        ShardLayout layout = new ShardLayout(shape.classes(), shards);
        int n = shape.batch();
        int d = shape.features();
        ReferencePass[] passes = new ReferencePass[shards];
        ShardCombine.ShardRowsDouble[] rows = new ShardCombine.ShardRowsDouble[shards];
        double[][] logits = new double[shards][];
        int[][] classes = new int[shards][];
        for (int k = 0; k < shards; k++) {
            int start = layout.start(k);
            int local = layout.size(k);
            int computed = layout.sampleSize(k, sampleRate, n);
            int[] localLabels = new int[n];
            for (int i = 0; i < n; i++) {
                localLabels[i] = labels[i] >= start && labels[i] < start + local ? labels[i] - start : -1;
            }
            int[] passLabels = localLabels;
            classes[k] = new int[computed];
            if (computed < local) {
                ShardSampler sampler = new ShardSampler(local, computed, seed, k);
                passLabels = new int[n];
                sampler.sample(iteration, localLabels, passLabels);
                for (int s = 0; s < computed; s++) {
                    classes[k][s] = start + sampler.selected()[s];
                }
            } else {
                for (int s = 0; s < computed; s++) {
                    classes[k][s] = start + s;
                }
            }
            double[] block = new double[computed * d];
            for (int s = 0; s < computed; s++) {
                System.arraycopy(w, classes[k][s] * d, block, s * d, d);
            }
            passes[k] = new ReferencePass(new HeadShape(n, d, computed), loss);
            logits[k] = new double[n * computed];
            rows[k] = ShardCombine.ShardRowsDouble.of(n);
            passes[k].forwardShard(x, block, passLabels, beta, logits[k], rows[k].max(), rows[k].sumExp(), rows[k].target(), new double[n]);
        }
        double[] logSumExp = new double[n];
        double[] target = new double[n];
        double lossValue = ShardCombine.combine(rows, logSumExp, target);
        double[] dx = new double[n * d];
        double[] dw = new double[shape.wSize()];
        for (int k = 0; k < shards; k++) {
            int computed = classes[k].length;
            double[] dxPart = new double[n * d];
            double[] dwBlock = new double[computed * d];
            passes[k].backwardShard(logSumExp, dxPart, dwBlock);
            for (int i = 0; i < dx.length; i++) {
                dx[i] += dxPart[i];
            }
            for (int s = 0; s < computed; s++) {
                System.arraycopy(dwBlock, s * d, dw, classes[k][s] * d, d);
            }
        }
        return new Result(lossValue, logits, classes, dx, dw, logSumExp);
    }
}
