package org.lsoftmax.model;

import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;
import org.lsoftmax.StepProfile;
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
 * The bias and its gradient are vectorised sweeps over the rows (lanes across outputs, rows in order:
 * the same float additions as the scalar loops), in chunks of outputs on the products' worker pool
 * ({@link ColumnChunks}).
 */
public final class Dense implements Layer {

    private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;

    private final String name;
    private final int inputSize;
    private final int outputSize;
    private final Parameter weight;
    private final Parameter bias;
    private final MatrixProducts products;
    private final float[] output;
    private final float[] inputGradient; // null when the input gradient is not needed
    private float[] lastInput;
    /** Set by {@link #zeroGradients}: the next backward writes dW instead of adding to it (the same bits as adding to zeros). */
    private boolean weightGradientCleared;
    // phase names for StepProfile (built once)
    private final String forwardProductPhase;
    private final String forwardBiasPhase;
    private final String weightGradientPhase;
    private final String biasGradientPhase;
    private final String inputGradientPhase;
    private final ColumnChunks chunks;
    private float[] sweepGradient;
    private int sweepRows;
    private final ColumnChunks.Sweep biasSweep;
    private final ColumnChunks.Sweep biasGradientSweep;

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
        String shape = " (" + inputSize + " -> " + outputSize + ")";
        this.forwardProductPhase = name + " forward y = x W^T" + shape;
        this.forwardBiasPhase = name + " forward y += b";
        this.weightGradientPhase = name + " backward dW += dy^T x";
        this.biasGradientPhase = name + " backward db += colsum dy";
        this.inputGradientPhase = name + " backward dx = dy W";
        this.chunks = new ColumnChunks(products, outputSize);
        this.biasSweep = (from, to) -> addToRowRange(output, bias.value(), outputSize, from, to);
        this.biasGradientSweep = (from, to) -> addRows(sweepGradient, bias.gradient(), sweepRows, outputSize, from, to);
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
        long start = StepProfile.now();
        products.multiplyABt(input, weight.value(), output, rows, outputSize, inputSize, false);
        StepProfile.record(forwardProductPhase, start, 2.0 * rows * outputSize * inputSize);
        start = StepProfile.now();
        chunks.runRows(biasSweep, rows);
        StepProfile.record(forwardBiasPhase, start);
        return output;
    }

    @Override
    public float[] backward(float[] outputGradient, int rows) {
        long start = StepProfile.now();
        // dW written (accumulate = false) right after zeroGradients: an fma chain from 0 either way, but
        // no 1.6 MB memset per step and no reading of the zeros (on 2 cores a line the other core wrote is slow)
        products.multiplyAtB(outputGradient, lastInput, weight.gradient(), outputSize, inputSize, rows,
                !weightGradientCleared);
        weightGradientCleared = false;
        StepProfile.record(weightGradientPhase, start, 2.0 * rows * outputSize * inputSize);
        start = StepProfile.now();
        sweepGradient = outputGradient;
        sweepRows = rows;
        chunks.run(biasGradientSweep, rows);
        sweepGradient = null;
        StepProfile.record(biasGradientPhase, start);
        if (inputGradient == null) {
            return null;
        }
        start = StepProfile.now();
        products.multiplyAB(outputGradient, weight.value(), inputGradient, rows, inputSize, outputSize, false);
        StepProfile.record(inputGradientPhase, start, 2.0 * rows * outputSize * inputSize);
        return inputGradient;
    }

    /** {@code y[i,o] += b[o]} for {@code rows} rows of {@code columns}. */
    static void addToRows(float[] y, float[] b, int rows, int columns) {
        addToRowRange(y, b, columns, 0, rows);
    }

    /** {@link #addToRows(float[], float[], int, int)} for rows {@code [from, to)} only. */
    static void addToRowRange(float[] y, float[] b, int columns, int from, int to) {
        int bound = FLOATS.loopBound(columns);
        for (int i = from; i < to; i++) {
            int row = i * columns;
            int o = 0;
            for (; o < bound; o += FLOATS.length()) {
                FloatVector.fromArray(FLOATS, y, row + o).add(FloatVector.fromArray(FLOATS, b, o)).intoArray(y, row + o);
            }
            if (o < columns) {
                VectorMask<Float> tail = FLOATS.indexInRange(o, columns);
                FloatVector.fromArray(FLOATS, y, row + o, tail).add(FloatVector.fromArray(FLOATS, b, o, tail))
                        .intoArray(y, row + o, tail);
            }
        }
    }

    /** {@code sum[o] += dy[i,o]} for i = 0..rows-1 in order (column sums added into {@code sum}). */
    static void addRows(float[] dy, float[] sum, int rows, int columns) {
        addRows(dy, sum, rows, columns, 0, columns);
    }

    /** {@link #addRows(float[], float[], int, int)} for columns {@code [from, to)} only. */
    static void addRows(float[] dy, float[] sum, int rows, int columns, int from, int to) {
        int bound = from + FLOATS.loopBound(to - from);
        for (int i = 0; i < rows; i++) {
            int row = i * columns;
            int o = from;
            for (; o < bound; o += FLOATS.length()) {
                FloatVector.fromArray(FLOATS, sum, o).add(FloatVector.fromArray(FLOATS, dy, row + o)).intoArray(sum, o);
            }
            if (o < to) {
                VectorMask<Float> tail = FLOATS.indexInRange(o, to);
                FloatVector.fromArray(FLOATS, sum, o, tail).add(FloatVector.fromArray(FLOATS, dy, row + o, tail))
                        .intoArray(sum, o, tail);
            }
        }
    }

    /**
     * Zeroes the parameter gradients before a step: the bias gradient now, the weight gradient lazily
     * (the next {@link #backward} writes it rather than adds to it; until then {@code weight().gradient()}
     * still holds the previous values).
     */
    public void zeroGradients() {
        java.util.Arrays.fill(bias.gradient(), 0f);
        weightGradientCleared = true;
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
