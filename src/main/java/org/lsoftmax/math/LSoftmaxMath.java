package org.lsoftmax.math;

/**
 * The angular-margin math of L-Softmax (Liu et al., ICML 2016), as static, allocation-free functions
 * on primitives, so that the same code runs on the JVM and inside TornadoVM kernels (which inline
 * static calls): no objects, no arrays, no exceptions.
 *
 * <p>Notation: {@code c = cos(theta) = w.x / (|w||x|)}, {@code m} the integer margin,
 * {@code k = floor(m * theta / pi)} in {@code [0, m-1]}.
 * <ul>
 *   <li>{@code cos(m theta) = sum_{n=0}^{floor(m/2)} (-1)^n C(m,2n) c^(m-2n) (1-c^2)^n} (binomial expansion)</li>
 *   <li>{@code psi(theta) = (-1)^k cos(m theta) - 2k}, continuous and decreasing on [0, pi]</li>
 *   <li>{@code d cos(m theta) / dc}: the derivative of the expansion term by term, with the
 *       {@code (m-2n) c^(m-2n-1)} term dropped when {@code m-2n = 0} (docs/DERIVATION.md, slip S3: evaluating it
 *       literally is 0 * inf = NaN at c = 0 for even m). It equals {@code m U_{m-1}(c)}.</li>
 * </ul>
 * Callers clamp {@code c} to [-1, 1] first ({@link #clampCos}, docs/DERIVATION.md (L2)).
 */
public final class LSoftmaxMath {

    /** Largest margin supported; the binomial expansion stays well conditioned far beyond this. */
    public static final int MAX_MARGIN = 16;

    private LSoftmaxMath() {
    }

    /** Clamps a cosine computed from rounded dot products back into [-1, 1] (docs/DERIVATION.md (L2), slip S5). */
    public static double clampCos(double cosTheta) {
        return Math.max(-1.0, Math.min(1.0, cosTheta));
    }

    /**
     * {@code k = floor(m theta / pi)} without acos (docs/DERIVATION.md (L3)): the number of thresholds
     * {@code cos(j pi / m)}, j = 1..m-1, that {@code cosTheta} lies at or below. Capping at m-1
     * makes theta = pi fall in the last interval. On a boundary both neighbouring k give the same
     * psi and the same derivative, so the exact comparison is safe.
     */
    public static int marginK(double cosTheta, int margin) {
        int k = 0;
        for (int j = 1; j < margin; j++) {
            if (cosTheta <= Math.cos(j * Math.PI / margin)) {
                k = j;
            }
        }
        return k;
    }

    /**
     * The thresholds {@code cos(j pi / m)} for j = 1..m-1 (index j; index 0 unused) that {@link #marginK}
     * compares against, computed once per margin by callers that find k for many samples (host code
     * only: kernels cannot take arrays from here). Same values as {@link #marginK} computes per call.
     */
    public static double[] marginThresholds(int margin) {
        double[] thresholds = new double[margin];
        for (int j = 1; j < margin; j++) {
            thresholds[j] = Math.cos(j * Math.PI / margin);
        }
        return thresholds;
    }

    /** {@link #marginK(double, int)} with the thresholds of {@link #marginThresholds}: the same comparisons, the same k. */
    public static int marginK(double cosTheta, double[] thresholds) {
        int k = 0;
        for (int j = 1; j < thresholds.length; j++) {
            if (cosTheta <= thresholds[j]) {
                k = j;
            }
        }
        return k;
    }

    /** {@code cos(m theta)} from {@code c = cos(theta)} by the binomial expansion. */
    public static double cosMTheta(double cosTheta, int margin) {
        double sinSquared = 1.0 - cosTheta * cosTheta;
        double sum = 0.0;
        double binomial = 1.0; // C(m, 2n), updated incrementally
        double sign = 1.0;     // (-1)^n
        for (int n = 0; 2 * n <= margin; n++) {
            sum += sign * binomial * pow(cosTheta, margin - 2 * n) * pow(sinSquared, n);
            // C(m, 2n+2) = C(m, 2n) * (m-2n)(m-2n-1) / ((2n+1)(2n+2))
            binomial = binomial * (margin - 2 * n) * (margin - 2 * n - 1) / ((2.0 * n + 1.0) * (2.0 * n + 2.0));
            sign = -sign;
        }
        return sum;
    }

    /**
     * {@code d cos(m theta) / d cos(theta)}, differentiating the binomial expansion in c with
     * {@code d(1-c^2)/dc = -2c}; the terms whose power of c or of (1-c^2) is zero contribute nothing
     * and are skipped rather than evaluated as 0 * c^-1 (docs/DERIVATION.md, (L8) and slip S3).
     */
    public static double dCosMThetaDCos(double cosTheta, int margin) {
        double sinSquared = 1.0 - cosTheta * cosTheta;
        double sum = 0.0;
        double binomial = 1.0;
        double sign = 1.0;
        for (int n = 0; 2 * n <= margin; n++) {
            int cosPower = margin - 2 * n;
            double term = 0.0;
            if (cosPower > 0) {
                term += cosPower * pow(cosTheta, cosPower - 1) * pow(sinSquared, n);
            }
            if (n > 0) {
                term += pow(cosTheta, cosPower) * n * pow(sinSquared, n - 1) * (-2.0 * cosTheta);
            }
            sum += sign * binomial * term;
            binomial = binomial * (margin - 2 * n) * (margin - 2 * n - 1) / ((2.0 * n + 1.0) * (2.0 * n + 2.0));
            sign = -sign;
        }
        return sum;
    }

    /** {@code psi = (-1)^k cos(m theta) - 2k} for the given branch k. */
    public static double psi(double cosTheta, int margin, int k) {
        double cosM = cosMTheta(cosTheta, margin);
        return ((k & 1) == 0 ? cosM : -cosM) - 2.0 * k;
    }

    /** {@code d psi / d cos(theta) = (-1)^k d cos(m theta) / d cos(theta)}. */
    public static double dPsiDCos(double cosTheta, int margin, int k) {
        double derivative = dCosMThetaDCos(cosTheta, margin);
        return (k & 1) == 0 ? derivative : -derivative;
    }

    /**
     * The blended target logit, docs/DERIVATION.md (L4) (the paper's section 5.1):
     * {@code f = (beta * w.x + |w||x| psi) / (1 + beta)}.
     */
    public static double targetLogit(double dot, double normProduct, double psi, double beta) {
        return (beta * dot + normProduct * psi) / (1.0 + beta);
    }

    /**
     * Coefficient of the other vector in the margin correction of the gradient: with
     * {@code df/dx = psi' w + (psi - c psi') (|w|/|x|) x} and the plain part {@code w} already in
     * the matrix product, the target column adds {@code (psi' - 1) w} (and symmetrically
     * {@code (psi' - 1) x} for dW).
     */
    public static double crossCoefficient(double cosTheta, int margin, int k) {
        return dPsiDCos(cosTheta, margin, k) - 1.0;
    }

    /**
     * Coefficient of the vector's own direction in the margin correction: {@code psi - c psi'},
     * multiplied by {@code |w|/|x|} for dX and by {@code |x|/|w|} for dW.
     */
    public static double radialCoefficient(double cosTheta, int margin, int k) {
        return psi(cosTheta, margin, k) - cosTheta * dPsiDCos(cosTheta, margin, k);
    }

    /** x^e for a small non-negative integer exponent, by repeated multiplication (no Math.pow). */
    public static double pow(double base, int exponent) {
        double result = 1.0;
        for (int i = 0; i < exponent; i++) {
            result *= base;
        }
        return result;
    }
}
