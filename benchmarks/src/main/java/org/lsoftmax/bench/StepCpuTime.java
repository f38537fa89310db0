package org.lsoftmax.bench;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.jvm.JvmPass;
import org.lsoftmax.linalg.Sgemm;

/**
 * A noise-robust companion of the JMH benchmarks for a shared machine: in one JVM, back to back and
 * interleaved, it times the jvm pass's step at m = 1 and m = 4, its three {@link Sgemm} products and
 * (when org.bytedeco:openblas loads) OpenBLAS's sgemm on the same products, by the CPU time of the
 * CPU time it consumed (time other processes hold the cores is not counted) and by wall time. CPU
 * time is the calling thread's plus the jvm pass's worker threads' ("sgemm-*", their spinning
 * included); with threads = 1 everything runs on the caller (run with OPENBLAS_NUM_THREADS=1 so
 * OpenBLAS does too). OpenBLAS's own threads are native and invisible here, so with several threads
 * its CPU column is left empty. With several threads GFLOP/s per CPU-second measures efficiency.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp target/benchmarks.jar org.lsoftmax.bench.StepCpuTime N D C threads reps</pre>
 */
public final class StepCpuTime {

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    /** The worker threads of the pools (names "sgemm-*"), found once they exist. */
    private static long[] workerIds = new long[0];

    private static long cpuNanos() {
        long total = THREADS.getCurrentThreadCpuTime();
        for (long id : workerIds) {
            long nanos = THREADS.getThreadCpuTime(id);
            if (nanos > 0) {
                total += nanos;
            }
        }
        return total;
    }

