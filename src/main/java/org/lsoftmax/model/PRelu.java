package org.lsoftmax.model;

import java.util.Arrays;
import java.util.List;

/**
 * Parametric ReLU with one learned slope per channel (He et al. 2015), as in the paper's networks.
 * <pre>
 * forward:   y[i,c] = x[i,c]           if x[i,c] > 0
 *                   = a[c] x[i,c]      otherwise
 * backward:  dx[i,c] = dy[i,c] * (x > 0 ? 1 : a[c])
 *            da[c]  += sum_i dy[i,c] * (x > 0 ? 0 : x[i,c])     (He et al. eq. 2-4)
 * </pre>
 */
public final class PRelu implements Layer {

    /** He et al.'s initial slope. */
    public static final float INITIAL_SLOPE = 0.25f;

    private final String name;
    private final int channels;
    private final Parameter slope;
    private final float[] output;
    private final float[] inputGradient;
    private float[] lastInput;

    public PRelu(String name, int channels, int maxRows) {
        this.name = name;
        this.channels = channels;
        this.slope = Parameter.zeros(name + ".slope", channels, false);
        Arrays.fill(slope.value(), INITIAL_SLOPE);
        this.output = new float[maxRows * channels];
        this.inputGradient = new float[maxRows * channels];
    }

    @Override
    public float[] forward(float[] input, int rows) {
        lastInput = input;
        float[] a = slope.value();
        for (int i = 0; i < rows; i++) {
            int row = i * channels;
            for (int c = 0; c < channels; c++) {
                float x = input[row + c];
                output[row + c] = x > 0f ? x : a[c] * x;
            }
        }
        return output;
    }

    @Override
    public float[] backward(float[] outputGradient, int rows) {
        float[] a = slope.value();
        float[] da = slope.gradient();
        for (int i = 0; i < rows; i++) {
            int row = i * channels;
            for (int c = 0; c < channels; c++) {
                float x = lastInput[row + c];
                float dy = outputGradient[row + c];
                if (x > 0f) {
                    inputGradient[row + c] = dy;
                } else {
                    inputGradient[row + c] = a[c] * dy;
                    da[c] += dy * x;
                }
            }
        }
        return inputGradient;
    }

    @Override
    public int inputSize() {
        return channels;
    }

    @Override
    public int outputSize() {
        return channels;
    }

    public Parameter slope() {
        return slope;
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(slope);
    }

    @Override
    public String toString() {
        return name + " prelu " + channels;
    }
}
