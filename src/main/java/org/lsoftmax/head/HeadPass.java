package org.lsoftmax.head;

/**
 * One implementation ("pass") of the head's forward and backward for a fixed {@link HeadShape} and
 * {@link MarginLoss}: the float64 {@code reference}, the multi-threaded {@code jvm} pass and the
 * TornadoVM {@code tornado} pass. Create one with {@code head.select.PassFactory}.
 *
 * <p>Forward computes the loss's plain logits (for L-Softmax {@code f = X W^T}; for the normalising
 * losses the cosines, scaled, docs/DERIVATION.md (F1)) with the target entry of each row replaced by its
 * margin logit (L-Softmax: {@code (beta w_y.x + |w_y||x| psi(theta)) / (1 + beta)}, (L2)-(L4); the family:
 * (F2)), and the mean softmax cross-entropy loss (L5). Backward returns {@code dL/dX} and {@code dL/dW} of that
 * loss (L8)-(L10) for the inputs of the most recent forward: the caller must not change X or W in between.
 *
 * <p>Every pass is checked against {@link org.lsoftmax.head.reference.ReferencePass} (see
 * {@code org.lsoftmax.check.PassComparison}).
 */
public interface HeadPass extends AutoCloseable {

    /** Short name as used on the command line: reference, jvm, tornado. */
    String name();

    /** Where the work runs, for logs and benchmark tables (e.g. "jvm (2 threads)"). */
    default String deviceDescription() {
        return name();
    }

    HeadShape shape();

    /** The loss this pass computes. */
    MarginLoss loss();

    /**
     * Changes the loss's real parameters (s, m1, m2, m3) before the next forward, for warm-ups; the
     * kind and the integer margin stay ({@link HeadChecks#checkSameKind}).
     */
    void setLoss(MarginLoss loss);

    /** The integer margin m of L-Softmax and SphereFace (1 for the other losses). */
    default int margin() {
        return loss().margin();
    }

    /**
     * Forward pass with the margin on the target class.
     *
     * @param x      features, N*D row-major
     * @param w      class weights, C*D row-major
     * @param labels N class indices in [0, C)
     * @param beta   annealing weight lambda >= 0 (large beta approaches plain softmax)
     * @param logits output, N*C row-major
     * @return the mean cross-entropy loss over the batch
     * @throws InvalidInputException on a shape mismatch, a label out of range, a non-finite input or beta < 0
     */
    double forward(float[] x, float[] w, int[] labels, double beta, float[] logits);

    /**
     * Gradients of the loss of the most recent {@link #forward} call.
     *
     * @param dx output dL/dX, N*D
     * @param dw output dL/dW, C*D
     */
    void backward(float[] dx, float[] dw);

    /**
     * One training step: {@link #forward} and then {@link #backward} of the same batch in one call, so that
     * a pass can run the two as one (the tornado pass: one graph execution on its device). The results are
     * those of the two calls; {@link #predict} and {@link #backward} work after it as after a forward (a
     * second backward returns the same gradients).
     *
     * @param logits output N*C; may be null where {@link #logitsOptional()} says so (then they are not copied out)
     * @param dx     output dL/dX, N*D
     * @param dw     output dL/dW, C*D
     * @return the mean cross-entropy loss over the batch
     */
    default double trainingStep(float[] x, float[] w, int[] labels, double beta, float[] logits, float[] dx, float[] dw) {
        double lossValue = forward(x, w, labels, beta, logits);
        backward(dx, dw);
        return lossValue;
    }

    /**
     * Whether {@link #trainingStep} accepts {@code logits = null}: true for a pass that keeps the logits on
     * its device and copies them out only when given an array (tornado); false for the passes that compute
     * them in the caller's array.
     */
    default boolean logitsOptional() {
        return false;
    }

    /**
     * The class each sample of the most recent {@link #forward} is predicted to be: the index of the
     * largest plain logit (no margin: the margin is a training device; {@code w_j.x_i} for L-Softmax,
     * the scaled cosine for the normalising losses), the first one
     * on ties. Costs O(N*C) from what forward kept; nothing is recomputed.
     *
     * @param predictions output, N class indices
     */
    void predict(int[] predictions);

    /**
     * Shard stage 1 of the class-sharded head ({@code ShardedHead}, docs/SCALING.md): the forward of one
     * block of classes. W is this shard's block (or its sample of classes), C_s x D with C_s =
     * {@code shape().classes()}; {@code localLabels[i]} is the index of sample i's class inside the block,
     * or -1 where the class is on another shard (or was not sampled: never, positives are always kept).
     * Writes the logits of the block with the margin on the targets this shard owns (plain logits
     * elsewhere: a row without an owned target is the plain (scaled) softmax's row) and, per row,
     * {@code max_j f_ij}, {@code sum_j exp(f_ij - max)} and, where owned, the target's margin logit and
     * its plain logit ({@link ShardRows}). The whole head's loss is {@code mean_i(lse_i - f_iy)} with
     * {@code lse_i} combined over the shards ({@link ShardCombine}). The existing {@link #forward} is not
     * changed by this stage.
     *
     * @throws InvalidInputException on a shape mismatch, a label outside [-1, C_s), a non-finite input or beta < 0
     */
    void forwardShard(float[] x, float[] w, int[] localLabels, double beta, float[] logits, ShardRows rows);

    /**
     * Shard stage 2: with the whole head's {@code lse_i} (N values, combined over every shard), this
     * shard's {@code G_ij = (exp(f_ij - lse_i) - [j = y_i]) / N} for its columns, its part of dL/dX (the
     * products, the radial part of normalised features removed from its own part, the corrections of
     * the targets it owns: dX is the sum of the shards' parts) and its block's dL/dW, complete (W's
     * gradient never leaves its shard). For the inputs of the most recent {@link #forwardShard}.
     *
     * @param logSumExp N values lse_i
     * @param dx        output: this shard's part of dL/dX, N*D
     * @param dw        output: dL/dW of the block, C_s*D
     */
    void backwardShard(double[] logSumExp, float[] dx, float[] dw);

    /** Releases threads or device memory; the pass is unusable afterwards. */
    @Override
    void close();
}
