package org.lsoftmax.model;

import java.util.Arrays;
import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.lsoftmax.StepProfile;
import org.lsoftmax.linalg.MatrixProducts;

/**
 * Parametric ReLU with one learned slope per channel (He et al. 2015), as in the paper's networks.
 * <pre>
 * forward:   y[i,c] = x[i,c]           if x[i,c] > 0
 *                   = a[c] x[i,c]      otherwise
 * backward:  dx[i,c] = dy[i,c] * (x > 0 ? 1 : a[c])
 *            da[c]  += sum_i dy[i,c] * (x > 0 ? 0 : x[i,c])     (He et al. eq. 2-4)
 * </pre>
 * Both directions are one vectorised sweep over the rows (lanes across channels; the tail of a row
 * through a mask, so every element takes the same lane operations). Each element is computed exactly
 * as the formulas above in scalar float: the select keeps {@code x} or {@code a x} (no {@code max/min}
 * trick, which would change the sign of some zeros), and da adds {@code dy x} only where
 * {@code x <= 0} (masked add; the other lanes are left alone, not added a zero), row after row, i.e.
 * in the same order as a scalar loop over i. Given products with a worker pool, the sweeps run in
 * chunks of channels on it ({@link ColumnChunks}; a channel's rows stay in order).
 */
public final class PRelu implements Layer {

    /** He et al.'s initial slope. */
    public static final float INITIAL_SLOPE = 0.25f;

    private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;

    private final String name;
    private final int channels;
    private final Parameter slope;
    private final float[] output;
    private final float[] inputGradient;
    private float[] lastInput;
    private final String forwardPhase;
    private final String backwardPhase;
    private final ColumnChunks chunks;
    // operands of the sweep in progress
    private float[] sweepInput;
    private float[] sweepGradient;
    private int sweepRows;
    private final ColumnChunks.Sweep forwardSweep;
    private final ColumnChunks.Sweep backwardSweep;

    /** A PReLU whose sweeps run on the caller. */
    public PRelu(String name, int channels, int maxRows) {
        this(name, channels, maxRows, null);
    }

    /** @param products whose worker pool runs the sweeps (an {@code Sgemm}); null: the caller */
    public PRelu(String name, int channels, int maxRows, MatrixProducts products) {
        this.name = name;
        this.channels = channels;
        this.slope = Parameter.zeros(name + ".slope", channels, false);
        Arrays.fill(slope.value(), INITIAL_SLOPE);
        this.output = new float[maxRows * channels];
        this.inputGradient = new float[maxRows * channels];
        this.forwardPhase = name + " forward";
        this.backwardPhase = name + " backward";
        this.chunks = new ColumnChunks(products, channels);
        this.forwardSweep = (from, to) -> forwardRows(sweepInput, slope.value(), output, channels, from, to);
        this.backwardSweep = (from, to) -> backward(sweepInput, sweepGradient, slope.value(), inputGradient,
                slope.gradient(), sweepRows, channels, from, to);
    }

    @Override
    public float[] forward(float[] input, int rows) {
        lastInput = input;
        long start = StepProfile.now();
        sweepInput = input;
        sweepRows = rows;
        chunks.runRows(forwardSweep, rows);
        StepProfile.record(forwardPhase, start);
        return output;
    }

    @Override
    public float[] backward(float[] outputGradient, int rows) {
        long start = StepProfile.now();
        sweepInput = lastInput;
        sweepGradient = outputGradient;
        sweepRows = rows;
        chunks.run(backwardSweep, rows);
        sweepGradient = null;
        StepProfile.record(backwardPhase, start);
        return inputGradient;
    }

    /** {@code y[i,c] = x[i,c] > 0 ? x[i,c] : a[c] x[i,c]} for {@code rows} rows of {@code channels}. */
    static void forward(float[] x, float[] a, float[] y, int rows, int channels) {
        forwardRows(x, a, y, channels, 0, rows);
    }

    /** {@link #forward(float[], float[], float[], int, int)} for rows {@code [from, to)} only. */
    static void forwardRows(float[] x, float[] a, float[] y, int channels, int from, int to) {
        int bound = FLOATS.loopBound(channels);
        for (int i = from; i < to; i++) {
            int row = i * channels;
            int c = 0;
            for (; c < bound; c += FLOATS.length()) {
                FloatVector xv = FloatVector.fromArray(FLOATS, x, row + c);
                FloatVector scaled = xv.mul(FloatVector.fromArray(FLOATS, a, c));
                scaled.blend(xv, xv.compare(VectorOperators.GT, 0f)).intoArray(y, row + c);
            }
            if (c < channels) {
                VectorMask<Float> tail = FLOATS.indexInRange(c, channels);
                FloatVector xv = FloatVector.fromArray(FLOATS, x, row + c, tail);
                FloatVector scaled = xv.mul(FloatVector.fromArray(FLOATS, a, c, tail));
                scaled.blend(xv, xv.compare(VectorOperators.GT, 0f)).intoArray(y, row + c, tail);
            }
        }
    }

    /**
     * {@code dx[i,c] = x > 0 ? dy : a[c] dy} and {@code da[c] += dy x} where {@code x <= 0}, rows in
     * order (x: the forward's input).
     */
    static void backward(float[] x, float[] dy, float[] a, float[] dx, float[] da, int rows, int channels) {
        backward(x, dy, a, dx, da, rows, channels, 0, channels);
    }

    /** {@link #backward(float[], float[], float[], float[], float[], int, int)} for channels {@code [from, to)} only. */
    static void backward(float[] x, float[] dy, float[] a, float[] dx, float[] da, int rows, int channels, int from,
                         int to) {
        int bound = from + FLOATS.loopBound(to - from);
        for (int i = 0; i < rows; i++) {
            int row = i * channels;
            int c = from;
            for (; c < bound; c += FLOATS.length()) {
                FloatVector xv = FloatVector.fromArray(FLOATS, x, row + c);
                FloatVector dyv = FloatVector.fromArray(FLOATS, dy, row + c);
                VectorMask<Float> positive = xv.compare(VectorOperators.GT, 0f);
                dyv.mul(FloatVector.fromArray(FLOATS, a, c)).blend(dyv, positive).intoArray(dx, row + c);
                FloatVector dav = FloatVector.fromArray(FLOATS, da, c);
                dav.add(dyv.mul(xv), positive.not()).intoArray(da, c);
            }
            if (c < to) {
                VectorMask<Float> tail = FLOATS.indexInRange(c, to);
                FloatVector xv = FloatVector.fromArray(FLOATS, x, row + c, tail);
                FloatVector dyv = FloatVector.fromArray(FLOATS, dy, row + c, tail);
                VectorMask<Float> positive = xv.compare(VectorOperators.GT, 0f);
                dyv.mul(FloatVector.fromArray(FLOATS, a, c, tail)).blend(dyv, positive).intoArray(dx, row + c, tail);
                FloatVector dav = FloatVector.fromArray(FLOATS, da, c, tail);
                dav.add(dyv.mul(xv), positive.not().and(tail)).intoArray(da, c, tail);
            }
        }
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
