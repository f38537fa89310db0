package org.lsoftmax;

import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Opt-in timing of the phases of a training epoch, for finding where it goes
 * ({@code -Dlsoftmax.profile=true}, e.g. {@code LSOFTMAX_JAVA_OPTS=-Dlsoftmax.profile=true bin/lsoftmax train ...}).
 * The training loop and the layers mark each phase on the calling thread:
 * <pre>
 *   long start = StepProfile.now();
 *   ... the phase ...
 *   StepProfile.record(PHASE_NAME, start, flops);
 * </pre>
 * and the loop prints one table per epoch ({@link #printAndReset}). Off by default: {@link #ENABLED} is
 * a static final false, so {@link #now} is the constant 0 and {@link #record} an empty method that C2
 * removes with its arguments; normal runs pay nothing. Phase names are constants of their callers (no
 * string is built per call). Only the thread that drives training records; worker threads are inside
 * the phases they serve. Beside the wall time each phase gets the CPU time of the recording thread
 * (on a shared machine the CPU time of a 1-thread run is the figure that other processes disturb
 * least); reading the thread's CPU clock costs about a microsecond, a few percent of a step.
 */
public final class StepProfile {

    /** Whether phases are timed; read once from the system property {@code lsoftmax.profile}. */
    public static final boolean ENABLED = Boolean.getBoolean("lsoftmax.profile");

    /**
     * The rate the floor column assumes for a matrix product: what the project's Sgemm reaches on the
     * large layer shape on the 2-core development machine (benchmarks/RESULTS.md), per thread of the run.
     */
    private static final double FLOOR_GFLOPS_PER_THREAD = 85.0;

    private static final class Phase {
        long calls;
        long nanos;
        long cpuNanos;
        double flops;
    }

    private static final Map<String, Phase> PHASES = new LinkedHashMap<>();
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    /** CPU clock of the recording thread at the start of the phase in progress (phases do not nest). */
    private static long cpuStart;

    private StepProfile() {
    }

    /** The start of a phase: {@link System#nanoTime()} when profiling, else 0. */
    public static long now() {
        if (!ENABLED) {
            return 0L;
        }
        cpuStart = THREADS.getCurrentThreadCpuTime();
        return System.nanoTime();
    }

    /** Ends a phase started at {@code startNanos} (from {@link #now}). */
    public static void record(String phase, long startNanos) {
        if (ENABLED) {
            add(phase, System.nanoTime() - startNanos, 0.0);
        }
    }

    /** Ends a phase of {@code flops} floating-point operations (a matrix product: 2 m n k). */
    public static void record(String phase, long startNanos, double flops) {
        if (ENABLED) {
            add(phase, System.nanoTime() - startNanos, flops);
        }
    }

    private static synchronized void add(String name, long nanos, double flops) {
        long cpu = THREADS.getCurrentThreadCpuTime() - cpuStart;
        Phase phase = PHASES.computeIfAbsent(name, key -> new Phase());
        phase.calls++;
        phase.nanos += nanos;
        phase.cpuNanos += cpu;
        phase.flops += flops;
    }

    /** Forgets every phase recorded so far (e.g. what an evaluation recorded between two epochs). */
    public static synchronized void reset() {
        PHASES.clear();
    }

    /**
     * Prints the phases recorded since the last reset as a table (calls, total wall ms, ms per step, share
     * of {@code loopNanos}, CPU ms per step of the recording thread, GFLOP/s of the wall time and the
     * floor at {@value #FLOOR_GFLOPS_PER_THREAD} GFLOP/s per thread for the products), the part of the
     * loop no phase covers, and resets.
     *
     * @param title     first line, e.g. "epoch 2, 234 steps"
     * @param loopNanos wall time of the whole loop the phases ran in
     * @param steps     steps of the loop (for the per-step column)
     * @param threads   threads of the run (for the floor of the products)
     */
    public static synchronized void printAndReset(PrintStream out, String title, long loopNanos, int steps, int threads) {
        double floorRate = FLOOR_GFLOPS_PER_THREAD * threads * 1e9;
        out.printf(Locale.ROOT, "%nprofile: %s, loop %.1f ms (%.3f ms/step); product floor at %.0f GFLOP/s%n", title,
                loopNanos / 1e6, loopNanos / 1e6 / steps, floorRate / 1e9);
        out.printf(Locale.ROOT, "%-44s %7s %10s %9s %6s %9s %8s %10s%n", "phase", "calls", "total ms", "ms/step",
                "%loop", "cpu/step", "GFLOP/s", "floor ms");
        long covered = 0;
        long coveredCpu = 0;
        List<Map.Entry<String, Phase>> rows = new ArrayList<>(PHASES.entrySet());
        for (Map.Entry<String, Phase> row : rows) {
            Phase phase = row.getValue();
            covered += phase.nanos;
            coveredCpu += phase.cpuNanos;
            String rate = phase.flops > 0 ? String.format(Locale.ROOT, "%8.1f", phase.flops / phase.nanos) : "       -";
            String floor = phase.flops > 0 ? String.format(Locale.ROOT, "%10.1f", phase.flops / floorRate * 1e3) : "         -";
            out.printf(Locale.ROOT, "%-44s %7d %10.1f %9.4f %5.1f%% %9.4f %s %s%n", row.getKey(), phase.calls,
                    phase.nanos / 1e6, phase.nanos / 1e6 / steps, 100.0 * phase.nanos / loopNanos,
                    phase.cpuNanos / 1e6 / steps, rate, floor);
        }
        long rest = loopNanos - covered;
        out.printf(Locale.ROOT, "%-44s %7s %10.1f %9.4f %5.1f%%%n", "(not in a phase)", "", rest / 1e6,
                rest / 1e6 / steps, 100.0 * rest / loopNanos);
        out.printf(Locale.ROOT, "%-44s %7s %10.1f %9.4f %6s %9.4f%n", "(all phases)", "", covered / 1e6,
                covered / 1e6 / steps, "", coveredCpu / 1e6 / steps);
        PHASES.clear();
    }
}
