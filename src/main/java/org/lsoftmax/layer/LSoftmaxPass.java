package org.lsoftmax.layer;

/**
 * One implementation ("pass") of the L-Softmax layer for a fixed {@link LayerShape} and margin m.
 *
 * <p>Forward computes the logits {@code f = X W^T} with the target entry of each row replaced by the
 * margin logit {@code (beta w_y.x + |w_y||x| psi(theta)) / (1 + beta)}, and the mean softmax
 * cross-entropy loss. Backward returns {@code dL/dX} and {@code dL/dW} of that loss for the inputs of
 * the most recent forward: the caller must not change X or W in between.
 *
 * <p>Every pass is checked against {@link org.lsoftmax.layer.reference.ReferencePass}.
 */
public interface LSoftmaxPass extends AutoCloseable {

    /** Short name as used on the command line: reference, jvm, tornado. */
    String name();

    /** Where the work runs, for logs and benchmark tables (e.g. "jvm (2 threads)"). */
    default String deviceDescription() {
        return name();
    }

    LayerShape shape();

    int margin();

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

    /** Plain logits {@code X W^T} (no margin), as used for prediction. */
    void plainLogits(float[] x, float[] w, float[] logits);

    /** Releases threads or device memory; the pass is unusable afterwards. */
    @Override
    void close();
}
