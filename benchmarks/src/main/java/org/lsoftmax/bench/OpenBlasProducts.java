package org.lsoftmax.bench;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;

/** The three products of a step through OpenBLAS's cblas_sgemm on off-heap copies, for {@link StepCpuTime}. */
final class OpenBlasProducts implements AutoCloseable {

    static String unavailableReason = "";

    private final int n;
    private final int d;
    private final int c;
    private final FloatPointer x;
    private final FloatPointer w;
    private final FloatPointer g;
    private final FloatPointer logits;
    private final FloatPointer dx;
    private final FloatPointer dw;

    private OpenBlasProducts(float[] x, float[] w, float[] g, int n, int d, int c) {
        this.n = n;
        this.d = d;
        this.c = c;
        this.x = new FloatPointer(x);
        this.w = new FloatPointer(w);
        this.g = new FloatPointer(g);
        this.logits = new FloatPointer((long) n * c);
        this.dx = new FloatPointer((long) n * d);
        this.dw = new FloatPointer((long) c * d);
    }

    /** Null (and {@link #unavailableReason} set) when the native library does not load. */
    static OpenBlasProducts tryCreate(float[] x, float[] w, float[] g, int n, int d, int c) {
        try {
            org.bytedeco.javacpp.Loader.load(openblas_nolapack.class);
            return new OpenBlasProducts(x, w, g, n, d, c);
        } catch (Throwable t) {
            unavailableReason = t.toString();
            return null;
        }
    }

    /** 0: F = X W^T, 1: dX = G W, 2: dW = G^T X. */
    void run(int product) {
        switch (product) {
            case 0 -> openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasNoTrans,
                    openblas_nolapack.CblasTrans, n, c, d, 1.0f, x, d, w, d, 0.0f, logits, c);
            case 1 -> openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasNoTrans,
                    openblas_nolapack.CblasNoTrans, n, d, c, 1.0f, g, c, w, d, 0.0f, dx, d);
            default -> openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasTrans,
                    openblas_nolapack.CblasNoTrans, c, d, n, 1.0f, g, c, x, d, 0.0f, dw, d);
        }
    }

    @Override
    public void close() {
        for (FloatPointer pointer : new FloatPointer[] {x, w, g, logits, dx, dw}) {
            pointer.close();
        }
    }
}
