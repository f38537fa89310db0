package org.lsoftmax.head;

import java.util.Arrays;
import org.lsoftmax.model.Parameter;
import org.lsoftmax.model.RowSelection;

/**
 * One shard of the class-sharded head, written as one rank of an SPMD program: its block of classes,
 * its W block (a {@link Parameter}, with its momentum and gradient), its pass, its buffers and its end of
 * the {@link Collective}. Every rank calls the same methods in the same order ({@link #forward},
 * {@link #backward}, {@link #predict}, {@link #evaluate}); the exchanges inside them are the collective's.
 * {@link ShardedHead} runs K of them as threads of one JVM over a {@link LocalCollective}; one process per
 * rank over an MPI collective runs the same code (docs/SCALING.md). Rank 0 is the root: it holds the
 * batch (the trunk's output) and receives dL/dX.
 */
public final class ShardRank {

    private final HeadShape shape;
    private final ShardLayout layout;
        private final int index;
    private final int start;
    private final int classes;
    private final int sampleSize;
    private final Parameter weights;
    private final HeadPass pass;
    private final Collective collective;
    private final ShardSampler sampler;
    private final RowSelection selection;
    private final float[] sampleWeights;
    private final float[] x;
    private final int[] rowLabels;
    private final int[] localLabels;
    private final int[] passLabels;
    private final float[] logits;
    private final ShardRows rows;
    private final double[] max;
    private final double[] sums;
    private final double[] logSumExp;
    private final double[] target;
    private final float[] dx;
    private final float[] dw;
    private final double[] best;
    private final double[] bestIndex;
    private final double[] ownBest;
    /** The per-rank value counts of the data-parallel exchanges (rows x D). */
    private final int[] valueCounts;
    private double loss;

    /**
     * @param shape      the whole head: N, D, C
     * @param index      this shard's rank in the collective (shard k owns the classes of {@code layout}'s block k)
     * @param weights    the block's W, C_k x D (this shard adds into its gradient)
     * @param pass       a pass of shape (N, D, S_k), S_k = {@link ShardLayout#sampleSize}
     * @param collective this shard's end of the exchanges (rank {@code index} of {@code layout.shards()})
     */
    public ShardRank(HeadShape shape, ShardLayout layout, double sampleRate, int index, Parameter weights, HeadPass pass, Collective collective,
            long seed) {
        if (collective.rank() != index || collective.size() != layout.shards()) {
            throw new IllegalArgumentException("shard " + index + " of " + layout.shards() + " needs rank " + index + " of a collective of "
                    + layout.shards() + ", got rank " + collective.rank() + " of " + collective.size());
        }
        this.shape = shape;
        this.layout = layout;
        this.index = index;
        this.start = layout.start(index);
        this.classes = layout.size(index);
        this.sampleSize = layout.sampleSize(index, sampleRate, shape.batch());
        int n = shape.batch();
        int d = shape.features();
        HeadShape passShape = new HeadShape(n, d, sampleSize);
        if (!pass.shape().equals(passShape)) {
            throw new IllegalArgumentException("shard " + index + " needs a pass of shape " + passShape + ", got " + pass.shape());
        }
        if (weights.size() != (long) classes * d) {
            throw new IllegalArgumentException("shard " + index + " holds " + classes + " x " + d + " weights, " + weights.name() + " has "
                    + weights.size() + " values");
        }
        this.weights = weights;
        this.pass = pass;
        this.collective = collective;
        boolean sampling = sampleSize < classes;
        this.sampler = sampling ? new ShardSampler(classes, sampleSize, seed, index) : null;
        this.selection = sampling ? new RowSelection(sampleSize, d) : null;
        this.sampleWeights = sampling ? new float[sampleSize * d] : null;
        this.x = new float[n * d];
        this.rowLabels = new int[n];
        this.localLabels = new int[n];
        this.passLabels = sampling ? new int[n] : localLabels;
        this.logits = new float[n * sampleSize];
        this.rows = new ShardRows(n);
        this.max = new double[n];
        this.sums = new double[2 * n];
        this.logSumExp = new double[n];
        this.target = new double[n];
        this.dx = new float[n * d];
        this.dw = new float[sampleSize * d];
        this.best = new double[n];
        this.bestIndex = new double[n];
        this.ownBest = new double[n];
        this.valueCounts = new int[collective.size()];
    }

    /** X and the labels from shard 0. */
    private void receiveBatch(float[] rootX, int[] rootLabels) {
        if (index == 0) {
            System.arraycopy(rootX, 0, x, 0, x.length);
            System.arraycopy(rootLabels, 0, rowLabels, 0, rowLabels.length);
        }
        collective.broadcast(x, 0);
        collective.broadcast(rowLabels, 0);
    }

