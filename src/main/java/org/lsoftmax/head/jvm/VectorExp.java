package org.lsoftmax.head.jvm;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Lane-wise {@code exp(x)} for float vectors from plain arithmetic (Cephes {@code expf}: about 1 ulp).
 *
 * <p>Why not {@code lanewise(VectorOperators.EXP)}: its compiled form (an SVML stub) and its
 * interpreted fallback round differently, so the same input could give different bits before and
 * after JIT compilation, or in two threads at different stages; that breaks the pass's bit-for-bit
 * determinism. Multiplications, additions, fused multiply-adds and conversions are exactly rounded
 * IEEE operations in every execution mode.
 *
 * <p>{@code exp(x) = 2^n exp(r)} with {@code n = round(x log2 e)}, {@code r = x - n ln 2} (ln 2 split in
 * two parts so that {@code n * LN2_HIGH} is exact), {@code exp(r) ~ 1 + r + r^2 P(r)} on |r| <= ln2/2,
 * and {@code 2^n} built in the exponent bits. x is clamped to [-87.3, 88.7] so 2^n stays a normal float.
 */
final class VectorExp {

    private static final float LOG2_E = 1.44269504088896341f;
    private static final float LN2_HIGH = 0.693359375f;
    private static final float LN2_LOW = -2.12194440e-4f;
    /** 1.5 * 2^23: adding and subtracting it rounds to the nearest integer. */
    private static final float ROUNDING = 12582912.0f;
    private static final float LOWEST = -87.3365448f;
    private static final float HIGHEST = 88.7228394f;
    private static final float P0 = 1.9875691500e-4f;
    private static final float P1 = 1.3981999507e-3f;
    private static final float P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f;
    private static final float P4 = 1.6666665459e-1f;
    private static final float P5 = 5.0000001201e-1f;

    private VectorExp() {
    }

    static FloatVector exp(FloatVector x) {
        FloatVector clamped = x.max(LOWEST).min(HIGHEST);
        // n = round(x log2 e)
        FloatVector n = clamped.mul(LOG2_E).add(ROUNDING).sub(ROUNDING);
        // r = x - n ln 2, in two steps (Cody-Waite)
        FloatVector r = clamped.sub(n.mul(LN2_HIGH)).sub(n.mul(LN2_LOW));
        // exp(r) = 1 + r + r^2 (P5 + r (P4 + r (P3 + r (P2 + r (P1 + r P0)))))
        FloatVector polynomial = r.fma(P0, P1);
        polynomial = polynomial.fma(r, FloatVector.broadcast(r.species(), P2));
        polynomial = polynomial.fma(r, FloatVector.broadcast(r.species(), P3));
        polynomial = polynomial.fma(r, FloatVector.broadcast(r.species(), P4));
        polynomial = polynomial.fma(r, FloatVector.broadcast(r.species(), P5));
        FloatVector expR = polynomial.mul(r.mul(r)).add(r).add(1.0f);
        // 2^n from the exponent bits: (n + 127) << 23
        IntVector twoToN = ((IntVector) n.convert(VectorOperators.F2I, 0))
                .add(127)
                .lanewise(VectorOperators.LSHL, 23);
        return expR.mul(twoToN.reinterpretAsFloats());
    }
}
