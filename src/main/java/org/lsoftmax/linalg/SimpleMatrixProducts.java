package org.lsoftmax.linalg;

/**
 * Single-threaded matrix products, written so that HotSpot's C2 auto-vectorises the innermost loop:
 * every product is a sequence of "axpy" updates {@code C[i, :] += a * B[p, :]} over contiguous rows,
 * blocked so that the rows of C being updated stay in cache. Deterministic: the summation order
 * depends only on the shapes. Not thread-safe (it keeps a transpose scratch buffer).
 */
public final class SimpleMatrixProducts implements MatrixProducts {

    /** Rows of C updated together, and depth of one pass over B: 32 rows x 512 floats = 64 KiB. */
    private static final int ROW_BLOCK = 32;
    private static final int DEPTH_BLOCK = 128;

    private float[] transposeScratch = new float[0];

    @Override
    public void multiplyABt(float[] a, float[] b, float[] c, int m, int n, int k, boolean accumulate) {
        // B^T (k x n) once, O(n k) copies next to the O(m n k) product, then the axpy kernel.
        if (transposeScratch.length < n * k) {
            transposeScratch = new float[n * k];
        }
        float[] bTransposed = transposeScratch;
        for (int row = 0; row < n; row++) {
            for (int col = 0; col < k; col++) {
                bTransposed[col * n + row] = b[row * k + col];
            }
        }
        multiplyAB(a, bTransposed, c, m, n, k, accumulate);
    }

    @Override
    public void multiplyAB(float[] a, float[] b, float[] c, int m, int n, int k, boolean accumulate) {
        if (!accumulate) {
            java.util.Arrays.fill(c, 0, m * n, 0f);
        }
        for (int rowStart = 0; rowStart < m; rowStart += ROW_BLOCK) {
            int rowEnd = Math.min(m, rowStart + ROW_BLOCK);
            for (int depthStart = 0; depthStart < k; depthStart += DEPTH_BLOCK) {
                int depthEnd = Math.min(k, depthStart + DEPTH_BLOCK);
                for (int i = rowStart; i < rowEnd; i++) {
                    int cRow = i * n;
                    for (int p = depthStart; p < depthEnd; p++) {
                        float aValue = a[i * k + p];
                        if (aValue == 0f) {
                            continue;
                        }
                        int bRow = p * n;
                        for (int j = 0; j < n; j++) {
                            c[cRow + j] += aValue * b[bRow + j];
                        }
                    }
                }
            }
        }
    }

    @Override
    public void multiplyAtB(float[] a, float[] b, float[] c, int m, int n, int k, boolean accumulate) {
        if (!accumulate) {
            java.util.Arrays.fill(c, 0, m * n, 0f);
        }
        // C[i, :] += A[p, i] * B[p, :], a block of C rows at a time so they stay in cache over all p.
        for (int rowStart = 0; rowStart < m; rowStart += ROW_BLOCK) {
            int rowEnd = Math.min(m, rowStart + ROW_BLOCK);
            for (int p = 0; p < k; p++) {
                int bRow = p * n;
                for (int i = rowStart; i < rowEnd; i++) {
                    float aValue = a[p * m + i];
                    if (aValue == 0f) {
                        continue;
                    }
                    int cRow = i * n;
                    for (int j = 0; j < n; j++) {
                        c[cRow + j] += aValue * b[bRow + j];
                    }
                }
            }
        }
    }

    @Override
    public void close() {
        transposeScratch = new float[0];
    }
}
