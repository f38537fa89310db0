package org.lsoftmax.head;

import java.util.List;
import org.lsoftmax.model.Parameter;
import org.lsoftmax.model.RowSelection;

/**
 * The head of the network as the training loop sees it: the class weights and whatever computes the
 * margin loss on them. {@link MarginHead} is one pass on the whole W; {@link ShardedHead} splits the
 * classes into contiguous shards, each with its W block, its momentum and its pass, combined through a
 * {@link Collective} (docs/SCALING.md). One step: {@code loss = forward(F, y, beta)}; {@code dF =
 * backward()} (which also adds dL/dW into the class weights' gradients); {@code correct()}.
 */
public interface Head extends AutoCloseable {

    /**
     * The margin loss of a batch (mean over its N samples).
     *
     * @param features N x D, the trunk's output
     * @param labels   N labels in [0, C) (kept for {@link #correct}; the caller must not change them before)
     */
    double forward(float[] features, int[] labels, double beta);

    /**
     * Gradients of the most recent forward: returns dL/dF (N x D, the head's own buffer) and adds dL/dW
     * into the gradients of {@link #weightParameters()} (only the rows {@link #touchedRows} names, when
     * it names any).
     */
    float[] backward();

    /** Samples of the most recent forward whose plain-logit prediction (no margin) is their label. */
    int correct();

    /**
     * The training iteration of the next forward: what a head with sampled negatives draws its sample from
     * (so a resumed run draws what an uninterrupted one drew). Nothing for a head without sampling.
     */
    default void setIteration(long iteration) {
    }

    /** Changes the loss's real parameters before the next step (warm-ups, {@link HeadPass#setLoss}). */
    void setLoss(MarginLoss loss);

    MarginLoss loss();

    /** N, D and C of the whole head. */
    HeadShape shape();

    /** Where the head runs, for logs (e.g. "jvm (2 threads)", "2 shards: tornado 0:0 ..., tornado 0:1 ..."). */
    String description();

    /** The parameters that hold W: one C x D parameter, or one block per shard, in class order. */
    List<Parameter> weightParameters();

    /**
     * The rows of {@code parameter} the most recent step touched when it touched only some (sampled
     * negatives); null when every row may change (no sampling, or not one of this head's parameters).
     * The optimizer updates only those rows' values and momentum.
     */
    default RowSelection touchedRows(Parameter parameter) {
        return null;
    }

    @Override
    void close();
}
