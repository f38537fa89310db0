package org.lsoftmax.bench;

import java.util.concurrent.TimeUnit;
import org.lsoftmax.head.HeadPass;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.PassOptions;
import org.lsoftmax.head.TornadoRunInfo;
import org.lsoftmax.head.TornadoSupport;
import org.lsoftmax.head.select.PassFactory;
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
 * One training step (forward + backward, 6 N D C flops) of the tornado pass, steady state. The first
 * step, which JIT-compiles the kernels, runs in the trial setup and is printed apart (wall time and
 * TornadoVM's compile time), so it never mixes into the measurement. Refuses to measure when there is
 * no TornadoVM runtime or the pass fell back to the JVM (that would be the jvm pass's numbers).
 * Run with benchmarks/run.sh (which adds the SDK's JVM flags when it finds one).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class TornadoStepBenchmark {

    @Param({"256x512x1000", "1024x512x10000"})
    public String shape;

    @Param({"4"})
    public int margin;

    @Param({"1.0"})
    public double beta;

    private HeadPass pass;
    private BenchmarkInputs inputs;
    private float[] logits;
    private float[] dx;
    private float[] dw;

    @Setup(Level.Trial)
    public void setUp() {
        if (!TornadoSupport.isAvailable()) {
            throw new IllegalStateException("no TornadoVM runtime: " + TornadoSupport.unavailableReason());
        }
        HeadShape layerShape = BenchmarkInputs.parseShape(shape);
        pass = PassFactory.create("tornado", layerShape, margin, PassOptions.DEFAULTS);
        inputs = BenchmarkInputs.draw(layerShape);
        logits = new float[layerShape.logitsSize()];
        dx = new float[layerShape.xSize()];
        dw = new float[layerShape.wSize()];
        long start = System.nanoTime();
        forwardBackward();
        long firstStep = System.nanoTime() - start;
        TornadoRunInfo info = (TornadoRunInfo) pass;
        if (!info.runsOnDevice()) {
            throw new IllegalStateException("the tornado pass fell back to the JVM: " + info.fallbackReason());
        }
        System.out.printf("%n[tornado] %s on %s: first step (JIT) %.0f ms, TornadoVM compile time %.0f ms%n", layerShape,
                pass.deviceDescription(), firstStep / 1e6, info.compileNanos() / 1e6);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        TornadoRunInfo info = (TornadoRunInfo) pass;
        System.out.printf("%n[tornado] last step: device kernel time %.2f ms%n", info.lastDeviceKernelNanos() / 1e6);
        pass.close();
    }

    @Benchmark
    public double forwardBackward() {
        double loss = pass.forward(inputs.x(), inputs.w(), inputs.labels(), beta, logits);
        pass.backward(dx, dw);
        return loss;
    }
}
