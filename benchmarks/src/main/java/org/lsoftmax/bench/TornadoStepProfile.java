package org.lsoftmax.bench;

import org.lsoftmax.layer.LSoftmaxPass;
import org.lsoftmax.layer.LayerShape;
import org.lsoftmax.layer.PassFactory;
import org.lsoftmax.layer.PassOptions;
import org.lsoftmax.layer.tornado.TornadoProducts;
import org.lsoftmax.layer.tornado.TornadoRunInfo;
import org.lsoftmax.layer.tornado.TornadoSupport;

/**
 * Where the time of a tornado step goes, without JMH: wall time of forward and backward per step and
 * TornadoVM's device kernel time (run with -Dlsoftmax.tornado.profiler=console for per-task times).
 * {@code java @target/tornado-argfile --add-modules jdk.incubator.vector -cp target/benchmarks.jar
 * org.lsoftmax.bench.TornadoStepProfile 1024x512x10000 5}
 */
public final class TornadoStepProfile {

    private TornadoStepProfile() {
    }

    public static void main(String[] args) {
        LayerShape shape = BenchmarkInputs.parseShape(args.length > 0 ? args[0] : "1024x512x10000");
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        BenchmarkInputs inputs = BenchmarkInputs.draw(shape);
        float[] logits = new float[shape.logitsSize()];
        float[] dx = new float[shape.xSize()];
        float[] dw = new float[shape.wSize()];
        double flops = 6.0 * shape.batch() * shape.features() * shape.classes();
        try (LSoftmaxPass pass = PassFactory.create("tornado", shape, 4, PassOptions.DEFAULTS)) {
            TornadoRunInfo info = (TornadoRunInfo) pass;
            for (int step = 0; step <= steps; step++) {
                long start = System.nanoTime();
                pass.forward(inputs.x(), inputs.w(), inputs.labels(), 1.0, logits);
                long middle = System.nanoTime();
                pass.backward(dx, dw);
                long end = System.nanoTime();
                System.out.printf("step %d: forward %.1f ms, backward %.1f ms, step %.1f ms = %.1f GFLOP/s; device kernels %.1f ms%s%n",
                        step, (middle - start) / 1e6, (end - middle) / 1e6, (end - start) / 1e6, flops / (end - start),
                        info.lastDeviceKernelNanos() / 1e6, step == 0 ? " (first step: JIT)" : "");
            }
            System.out.println(pass.deviceDescription());
        }
        try (TornadoProducts products = TornadoSupport.productCeiling(shape)) {
            for (int run = 0; run <= steps; run++) {
                long start = System.nanoTime();
                products.run();
                long end = System.nanoTime();
                StringBuilder each = new StringBuilder();
                for (int product = 0; product < 3; product++) {
                    long productStart = System.nanoTime();
                    products.runProduct(product);
                    each.append(String.format(" %.1f", flops / 3 / (System.nanoTime() - productStart)));
                }
                System.out.printf("products alone %d: %.1f ms = %.1f GFLOP/s; each (X W^T, G W, G^T X):%s GFLOP/s%s%n", run,
                        (end - start) / 1e6, flops / (end - start), each, run == 0 ? " (first: JIT)" : "");
            }
        }
    }
}
