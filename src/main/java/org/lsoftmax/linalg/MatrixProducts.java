package org.lsoftmax.linalg;

/**
 * The three matrix products the dense layers need, on flat row-major float arrays. The signatures are
 * those of {@code org.lsoftmax.linalg.Sgemm}: training uses it through
 * {@code org.lsoftmax.train.SgemmProducts}; {@link SimpleMatrixProducts} is the small, obviously
 * correct fallback. {@code accumulate} adds to C instead of overwriting it.
 */
public interface MatrixProducts extends AutoCloseable {

    /** {@code C[m x n] (+)= A[m x k] . B[n x k]^T} (dense forward: y = x W^T). */
    void multiplyABt(float[] a, float[] b, float[] c, int m, int n, int k, boolean accumulate);

    /** {@code C[m x n] (+)= A[m x k] . B[k x n]} (dense input gradient: dx = dy W). */
    void multiplyAB(float[] a, float[] b, float[] c, int m, int n, int k, boolean accumulate);

    /** {@code C[m x n] (+)= A[k x m]^T . B[k x n]} (dense weight gradient: dW = dy^T x). */
    void multiplyAtB(float[] a, float[] b, float[] c, int m, int n, int k, boolean accumulate);

    @Override
    void close();
}
