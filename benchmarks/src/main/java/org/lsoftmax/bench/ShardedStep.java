package org.lsoftmax.bench;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.head.Head;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.MarginLoss;
import org.lsoftmax.head.PassOptions;
import org.lsoftmax.head.ShardLayout;
import org.lsoftmax.head.ShardOptions;
import org.lsoftmax.head.select.HeadFactory;
import org.lsoftmax.math.SplitMix64;
import org.lsoftmax.model.Parameter;
import org.lsoftmax.model.RowSelection;
import org.lsoftmax.train.SgdMomentum;

/**
 * One training step of the head (forward, backward, SGD with momentum on the rows the step touched, the
 * gradients cleared) for one configuration: pass, N, D, C, K shards, sample rate r (benchmarks/sharded.sh
 * runs every configuration of benchmarks/RESULTS.md, each in a fresh JVM). Prints one CSV row: the
 * median and minimum wall ms of the measured steps (the head's forward+backward and the update apart),
 * the FLOP floor {@code 6 N D S} of the classes actually computed (S = C, or the shards' samples), the
 * GFLOP/s, and per shard the bytes of W + gradient + momentum, the head's heap estimate and a tornado
 * pass's device buffers, with the heap live after the last GC. A head that does not fit is refused up
 * front: the row then says so, with the bytes.
 *
 * <pre>java ... org.lsoftmax.bench.ShardedStep PASS N D C K R WARMUP STEPS [THREADS [WARMUP_SECONDS]]</pre>
 */
public final class ShardedStep {

    public static final String HEADER = "pass,N,D,C,K,r,computed_classes,gflop_floor,head_ms_median,update_ms_median,step_ms_median,step_ms_min,"
            + "gflops,parameter_mib_per_shard,heap_mib_per_shard,device_mib_per_shard,live_heap_mib,warmup_steps,where";

    private ShardedStep() {
    }

    public static void main(String[] args) {
        if (args.length < 8) {
            System.err.println("usage: ShardedStep PASS N D C K R WARMUP STEPS [THREADS]");
            System.exit(2);
        }
        String pass = args[0];
        int n = Integer.parseInt(args[1]);
        int d = Integer.parseInt(args[2]);
        int c = Integer.parseInt(args[3]);
        int k = Integer.parseInt(args[4]);
        double rate = Double.parseDouble(args[5]);
        int warmup = Integer.parseInt(args[6]);
        int steps = Integer.parseInt(args[7]);
        int threads = args.length > 8 ? Integer.parseInt(args[8]) : 0;
        double warmupSeconds = args.length > 9 ? Double.parseDouble(args[9]) : 15.0;
        HeadShape shape = new HeadShape(n, d, c);
        ShardOptions options = new ShardOptions(k, List.of(), rate, 1);
        PassOptions passOptions = new PassOptions(threads, null);
        ShardLayout layout = new ShardLayout(c, k);
        MarginLoss loss = MarginLoss.cosface(30, 0.2);
        List<HeadFactory.ShardMemory> memory = HeadFactory.memory(pass, shape, loss, options, passOptions);
        long computed = 0;
        for (HeadFactory.ShardMemory shard : memory) {
            computed += shard.computedClasses();
        }
        double flops = 6.0 * n * d * computed;
        String prefix = String.format(Locale.ROOT, "%s,%d,%d,%d,%d,%s,%d,%.2f", pass, n, d, c, k, rate, computed, flops / 1e9);
        HeadFactory.ShardMemory largest = memory.stream().max((a, b) -> Long.compare(a.heapBytes() + a.parameterBytes(),
                b.heapBytes() + b.parameterBytes())).orElseThrow();
        String memoryColumns = String.format(Locale.ROOT, "%.1f,%.1f,%.1f", largest.parameterBytes() / MIB, largest.heapBytes() / MIB,
                largest.deviceBytes() / MIB);
        long totalBytes = 0;
        for (HeadFactory.ShardMemory shard : memory) {
            totalBytes += shard.parameterBytes() + shard.heapBytes();
        }
        Head head;
        List<Parameter> weights;
        try {
            org.lsoftmax.MemoryBudget.requireHeap("the head " + shape + " in " + layout + " with its parameters", totalBytes);
            weights = HeadFactory.zeroWeights(layout, d);
            SplitMix64 random = new SplitMix64(7);
            double std = Math.sqrt(1.0 / d);
            for (Parameter block : weights) {
                float[] w = block.value();
                for (int i = 0; i < w.length; i++) {
                    w[i] = (float) (std * random.nextGaussian());
                }
            }
            head = HeadFactory.create(pass, shape, loss, passOptions, options, weights);
        } catch (InvalidInputException e) {
            System.out.println(prefix + ",,,,,," + memoryColumns + ",,,\"refused: " + e.getMessage().replace('"', '\'') + "\"");
            return;
        }
        try (head) {
            SgdMomentum optimizer = new SgdMomentum(0.9, 5e-4);
            SplitMix64 random = new SplitMix64(11);
            float[] x = new float[n * d];
            int[] labels = new int[n];
            double[] headMs = new double[steps];
            double[] updateMs = new double[steps];
            double[] stepMs = new double[steps];
            // warm-up: at least WARMUP steps and, after the first one (a tornado pass compiles its kernels there),
            // WARMUP_SECONDS of them: the JIT needs many small steps or a few large ones
            runStep(head, weights, optimizer, random, x, labels, n, d, c, 0, null, null, null, 0);
            long warmupStart = System.nanoTime();
            int warmed = 1;
            while (warmed < warmup || (System.nanoTime() - warmupStart) / 1e9 < warmupSeconds && warmed < 500) {
                runStep(head, weights, optimizer, random, x, labels, n, d, c, warmed, null, null, null, 0);
                warmed++;
            }
            for (int step = 0; step < steps; step++) {
                runStep(head, weights, optimizer, random, x, labels, n, d, c, warmed + step, headMs, updateMs, stepMs, step);
            }
            double median = median(stepMs);
            System.out.println(String.format(Locale.ROOT, "%s,%.2f,%.2f,%.2f,%.2f,%.1f,%s,%.1f,%d,\"%s\"", prefix, median(headMs), median(updateMs), median,
                    Arrays.stream(stepMs).min().orElse(Double.NaN), flops / (median * 1e6), memoryColumns, liveHeapBytes() / MIB, warmed,
                    head.description().replace('"', '\'')));
        }
    }

