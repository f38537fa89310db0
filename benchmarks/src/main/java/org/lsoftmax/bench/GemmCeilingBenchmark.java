package org.lsoftmax.bench;

import java.util.concurrent.TimeUnit;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.PassOptions;
import org.lsoftmax.linalg.Sgemm;
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
 * The ceiling of a layer step: the three {@link Sgemm} products of {@link LayerStepBenchmark} at the
 * same shapes and thread count, without any of the margin or softmax work.
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
public class GemmCeilingBenchmark {

    @Param({"256x512x10", "256x512x1000", "1024x512x10000"})
    public String shape;

    private Sgemm sgemm;
    private int n;
    private int d;
    private int c;
    private float[] x;
    private float[] w;
    private float[] g;
    private float[] logits;
    private float[] dx;
    private float[] dw;

    @Setup(Level.Trial)
    public void setUp() {
        HeadShape layerShape = BenchmarkInputs.parseShape(shape);
        n = layerShape.batch();
        d = layerShape.features();
        c = layerShape.classes();
        sgemm = new Sgemm(PassOptions.DEFAULTS.resolvedThreads());
        BenchmarkInputs inputs = BenchmarkInputs.draw(layerShape);
        x = inputs.x();
        w = inputs.w();
        g = BenchmarkInputs.gaussian(new java.util.Random(BenchmarkInputs.SEED + 1), n, c);
        logits = new float[n * c];
        dx = new float[n * d];
        dw = new float[c * d];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        sgemm.close();
    }

    @Benchmark
    public float[] logitsABt() {
        sgemm.multiplyABt(x, w, logits, n, c, d, false);
        return logits;
    }

    @Benchmark
    public float[] dxAB() {
        sgemm.multiplyAB(g, w, dx, n, d, c, false);
        return dx;
    }

    @Benchmark
    public float[] dwAtB() {
        sgemm.multiplyAtB(g, x, dw, c, d, n, false);
        return dw;
    }

    @Benchmark
    public float[] threeProducts() {
        sgemm.multiplyABt(x, w, logits, n, c, d, false);
        sgemm.multiplyAB(g, w, dx, n, d, c, false);
        sgemm.multiplyAtB(g, x, dw, c, d, n, false);
        return dw;
    }
}
