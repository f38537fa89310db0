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
     * The class each sample of the most recent {@link #forward} is predicted to be: the index of the
     * largest plain logit (no margin: the margin is a training device; {@code w_j.x_i} for L-Softmax,
     * the scaled cosine for the normalising losses), the first one
     * on ties. Costs O(N*C) from what forward kept; nothing is recomputed.
     *
     * @param predictions output, N class indices
     */
    void predict(int[] predictions);

    /** Releases threads or device memory; the pass is unusable afterwards. */
    @Override
    void close();
}
