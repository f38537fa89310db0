package org.lsoftmax.math;

/**
 * The margin functions {@code h(c)} of the angular-margin softmax family and their derivatives
 * {@code dh/dc}, as static, allocation-free functions on primitives that also run inside TornadoVM
 * kernels (no objects, no arrays, no exceptions; the only library calls are Math.sqrt, cos, sin, acos,
 * min and max). Equation numbers (F1)..(F12) refer to docs/DERIVATION.md.
 *
 * <p>With {@code c = cos(theta)} in [-1, 1] and the loss's radius A, every loss of the family has the
 * target logit {@code f_y = A (beta c + h(c)) / (1 + beta)} (F1). The kinds and their h (F2):
 * <ul>
 *   <li>{@link #LSOFTMAX}, {@link #SPHEREFACE}: {@code psi_m(c) = (-1)^k cos(m theta) - 2k},
 *       {@code k = floor(m theta / pi)}, integer margin m in 1..16 (F3), delegated to
 *       {@link LSoftmaxMath} so the results are bit-identical to the L-Softmax layer's;</li>
 *   <li>{@link #COSFACE}: {@code c - m3}; {@link #ARCFACE}: {@code cos(theta + m2)};</li>
 *   <li>{@link #COMBINED}: {@code cos(m1 theta + m2) - m3} for {@code theta <= theta*}, and the
 *       shifted-cosine tail {@code c - cos(theta*) - 1 - m3} beyond the join angle
 *       {@code theta* = (pi - m2) / m1} (F4, F5).</li>
 * </ul>
 * ArcFace is computed as {@code combined(1, m2, 0)}; CosFace as {@code c - m3} and slope 1, which are
 * the very operations {@code combined(1, 0, m3)} performs (no tail, main branch {@code c} itself), so
 * both reductions hold bit for bit (F6). With {@code m1 = 1} the main branch uses
 * {@code c cos m2 - sin(theta) sin m2} (no acos).
 *
 * <p>TornadoVM note: the OpenCL backend (5.2.0) fails to compile a kernel in which Math.cos or Math.sin
 * gets a compile-time constant argument ("unable to compute op COS" while constant-folding). CosFace
 * therefore does not route its constants m1 = 1, m2 = 0 through the combined code, and kernels should
 * pass m1, m2 as run-time values rather than literals. Math.acos becomes OpenCL's {@code acos}; but by
 * default ({@code tornado.enable.nativeFunctions=True}) Math.cos, sin and sqrt become
 * {@code native_cos}, {@code native_sin}, {@code native_sqrt}, whose accuracy is the device's choice
 * (about 1e-8 relative on PoCL); {@code -Dtornado.enable.nativeFunctions=False} gives the full-precision
 * built-ins (then PoCL agrees with the JVM to about 1e-15).
 *
 * <p>Where {@code sin(theta) = 0} ({@code c = +-1}) the derivative of the main branch can be
 * unbounded; {@link #slope} then returns its finite part (F9): the gradient in x multiplies h' by a
 * vector of norm {@code sin(theta)}, which is exactly zero there (F10-F12).
 *
 * <p>Inputs: {@code c} is clamped to [-1, 1] again here (the identity on that range); parameters are
 * the callers' to validate (m1 in [1, 16], m2 in [0, pi), m3 in [0, 2], margin in 1..16). For every
 * such input every function here is finite. An unknown kind is treated as {@link #COMBINED}.
 */
public final class MarginMath {

    /** L-Softmax: A = |w||x|, h = psi_m (F2, F3). */
    public static final int LSOFTMAX = 0;
    /** SphereFace (A-Softmax): A = |x| (normalised weights), h = psi_m (F2, F3). */
    public static final int SPHEREFACE = 1;
    /** CosFace (additive cosine margin): A = s, h = c - m3 (F2). */
    public static final int COSFACE = 2;
    /** ArcFace (additive angular margin): A = s, h = cos(theta + m2) with the tail (F2, F5). */
    public static final int ARCFACE = 3;
    /** The combined margin: A = s, h = cos(m1 theta + m2) - m3 with the tail (F2, F5). */
    public static final int COMBINED = 4;

    private MarginMath() {
    }

