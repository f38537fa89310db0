package org.lsoftmax.head.jvm;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vectorised O(length) operations on one row of a row-major float matrix, for the per-sample parts of
 * the jvm pass. Tails use masks, so every element goes through the same lane operation wherever it
 * sits; each result depends only on the row, never on the thread that computes it.
 */
final class RowOps {

    private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = FLOATS.length();
    private static final VectorSpecies<Double> DOUBLES = DoubleVector.SPECIES_PREFERRED;
    /** Floats that widen into one double vector (half the preferred width). */
    private static final VectorSpecies<Float> HALF_FLOATS =
            VectorSpecies.of(float.class, VectorShape.forBitSize(DOUBLES.vectorBitSize() / 2));
    private static final int DOUBLE_LANES = DOUBLES.length();

    private RowOps() {
    }

    /** {@code sum_p a[p] b[p]} with exact float products accumulated in double lanes. */
    static double dot(float[] a, int aOffset, float[] b, int bOffset, int length) {
        DoubleVector sum = DoubleVector.zero(DOUBLES);
        int p = 0;
        int bound = HALF_FLOATS.loopBound(length);
        for (; p < bound; p += DOUBLE_LANES) {
            sum = widen(a, aOffset + p).fma(widen(b, bOffset + p), sum);
        }
        double total = sumLanesInOrder(sum);
        for (; p < length; p++) {
            total += (double) a[aOffset + p] * b[bOffset + p];
        }
        return total;
    }

    /**
     * Whether every value is finite: {@code v - v} is 0 for a finite v and NaN for an infinity or a
     * NaN, and a NaN stays in a sum. Reads memory at full width (4 independent accumulators); the
     * caller reports a failure through the scalar check, which finds the first bad index.
     */
    static boolean allFinite(float[] values) {
        FloatVector s0 = FloatVector.zero(FLOATS);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        FloatVector s3 = s0;
        int length = values.length;
        int step = 4 * LANES;
        int bound = length - length % step;
        int j = 0;
        for (; j < bound; j += step) {
            FloatVector v0 = FloatVector.fromArray(FLOATS, values, j);
            FloatVector v1 = FloatVector.fromArray(FLOATS, values, j + LANES);
            FloatVector v2 = FloatVector.fromArray(FLOATS, values, j + 2 * LANES);
            FloatVector v3 = FloatVector.fromArray(FLOATS, values, j + 3 * LANES);
            s0 = s0.add(v0.sub(v0));
            s1 = s1.add(v1.sub(v1));
            s2 = s2.add(v2.sub(v2));
            s3 = s3.add(v3.sub(v3));
        }
        FloatVector sum = s0.add(s1).add(s2.add(s3));
        boolean finite = !sum.compare(VectorOperators.NE, sum).anyTrue();
        for (; j < length; j++) {
            finite &= Float.isFinite(values[j]);
        }
        return finite;
    }

    /** Doubles of scratch that {@link #threeDots} needs. */
    static final int THREE_DOTS_SCRATCH = 3 * DOUBLE_LANES;

    /**
     * {@code out[0] = x.x}, {@code out[1] = w.w}, {@code out[2] = x.w} over one pass on both rows, each
     * exactly as {@link #dot} computes it (same lanes, same order, same tail). {@code out} holds at
     * least {@link #THREE_DOTS_SCRATCH} doubles (one array per thread): lane sums go through it so that
     * no accumulator is boxed.
     */
    static void threeDots(float[] x, int xOffset, float[] w, int wOffset, int length, double[] out) {
        DoubleVector xx = DoubleVector.zero(DOUBLES);
        DoubleVector ww = DoubleVector.zero(DOUBLES);
        DoubleVector xw = DoubleVector.zero(DOUBLES);
        int p = 0;
        int bound = HALF_FLOATS.loopBound(length);
        for (; p < bound; p += DOUBLE_LANES) {
            DoubleVector xv = widen(x, xOffset + p);
            DoubleVector wv = widen(w, wOffset + p);
            xx = xv.fma(xv, xx);
            ww = wv.fma(wv, ww);
            xw = xv.fma(wv, xw);
        }
        xx.intoArray(out, 0);
        ww.intoArray(out, DOUBLE_LANES);
        xw.intoArray(out, 2 * DOUBLE_LANES);
        double sumXX = out[0];
        double sumWW = out[DOUBLE_LANES];
        double sumXW = out[2 * DOUBLE_LANES];
        for (int lane = 1; lane < DOUBLE_LANES; lane++) {
            sumXX += out[lane];
            sumWW += out[DOUBLE_LANES + lane];
            sumXW += out[2 * DOUBLE_LANES + lane];
        }
        for (; p < length; p++) {
            double xValue = x[xOffset + p];
            double wValue = w[wOffset + p];
            sumXX += xValue * xValue;
            sumWW += wValue * wValue;
            sumXW += xValue * wValue;
        }
        out[0] = sumXX;
        out[1] = sumWW;
        out[2] = sumXW;
    }

