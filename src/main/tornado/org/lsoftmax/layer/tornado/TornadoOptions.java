package org.lsoftmax.layer.tornado;

import java.util.Locale;

/**
 * The tornado pass's tuning flags, all read here from system properties ({@code -Dname=value}):
 * <ul>
 *   <li>{@code lsoftmax.tornado.matmul} = {@code auto} (default: panels on CPU devices, tiled
 *       otherwise), {@code panels} or {@code tiled}: the matrix-product kernel ({@link MatrixKernels})</li>
 *   <li>{@code lsoftmax.tornado.profiler} = {@code true} (default) or {@code false}: TornadoVM's
 *       profiler, which gives {@link org.lsoftmax.layer.tornado.TornadoRunInfo} its kernel times</li>
 *   <li>{@code lsoftmax.tornado.localSize} = 16 (default): work-group size of the row-wise kernels
 *       (PoCL's default puts a whole 1-D range in one work-group, i.e. on one core)</li>
 * </ul>
 */
record TornadoOptions(String matmul, boolean profiler, int localSize) {

    static TornadoOptions fromSystemProperties() {
        String matmul = System.getProperty("lsoftmax.tornado.matmul", "auto").toLowerCase(Locale.ROOT);
        if (!matmul.equals("auto") && !matmul.equals("panels") && !matmul.equals("tiled")) {
            throw new IllegalArgumentException("lsoftmax.tornado.matmul must be auto, panels or tiled, got " + matmul);
        }
        boolean profiler = Boolean.parseBoolean(System.getProperty("lsoftmax.tornado.profiler", "true"));
        int localSize = Integer.getInteger("lsoftmax.tornado.localSize", 16);
        if (localSize < 1 || Integer.bitCount(localSize) != 1) {
            throw new IllegalArgumentException("lsoftmax.tornado.localSize must be a power of two, got " + localSize);
        }
        return new TornadoOptions(matmul, profiler, localSize);
    }
}
