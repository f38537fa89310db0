package org.lsoftmax.head;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.lsoftmax.model.Parameter;
import org.lsoftmax.model.RowSelection;

/**
 * The class-sharded head (InsightFace's Partial FC; docs/SCALING.md): the C classes split into K
 * contiguous shards ({@link ShardLayout}), each holding its block of W as its own {@link Parameter}
 * (with its momentum and gradient), its pass and its buffers. One step, on every shard at once:
 * <ol>
 *   <li>X and the labels are broadcast from shard 0 (the host, which ran the trunk);</li>
 *   <li>each shard maps the labels into its block (-1 where the class is elsewhere), with sampled
 *       negatives ({@link ShardSampler}) gathers its sample of W, and runs
 *       {@link HeadPass#forwardShard}: its logits, with the margin on the targets it owns, and per row its
 *       max, sum of exp and owned target logit;</li>
 *   <li>two all-reduces combine those into lse_i and the target logits ({@link ShardCombine}); every shard
 *       knows the loss {@code mean_i (lse_i - f_iy)};</li>
 *   <li>backward: each shard's {@link HeadPass#backwardShard} gives its part of dX and its block's dW;
 *       the dX parts are summed on shard 0 ({@link Collective#reduceSum}); dW is added into the shard's
 *       own gradient (only the sampled rows', with sampling) and never leaves it.</li>
 * </ol>
 * Here the shards are K threads of this JVM joined by a {@link LocalCollective}: shard 0 runs on the
 * caller's thread, shard k on a thread of its own, and each drives its pass (a jvm pass with its own
 * worker group, or a tornado pass on its own device). A shard that fails aborts the group, so no shard
 * waits forever; the step's exception reaches the caller. Not thread-safe: one step at a time.
 */
public final class ShardedHead implements Head {

    private final HeadShape shape;
    private final ShardLayout layout;
    private final double sampleRate;
    private final ShardRank[] ranks;
    private final LocalCollective.Group group;
    private final ExecutorService[] executors;
    private final int[] predictions;
    private MarginLoss loss;
    private int[] labels;
    private long iteration;
    private boolean closed;

    /**
     * @param shape      the whole head: batch N, features D, classes C
     * @param weights    one parameter per shard, C_k x D, in class order (the head adds into their gradients)
     * @param passes     one pass per shard, of shape (N, D, S_k) with S_k = {@link ShardLayout#sampleSize}; the head closes them
     * @param sampleRate r in (0, 1]: 1 computes every class; below, Partial FC's sampled negatives
     * @param seed       the sampler's seed
     */
    public ShardedHead(HeadShape shape, MarginLoss loss, ShardLayout layout, List<Parameter> weights, List<HeadPass> passes, double sampleRate,
            long seed) {
        if (layout.classes() != shape.classes() || weights.size() != layout.shards() || passes.size() != layout.shards()) {
            throw new IllegalArgumentException("a head of " + shape + " split as " + layout + " needs " + layout.shards() + " weight blocks and passes, got "
                    + weights.size() + " and " + passes.size());
        }
        this.shape = shape;
        this.loss = loss;
        this.layout = layout;
        this.sampleRate = sampleRate;
        int shards = layout.shards();
        List<LocalCollective> collectives = LocalCollective.create(shards);
        this.group = collectives.get(0).group();
        this.ranks = new ShardRank[shards];
        for (int k = 0; k < shards; k++) {
            ranks[k] = new ShardRank(shape, layout, sampleRate, k, weights.get(k), passes.get(k), collectives.get(k), seed);
        }
        this.executors = new ExecutorService[shards];
        for (int k = 1; k < shards; k++) {
            String name = "lsoftmax-shard-" + k;
            executors[k] = Executors.newSingleThreadExecutor(runnable -> {
                Thread thread = new Thread(runnable, name);
                thread.setDaemon(true);
                return thread;
            });
        }
        this.predictions = new int[shape.batch()];
    }

    /** The iteration whose sample the next forward draws (the training loop sets it every step; it counts up by itself otherwise). */
    @Override
    public void setIteration(long iteration) {
        this.iteration = iteration;
    }

    @Override
    public double forward(float[] features, int[] labels, double beta) {
        checkOpen();
        HeadChecks.checkShapesLabelsAndBeta(shape, features == null ? -1 : features.length, shape.wSize(), labels, beta);
        HeadChecks.checkFinite("X", features, shape.features());
        this.labels = labels;
        long step = iteration++;
        runAll(rank -> rank.forward(features, labels, beta, step));
        return ranks[0].loss();
    }

    @Override
    public float[] backward() {
        if (labels == null) {
            throw new IllegalStateException("backward called before forward");
        }
        runAll(ShardRank::backward);
        return ranks[0].featureGradient();
    }

    @Override
    public int correct() {
        if (labels == null) {
            throw new IllegalStateException("correct called before forward");
        }
        runAll(rank -> rank.predict(rank.index() == 0 ? predictions : null));
        int count = 0;
        for (int i = 0; i < predictions.length; i++) {
            if (predictions[i] == labels[i]) {
                count++;
            }
        }
        return count;
    }

