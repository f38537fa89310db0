package org.lsoftmax.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.lsoftmax.head.HeadPass;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.PassOptions;
import org.lsoftmax.head.TornadoRunInfo;
import org.lsoftmax.head.select.PassFactory;

/**
 * One training step of the head (forward and backward, as {@code MarginHead} runs it: {@link HeadPass#trainingStep})
 * on the jvm pass and on the tornado pass, interleaved in one JVM so that both see the same machine load:
 * every repetition runs a jvm step, then a tornado step, of each shape. Prints the load average before and
 * after, per shape the median and min..max of each pass's wall time and of the per-repetition ratio
 * tornado / jvm, and the tornado step's device kernel time (TornadoVM's profiler, when it is on).
 * {@code java @target/tornado-argfile --add-modules jdk.incubator.vector -cp target/benchmarks.jar
 * org.lsoftmax.bench.TornadoVsJvmStep 21 256x64x10 256x512x10 1024x512x10000}
 * (repetitions first, then shapes; 3 s of warm-up steps of both passes per shape, not counted).
 */
public final class TornadoVsJvmStep {

    private static final long WARM_UP_NANOS = 3_000_000_000L;

    private TornadoVsJvmStep() {
    }

    private record Subject(HeadPass pass, BenchmarkInputs inputs, float[] logits, float[] dx, float[] dw) {

        static Subject open(String passName, HeadShape shape, BenchmarkInputs inputs) {
            return new Subject(PassFactory.create(passName, shape, 4, PassOptions.DEFAULTS), inputs, new float[shape.logitsSize()],
                    new float[shape.xSize()], new float[shape.wSize()]);
        }

        long stepNanos() {
            long start = System.nanoTime();
            pass.trainingStep(inputs.x(), inputs.w(), inputs.labels(), 1.0, pass.logitsOptional() ? null : logits, dx, dw);
            return System.nanoTime() - start;
        }
    }

    public static void main(String[] args) throws IOException {
        int repetitions = args.length > 0 ? Integer.parseInt(args[0]) : 21;
        List<String> shapes = args.length > 1 ? Arrays.asList(args).subList(1, args.length) : List.of("256x64x10", "256x512x10", "1024x512x10000");
        System.out.printf("load average at start: %s%n", load());
        List<String> lines = new ArrayList<>();
        for (String shapeText : shapes) {
            HeadShape shape = BenchmarkInputs.parseShape(shapeText);
            BenchmarkInputs inputs = BenchmarkInputs.draw(shape);
            // fewer repetitions of the big shape (each tornado step is hundreds of ms)
            int reps = shape.batch() * (long) shape.classes() > 1_000_000 ? Math.max(5, repetitions / 3) : repetitions;
            double[] jvm = new double[reps];
            double[] tornado = new double[reps];
            double[] ratio = new double[reps];
            double[] kernels = new double[reps];
            try (HeadPass jvmPass = PassFactory.create("jvm", shape, 4, PassOptions.DEFAULTS);
                    HeadPass tornadoPass = PassFactory.create("tornado", shape, 4, PassOptions.DEFAULTS)) {
                Subject jvmStep = new Subject(jvmPass, inputs, new float[shape.logitsSize()], new float[shape.xSize()], new float[shape.wSize()]);
                Subject tornadoStep = new Subject(tornadoPass, inputs, new float[shape.logitsSize()], new float[shape.xSize()],
                        new float[shape.wSize()]);
                long firstTornado = tornadoStep.stepNanos();
                // warm-up: both passes alternately for WARM_UP_NANOS (at least 3 steps each): C2 for the jvm pass
                long warmUpEnd = System.nanoTime() + WARM_UP_NANOS;
                for (int step = 0; step < 3 || System.nanoTime() < warmUpEnd; step++) {
                    jvmStep.stepNanos();
                    tornadoStep.stepNanos();
                }
                TornadoRunInfo info = (TornadoRunInfo) tornadoPass;
                if (!info.runsOnDevice()) {
                    throw new IllegalStateException("the tornado pass fell back to the JVM: " + info.fallbackReason());
                }
                for (int rep = 0; rep < reps; rep++) {
                    jvm[rep] = jvmStep.stepNanos() / 1e6;
                    tornado[rep] = tornadoStep.stepNanos() / 1e6;
                    kernels[rep] = info.lastDeviceKernelNanos() / 1e6;
                    ratio[rep] = tornado[rep] / jvm[rep];
                }
                String line = String.format("%-15s jvm %8.3f ms (%.3f..%.3f)  tornado %8.3f ms (%.3f..%.3f)  tornado/jvm %.2f (%.2f..%.2f)"
                        + "  jvm/tornado %.2f  device kernels %.3f ms  first tornado step %.0f ms  [%d reps, %s]",
                        shapeText, median(jvm), min(jvm), max(jvm), median(tornado), min(tornado), max(tornado), median(ratio), min(ratio),
                        max(ratio), 1.0 / median(ratio), median(kernels), firstTornado / 1e6, reps, tornadoPass.deviceDescription());
                System.out.println(line);
                lines.add(line);
            }
        }
        System.out.printf("load average at end: %s%n", load());
    }

    private static String load() throws IOException {
        Path loadavg = Path.of("/proc/loadavg");
        return Files.exists(loadavg) ? Files.readString(loadavg).trim() : "n/a";
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static double min(double[] values) {
        return Arrays.stream(values).min().orElse(0);
    }

    private static double max(double[] values) {
        return Arrays.stream(values).max().orElse(0);
    }
}
