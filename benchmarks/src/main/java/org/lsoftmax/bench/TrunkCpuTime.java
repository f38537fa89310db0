package org.lsoftmax.bench;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.linalg.Sgemm;

/**
 * The noise-robust companion of {@link TrunkProductsBenchmark} for a shared machine: on one thread, by
 * the CPU time of the calling thread (time other processes hold the core is not counted), interleaved
 * in one JVM, each of the 8 matrix products of a trunk step (784-512-256-64, N = 256, in step order)
 * with the project's {@link Sgemm} and with OpenBLAS, and the ceiling of the same run: both
 * implementations' F = X W^T at 1024x512x10000. Prints per product the median CPU ms, GFLOP/s, the
 * fraction of the ceiling, and Sgemm's speed relative to OpenBLAS's. Run with OPENBLAS_NUM_THREADS=1.
 *
 * <pre>OPENBLAS_NUM_THREADS=1 java --add-modules jdk.incubator.vector -cp target/benchmarks.jar org.lsoftmax.bench.TrunkCpuTime reps</pre>
 */
public final class TrunkCpuTime {

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private TrunkCpuTime() {
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    }

    /** One product of the step: C[m x n] (+)= op(A) op(B), as the Sgemm form names it. */
    private record Product(String name, char form, int a, int b, int c, int m, int n, int k) {
    }