    /** The predictions of the most recent {@link #correct} (over the computed classes: the sample, with sampling). */
    public int[] predictions() {
        return predictions;
    }

    /**
     * Plain-logit predictions over every class of the head (not only a sample) and the plain softmax
     * cross-entropy, for held-out data: each shard streams its block through its pass in slices of its
     * pass's width (labels -1: no margin), keeping each row's best class and its running max and sum of
     * exp; the shards' results are combined as in training.
     *
     * @param features    N x D
     * @param labels      N labels in [0, C) (for the loss)
     * @param predictions output, N class indices (the first on ties)
     * @return the mean plain cross-entropy of the batch
     */
    public double evaluate(float[] features, int[] labels, int[] predictions) {
        checkOpen();
        HeadChecks.checkShapesLabelsAndBeta(shape, features == null ? -1 : features.length, shape.wSize(), labels, 0.0);
        HeadChecks.checkFinite("X", features, shape.features());
        HeadChecks.checkLength("predictions", predictions == null ? -1 : predictions.length, shape.batch(), 1);
        this.labels = null; // the passes' state is the evaluation's now: a backward needs a new forward
        runAll(rank -> rank.evaluate(features, labels, rank.index() == 0 ? predictions : null));
        return ranks[0].loss();
    }

    @Override
    public void setLoss(MarginLoss newLoss) {
        if (!newLoss.equals(loss)) {
            HeadChecks.checkSameKind(loss, newLoss);
            for (ShardRank rank : ranks) {
                rank.pass().setLoss(newLoss);
            }
            loss = newLoss;
        }
    }

    @Override
    public MarginLoss loss() {
        return loss;
    }

    @Override
    public HeadShape shape() {
        return shape;
    }

    public ShardLayout layout() {
        return layout;
    }

    public double sampleRate() {
        return sampleRate;
    }

    @Override
    public String description() {
        List<String> passes = new ArrayList<>();
        for (ShardRank rank : ranks) {
            passes.add(rank.pass().deviceDescription());
        }
        boolean same = passes.stream().distinct().count() == 1;
        return layout + (sampleRate < 1.0 ? ", sample rate " + sampleRate : "") + ": "
                + (same ? (ranks.length == 1 ? "" : ranks.length + " x ") + passes.get(0) : String.join("; ", passes));
    }

    @Override
    public List<Parameter> weightParameters() {
        List<Parameter> weights = new ArrayList<>(ranks.length);
        for (ShardRank rank : ranks) {
            weights.add(rank.weights());
        }
        return weights;
    }

    @Override
    public RowSelection touchedRows(Parameter parameter) {
        for (ShardRank rank : ranks) {
            if (rank.weights() == parameter) {
                return rank.selection();
            }
        }
        return null;
    }

    /** The pass of shard k (for tests and benchmarks). */
    public HeadPass pass(int shard) {
        return ranks[shard].pass();
    }

    /** Shard k's logits of the most recent forward: N x S_k, the columns of {@link #computedClasses}. */
    public float[] logits(int shard) {
        return ranks[shard].logits();
    }

    /**
     * The classes (global indices, ascending) shard k computed in the most recent forward: its whole
     * block, or with sampling its sample.
     */
    public int[] computedClasses(int shard) {
        return ranks[shard].computedClasses();
    }

    /** Payload bytes shard k has passed through its collective so far (what would cross the wire). */
    public long payloadBytes(int shard) {
        return ranks[shard].collective().payloadBytes();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (ExecutorService executor : executors) {
            if (executor != null) {
                executor.shutdownNow();
            }
        }
        for (ShardRank rank : ranks) {
            rank.pass().close();
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the sharded head is closed");
        }
    }

    private interface RankTask {
        void run(ShardRank rank);
    }

    /** Runs {@code task} on every shard at once (shard 0 here, the others on their threads); rethrows the first real failure. */
    private void runAll(RankTask task) {
        Future<?>[] futures = new Future<?>[ranks.length];
        for (int k = 1; k < ranks.length; k++) {
            ShardRank rank = ranks[k];
            futures[k] = executors[k].submit(() -> {
                try {
                    task.run(rank);
                } catch (RuntimeException | Error e) {
                    group.abort();
                    throw e;
                }
            });
        }
        Throwable failure = null;
        try {
            task.run(ranks[0]);
        } catch (RuntimeException | Error e) {
            group.abort();
            failure = e;
        }
        boolean interrupted = false;
        for (int k = 1; k < ranks.length; k++) {
            while (true) {
                try {
                    futures[k].get();
                    break;
                } catch (ExecutionException e) {
                    Throwable cause = e.getCause();
                    if (failure == null || (failure instanceof LocalCollective.AbortedException && !(cause instanceof LocalCollective.AbortedException))) {
                        failure = cause;
                    }
                    break;
                } catch (InterruptedException e) {
                    interrupted = true; // the shards finish the step (an aborted group releases them) before we leave
                    group.abort();
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (failure != null) {
            group.reset();
            if (failure instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (failure instanceof Error error) {
                throw error;
            }
            throw new IllegalStateException(failure);
        }
    }
}
