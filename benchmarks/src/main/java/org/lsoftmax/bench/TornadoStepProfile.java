package org.lsoftmax.bench;

import java.util.Arrays;
import org.lsoftmax.head.HeadPass;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.PassOptions;
import org.lsoftmax.head.TornadoProducts;
import org.lsoftmax.head.TornadoRunInfo;
import org.lsoftmax.head.TornadoSupport;
import org.lsoftmax.head.select.PassFactory;

/**
 * Where the time of a tornado step goes, and how it compares with the ceiling, without JMH. Both the
 * pass and the {@link TornadoSupport#productCeiling product ceiling} are open at once, and every
 * repetition runs one step, then X W^T alone, then the three products alone, back to back, so step and
 * ceiling see the same machine load (paired). Prints per repetition: wall time of forward and backward,
 * TornadoVM's device kernel time (run with -Dlsoftmax.tornado.profiler=console for per-task times),
 * the products' rates, and step / X W^T; then medians with min..max.
 * {@code java @target/tornado-argfile --add-modules jdk.incubator.vector -cp target/benchmarks.jar
 * org.lsoftmax.bench.TornadoStepProfile 1024x512x10000 9}
 */
public final class TornadoStepProfile {

    private TornadoStepProfile() {
    }

    public static void main(String[] args) {
        HeadShape shape = BenchmarkInputs.parseShape(args.length > 0 ? args[0] : "1024x512x10000");
        int repetitions = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        BenchmarkInputs inputs = BenchmarkInputs.draw(shape);
        float[] logits = new float[shape.logitsSize()];
        float[] dx = new float[shape.xSize()];
        float[] dw = new float[shape.wSize()];
        double flops = 6.0 * shape.batch() * shape.features() * shape.classes();
        double[] stepMs = new double[repetitions];
        double[] ceilingMs = new double[repetitions];
        double[] ratio = new double[repetitions];
        try (HeadPass pass = PassFactory.create("tornado", shape, 4, PassOptions.DEFAULTS);
                TornadoProducts products = TornadoSupport.diagnostics().productCeiling(shape)) {
            TornadoRunInfo info = (TornadoRunInfo) pass;
            for (int rep = -1; rep < repetitions; rep++) {
                long start = System.nanoTime();
                pass.forward(inputs.x(), inputs.w(), inputs.labels(), 1.0, logits);
                long middle = System.nanoTime();
                pass.backward(dx, dw);
                long end = System.nanoTime();
                long kernelNanos = info.lastDeviceKernelNanos();
                long[] each = new long[3];
                for (int product = 0; product < 3; product++) {
                    long productStart = System.nanoTime();
                    products.runProduct(product);
                    each[product] = System.nanoTime() - productStart;
                }
                double step = (end - start) / 1e6;
                double ceiling = each[0] / 1e6;
                System.out.printf("rep %d: step %.1f ms (forward %.1f, backward %.1f; device kernels %.1f) = %.1f GFLOP/s;"
                        + " products alone X W^T %.1f ms, G W %.1f, G^T X %.1f (%.1f %.1f %.1f GFLOP/s); step / X W^T rate = %.0f%%%s%n",
                        rep, step, (middle - start) / 1e6, (end - middle) / 1e6, kernelNanos / 1e6, flops / (end - start), ceiling,
                        each[1] / 1e6, each[2] / 1e6, flops / 3 / each[0], flops / 3 / each[1], flops / 3 / each[2],
                        100.0 * (3 * ceiling) / step, rep < 0 ? " (first: JIT, not counted)" : "");
                if (rep >= 0) {
                    stepMs[rep] = step;
                    ceilingMs[rep] = ceiling;
                    ratio[rep] = 100.0 * (3 * ceiling) / step;
                }
            }
            System.out.println(pass.deviceDescription());
        }
        System.out.printf("median of %d: step %s ms = %.1f GFLOP/s; X W^T %s ms = %.1f GFLOP/s; step / ceiling %s %%; runs >= 50%%: %d of %d%n",
                repetitions, summary(stepMs), flops / median(stepMs) / 1e6, summary(ceilingMs), flops / 3 / median(ceilingMs) / 1e6,
                summary(ratio), Arrays.stream(ratio).filter(r -> r >= 50.0).count(), repetitions);
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static String summary(double[] values) {
        return String.format("%.1f (%.1f..%.1f)", median(values), Arrays.stream(values).min().orElse(0), Arrays.stream(values).max().orElse(0));
    }
}
