package org.lsoftmax.linalg;

import java.util.Arrays;

/**
 * Copies a band of {@code width} rows of a logical matrix M[rows x k] into one packed panel, k-major:
 * {@code panel[p * width + r] = M(row0 + r, p)}, with rows past the end of M set to zero. The
 * micro-kernel then reads the panel strictly sequentially, one k step ({@code width} floats) at a time.
 *
 * <p>Two storage orders of M are supported: row-major (M(i, p) at {@code i * k + p}) and column-major,
 * i.e. stored transposed (M(i, p) at {@code p * rows + i}).
 */
final class Packing {

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
        if (valid == width) {
            // full panel: a plain copy loop (C2 vectorises it; a System.arraycopy call per 8 or 32 floats
            // costs more than the copy, and Vector API copies of a second float shape would pollute the
            // type profiles the micro-kernel's vectors rely on)
            for (int p = 0; p < k; p++) {
                int source = p * rows + row0;
                int target = panelOffset + p * width;
                for (int j = 0; j < width; j++) {
                    panel[target + j] = src[source + j];
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

    /**
     * One k slice of a band of MR rows, row-major: {@code block[blockOffset + r * depth + (p - p0)] =
     * M(row0 + r, p)} for r < {@code width}, p in [p0, p0 + depth); rows past the end of M are zero.
     * {@code columnMajor}: M(i, p) at {@code src[p * rows + i]}, else M(i, p) at {@code src[i * k + p]}.
     */
    static void packSliceRows(float[] src, boolean columnMajor, int rows, int k, int row0, int width, int p0, int depth,
                              float[] block, int blockOffset) {
        int valid = Math.min(width, rows - row0);
        if (columnMajor) {
            for (int p = 0; p < depth; p++) {
                int source = (p0 + p) * rows + row0;
                int target = blockOffset + p;
                for (int r = 0; r < valid; r++) {
                    block[target + r * depth] = src[source + r];
                }
            }
        } else {
            for (int r = 0; r < valid; r++) {
                System.arraycopy(src, (row0 + r) * k + p0, block, blockOffset + r * depth, depth);
            }
        }
        if (valid < width) {
            Arrays.fill(block, blockOffset + valid * depth, blockOffset + width * depth, 0.0f);
        }
    }
}