    /**
     * The shard's forward for one batch (X and the labels taken from rank 0's {@code rootX}, {@code rootLabels};
     * other ranks pass anything), sampled from {@code step} when the shard samples; afterwards
     * {@link #loss()} is the whole head's loss, on every rank.
     */
    public void forward(float[] rootX, int[] rootLabels, double beta, long step) {
        receiveBatch(rootX, rootLabels);
        forwardReceived(beta, step);
    }

    /**
     * The data-parallel forward ({@link DistributedHead}): rank r holds {@code rowCounts[r]} rows of the
     * batch (its trunk's output, {@code localX}, and their labels); the rows are all-gathered in rank order
     * into the whole batch, then the shard computes as {@link #forward} does.
     */
    public void forwardGathered(float[] localX, int[] localLabels, int[] rowCounts, double beta, long step) {
        gatherBatch(localX, localLabels, rowCounts);
        forwardReceived(beta, step);
    }

    /** The rows of every rank into {@link #x} and {@link #rowLabels}, in rank order. */
    private void gatherBatch(float[] localX, int[] localLabels, int[] rowCounts) {
        int d = shape.features();
        int total = 0;
        for (int k = 0; k < rowCounts.length; k++) {
            valueCounts[k] = rowCounts[k] * d;
            total += rowCounts[k];
        }
        if (total != shape.batch()) {
            throw new IllegalArgumentException("the ranks' rows " + Arrays.toString(rowCounts) + " add up to " + total + ", not the batch of "
                    + shape.batch());
        }
        collective.allGather(localX, x, valueCounts);
        collective.allGather(localLabels, rowLabels, rowCounts);
    }

    private void forwardReceived(double beta, long step) {
        int end = start + classes;
        for (int i = 0; i < localLabels.length; i++) {
            int y = rowLabels[i];
            localLabels[i] = y >= start && y < end ? y - start : -1;
        }
        float[] w = weights.value();
        if (sampler != null) {
            sampler.sample(step, localLabels, passLabels);
            int[] selected = sampler.selected();
            int d = shape.features();
            for (int s = 0; s < sampleSize; s++) {
                System.arraycopy(w, selected[s] * d, sampleWeights, s * d, d);
            }
            selection.set(selected, sampleSize);
            w = sampleWeights;
        }
        pass.forwardShard(x, w, passLabels, beta, logits, rows);
        combine(rows.max(), rows.sumExp(), rows.target());
    }

    /** The all-reduces of (max, sum of exp, target) into lse_i and t_i, and the loss. */
    private void combine(double[] ownMax, double[] ownSumExp, double[] ownTarget) {
        int n = shape.batch();
        System.arraycopy(ownMax, 0, max, 0, n);
        collective.allReduce(max, Collective.Reduction.MAX);
        for (int i = 0; i < n; i++) {
            sums[i] = ShardCombine.rescaledSum(ownSumExp[i], ownMax[i], max[i]);
            sums[n + i] = ownTarget[i];
        }
        collective.allReduce(sums, Collective.Reduction.SUM);
        for (int i = 0; i < n; i++) {
            logSumExp[i] = ShardCombine.logSumExp(max[i], sums[i]);
            target[i] = sums[n + i];
        }
        loss = ShardCombine.meanLoss(logSumExp, target);
    }

    /** dX summed on rank 0 ({@link #featureGradient()}); the block's dW added into its gradient (the sampled rows only, with sampling). */
    public void backward() {
        pass.backwardShard(logSumExp, dx, dw);
        collective.reduceSum(dx, 0);
        addWeightGradient();
    }

    /**
     * The data-parallel backward: dL/dX of this rank's own rows (the {@code rowCounts[rank]} rows it gave
     * {@link #forwardGathered}) summed over the shards into {@code localDx}; dW as {@link #backward}.
     */
    public void backwardScattered(float[] localDx, int[] rowCounts) {
        pass.backwardShard(logSumExp, dx, dw);
        int d = shape.features();
        for (int k = 0; k < rowCounts.length; k++) {
            valueCounts[k] = rowCounts[k] * d;
        }
        collective.reduceScatterSum(dx, localDx, valueCounts);
        addWeightGradient();
    }

    private void addWeightGradient() {
        float[] gradient = weights.gradient();
        if (sampler == null) {
            for (int i = 0; i < dw.length; i++) {
                gradient[i] += dw[i];
            }
        } else {
            int d = shape.features();
            int[] selected = sampler.selected();
            for (int s = 0; s < sampleSize; s++) {
                int row = selected[s] * d;
                int from = s * d;
                for (int col = 0; col < d; col++) {
                    gradient[row + col] += dw[from + col];
                }
            }
        }
    }

    /**
     * The plain-logit argmax over the computed classes of the most recent forward, combined over the
     * ranks, into {@code out} (every rank that passes one; null: none).
     */
    public void predict(int[] out) {
        int n = shape.batch();
        for (int i = 0; i < n; i++) {
            int row = i * sampleSize;
            int y = passLabels[i];
            int bestColumn = 0;
            float bestValue = y == 0 ? rows.plainTarget()[i] : logits[row];
            for (int j = 1; j < sampleSize; j++) {
                float value = j == y ? rows.plainTarget()[i] : logits[row + j];
                if (value > bestValue) {
                    bestColumn = j;
                    bestValue = value;
                }
            }
            best[i] = bestValue;
            bestIndex[i] = start + (sampler != null ? sampler.selected()[bestColumn] : bestColumn);
        }
        combinePredictions(out);
    }