    /**
     * {@code sin(theta) = sqrt(max(0, 1 - c^2))}, evaluated as {@code sqrt((1 - c)(1 + c))}: near
     * |c| = 1 the small factor is exact (Sterbenz) and the other is about 2 with one rounding, so this
     * keeps full relative accuracy there, where {@code 1 - c*c} cancels.
     */
    public static double sinTheta(double cosTheta) {
        return Math.sqrt(Math.max(0.0, (1.0 - cosTheta) * (1.0 + cosTheta)));
    }

    /**
     * {@code sin(theta)} from the chord {@code |u - v|} between the unit vectors {@code u = w/|w|} and
     * {@code v = x/|x|} (F16): {@code |u - v| = 2 sin(theta/2)}, {@code |u + v| = 2 cos(theta/2)}, so
     * {@code sin(theta) = |u - v| sqrt(1 - |u - v|^2 / 4)}. Near theta = 0 the chord is computed from the
     * vectors' components to full relative accuracy, where {@code sqrt((1 - c)(1 + c))} of a rounded c
     * is not ({@code 1 - c} of 5e-15 carries a rounding error of 1e-16, 2%): the slope of an additive
     * angular margin, {@code ~ sin(m2) / sin(theta)} there, needs it.
     */
    public static double sinThetaFromChord(double chord) {
        return chord * Math.sqrt(Math.max(0.0, 1.0 - 0.25 * chord * chord));
    }

    /** Whether the slope of this kind of margin needs an accurate {@code sin(theta)} near theta = 0 ({@link #sinThetaFromChord}). */
    public static boolean needsAccurateSine(int kind, double m2) {
        return (kind == ARCFACE || kind == COMBINED) && m2 != 0.0;
    }

    /** The join angle {@code theta* = (pi - m2) / m1} (F4); {@code >= pi} means no tail. */
    public static double joinAngle(double m1, double m2) {
        return (Math.PI - m2) / m1;
    }

    /**
     * {@code cos(theta*)} (F4), and exactly -1 when {@code theta* >= pi} (no tail: no clamped c lies
     * below it).
     */
    public static double joinCos(double m1, double m2) {
        double join = joinAngle(m1, m2);
        if (join >= Math.PI) {
            return -1.0;
        }
        return Math.cos(join);
    }

    /** Whether {@code c} lies on the tail of the combined margin, {@code theta > theta*} (F5). */
    public static boolean onTail(double cosTheta, double m1, double m2) {
        return LSoftmaxMath.clampCos(cosTheta) < joinCos(m1, m2);
    }

    /**
     * The margin function {@code h(c)} of the given kind (F2). For {@link #LSOFTMAX} and
     * {@link #SPHEREFACE} only {@code margin} is used; for the others only m1, m2, m3 (ArcFace uses
     * m2, CosFace m3).
     */
    public static double value(int kind, double cosTheta, int margin, double m1, double m2, double m3) {
        double c = LSoftmaxMath.clampCos(cosTheta);
        if (kind == LSOFTMAX || kind == SPHEREFACE) {
            return LSoftmaxMath.psi(c, margin, LSoftmaxMath.marginK(c, margin));
        }
        if (kind == COSFACE) {
            // = combinedValue(c, 1, 0, m3): no tail (c* = -1), cosMargin(c, 1, 0) = c; the same operations
            return c - m3;
        }
        if (kind == ARCFACE) {
            return combinedValue(c, 1.0, m2, 0.0);
        }
        return combinedValue(c, m1, m2, m3);
    }

    /**
     * {@code dh/dc} of the given kind (F7, F8), with the finite-part convention at {@code c = +-1}
     * (F9). Parameters as for {@link #value}.
     */
    public static double slope(int kind, double cosTheta, int margin, double m1, double m2, double m3) {
        return slope(kind, cosTheta, sinTheta(LSoftmaxMath.clampCos(cosTheta)), margin, m1, m2, m3);
    }

