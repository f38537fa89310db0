package org.lsoftmax.bench;

import java.util.concurrent.TimeUnit;
import org.lsoftmax.head.TornadoProducts;
import org.lsoftmax.head.TornadoSupport;
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
 * The ceiling of {@link TornadoStepBenchmark}: the step's three matrix products (X W^T, G W, G^T X,
 * 6 N D C flops) with the tornado pass's Float16 panel kernel and work grids, every operand packed
 * once and resident on the device, nothing copied back. Same shapes, so step / ceiling is the share
 * of the device's best that a step reaches. Run with benchmarks/run.sh (needs a TornadoVM SDK).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class TornadoGemmCeilingBenchmark {

    @Param({"256x512x1000", "1024x512x10000"})
    public String shape;

    private TornadoProducts products;

    @Setup(Level.Trial)
    public void setUp() {
        if (!TornadoSupport.isAvailable()) {
            throw new IllegalStateException("no TornadoVM runtime: " + TornadoSupport.unavailableReason());
        }
        products = TornadoSupport.diagnostics().productCeiling(BenchmarkInputs.parseShape(shape));
        products.run(); // JIT
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        products.close();
    }

    /** X W^T, G W and G^T X. */
    @Benchmark
    public void threeProducts() {
        products.run();
    }

    /** X W^T alone (2 N D C flops): the kernel's best form (contiguous A rows, B packed once). */
    @Benchmark
    public void logitsProduct() {
        products.runProduct(0);
    }

    /** G^T X alone (2 N D C flops): A read down the columns of G. */
    @Benchmark
    public void gradWProduct() {
        products.runProduct(2);
    }
}
