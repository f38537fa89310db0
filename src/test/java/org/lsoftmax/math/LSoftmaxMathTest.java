package org.lsoftmax.math;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LSoftmaxMathTest {

    private static final int[] MARGINS = {1, 2, 3, 4, 5, 6, 7, 8};

    @Test
    void cosMThetaMatchesTheTrigonometricDefinition() {
        for (int m : MARGINS) {
            for (int step = 0; step <= 400; step++) {
                double theta = Math.PI * step / 400;
                double c = Math.cos(theta);
                assertEquals(Math.cos(m * theta), LSoftmaxMath.cosMTheta(c, m), 1e-12, "m=" + m + " theta=" + theta);
            }
        }
    }

    /** d cos(m theta)/d cos(theta) = m U_{m-1}(c), Chebyshev polynomial of the second kind (docs/DERIVATION.md, (L8) and slip S3). */
    @Test
    void derivativeEqualsChebyshevSecondKind() {
        for (int m : MARGINS) {
            for (int step = 0; step <= 400; step++) {
                double c = -1.0 + 2.0 * step / 400;
                double previous = 1.0;       // U_0
                double current = 2.0 * c;    // U_1
                double chebyshev = m == 1 ? previous : current;
                for (int order = 2; order <= m - 1; order++) {
                    double next = 2.0 * c * current - previous;
                    previous = current;
                    current = next;
                    chebyshev = current;
                }
                assertEquals(m * chebyshev, LSoftmaxMath.dCosMThetaDCos(c, m), 1e-10 * Math.max(1, Math.abs(m * chebyshev)),
                        "m=" + m + " c=" + c);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 4, 6, 8})
    void derivativeIsFiniteAtCosZeroForEvenMargins(int m) {
        double derivative = LSoftmaxMath.dCosMThetaDCos(0.0, m);
        assertTrue(Double.isFinite(derivative));
        // m U_{m-1}(0) = m * (-1)^((m-1)/2) for odd m-1 is 0; for even m, U_{m-1}(0) = 0
        assertEquals(0.0, derivative, 1e-15);
    }

    @Test
    void marginKCountsTheThresholds() {
        for (int m : MARGINS) {
            assertEquals(0, LSoftmaxMath.marginK(1.0, m), "theta = 0");
            assertEquals(m - 1, LSoftmaxMath.marginK(-1.0, m), "theta = pi is capped at m-1");
            for (int step = 1; step < 1000; step++) {
                double theta = Math.PI * (step + 0.5) / 1000;
                int expected = Math.min((int) Math.floor(m * theta / Math.PI), m - 1);
                double distanceToBoundary = Math.abs(m * theta / Math.PI - Math.rint(m * theta / Math.PI));
                if (distanceToBoundary > 1e-9) {
                    assertEquals(expected, LSoftmaxMath.marginK(Math.cos(theta), m), "m=" + m + " theta=" + theta);
                }
            }
        }
    }

    /** psi is continuous and C^1 at every boundary theta = j pi / m: both branches agree there. */
    @Test
    void psiIsContinuousAtEveryBoundary() {
        for (int m : MARGINS) {
            for (int j = 1; j < m; j++) {
                double c = Math.cos(j * Math.PI / m);
                assertEquals(LSoftmaxMath.psi(c, m, j - 1), LSoftmaxMath.psi(c, m, j), 1e-12, "psi, m=" + m + " j=" + j);
                assertEquals(LSoftmaxMath.dPsiDCos(c, m, j - 1), LSoftmaxMath.dPsiDCos(c, m, j), 1e-9 * m * m,
                        "psi', m=" + m + " j=" + j);
                // whichever branch marginK picks on the boundary gives the same value
                int k = LSoftmaxMath.marginK(c, m);
                assertTrue(k == j || k == j - 1, "k on boundary " + j + " was " + k);
            }
        }
    }

    @Test
    void psiDecreasesFromOneToMinusTwoMMinusOne() {
        for (int m : MARGINS) {
            double previous = Double.POSITIVE_INFINITY;
            for (int step = 0; step <= 2000; step++) {
                double theta = Math.PI * step / 2000;
                double c = Math.cos(theta);
                double psi = LSoftmaxMath.psi(c, m, LSoftmaxMath.marginK(c, m));
                assertTrue(psi < previous || (step == 0), "psi not decreasing at m=" + m + " theta=" + theta);
                previous = psi;
            }
            assertEquals(1.0, LSoftmaxMath.psi(1.0, m, 0), 1e-12);
            assertEquals(1.0 - 2.0 * m, LSoftmaxMath.psi(-1.0, m, m - 1), 1e-12);
        }
    }

    @Test
    void marginOneIsPlainCosine() {
        for (int step = 0; step <= 100; step++) {
            double c = -1.0 + step / 50.0;
            assertEquals(0, LSoftmaxMath.marginK(c, 1));
            assertEquals(c, LSoftmaxMath.psi(c, 1, 0), 1e-15);
            assertEquals(0.0, LSoftmaxMath.crossCoefficient(c, 1, 0), 1e-15);
            assertEquals(0.0, LSoftmaxMath.radialCoefficient(c, 1, 0), 1e-15);
        }
    }

    @Test
    void clampKeepsCosineInRange() {
        assertEquals(1.0, LSoftmaxMath.clampCos(1.0000000000000002));
        assertEquals(-1.0, LSoftmaxMath.clampCos(-1.0000001));
        assertEquals(0.25, LSoftmaxMath.clampCos(0.25));
    }
}
