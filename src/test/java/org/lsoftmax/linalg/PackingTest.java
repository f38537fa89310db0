package org.lsoftmax.linalg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The packing copies against the plain index formula of their layout, on full and partial panels. */
class PackingTest {

    @Test
    void packRowMajorRowsIsTheTransposedCopy() {
        Random random = new Random(5);
        int width = Sgemm.NR;
        for (int k : new int[] {1, 10, 15, 16, 17, 64, 196, 784}) {
            for (int rows : new int[] {width, 2 * width, width + 5, 3}) {
                float[] src = new float[rows * k];
                for (int i = 0; i < src.length; i++) {
                    src[i] = random.nextFloat() - 0.5f;
                }
                for (int row0 = 0; row0 < rows; row0 += width) {
                    float[] expected = new float[width * k + 7];
                    float[] actual = new float[width * k + 7];
                    java.util.Arrays.fill(expected, 42f);
                    java.util.Arrays.fill(actual, 42f);
                    for (int p = 0; p < k; p++) {
                        for (int r = 0; r < width; r++) {
                            expected[3 + p * width + r] = row0 + r < rows ? src[(row0 + r) * k + p] : 0f;
                        }
                    }
                    Packing.packRowMajorRows(src, rows, k, row0, width, actual, 3);
                    assertArrayEquals(expected, actual, "k=" + k + " rows=" + rows + " row0=" + row0);
                }
            }
        }
    }

    @Test
    void aPairOfTransposedSlicesIsTwoSingleOnes() {
        Random random = new Random(6);
        int mr = Sgemm.MR;
        for (int rows : new int[] {2 * mr, 64, 512 + 3}) {
            for (int depth : new int[] {1, 15, 16, 33, 196, 256}) {
                int k = depth + 20;
                float[] src = new float[k * rows]; // M stored transposed: M(i, p) = src[p * rows + i]
                for (int i = 0; i < src.length; i++) {
                    src[i] = random.nextFloat() - 0.5f;
                }
                for (int row0 = 0; row0 + 2 * mr <= rows; row0 += 2 * mr) {
                    float[] expected = new float[2 * mr * depth + 9];
                    float[] actual = new float[2 * mr * depth + 9];
                    Packing.packSliceRows(src, true, rows, k, row0, mr, 7, depth, expected, 5);
                    Packing.packSliceRows(src, true, rows, k, row0 + mr, mr, 7, depth, expected, 5 + mr * depth);
                    if (Packing.packTransposedSlicePair(src, rows, row0, 7, depth, actual, 5)) {
                        assertArrayEquals(expected, actual, "rows=" + rows + " depth=" + depth + " row0=" + row0);
                    }
                }
            }
        }
    }
}
