package org.lsoftmax.model;

import java.util.List;
import org.lsoftmax.linalg.MatrixProducts;
import org.lsoftmax.math.SplitMix64;

/**
 * Fully connected layer {@code y = x W^T + b} with W of shape (out x in), as in Caffe's InnerProduct.
 * <pre>
 * forward:   y[i,o]  = sum_k x[i,k] W[o,k] + b[o]          y  = x W^T + b
 * backward:  dW[o,k] += sum_i dy[i,o] x[i,k]                dW = dy^T x
 *            db[o]   += sum_i dy[i,o]                       db = column sums of dy
 *            dx[i,k]  = sum_o dy[i,o] W[o,k]                dx = dy W   (skipped for the first layer)
 * </pre>
 */
public final class Dense implements Layer {

    private final String name;
    private final int inputSize;
    private final int outputSize;
    private final Parameter weight;
    private final Parameter bias;
    private final MatrixProducts products;
    private final float[] output;
    private final float[] inputGradient; // null when the input gradient is not needed
    private float[] lastInput;

    /**
     * @param computeInputGradient false for the first layer: dx of the data is never used, and
     *                             skipping it saves a third of the layer's backward work
     */
    public Dense(String name, int inputSize, int outputSize, int maxRows, boolean computeInputGradient,
            MatrixProducts products) {
        this.name = name;
        this.inputSize = inputSize;
        this.outputSize = outputSize;
        this.products = products;
        this.weight = Parameter.zeros(name + ".weight", outputSize * inputSize, true);
        this.bias = Parameter.zeros(name + ".bias", outputSize, false);
        this.output = new float[maxRows * outputSize];
        this.inputGradient = computeInputGradient ? new float[maxRows * inputSize] : null;
    }

    /**
     * Gaussian init with std {@code sqrt(gain / in)}: gain 2/(1+a^2) before a PReLU of initial slope a
     * (He et al. 2015, eq. 10), gain 1 before a linear output.
     */
    public void initialise(SplitMix64 random, double gain) {
        double std = Math.sqrt(gain / inputSize);
        float[] w = weight.value();
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (std * random.nextGaussian());
        }
        java.util.Arrays.fill(bias.value(), 0f);
    }

    @Override
    public float[] forward(float[] input, int rows) {
        lastInput = input;
        products.multiplyABt(input, weight.value(), output, rows, outputSize, inputSize, false);
        float[] b = bias.value();
        for (int i = 0; i < rows; i++) {
            int row = i * outputSize;
            for (int o = 0; o < outputSize; o++) {
                output[row + o] += b[o];
            }
        }
        return output;
    }

    @Override
    public float[] backward(float[] outputGradient, int rows) {
        products.multiplyAtB(outputGradient, lastInput, weight.gradient(), outputSize, inputSize, rows, true);
        float[] db = bias.gradient();
        for (int i = 0; i < rows; i++) {
            int row = i * outputSize;
            for (int o = 0; o < outputSize; o++) {
                db[o] += outputGradient[row + o];
            }
        }
        if (inputGradient == null) {
            return null;
        }
        products.multiplyAB(outputGradient, weight.value(), inputGradient, rows, inputSize, outputSize, false);
        return inputGradient;
    }

    @Override
    public int inputSize() {
        return inputSize;
    }

    @Override
    public int outputSize() {
        return outputSize;
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(weight, bias);
    }

    @Override
    public String toString() {
        return name + " dense " + inputSize + " -> " + outputSize;
    }
}
