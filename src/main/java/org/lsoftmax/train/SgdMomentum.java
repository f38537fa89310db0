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

    public void step(List<Parameter> parameters, double learningRate) {
        float mu = (float) momentum;
        float rate = (float) learningRate;
        for (Parameter parameter : parameters) {
            float decay = parameter.weightDecayed() ? (float) weightDecay : 0f;
            float[] w = parameter.value();
            float[] g = parameter.gradient();
            float[] v = parameter.momentum();
            for (int i = 0; i < w.length; i++) {
                v[i] = mu * v[i] + rate * (g[i] + decay * w[i]);
                w[i] -= v[i];
            }
        }
    }
}