    /**
     * {@code |a/|a| - b/|b||} over one row each, given {@code 1/|a|} and {@code 1/|b|}: the chord between
     * the unit vectors, accurate where they are nearly parallel (docs/DERIVATION.md (F16)). Double lanes;
     * {@code scratch} holds at least {@link #SCRATCH_DOUBLES} doubles.
     */
    static double unitChord(float[] a, int aOffset, double aInverseNorm, float[] b, int bOffset, double bInverseNorm, int length,
            double[] scratch) {
        DoubleVector sum = DoubleVector.zero(DOUBLES);
        int p = 0;
        int bound = HALF_FLOATS.loopBound(length);
        for (; p < bound; p += DOUBLE_LANES) {
            DoubleVector difference = widen(a, aOffset + p).mul(aInverseNorm).sub(widen(b, bOffset + p).mul(bInverseNorm));
            sum = difference.fma(difference, sum);
        }
        sum.intoArray(scratch, 0);
        double total = 0.0;
        for (int lane = 0; lane < DOUBLE_LANES; lane++) {
            total += scratch[lane];
        }
        for (; p < length; p++) {
            double difference = a[aOffset + p] * aInverseNorm - b[bOffset + p] * bInverseNorm;
            total += difference * difference;
        }
        return Math.sqrt(total);
    }

    /** {@code max_j row[j]}. */
    static float max(float[] row, int offset, int length) {
        FloatVector max = FloatVector.broadcast(FLOATS, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < length; j += LANES) {
            VectorMask<Float> inRange = FLOATS.indexInRange(j, length);
            FloatVector values = FloatVector.fromArray(FLOATS, row, offset + j, inRange);
            max = max.lanewise(VectorOperators.MAX, values, inRange);
        }
        return max.reduceLanes(VectorOperators.MAX);
    }

    /** Doubles in one double vector: the size of the lane scratch that {@link #expShiftedAndSum} needs. */
    static final int SCRATCH_DOUBLES = DOUBLE_LANES;

    /**
     * {@code out[j] = exp(row[j] - shift)} for every j, returning {@code sum_j out[j]} accumulated in
     * double lanes (a loss near 0 is log of a sum near 1: float accumulation would swamp it).
     *
     * <p>{@code scratch} (at least {@link #SCRATCH_DOUBLES}, one per thread) receives the lane sums:
     * extracting lanes from the loop's accumulator directly made C2 box it (96 B per call).
     */
    static double expShiftedAndSum(float[] row, int rowOffset, float shift, float[] out, int outOffset, int length,
                                   double[] scratch) {
        DoubleVector low = DoubleVector.zero(DOUBLES);
        DoubleVector high = DoubleVector.zero(DOUBLES);
        FloatVector zero = FloatVector.zero(FLOATS);
        // one masked loop, so that the exp is inlined at a single call site
        for (int j = 0; j < length; j += LANES) {
            VectorMask<Float> inRange = FLOATS.indexInRange(j, length);
            FloatVector shifted = FloatVector.fromArray(FLOATS, row, rowOffset + j, inRange).sub(shift);
            FloatVector exp = zero.blend(VectorExp.exp(shifted), inRange);
            exp.intoArray(out, outOffset + j, inRange);
            low = low.add(exp.convertShape(VectorOperators.F2D, DOUBLES, 0));
            high = high.add(exp.convertShape(VectorOperators.F2D, DOUBLES, 1));
        }
        low.add(high).intoArray(scratch, 0);
        double total = 0.0;
        for (int lane = 0; lane < DOUBLE_LANES; lane++) {
            total += scratch[lane];
        }
        return total;
    }

    /**
     * Lane sum in a fixed order: {@code reduceLanes(ADD)} may associate differently when compiled
     * than when interpreted, which would break bit-for-bit reproducibility.
     */
    private static double sumLanesInOrder(DoubleVector vector) {
        if (DOUBLE_LANES == 8) {
            // constant lane indices compile to lane extracts (a variable index boxes the vector)
            return ((((((vector.lane(0) + vector.lane(1)) + vector.lane(2)) + vector.lane(3)) + vector.lane(4))
                    + vector.lane(5)) + vector.lane(6)) + vector.lane(7);
        }
        double total = 0.0;
        for (int lane = 0; lane < DOUBLE_LANES; lane++) {
            total += vector.lane(lane);
        }
        return total;
    }

