package org.lsoftmax.layer.jvm;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Copies a band of {@code width} rows of a logical matrix M[rows x k] into one packed panel, k-major:
 * {@code panel[p * width + r] = M(row0 + r, p)}, with rows past the end of M set to zero. The
 * micro-kernel then reads the panel strictly sequentially, one k step ({@code width} floats) at a time.
 *
 * <p>Two storage orders of M are supported: row-major (M(i, p) at {@code i * k + p}) and column-major,
 * i.e. stored transposed (M(i, p) at {@code p * rows + i}).
 */
final class Packing {

    /** Vector width of the panel copies (8 floats): divides both panel widths, MR = 8 and NR = 2 vectors. */
    private static final VectorSpecies<Float> COPY = FloatVector.SPECIES_256;

    private Packing() {
    }

    /** M(i, p) = src[i * k + p]. */
    static void packRowMajorRows(float[] src, int rows, int k, int row0, int width, float[] panel, int panelOffset) {
        int valid = Math.min(width, rows - row0);
        for (int r = 0; r < valid; r++) {
            int source = (row0 + r) * k;
            int target = panelOffset + r;
            for (int p = 0; p < k; p++) {
                panel[target + p * width] = src[source + p];
            }
        }
        if (valid < width) {
            for (int p = 0; p < k; p++) {
                int target = panelOffset + p * width;
                Arrays.fill(panel, target + valid, target + width, 0.0f);
            }
        }
    }

    /** M(i, p) = src[p * rows + i] (M stored transposed): each k step is one contiguous copy of width floats. */
    static void packColumnMajorRows(float[] src, int rows, int k, int row0, int width, float[] panel, int panelOffset) {
        int valid = Math.min(width, rows - row0);
        if (valid == width && width % COPY.length() == 0) {
            // full panel: vector copies (a System.arraycopy call per 8 or 32 floats costs more than the copy)
            for (int p = 0; p < k; p++) {
                int source = p * rows + row0;
                int target = panelOffset + p * width;
                for (int j = 0; j < width; j += COPY.length()) {
                    FloatVector.fromArray(COPY, src, source + j).intoArray(panel, target + j);
                }
            }
            return;
        }
        for (int p = 0; p < k; p++) {
            int target = panelOffset + p * width;
            System.arraycopy(src, p * rows + row0, panel, target, valid);
            if (valid < width) {
                Arrays.fill(panel, target + valid, target + width, 0.0f);
            }
        }
    }
}
