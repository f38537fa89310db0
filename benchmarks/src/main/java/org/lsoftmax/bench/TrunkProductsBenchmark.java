package org.lsoftmax.bench;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;
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
 * The matrix products of one training step of the trunk 784-512-256-64 at batch N = 256, in the order
 * the step runs them (forward y = x W^T of the three layers; backward dW = dy^T x of the three and
 * dx = dy W of the upper two), with each operand where the step has it: every product reads data the
 * previous ones did not leave in its core's cache. 2 x 318.9 M multiply-adds = 637.8 MFLOP per call.
 * {@code impl}: the project's {@link Sgemm} (threads: {@link PassOptions#DEFAULTS}, one per core) or
 * OpenBLAS's cblas_sgemm on off-heap copies (OPENBLAS_NUM_THREADS, default one per core). dW is written
 * (beta = 0), as the step writes it after zeroGradients. The single products at these shapes are
 * GemmCeilingBenchmark / OpenBlasCeilingBenchmark with {@code -p shape=256x784x512,256x512x256,256x256x64};
 * {@link TrunkRatio} prints all of them against the ceiling of the same run.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class TrunkProductsBenchmark {

    /** Layer widths of the network: input, hidden, hidden, feature. */
    static final int[] WIDTHS = {784, 512, 256, 64};
    static final int BATCH = 256;
    /** 2 x (3 forward + 3 dW + 2 dX products) multiply-adds. */
    static final double FLOPS;

    static {
        double multiplyAdds = 0;
        for (int l = 0; l < 3; l++) {
            double layer = (double) BATCH * WIDTHS[l] * WIDTHS[l + 1];
            multiplyAdds += l == 0 ? 2 * layer : 3 * layer;
        }
        FLOPS = 2 * multiplyAdds;
    }

    @Param({"sgemm", "openblas"})
    public String impl;

    private Sgemm sgemm;
    private final float[][] weights = new float[3][];
    private final float[][] weightGradients = new float[3][];
    private final float[][] activations = new float[4][];
    private final float[][] activationGradients = new float[4][];
    private FloatPointer[] weightPointers;
    private FloatPointer[] weightGradientPointers;
    private FloatPointer[] activationPointers;
    private FloatPointer[] activationGradientPointers;

    @Setup(Level.Trial)
    public void setUp() {
        Random random = new Random(BenchmarkInputs.SEED);
        for (int l = 0; l < 3; l++) {
            weights[l] = BenchmarkInputs.gaussian(random, WIDTHS[l + 1], WIDTHS[l]);
            weightGradients[l] = new float[WIDTHS[l + 1] * WIDTHS[l]];
        }
        for (int l = 0; l < 4; l++) {
            activations[l] = BenchmarkInputs.gaussian(random, BATCH, WIDTHS[l]);
            activationGradients[l] = BenchmarkInputs.gaussian(random, BATCH, WIDTHS[l]);
        }
        if (impl.equals("sgemm")) {
            sgemm = new Sgemm(PassOptions.DEFAULTS.resolvedThreads());
            return;
        }
        try {
            org.bytedeco.javacpp.Loader.load(openblas_nolapack.class);
        } catch (Throwable t) {
            throw new IllegalStateException("OpenBLAS (org.bytedeco:openblas) cannot be loaded here, skipping: " + t, t);
        }
        weightPointers = pointers(weights);
        weightGradientPointers = pointers(weightGradients);
        activationPointers = pointers(activations);
        activationGradientPointers = pointers(activationGradients);
    }

    private static FloatPointer[] pointers(float[][] arrays) {
        FloatPointer[] pointers = new FloatPointer[arrays.length];
        for (int i = 0; i < arrays.length; i++) {
            pointers[i] = new FloatPointer(arrays[i]);
        }
        return pointers;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (sgemm != null) {
            sgemm.close();
        }
        for (FloatPointer[] group : new FloatPointer[][] {weightPointers, weightGradientPointers, activationPointers,
            activationGradientPointers}) {
            if (group != null) {
                for (FloatPointer pointer : group) {
                    pointer.close();
                }
            }
        }
    }

    @Benchmark
    public Object trunkProducts() {
        return sgemm != null ? withSgemm() : withOpenBlas();
    }

    private Object withSgemm() {
        for (int l = 0; l < 3; l++) {
            sgemm.multiplyABt(activations[l], weights[l], activations[l + 1], BATCH, WIDTHS[l + 1], WIDTHS[l], false);
        }
        for (int l = 2; l >= 0; l--) {
            sgemm.multiplyAtB(activationGradients[l + 1], activations[l], weightGradients[l], WIDTHS[l + 1], WIDTHS[l],
                    BATCH, false);
            if (l > 0) {
                sgemm.multiplyAB(activationGradients[l + 1], weights[l], activationGradients[l], BATCH, WIDTHS[l],
                        WIDTHS[l + 1], false);
            }
        }
        return weightGradients;
    }

    private Object withOpenBlas() {
        for (int l = 0; l < 3; l++) {
            openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasNoTrans,
                    openblas_nolapack.CblasTrans, BATCH, WIDTHS[l + 1], WIDTHS[l], 1.0f, activationPointers[l], WIDTHS[l],
                    weightPointers[l], WIDTHS[l], 0.0f, activationPointers[l + 1], WIDTHS[l + 1]);
        }
        for (int l = 2; l >= 0; l--) {
            openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasTrans,
                    openblas_nolapack.CblasNoTrans, WIDTHS[l + 1], WIDTHS[l], BATCH, 1.0f, activationGradientPointers[l + 1],
                    WIDTHS[l + 1], activationPointers[l], WIDTHS[l], 0.0f, weightGradientPointers[l], WIDTHS[l]);
            if (l > 0) {
                openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasNoTrans,
                        openblas_nolapack.CblasNoTrans, BATCH, WIDTHS[l], WIDTHS[l + 1], 1.0f,
                        activationGradientPointers[l + 1], WIDTHS[l + 1], weightPointers[l], WIDTHS[l], 0.0f,
                        activationGradientPointers[l], WIDTHS[l]);
            }
        }
        return weightGradientPointers;
    }
}
