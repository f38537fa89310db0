package org.lsoftmax.train;

import java.util.List;
import org.lsoftmax.model.Parameter;

/**
 * SGD with momentum and L2 weight decay, in Caffe's form (the paper trained with Caffe):
 * <pre>
 *   g = dL/dw + weightDecay * w        (decay only on parameters marked for it)
 *   v = momentum * v + lr * g          (v is the parameter's momentum buffer, saved in checkpoints)
 *   w = w - v
 * </pre>
 * Keeping lr inside v matches Caffe when the learning rate is divided by 10 mid-run.
 */
public final class SgdMomentum {

    private final double momentum;
    private final double weightDecay;

    public SgdMomentum(double momentum, double weightDecay) {
        this.momentum = momentum;
        this.weightDecay = weightDecay;
    }

    /**
     * The first problem the next {@link #step} would cause, without changing anything: a new momentum
     * (= the change of the weight) or weight that is not finite, or a change larger than
     * {@code maxChange}. Null when the step is safe. Computed with exactly the arithmetic of step.
     */
    public OffendingValue checkStep(List<Parameter> parameters, double learningRate, double maxChange) {
        float mu = (float) momentum;
        float rate = (float) learningRate;
        for (Parameter parameter : parameters) {
            float decay = parameter.weightDecayed() ? (float) weightDecay : 0f;
            float[] w = parameter.value();
            float[] g = parameter.gradient();
            float[] v = parameter.momentum();
            for (int i = 0; i < w.length; i++) {
                float newMomentum = newMomentum(mu, rate, decay, v[i], g[i], w[i]);
                float newWeight = w[i] - newMomentum;
                if (!Float.isFinite(newMomentum) || !Float.isFinite(newWeight)) {
                    return OffendingValue.nonFinite("update of " + parameter.name(), i,
                            Float.isFinite(newMomentum) ? newWeight : newMomentum);
                }
                if (Math.abs(newMomentum) > maxChange) {
                    return OffendingValue.aboveLimit("update of " + parameter.name(), i, newMomentum, maxChange);
                }
            }
        }
        return null;
    }

    public void step(List<Parameter> parameters, double learningRate) {
        float mu = (float) momentum;
        float rate = (float) learningRate;
        for (Parameter parameter : parameters) {
            float decay = parameter.weightDecayed() ? (float) weightDecay : 0f;
            float[] w = parameter.value();
            float[] g = parameter.gradient();
            float[] v = parameter.momentum();
            for (int i = 0; i < w.length; i++) {
                v[i] = newMomentum(mu, rate, decay, v[i], g[i], w[i]);
                w[i] -= v[i];
            }
        }
    }

    /** {@code v' = mu v + lr (g + decay w)}: Caffe's momentum update, one definition for step and checkStep. */
    private static float newMomentum(float mu, float rate, float decay, float v, float g, float w) {
        return mu * v + rate * (g + decay * w);
    }
}
