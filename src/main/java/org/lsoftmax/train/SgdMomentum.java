package org.lsoftmax.train;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.lsoftmax.model.Parameter;
import org.lsoftmax.model.RowSelection;

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

    /**
     * {@link #step(List, double)} where {@code rows} names, for some parameters, the rows a step touched
     * (a class-sharded head's sampled classes): only those rows' momentum and values change, each element
     * exactly as {@code step} would change it; every other row keeps its value and its momentum. A
     * parameter without a selection ({@code rows} gives null) gets the full update of {@code step}.
     */
    public void step(List<Parameter> parameters, double learningRate, Function<Parameter, RowSelection> rows) {
        List<Parameter> whole = new ArrayList<>(parameters.size());
        float mu = (float) momentum;
        float rate = (float) learningRate;
        for (Parameter parameter : parameters) {
            RowSelection selection = rows.apply(parameter);
            if (selection == null) {
                whole.add(parameter);
                continue;
            }
            float decay = parameter.weightDecayed() ? (float) weightDecay : 0f;
            float[] w = parameter.value();
            float[] g = parameter.gradient();
            float[] v = parameter.momentum();
            int length = selection.rowLength();
            for (int k = 0; k < selection.count(); k++) {
                int start = selection.row(k) * length;
                for (int i = start; i < start + length; i++) {
                    v[i] = newMomentum(mu, rate, decay, v[i], g[i], w[i]);
                    w[i] -= v[i];
                }
            }
        }
        step(whole, learningRate);
    }

    /** {@link #checkStep(List, double, double)} of the step {@link #step(List, double, Function)} would take. */
    public OffendingValue checkStep(List<Parameter> parameters, double learningRate, double maxChange, Function<Parameter, RowSelection> rows) {
        List<Parameter> whole = new ArrayList<>(parameters.size());
        float mu = (float) momentum;
        float rate = (float) learningRate;
        for (Parameter parameter : parameters) {
            RowSelection selection = rows.apply(parameter);
            if (selection == null) {
                whole.add(parameter);
                continue;
            }
            float decay = parameter.weightDecayed() ? (float) weightDecay : 0f;
            float[] w = parameter.value();
            float[] g = parameter.gradient();
            float[] v = parameter.momentum();
            int length = selection.rowLength();
            for (int k = 0; k < selection.count(); k++) {
                int start = selection.row(k) * length;
                for (int i = start; i < start + length; i++) {
                    float newMomentum = newMomentum(mu, rate, decay, v[i], g[i], w[i]);
                    float newWeight = w[i] - newMomentum;
                    if (!Float.isFinite(newMomentum) || !Float.isFinite(newWeight)) {
                        return OffendingValue.nonFinite("update of " + parameter.name(), i, Float.isFinite(newMomentum) ? newWeight : newMomentum);
                    }
                    if (Math.abs(newMomentum) > maxChange) {
                        return OffendingValue.aboveLimit("update of " + parameter.name(), i, newMomentum, maxChange);
                    }
                }
            }
        }
        return checkStep(whole, learningRate, maxChange);
    }

    /** {@code v' = mu v + lr (g + decay w)}: Caffe's momentum update, one definition for step and checkStep. */
    private static float newMomentum(float mu, float rate, float decay, float v, float g, float w) {
        return mu * v + rate * (g + decay * w);
    }
}