    /**
     * Index of the largest of {@code row[offset .. offset + length)} with element {@code replaced} read
     * as {@code replacement}, the first one on ties (the plain-logit prediction: the target entry's
     * margin logit replaced by its plain value). Scalar: it runs once per training step on rows of the
     * training shape (tens of classes), and must break ties exactly as {@code Evaluator.argmax}.
     */
    static int argmaxWithReplacement(float[] row, int offset, int length, int replaced, float replacement) {
        int best = 0;
        float bestValue = replaced == 0 ? replacement : row[offset];
        for (int j = 1; j < length; j++) {
            float value = j == replaced ? replacement : row[offset + j];
            if (value > bestValue) {
                best = j;
                bestValue = value;
            }
        }
        return best;
    }

    /** {@code row[j] *= factor}. */
    static void scale(float[] row, int offset, int length, float factor) {
        for (int j = 0; j < length; j += LANES) {
            VectorMask<Float> inRange = FLOATS.indexInRange(j, length);
            FloatVector.fromArray(FLOATS, row, offset + j, inRange).mul(factor).intoArray(row, offset + j, inRange);
        }
    }

    /**
     * {@code target[j] += alpha u[j] + gamma v[j]}, evaluated in double and rounded once: in the margin
     * correction the two terms nearly cancel when x is parallel to w (cross = -radial = m^2 - 1 at
     * theta = 0), and float arithmetic would leave their rounding errors in the small result.
     */
    static void addTwoScaled(float[] target, int targetOffset, double alpha, float[] u, int uOffset,
                             double gamma, float[] v, int vOffset, int length) {
        int bound = HALF_FLOATS.loopBound(length);
        int j = 0;
        for (; j < bound; j += DOUBLE_LANES) {
            DoubleVector sum = widen(target, targetOffset + j)
                    .add(widen(u, uOffset + j).mul(alpha).add(widen(v, vOffset + j).mul(gamma)));
            ((FloatVector) sum.convertShape(VectorOperators.D2F, HALF_FLOATS, 0)).intoArray(target, targetOffset + j);
        }
        for (; j < length; j++) {
            target[targetOffset + j] = (float) (target[targetOffset + j] + (alpha * u[uOffset + j] + gamma * v[vOffset + j]));
        }
    }

    /** {@code target[j] = (float) (factor source[j])}: a row scaled into another array (the normalised operands, (F1)). */
    static void scaleInto(float[] source, int sourceOffset, double factor, float[] target, int targetOffset, int length) {
        int bound = HALF_FLOATS.loopBound(length);
        int j = 0;
        for (; j < bound; j += DOUBLE_LANES) {
            DoubleVector scaled = widen(source, sourceOffset + j).mul(factor);
            ((FloatVector) scaled.convertShape(VectorOperators.D2F, HALF_FLOATS, 0)).intoArray(target, targetOffset + j);
        }
        for (; j < length; j++) {
            target[targetOffset + j] = (float) (source[sourceOffset + j] * factor);
        }
    }

    /**
     * {@code t <- scale (t - (v.t / |v|^2) v)}: the row t of a gradient without its component along the
     * vector v it belongs to, scaled (docs/DERIVATION.md (F14)); just {@code scale t} for a zero v. The
     * dots go through {@link #threeDots} (double lanes, {@code scratch} as there) and the update is done
     * in double and rounded once.
     */
    static void scaleOrthogonal(float[] t, int tOffset, float[] v, int vOffset, int length, double scale, double[] scratch) {
        threeDots(t, tOffset, v, vOffset, length, scratch);
        double squaredNorm = scratch[1];
        double along = squaredNorm > 0.0 ? scratch[2] / squaredNorm : 0.0;
        double coefficient = -scale * along;
        int bound = HALF_FLOATS.loopBound(length);
        int j = 0;
        for (; j < bound; j += DOUBLE_LANES) {
            DoubleVector result = widen(t, tOffset + j).mul(scale).add(widen(v, vOffset + j).mul(coefficient));
            ((FloatVector) result.convertShape(VectorOperators.D2F, HALF_FLOATS, 0)).intoArray(t, tOffset + j);
        }
        for (; j < length; j++) {
            t[tOffset + j] = (float) (scale * t[tOffset + j] + coefficient * v[vOffset + j]);
        }
    }

    private static DoubleVector widen(float[] values, int offset) {
        return (DoubleVector) FloatVector.fromArray(HALF_FLOATS, values, offset).convertShape(VectorOperators.F2D, DOUBLES, 0);
    }
}
