package org.lsoftmax.train;

import org.lsoftmax.layer.PassOptions;
import org.lsoftmax.layer.jvm.Sgemm;
import org.lsoftmax.model.MatrixProducts;

/**
 * The dense layers' matrix products on the project's multi-threaded, cache-blocked {@link Sgemm}. Its
 * results are bit-identical for any thread count, so {@code --threads} changes speed only, and a run
 * resumed with other threads still reproduces the uninterrupted one.
 */
public final class SgemmProducts implements MatrixProducts {

    private final Sgemm sgemm;

    /** @param threads worker threads, 0 = one per core (as {@link PassOptions#resolvedThreads()}) */
    public SgemmProducts(int threads) {
        this.sgemm = new Sgemm(new PassOptions(threads, null).resolvedThreads());
    }

    @Override
    public void multiplyABt(float[] a, float[] b, float[] c, int m, int n, int k, boolean accumulate) {
        sgemm.multiplyABt(a, b, c, m, n, k, accumulate);
    }

    @Override
    public void multiplyAB(float[] a, float[] b, float[] c, int m, int n, int k, boolean accumulate) {
        sgemm.multiplyAB(a, b, c, m, n, k, accumulate);
    }

    @Override
    public void multiplyAtB(float[] a, float[] b, float[] c, int m, int n, int k, boolean accumulate) {
        sgemm.multiplyAtB(a, b, c, m, n, k, accumulate);
    }

    @Override
    public void close() {
        sgemm.close();
    }
}