    private static long[] findWorkers() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.getName().startsWith("sgemm-"))
                .mapToLong(Thread::threadId).toArray();
    }

    private StepCpuTime() {
    }

    /** One timed quantity: CPU and wall milliseconds per repetition. */
    private static final class Series {
        final String name;
        final double[] cpu;
        final double[] wall;
        long cpuStart;
        long wallStart;

        Series(String name, int reps) {
            this.name = name;
            this.cpu = new double[reps];
            this.wall = new double[reps];
        }

        void start() {
            wallStart = System.nanoTime();
            cpuStart = cpuNanos();
        }

        void stop(int rep) {
            long cpuEnd = cpuNanos();
            long wallEnd = System.nanoTime();
            if (rep >= 0) {
                cpu[rep] = (cpuEnd - cpuStart) / 1e6;
                wall[rep] = (wallEnd - wallStart) / 1e6;
            }
        }
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    }

    private static double min(double[] values) {
        return Arrays.stream(values).min().orElse(Double.NaN);
    }

    /** Median absolute deviation, a spread that ignores the few preempted repetitions. */
    private static double mad(double[] values) {
        double m = median(values);
        double[] deviations = Arrays.stream(values).map(v -> Math.abs(v - m)).toArray();
        return median(deviations);
    }

    public static void main(String[] args) {
        if (args.length < 5) {
            System.err.println("usage: StepCpuTime N D C threads reps");
            System.exit(2);
        }
        int n = Integer.parseInt(args[0]);
        int d = Integer.parseInt(args[1]);
        int c = Integer.parseInt(args[2]);
        int threads = Integer.parseInt(args[3]);
        int reps = Integer.parseInt(args[4]);
        HeadShape shape = new HeadShape(n, d, c);
        BenchmarkInputs inputs = BenchmarkInputs.draw(shape);
        float[] x = inputs.x();
        float[] w = inputs.w();
        int[] labels = inputs.labels();
        float[] g = BenchmarkInputs.gaussian(new Random(BenchmarkInputs.SEED + 1), n, c);
        float[] logits = new float[n * c];
        float[] dx = new float[n * d];
        float[] dw = new float[c * d];
        double stepFlops = 6.0 * n * d * c;
        OpenBlasProducts blas = OpenBlasProducts.tryCreate(x, w, g, n, d, c);
        Series m1 = new Series("jvm step m=1", reps);
        Series m4 = new Series("jvm step m=4", reps);
        Series abt = new Series("Sgemm logitsABt", reps);
        Series ab = new Series("Sgemm dxAB", reps);
        Series atb = new Series("Sgemm dwAtB", reps);
        Series[] blasSeries = {new Series("OpenBLAS logitsABt", reps), new Series("OpenBLAS dxAB", reps),
                new Series("OpenBLAS dwAtB", reps)};
        long allocated = 0;
        try (JvmPass pass1 = new JvmPass(shape, 1, threads); JvmPass pass4 = new JvmPass(shape, 4, threads);
             Sgemm sgemm = new Sgemm(threads)) {
            workerIds = findWorkers();
            int warmup = Math.max(3, reps / 2);
            long thread = Thread.currentThread().threadId();
            for (int rep = -warmup; rep < reps; rep++) {
                boolean m4First = (rep & 1) == 1; // alternate the order: neither margin always runs second
                for (int turn = 0; turn < 2; turn++) {
                    boolean four = (turn == 0) == m4First;
                    JvmPass pass = four ? pass4 : pass1;
                    Series series = four ? m4 : m1;
                    long before = THREADS.getThreadAllocatedBytes(thread);
                    series.start();
                    pass.forward(x, w, labels, 1.0, logits);
                    pass.backward(dx, dw);
                    series.stop(rep);
                    if (rep >= 0) {
                        allocated = Math.max(allocated, THREADS.getThreadAllocatedBytes(thread) - before);
                    }
                }
                abt.start();
                sgemm.multiplyABt(x, w, logits, n, c, d, false);
                abt.stop(rep);
                ab.start();
                sgemm.multiplyAB(g, w, dx, n, d, c, false);
                ab.stop(rep);
                atb.start();
                sgemm.multiplyAtB(g, x, dw, c, d, n, false);
                atb.stop(rep);
                if (blas != null) {
                    for (int product = 0; product < 3; product++) {
                        blasSeries[product].start();
                        blas.run(product);
                        blasSeries[product].stop(rep);
                    }
                }
            }
        } finally {
            if (blas != null) {
                blas.close();
            }
        }
        System.out.printf(Locale.ROOT, "shape %dx%dx%d (N x D x C), threads %d, %d repetitions, %.3f GFLOP per step; CPU time: %s%n",
                n, d, c, threads, reps, stepFlops / 1e9,
                threads > 1 ? "calling thread + " + workerIds.length + " pool workers" : "calling thread");
        System.out.printf(Locale.ROOT, "%-20s %12s %10s %10s %10s %12s %10s%n", "", "CPU median", "+- MAD", "CPU min",
                "GFLOP/s", "wall median", "GFLOP/s");
        double ceilingCpu = 0.0;
        double ceilingWall = 0.0;
        Series[] all = blas == null ? new Series[] {m1, m4, abt, ab, atb}
                : new Series[] {m1, m4, abt, ab, atb, blasSeries[0], blasSeries[1], blasSeries[2]};
        for (Series series : all) {
            double flops = series.name.startsWith("jvm") ? stepFlops : stepFlops / 3;
            if (threads > 1 && series.name.startsWith("OpenBLAS")) {
                Arrays.fill(series.cpu, Double.NaN);
            }
            double cpuRate = flops / median(series.cpu) / 1e6;
            double wallRate = flops / median(series.wall) / 1e6;
            if (!series.name.startsWith("jvm")) {
                ceilingCpu = Double.isNaN(cpuRate) ? ceilingCpu : Math.max(ceilingCpu, cpuRate);
                ceilingWall = Math.max(ceilingWall, wallRate);
            }
            System.out.printf(Locale.ROOT, "%-20s %12.3f %10.3f %10.3f %10.1f %12.3f %10.1f%n", series.name,
                    median(series.cpu), mad(series.cpu), min(series.cpu), cpuRate, median(series.wall), wallRate);
        }
        if (blas == null) {
            System.out.println("(OpenBLAS not measured: " + OpenBlasProducts.unavailableReason + ")");
        }
        double stepCpuRate = stepFlops / median(m4.cpu) / 1e6;
        double stepWallRate = stepFlops / median(m4.wall) / 1e6;
        System.out.printf(Locale.ROOT, "m=4 step / m=1 step: CPU %.4f (medians), %.4f (minimums); wall %.4f (medians)%n",
                median(m4.cpu) / median(m1.cpu), min(m4.cpu) / min(m1.cpu), median(m4.wall) / median(m1.wall));
        System.out.printf(Locale.ROOT, "ceiling (fastest product): CPU %.1f GFLOP/s, wall %.1f GFLOP/s; m=4 step at %.2f (CPU) / %.2f (wall) of it%n",
                ceilingCpu, ceilingWall, stepCpuRate / ceilingCpu, stepWallRate / ceilingWall);
        System.out.printf(Locale.ROOT, "step / its three Sgemm products (CPU medians): %.3f; bytes allocated by the caller per step: %d%n",
                median(m4.cpu) / (median(abt.cpu) + median(ab.cpu) + median(atb.cpu)), allocated);
    }
}
