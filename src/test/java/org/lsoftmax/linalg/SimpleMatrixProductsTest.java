package org.lsoftmax.linalg;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.lsoftmax.math.SplitMix64;

/** The fallback products against the definition, on shapes that are not multiples of the blocks. */
class SimpleMatrixProductsTest {

    private final SplitMix64 random = new SplitMix64(3);

    private float[] randomMatrix(int size) {
        float[] values = new float[size];
        for (int i = 0; i < size; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }

    @Test
    void allThreeFormsMatchTheDefinition() {
        int m = 37;
        int n = 45;
        int k = 131;
        float[] a = randomMatrix(m * k);      // m x k
        float[] bt = randomMatrix(n * k);     // n x k
        float[] b = new float[k * n];         // k x n, the transpose of bt
        float[] at = new float[k * m];        // k x m, the transpose of a
        for (int i = 0; i < n; i++) {
            for (int p = 0; p < k; p++) {
                b[p * n + i] = bt[i * k + p];
            }
        }
        for (int i = 0; i < m; i++) {
            for (int p = 0; p < k; p++) {
                at[p * m + i] = a[i * k + p];
            }
        }
        float[] initial = randomMatrix(m * n);
        try (SimpleMatrixProducts products = new SimpleMatrixProducts()) {
            float[] abt = initial.clone();
            float[] ab = initial.clone();
            float[] atb = initial.clone();
            products.multiplyABt(a, bt, abt, m, n, k, true);
            products.multiplyAB(a, b, ab, m, n, k, false);
            products.multiplyAtB(at, b, atb, m, n, k, true);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double sum = 0.0;
                    for (int p = 0; p < k; p++) {
                        sum += (double) a[i * k + p] * b[p * n + j];
                    }
                    assertEquals(initial[i * n + j] + sum, abt[i * n + j], 1e-3, "ABt");
                    assertEquals(sum, ab[i * n + j], 1e-3, "AB");
                    assertEquals(initial[i * n + j] + sum, atb[i * n + j], 1e-3, "AtB");
                }
            }
        }
    }
}
