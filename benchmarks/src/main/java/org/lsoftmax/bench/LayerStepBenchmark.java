package org.lsoftmax.bench;

import java.util.concurrent.TimeUnit;
import org.lsoftmax.head.HeadPass;
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
 * One training step of the layer: forward (margin logits, loss) and backward (dX, dW), i.e. three
 * N*D*C products ({@link HeadShape#stepFlops()} = 6 N D C) plus the O(N*(D+C)) margin and softmax work.
 *
 * <p>{@code step} is {@link PassStep}'s {@code pass[@BACKEND:DEVICE]:NxDxC}, e.g. {@code jvm:256x512x10} or
 * {@code tornado@0:0:1024x512x10000}. The reference pass (scalar double, one thread) only runs on the
 * two small shapes: on 1024x512x10000 one of its steps takes tens of seconds. The jvm pass uses one
 * worker per core. A tornado step refuses to run when its pass fell back to the JVM.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class LayerStepBenchmark {

    @Param({"reference:256x512x10", "reference:256x512x1000",
            "jvm:256x512x10", "jvm:256x512x1000", "jvm:1024x512x10000"})
    public String step;

    @Param({"1", "4"})
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
        PassStep passStep = PassStep.parse(step);
        HeadShape shape = passStep.shape();
        pass = passStep.create(margin);
        inputs = BenchmarkInputs.draw(shape);
        logits = new float[shape.logitsSize()];
        dx = new float[shape.xSize()];
        dw = new float[shape.wSize()];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pass.close();
    }

    @Benchmark
    public double forwardBackward() {
        double loss = pass.forward(inputs.x(), inputs.w(), inputs.labels(), beta, logits);
        pass.backward(dx, dw);
        return loss;
    }
}
