package org.lsoftmax.bench;

import java.util.concurrent.TimeUnit;
import org.lsoftmax.head.HeadPass;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.MarginLoss;
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
 * One forward + backward step of every loss of the family on one pass and shape, the plain softmax
 * ({@code lsoftmax:m=1}) among them, so that what each margin costs is a ratio within one run:
 * {@code benchmarks/run.sh LossStepBenchmark -f 1 -wi 3 -i 8}. {@code loss} is {@link MarginLoss#toText()}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class LossStepBenchmark {

    @Param({"jvm:1024x512x10000"})
    public String step;

    @Param({"lsoftmax:m=1", "lsoftmax:m=4", "sphereface:m=4", "cosface:s=64.0,m3=0.35", "arcface:s=64.0,m2=0.5",
            "combined:s=64.0,m1=1.0,m2=0.3,m3=0.2", "combined:s=64.0,m1=1.35,m2=0.3,m3=0.2"})
    public String loss;

    @Param({"0.0"})
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
        pass = passStep.create(MarginLoss.parse(loss));
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
        double value = pass.forward(inputs.x(), inputs.w(), inputs.labels(), beta, logits);
        pass.backward(dx, dw);
        return value;
    }
}