    /** One step on a fresh random batch; timed into the arrays' {@code slot} unless they are null (warm-up). */
    private static void runStep(Head head, List<Parameter> weights, SgdMomentum optimizer, SplitMix64 random, float[] x, int[] labels, int n, int d,
            int c, long iteration, double[] headMs, double[] updateMs, double[] stepMs, int slot) {
        for (int i = 0; i < n; i++) {
            labels[i] = random.nextInt(c);
            double sum = 0.0;
            for (int col = 0; col < d; col++) {
                x[i * d + col] = (float) random.nextGaussian();
                sum += x[i * d + col] * x[i * d + col];
            }
            for (int col = 0; col < d; col++) {
                x[i * d + col] /= (float) Math.sqrt(sum);
            }
        }
        long start = System.nanoTime();
        head.setIteration(iteration);
        head.forward(x, labels, 0.0);
        head.backward();
        long middle = System.nanoTime();
        optimizer.step(weights, 0.01, head::touchedRows);
        for (Parameter parameter : weights) {
            RowSelection rows = head.touchedRows(parameter);
            if (rows == null) {
                Arrays.fill(parameter.gradient(), 0.0f);
            } else {
                for (int r = 0; r < rows.count(); r++) {
                    Arrays.fill(parameter.gradient(), rows.row(r) * d, (rows.row(r) + 1) * d, 0.0f);
                }
            }
        }
        long end = System.nanoTime();
        if (stepMs != null) {
            headMs[slot] = (middle - start) / 1e6;
            updateMs[slot] = (end - middle) / 1e6;
            stepMs[slot] = (end - start) / 1e6;
        }
    }

    private static final double MIB = 1024.0 * 1024.0;

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int m = sorted.length;
        return m % 2 == 1 ? sorted[m / 2] : 0.5 * (sorted[m / 2 - 1] + sorted[m / 2]);
    }

    /** Heap bytes in use right after a full collection (the head's parameters and buffers). */
    private static long liveHeapBytes() {
        System.gc();
        Runtime runtime = Runtime.getRuntime();
        return runtime.totalMemory() - runtime.freeMemory();
    }
}