    /** MAX of the values, then MIN of the class index among the shards that hold the maximum (the first on ties). */
    private void combinePredictions(int[] out) {
        int n = shape.batch();
        System.arraycopy(best, 0, ownBest, 0, n);
        collective.allReduce(best, Collective.Reduction.MAX);
        for (int i = 0; i < n; i++) {
            bestIndex[i] = ownBest[i] == best[i] ? bestIndex[i] : Double.POSITIVE_INFINITY;
        }
        collective.allReduce(bestIndex, Collective.Reduction.MIN);
        if (out != null) {
            for (int i = 0; i < n; i++) {
                out[i] = (int) bestIndex[i];
            }
        }
    }

    /**
     * Plain predictions over every class of the block (streamed through the pass in slices of its width)
     * and the plain cross-entropy, combined over the ranks: {@code out} (where not null), {@link #loss()}.
     */
    public void evaluate(float[] rootX, int[] rootLabels, int[] out) {
        receiveBatch(rootX, rootLabels);
        int n = shape.batch();
        int d = shape.features();
        Arrays.fill(localLabels, -1);
        double[] runMax = rows.max().clone();
        double[] runSum = new double[n];
        double[] runTarget = new double[n];
        Arrays.fill(runMax, Double.NEGATIVE_INFINITY);
        Arrays.fill(best, Double.NEGATIVE_INFINITY);
        float[] w = weights.value();
        int[] noLabels = new int[n];
        Arrays.fill(noLabels, -1);
        for (int blockStart = 0; blockStart < classes; blockStart += sampleSize) {
            int first = Math.min(blockStart, classes - sampleSize); // the last slice ends at the block's end
            float[] block = w;
            if (sampleSize < classes) {
                System.arraycopy(w, first * d, sampleWeights, 0, sampleSize * d);
                block = sampleWeights;
            }
            pass.forwardShard(x, block, noLabels, 0.0, logits, rows);
            for (int i = 0; i < n; i++) {
                int row = i * sampleSize;
                // classes [first, blockStart) were in the previous slice: only the new ones count
                for (int j = blockStart - first; j < sampleSize; j++) {
                    float value = logits[row + j];
                    if (value > best[i]) {
                        best[i] = value;
                        bestIndex[i] = start + first + j;
                    }
                }
                int y = rowLabels[i] - start - first;
                if (y >= blockStart - first && y < sampleSize) {
                    runTarget[i] = logits[row + y];
                }
                // the slice's max and sum of exp over its new classes only
                double sliceMax = Double.NEGATIVE_INFINITY;
                for (int j = blockStart - first; j < sampleSize; j++) {
                    sliceMax = Math.max(sliceMax, logits[row + j]);
                }
                double sliceSum = 0.0;
                for (int j = blockStart - first; j < sampleSize; j++) {
                    sliceSum += Math.exp(logits[row + j] - sliceMax);
                }
                double newMax = Math.max(runMax[i], sliceMax);
                runSum[i] = ShardCombine.rescaledSum(runSum[i], runMax[i], newMax) + ShardCombine.rescaledSum(sliceSum, sliceMax, newMax);
                runMax[i] = newMax;
            }
        }
        combine(runMax, runSum, runTarget);
        combinePredictions(out);
    }

    /** The loss of the most recent forward or evaluation (the same on every rank). */
    public double loss() {
        return loss;
    }

    /** Rank 0: dL/dX of the most recent backward (N x D); the other ranks: their own part. */
    public float[] featureGradient() {
        return dx;
    }

    public int index() {
        return index;
    }

    public HeadPass pass() {
        return pass;
    }

    public Parameter weights() {
        return weights;
    }

    /** The rows of the block the most recent forward touched, or null when the shard computes every class. */
    public RowSelection selection() {
        return selection;
    }

    /** The logits of the most recent forward: N x S_k, the columns of {@link #computedClasses}. */
    public float[] logits() {
        return logits;
    }

    /** The classes (global indices, ascending) of the most recent forward: the whole block or its sample. */
    public int[] computedClasses() {
        int[] classes = new int[sampleSize];
        for (int s = 0; s < classes.length; s++) {
            classes[s] = start + (sampler != null ? sampler.selected()[s] : s);
        }
        return classes;
    }

    public Collective collective() {
        return collective;
    }

    /** The labels of the whole batch of the most recent forward (as received or gathered). */
    public int[] batchLabels() {
        return rowLabels;
    }

    /** The first class of this shard's block. */
    public int classStart() {
        return start;
    }

    /** The classes of this shard's block. */
    public int classCount() {
        return classes;
    }
}
