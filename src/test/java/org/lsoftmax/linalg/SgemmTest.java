package org.lsoftmax.linalg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.lsoftmax.testing.Seeds;

/** Sgemm against a naive double-accumulated product, on shapes that hit every edge case of the blocking. */
class SgemmTest {

    /** m x n x k: tiny, not multiples of MR = 8 / NR = 32, spanning several KC slices and MC/NC blocks. */
    private static final int[][] SHAPES = {
            {1, 1, 1}, {1, 40, 3}, {9, 1, 300}, {17, 33, 5}, {8, 32, 256}, {16, 64, 257},
            {129, 257, 63}, {7, 545, 520}, {300, 31, 129}, {140, 600, 33},
    };

    private static Sgemm serial;
    private static Sgemm parallel;

    @BeforeAll
    static void createSgemm() {
        serial = new Sgemm(1);
        parallel = new Sgemm(2);
    }

    @AfterAll
    static void closeSgemm() {
        serial.close();
        parallel.close();
    }

    private enum Form { A_BT, A_B, AT_B }

    @Test
    void allFormsMatchNaiveProductOnAwkwardShapes() {
        long seed = Seeds.draw();
        Random random = new Random(seed);
        for (int[] shape : SHAPES) {
            for (Form form : Form.values()) {
                for (boolean accumulate : new boolean[] {false, true}) {
                    for (Sgemm sgemm : new Sgemm[] {serial, parallel}) {
                        check(sgemm, form, shape[0], shape[1], shape[2], accumulate, random, seed);
                    }
                }
            }
        }
    }

    @Test
    void largeEnoughForTheWorkersGivesBitIdenticalResultsForAnyThreadCount() {
        long seed = Seeds.draw();
        Random random = new Random(seed);
        int m = 203;
        int n = 301;
        int k = 517;
        float[] a = randomArray(random, m * k);
        float[] b = randomArray(random, n * k);
        float[] c0 = randomArray(random, m * n);
        try (Sgemm three = new Sgemm(3)) {
            for (Form form : Form.values()) {
                float[] expected = c0.clone();
                multiply(serial, form, a, b, expected, m, n, k, true);
                for (Sgemm sgemm : new Sgemm[] {parallel, three}) {
                    float[] actual = c0.clone();
                    multiply(sgemm, form, a, b, actual, m, n, k, true);
                    assertArrayEquals(expected, actual, form + " with " + sgemm.threads()
                            + " threads differs from 1 thread (seed " + seed + ")");
                }
            }
        }
    }

    /**
     * Bit for bit the scalar definition: each C element is {@code c = Math.fma(a(i, p), b(p, j), c)} for
     * p = 0..k-1 in order, from 0 or from C. Shapes of the trunk (k = 784 cut into four slices, n = 784
     * with a half column panel, m = 64 with few row panels) and awkward ones, 1, 2 and 3 threads.
     */
    @Test
    void everyElementIsOneFmaChainInOrder() {
        long seed = Seeds.draw();
        Random random = new Random(seed);
        int[][] shapes = {{256, 512, 784}, {512, 784, 256}, {256, 784, 512}, {64, 256, 256}, {256, 64, 256},
            {256, 10, 64}, {10, 64, 256}, {129, 257, 63}, {7, 545, 520}, {300, 31, 129}, {33, 1000, 17}};
        try (Sgemm three = new Sgemm(3)) {
            for (int[] shape : shapes) {
                int m = shape[0];
                int n = shape[1];
                int k = shape[2];
                float[] a = randomArray(random, m * k);
                float[] b = randomArray(random, n * k);
                float[] c0 = randomArray(random, m * n);
                for (Form form : Form.values()) {
                    for (boolean accumulate : new boolean[] {false, true}) {
                        float[] expected = fmaChain(form, a, b, c0, m, n, k, accumulate);
                        for (Sgemm sgemm : new Sgemm[] {serial, parallel, three}) {
                            float[] actual = c0.clone();
                            multiply(sgemm, form, a, b, actual, m, n, k, accumulate);
                            assertArrayEquals(expected, actual, form + " " + m + "x" + n + "x" + k + " accumulate="
                                    + accumulate + ", " + sgemm.threads() + " threads (seed " + seed + ")");
                        }
                    }
                }
            }
        }
    }

