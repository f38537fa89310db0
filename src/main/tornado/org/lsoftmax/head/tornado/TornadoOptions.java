package org.lsoftmax.head.tornado;

import java.util.Locale;

/**
 * The tornado pass's tuning flags, all read here from system properties ({@code -Dname=value}):
 * <ul>
 *   <li>{@code lsoftmax.tornado.matmul} = {@code auto} (default: panels on CPU devices, tiled
 *       otherwise), {@code panels} or {@code tiled}: the matrix-product kernel ({@link MatrixKernels})</li>
 *   <li>{@code lsoftmax.tornado.profiler} = {@code false} (default) or {@code true}: TornadoVM's
 *       profiler, which gives {@link org.lsoftmax.head.tornado.TornadoRunInfo} its kernel and compile
 *       times (0 without it). Off by default: on PoCL it added 1-4 ms to every graph execution of a
 *       small step (timing events on every task; docs/TORNADOVM-NOTES.md);
 *       {@code console}: also prints TornadoVM's per-task times (JSON) after every execution</li>
 *   <li>{@code lsoftmax.tornado.gradWPanels} = {@code false} (default) or {@code true}: G^T X from
 *       a copy of G in 16-class panels ({@link DevicePlan#GRAD_W_PANELS}; read once, at class load)</li>
 *   <li>{@code lsoftmax.tornado.localSize} = 16 (default): work-group size of the row-wise kernels
 *       (PoCL's default puts a whole 1-D range in one work-group, i.e. on one core)</li>
 *   <li>{@code lsoftmax.tornado.deviceMemoryLimit} = bytes (default: the device's global memory): a
 *       head whose device buffers need more than min(limit, device global memory) is refused up front
 *       and the pass runs on the JVM, saying so</li>
 *   <li>{@code lsoftmax.tornado.injectFault} = {@code none} (default), {@code compile} or
 *       {@code execute}, with {@code lsoftmax.tornado.injectFaultAfter} = N (default 0): for tests of
 *       the fallback. The first N graph executions of a plan succeed (a training step is one: forward
 *       and backward in one graph); the next one fails: {@code compile} makes TornadoVM compile a kernel it cannot
 *       compile ({@link FaultInjection}), {@code execute} throws from the execution as a failing device
 *       would. Costs one comparison per execution when set, nothing otherwise.</li>
 * </ul>
 */
record TornadoOptions(String matmul, boolean profiler, boolean profilerConsole, int localSize, long deviceMemoryLimit, FaultInjection fault) {

    static TornadoOptions fromSystemProperties() {
        String matmul = System.getProperty("lsoftmax.tornado.matmul", "auto").toLowerCase(Locale.ROOT);
        if (!matmul.equals("auto") && !matmul.equals("panels") && !matmul.equals("tiled")) {
            throw new IllegalArgumentException("lsoftmax.tornado.matmul must be auto, panels or tiled, got " + matmul);
        }
        String profilerMode = System.getProperty("lsoftmax.tornado.profiler", "false").toLowerCase(Locale.ROOT);
        boolean console = profilerMode.equals("console");
        boolean profiler = console || Boolean.parseBoolean(profilerMode);
        int localSize = Integer.getInteger("lsoftmax.tornado.localSize", 16);
        if (localSize < 1 || Integer.bitCount(localSize) != 1) {
            throw new IllegalArgumentException("lsoftmax.tornado.localSize must be a power of two, got " + localSize);
        }
        long deviceMemoryLimit = Long.getLong("lsoftmax.tornado.deviceMemoryLimit", Long.MAX_VALUE);
        if (deviceMemoryLimit <= 0) {
            throw new IllegalArgumentException("lsoftmax.tornado.deviceMemoryLimit must be > 0 bytes, got " + deviceMemoryLimit);
        }
        String fault = System.getProperty("lsoftmax.tornado.injectFault", "none").toLowerCase(Locale.ROOT);
        long after = Long.getLong("lsoftmax.tornado.injectFaultAfter", 0);
        if (after < 0) {
            throw new IllegalArgumentException("lsoftmax.tornado.injectFaultAfter must be >= 0, got " + after);
        }
        FaultInjection injection = switch (fault) {
            case "none" -> FaultInjection.NONE;
            case "compile" -> new FaultInjection(FaultInjection.Kind.COMPILE, after);
            case "execute" -> new FaultInjection(FaultInjection.Kind.EXECUTE, after);
            default -> throw new IllegalArgumentException("lsoftmax.tornado.injectFault must be none, compile or execute, got " + fault);
        };
        return new TornadoOptions(matmul, profiler, console, localSize, deviceMemoryLimit, injection);
    }

    /** The options that shape a device plan (what the {@link DevicePlanPool} keys on): the fault is armed per pass. */
    TornadoOptions forPool() {
        return fault == FaultInjection.NONE ? this : new TornadoOptions(matmul, profiler, profilerConsole, localSize, deviceMemoryLimit, FaultInjection.NONE);
    }
}
