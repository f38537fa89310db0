package org.lsoftmax.bench;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.lsoftmax.head.HeadShape;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The outside ceiling of a layer step: OpenBLAS's {@code cblas_sgemm} (org.bytedeco:openblas, which
 * ships its own native library) on the same three products as {@link GemmCeilingBenchmark}, float32,
 * row-major, operands already off-heap (no copies counted). OpenBLAS picks its thread count from
 * {@code OPENBLAS_NUM_THREADS} (default: one per core, like the jvm pass). If the native library cannot
 * be loaded, the trial fails with that reason and the other benchmarks of the run go on.
 * <ul>
 *   <li>{@code logitsABt}: F[N x C] = X[N x D] W[C x D]^T</li>
 *   <li>{@code dxAB}: dX[N x D] = G[N x C] W[C x D]</li>
 *   <li>{@code dwAtB}: dW[C x D] = G[N x C]^T X[N x D]</li>
 *   <li>{@code threeProducts}: all three, back to back</li>
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class OpenBlasCeilingBenchmark {

    @Param({"256x512x10", "256x512x1000", "1024x512x10000"})
    public String shape;

    private int n;
    private int d;
    private int c;
    private FloatPointer x;
    private FloatPointer w;
    private FloatPointer g;
    private FloatPointer logits;
    private FloatPointer dx;
    private FloatPointer dw;

    @Setup(Level.Trial)
    public void setUp() {
        try {
            org.bytedeco.javacpp.Loader.load(openblas_nolapack.class);
        } catch (Throwable t) {
            throw new IllegalStateException("OpenBLAS (org.bytedeco:openblas) cannot be loaded here, skipping: " + t, t);
        }
        HeadShape layerShape = BenchmarkInputs.parseShape(shape);
        n = layerShape.batch();
        d = layerShape.features();
        c = layerShape.classes();
        BenchmarkInputs inputs = BenchmarkInputs.draw(layerShape);
        x = new FloatPointer(inputs.x());
        w = new FloatPointer(inputs.w());
        g = new FloatPointer(BenchmarkInputs.gaussian(new Random(BenchmarkInputs.SEED + 1), n, c));
        logits = new FloatPointer((long) n * c);
        dx = new FloatPointer((long) n * d);
        dw = new FloatPointer((long) c * d);
        String threads = System.getenv("OPENBLAS_NUM_THREADS");
        System.out.printf("%n[openblas] OPENBLAS_NUM_THREADS=%s%n",
                threads == null ? "(unset: one per core)" : threads);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (FloatPointer pointer : new FloatPointer[] {x, w, g, logits, dx, dw}) {
            if (pointer != null) {
                pointer.close();
            }
        }
    }

    @Benchmark
    public FloatPointer logitsABt() {
        openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasNoTrans,
                openblas_nolapack.CblasTrans, n, c, d, 1.0f, x, d, w, d, 0.0f, logits, c);
        return logits;
    }

    @Benchmark
    public FloatPointer dxAB() {
        openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasNoTrans,
                openblas_nolapack.CblasNoTrans, n, d, c, 1.0f, g, c, w, d, 0.0f, dx, d);
        return dx;
    }

    @Benchmark
    public FloatPointer dwAtB() {
        openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasTrans,
                openblas_nolapack.CblasNoTrans, c, d, n, 1.0f, g, c, x, d, 0.0f, dw, d);
        return dw;
    }

    @Benchmark
    public FloatPointer threeProducts() {
        logitsABt();
        dxAB();
        return dwAtB();
    }
}