    /**
     * {@link #slope(int, double, int, double, double, double)} with {@code sin(theta)} given, e.g.
     * from {@link #sinThetaFromChord} (only the main branch of the combined margins uses it).
     */
    public static double slope(int kind, double cosTheta, double sinTheta, int margin, double m1, double m2, double m3) {
        double c = LSoftmaxMath.clampCos(cosTheta);
        if (kind == LSOFTMAX || kind == SPHEREFACE) {
            return LSoftmaxMath.dPsiDCos(c, margin, LSoftmaxMath.marginK(c, margin));
        }
        if (kind == COSFACE) {
            // = combinedSlope(c, 1, 0)
            return 1.0;
        }
        if (kind == ARCFACE) {
            return combinedSlope(c, sinTheta, 1.0, m2);
        }
        return combinedSlope(c, sinTheta, m1, m2);
    }

    /**
     * The combined margin (F5): {@code cos(m1 theta + m2) - m3} on the main branch
     * {@code c >= cos(theta*)}, {@code (c - cos(theta*)) - 1 - m3} on the tail. Continuous at the
     * join (both sides -1 - m3) and strictly decreasing in theta. The tail needs no acos.
     */
    public static double combinedValue(double cosTheta, double m1, double m2, double m3) {
        double c = LSoftmaxMath.clampCos(cosTheta);
        double join = joinCos(m1, m2);
        if (c < join) {
            return (c - join) - 1.0 - m3;
        }
        return cosMargin(c, m1, m2) - m3;
    }

    /**
     * {@code dh/dc} of the combined margin (m3 does not enter). Tail: 1 (F8). Main branch (F7):
     * {@code m1 sin(m1 theta + m2) / sin(theta)}; for {@code m1 = 1} the same as
     * {@code cos m2 + c sin m2 / sin(theta)}, and exactly 1 for {@code m1 = 1, m2 = 0}. Where
     * {@code sin(theta) == 0} (c = +-1 after clamping) the finite part of the expansion about that
     * end (F9): {@code m1^2 cos(m2)} at c = 1, {@code -m1^2 cos(m1 pi + m2)} at c = -1 (which is
     * the limit m1^2 when m2 = 0, and cos m2 when m1 = 1).
     */
    public static double combinedSlope(double cosTheta, double m1, double m2) {
        return combinedSlope(cosTheta, sinTheta(LSoftmaxMath.clampCos(cosTheta)), m1, m2);
    }

    /** {@link #combinedSlope(double, double, double)} with {@code sin(theta)} given. */
    public static double combinedSlope(double cosTheta, double sinTheta, double m1, double m2) {
        double c = LSoftmaxMath.clampCos(cosTheta);
        if (c < joinCos(m1, m2)) {
            return 1.0;
        }
        double sin = sinTheta;
        if (m1 == 1.0) {
            if (m2 == 0.0) {
                return 1.0;
            }
            double cosM2 = Math.cos(m2);
            if (sin == 0.0) {
                return cosM2;
            }
            return cosM2 + c * Math.sin(m2) / sin;
        }
        double phi = mainAngle(c, m1, m2);
        if (sin == 0.0) {
            double finite = m1 * m1 * Math.cos(phi);
            return c > 0.0 ? finite : -finite;
        }
        return m1 * Math.sin(phi) / sin;
    }

    /**
     * {@code cos(m1 theta + m2)} on the main branch (F5). For {@code m1 = 1}: {@code c} when
     * {@code m2 = 0} (exactly), else {@code c cos m2 - sin(theta) sin m2} (no acos), clamped to
     * [-1, 1] against rounding. Otherwise {@code cos} of {@link #mainAngle}.
     */
    public static double cosMargin(double cosTheta, double m1, double m2) {
        double c = LSoftmaxMath.clampCos(cosTheta);
        if (m1 == 1.0) {
            if (m2 == 0.0) {
                return c;
            }
            return LSoftmaxMath.clampCos(c * Math.cos(m2) - sinTheta(c) * Math.sin(m2));
        }
        return Math.cos(mainAngle(c, m1, m2));
    }

    /**
     * {@code m1 acos(c) + m2}, capped at pi: on the main branch it exceeds pi only by rounding, and the
     * cap keeps {@code cos} at or above -1 and {@code sin} non-negative there (so h' >= 0).
     */
    public static double mainAngle(double cosTheta, double m1, double m2) {
        return Math.min(Math.PI, m1 * Math.acos(LSoftmaxMath.clampCos(cosTheta)) + m2);
    }
}