    public static void main(String[] args) {
        int reps = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        int[] widths = TrunkProductsBenchmark.WIDTHS;
        int batch = TrunkProductsBenchmark.BATCH;
        Random random = new Random(BenchmarkInputs.SEED);
        // arrays: 0..2 weights, 3..5 weight gradients, 6..9 activations, 10..13 activation gradients
        float[][] arrays = new float[14][];
        for (int l = 0; l < 3; l++) {
            arrays[l] = BenchmarkInputs.gaussian(random, widths[l + 1], widths[l]);
            arrays[3 + l] = new float[widths[l + 1] * widths[l]];
        }
        for (int l = 0; l < 4; l++) {
            arrays[6 + l] = BenchmarkInputs.gaussian(random, batch, widths[l]);
            arrays[10 + l] = BenchmarkInputs.gaussian(random, batch, widths[l]);
        }
        Product[] products = new Product[8];
        int q = 0;
        for (int l = 0; l < 3; l++) {
            products[q++] = new Product("dense" + (l + 1) + " forward y = x W^T", 'T', 6 + l, l, 7 + l, batch, widths[l + 1], widths[l]);
        }
        for (int l = 2; l >= 0; l--) {
            products[q++] = new Product("dense" + (l + 1) + " dW = dy^T x", 't', 11 + l, 6 + l, 3 + l, widths[l + 1], widths[l], batch);
            if (l > 0) {
                products[q++] = new Product("dense" + (l + 1) + " dx = dy W", 'N', 11 + l, l, 10 + l, batch, widths[l], widths[l + 1]);
            }
        }
        HeadShape big = new HeadShape(1024, 512, 10000);
        BenchmarkInputs bigInputs = BenchmarkInputs.draw(big);
        float[] bigLogits = new float[big.logitsSize()];
        float[] bigG = BenchmarkInputs.gaussian(new Random(BenchmarkInputs.SEED + 1), 1024, 10000);
        OpenBlasProducts blasBig = OpenBlasProducts.tryCreate(bigInputs.x(), bigInputs.w(), bigG, 1024, 512, 10000);
        if (blasBig == null) {
            System.err.println("OpenBLAS not available: " + OpenBlasProducts.unavailableReason);
            System.exit(1);
        }
        FloatPointer[] pointers = new FloatPointer[arrays.length];
        for (int i = 0; i < arrays.length; i++) {
            pointers[i] = new FloatPointer(arrays[i]);
        }
        double[][] own = new double[8][reps];
        double[][] blas = new double[8][reps];
        double[] ownCeiling = new double[reps];
        double[] blasCeiling = new double[reps];
        try (Sgemm sgemm = new Sgemm(1)) {
            for (int rep = -Math.max(3, reps / 4); rep < reps; rep++) {
                for (int p = 0; p < 8; p++) {
                    Product product = products[p];
                    long start = THREADS.getCurrentThreadCpuTime();
                    float[] a = arrays[product.a];
                    float[] b = arrays[product.b];
                    float[] c = arrays[product.c];
                    switch (product.form) {
                        case 'T' -> sgemm.multiplyABt(a, b, c, product.m, product.n, product.k, false);
                        case 't' -> sgemm.multiplyAtB(a, b, c, product.m, product.n, product.k, false);
                        default -> sgemm.multiplyAB(a, b, c, product.m, product.n, product.k, false);
                    }
                    long middle = THREADS.getCurrentThreadCpuTime();
                    cblas(product, pointers);
                    long end = THREADS.getCurrentThreadCpuTime();
                    if (rep >= 0) {
                        own[p][rep] = (middle - start) / 1e6;
                        blas[p][rep] = (end - middle) / 1e6;
                    }
                }
                long start = THREADS.getCurrentThreadCpuTime();
                sgemm.multiplyABt(bigInputs.x(), bigInputs.w(), bigLogits, 1024, 10000, 512, false);
                long middle = THREADS.getCurrentThreadCpuTime();
                blasBig.run(0);
                long end = THREADS.getCurrentThreadCpuTime();
                if (rep >= 0) {
                    ownCeiling[rep] = (middle - start) / 1e6;
                    blasCeiling[rep] = (end - middle) / 1e6;
                }
            }
        } finally {
            blasBig.close();
            for (FloatPointer pointer : pointers) {
                pointer.close();
            }
        }
        double bigFlops = 2.0 * 1024 * 512 * 10000;
        double ownRate = bigFlops / median(ownCeiling) / 1e6;
        double blasRate = bigFlops / median(blasCeiling) / 1e6;
        double ceiling = Math.max(ownRate, blasRate);
        System.out.printf(Locale.ROOT, "1 thread, CPU time of the caller, medians of %d repetitions (OPENBLAS_NUM_THREADS=%s)%n",
                reps, System.getenv("OPENBLAS_NUM_THREADS"));
        System.out.printf(Locale.ROOT, "ceiling of this run (F = X W^T at 1024x512x10000): Sgemm %.1f GFLOP/s, OpenBLAS %.1f GFLOP/s%n%n",
                ownRate, blasRate);
        System.out.printf(Locale.ROOT, "%-28s %-14s %9s %8s %9s %9s %8s %9s %10s%n", "product", "m x n x k", "Sgemm ms", "GFLOP/s",
                "/ceiling", "BLAS ms", "GFLOP/s", "/ceiling", "Sgemm/BLAS");
        double ownTotal = 0;
        double blasTotal = 0;
        double flopsTotal = 0;
        for (int p = 0; p < 8; p++) {
            Product product = products[p];
            double flops = 2.0 * product.m * product.n * product.k;
            double ownMs = median(own[p]);
            double blasMs = median(blas[p]);
            ownTotal += ownMs;
            blasTotal += blasMs;
            flopsTotal += flops;
            System.out.printf(Locale.ROOT, "%-28s %-14s %9.3f %8.1f %9.2f %9.3f %8.1f %9.2f %10.2f%n", product.name,
                    product.m + "x" + product.n + "x" + product.k, ownMs, flops / ownMs / 1e6, flops / ownMs / 1e6 / ceiling,
                    blasMs, flops / blasMs / 1e6, flops / blasMs / 1e6 / ceiling, blasMs / ownMs);
        }
        System.out.printf(Locale.ROOT, "%-28s %-14s %9.3f %8.1f %9.2f %9.3f %8.1f %9.2f %10.2f%n", "all 8 (sum of medians)", "",
                ownTotal, flopsTotal / ownTotal / 1e6, flopsTotal / ownTotal / 1e6 / ceiling, blasTotal,
                flopsTotal / blasTotal / 1e6, flopsTotal / blasTotal / 1e6 / ceiling, blasTotal / ownTotal);
    }

    private static void cblas(Product product, FloatPointer[] pointers) {
        FloatPointer a = pointers[product.a];
        FloatPointer b = pointers[product.b];
        FloatPointer c = pointers[product.c];
        int m = product.m;
        int n = product.n;
        int k = product.k;
        switch (product.form) {
            case 'T' -> openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasNoTrans,
                    openblas_nolapack.CblasTrans, m, n, k, 1.0f, a, k, b, k, 0.0f, c, n);
            case 't' -> openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasTrans,
                    openblas_nolapack.CblasNoTrans, m, n, k, 1.0f, a, m, b, n, 0.0f, c, n);
            default -> openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasNoTrans,
                    openblas_nolapack.CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
        }
    }
}
