package org.lsoftmax.bench;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.lsoftmax.head.HeadPass;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.MarginLoss;
import org.lsoftmax.head.PassOptions;
import org.lsoftmax.head.select.PassFactory;

/**
 * What each loss of the family costs on the jvm pass against the plain softmax step (lsoftmax m = 1),
 * measured so that a shared machine does not blur it: one thread, every loss's step interleaved with
 * the others in every repetition, timed by the calling thread's CPU time (time other processes hold
 * the core is not counted) and by wall time; medians and the ratio to the softmax step.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp target/benchmarks.jar org.lsoftmax.bench.LossCpuTime [N D C [reps]]</pre>
 */
public final class LossCpuTime {

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    static final List<String> LOSSES = List.of("lsoftmax:m=1", "lsoftmax:m=4", "sphereface:m=4", "cosface:s=64.0,m3=0.35",
            "arcface:s=64.0,m2=0.5", "combined:s=64.0,m1=1.0,m2=0.3,m3=0.2", "combined:s=64.0,m1=1.35,m2=0.3,m3=0.2");

    private LossCpuTime() {
    }

    public static void main(String[] args) {
        HeadShape shape = args.length >= 3 ? new HeadShape(Integer.parseInt(args[0]), Integer.parseInt(args[1]), Integer.parseInt(args[2]))
                : new HeadShape(1024, 512, 10000);
        int reps = args.length >= 4 ? Integer.parseInt(args[3]) : 7;
        BenchmarkInputs inputs = BenchmarkInputs.draw(shape);
        float[] logits = new float[shape.logitsSize()];
        float[] dx = new float[shape.xSize()];
        float[] dw = new float[shape.wSize()];
        HeadPass[] passes = new HeadPass[LOSSES.size()];
        for (int l = 0; l < passes.length; l++) {
            passes[l] = PassFactory.create("jvm", shape, MarginLoss.parse(LOSSES.get(l)), new PassOptions(1, null));
        }
        double[][] cpu = new double[passes.length][reps];
        double[][] wall = new double[passes.length][reps];
        for (int rep = -2; rep < reps; rep++) { // two warm-up rounds
            for (int l = 0; l < passes.length; l++) {
                long wallStart = System.nanoTime();
                long cpuStart = THREADS.getCurrentThreadCpuTime();
                passes[l].forward(inputs.x(), inputs.w(), inputs.labels(), 0.0, logits);
                passes[l].backward(dx, dw);
                long cpuEnd = THREADS.getCurrentThreadCpuTime();
                long wallEnd = System.nanoTime();
                if (rep >= 0) {
                    cpu[l][rep] = (cpuEnd - cpuStart) / 1e6;
                    wall[l][rep] = (wallEnd - wallStart) / 1e6;
                }
            }
        }
        System.out.printf(Locale.ROOT, "LossCpuTime: %s, 1 thread, %d interleaved repetitions, beta 0; load %s%n", shape, reps,
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        System.out.printf(Locale.ROOT, "%-40s %12s %10s %12s %10s%n", "loss", "CPU ms", "x softmax", "wall ms", "x softmax");
        double softmaxCpu = median(cpu[0]);
        double softmaxWall = median(wall[0]);
        for (int l = 0; l < passes.length; l++) {
            System.out.printf(Locale.ROOT, "%-40s %12.1f %10.3f %12.1f %10.3f%n", passes[l].loss(), median(cpu[l]), median(cpu[l]) / softmaxCpu,
                    median(wall[l]), median(wall[l]) / softmaxWall);
            passes[l].close();
        }
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted.length % 2 == 1 ? sorted[sorted.length / 2] : 0.5 * (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]);
    }
}