    /** The scalar twin: one float fma chain per element, p in order. */
    static float[] fmaChain(Form form, float[] a, float[] b, float[] c, int m, int n, int k, boolean accumulate) {
        float[] result = new float[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float sum = accumulate ? c[i * n + j] : 0f;
                for (int p = 0; p < k; p++) {
                    float aValue = form == Form.AT_B ? a[p * m + i] : a[i * k + p];
                    float bValue = form == Form.A_BT ? b[j * k + p] : b[p * n + j];
                    sum = Math.fma(aValue, bValue, sum);
                }
                result[i * n + j] = sum;
            }
        }
        return result;
    }

    @Test
    void leavesMemoryOutsideTheOutputAlone() {
        float[] a = {1, 2, 3, 4, 5, 6};          // 2 x 3
        float[] b = {1, 0, 0, 0, 1, 0};          // 2 x 3
        float[] c = {9, 9, 9, 9, 7, 7};          // C is 2 x 2, the tail must survive
        serial.multiplyABt(a, b, c, 2, 2, 3, false);
        assertArrayEquals(new float[] {1, 2, 4, 5, 7, 7}, c);
    }

    @Test
    void rejectsTooSmallArrays() {
        assertThrows(IllegalArgumentException.class,
                () -> serial.multiplyAB(new float[5], new float[6], new float[4], 2, 2, 3, false));
    }

    private static void check(Sgemm sgemm, Form form, int m, int n, int k, boolean accumulate, Random random, long seed) {
        float[] a = randomArray(random, m * k);
        float[] b = randomArray(random, n * k);
        float[] c = randomArray(random, m * n);
        double[] expected = naive(form, a, b, c, m, n, k, accumulate);
        multiply(sgemm, form, a, b, c, m, n, k, accumulate);
        double maxError = 0.0;
        double maxReference = 0.0;
        for (int i = 0; i < expected.length; i++) {
            maxError = Math.max(maxError, Math.abs(expected[i] - c[i]));
            maxReference = Math.max(maxReference, Math.abs(expected[i]));
        }
        String where = form + " m=" + m + " n=" + n + " k=" + k + " accumulate=" + accumulate
                + " threads=" + sgemm.threads() + " (seed " + seed + ")";
        if (!(maxReference > 0.0)) {
            fail("degenerate reference for " + where);
        }
        double relative = maxError / maxReference;
        // float32 products with float accumulation over k terms: ~sqrt(k) * 2^-24 relative
        assertTrue(relative <= 2e-6 * Math.sqrt(k) + 1e-7, "relative error " + relative + " for " + where);
    }

    static void multiply(Sgemm sgemm, Form form, float[] a, float[] b, float[] c, int m, int n, int k, boolean accumulate) {
        switch (form) {
            case A_BT -> sgemm.multiplyABt(a, b, c, m, n, k, accumulate);
            case A_B -> sgemm.multiplyAB(a, b, c, m, n, k, accumulate);
            case AT_B -> sgemm.multiplyAtB(a, b, c, m, n, k, accumulate);
        }
    }

    /** C(i, j) (+)= sum_p A(i, p) B(p, j) in double, with A and B read in the form's layout. */
    private static double[] naive(Form form, float[] a, float[] b, float[] c, int m, int n, int k, boolean accumulate) {
        double[] result = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = accumulate ? c[i * n + j] : 0.0;
                for (int p = 0; p < k; p++) {
                    double aValue = form == Form.AT_B ? a[p * m + i] : a[i * k + p];
                    double bValue = form == Form.A_BT ? b[j * k + p] : b[p * n + j];
                    sum += aValue * bValue;
                }
                result[i * n + j] = sum;
            }
        }
        return result;
    }

    private static float[] randomArray(Random random, int size) {
        float[] values = new float[size];
        for (int i = 0; i < size; i++) {
            values[i] = (float) (2.0 * random.nextDouble() - 1.0);
        }
        return values;
    }
}
