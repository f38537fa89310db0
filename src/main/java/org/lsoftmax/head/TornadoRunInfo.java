package org.lsoftmax.head;

/**
 * Where a tornado pass really ran, for tests, logs and benchmarks (implemented by the tornado pass;
 * obtained with {@code pass instanceof TornadoRunInfo}).
 */
public interface TornadoRunInfo {

    /** True while the work runs on the TornadoVM device; false once the pass has fallen back to the JVM. */
    boolean runsOnDevice();

    /** Why the pass fell back to the JVM, or null while it runs on the device. */
    String fallbackReason();

    /**
     * Device kernel time of the most recent forward + backward (ns; 0 when not on the device or not
     * profiled: {@code -Dlsoftmax.tornado.profiler=true}, off by default).
     */
    long lastDeviceKernelNanos();

    /** Kernel JIT compilation time so far (ns, as the TornadoVM profiler reports it; 0 when not profiled). */
    long compileNanos();

    /**
     * A count of TornadoVM graph executions ({@code execute()} calls) on the device plans the pass has
     * used (a plan reused from the pool brings its earlier count: compare before and after). One per
     * training step for the single-pass stages; two per shard step.
     */
    long graphExecutions();
}
