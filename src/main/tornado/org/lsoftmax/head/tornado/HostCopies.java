package org.lsoftmax.head.tornado;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.MemorySegment;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.collections.VectorFloat16;

/**
 * Copies between the caller's {@code float[]} and TornadoVM's off-heap arrays: bulk segment copies
 * (no per-element calls), and the packing of a matrix product's B operand into 16-column panels,
 * done while the data is copied anyway, so packing costs no extra pass over device memory.
 */
final class HostCopies {

    private HostCopies() {
    }

    /** target[0 .. n) = source[0 .. n). */
    static void copy(float[] source, FloatArray target) {
        MemorySegment.copy(source, 0, target.getSegment(), JAVA_FLOAT, 0, source.length);
    }

    /** target[0 .. n) = source[0 .. n). */
    static void copy(int[] source, IntArray target) {
        MemorySegment.copy(source, 0, target.getSegment(), JAVA_INT, 0, source.length);
    }

    /** target[0 .. n) = source[0 .. n). */
    static void copy(IntArray source, int[] target) {
        MemorySegment.copy(source.getSegment(), JAVA_INT, 0, target, 0, target.length);
    }

    /** target (rows x columns, dense) = the top-left block of source (row stride {@code stride}). */
    static void unpad(FloatArray source, int stride, int rows, int columns, float[] target) {
        MemorySegment segment = source.getSegment();
        for (int row = 0; row < rows; row++) {
            MemorySegment.copy(segment, JAVA_FLOAT, (long) row * stride * Float.BYTES, target, row * columns, columns);
        }
    }

    /**
     * Packs B(k, c) = matrix[k * depthStride + c * columnStride] (k < depth, c < columns) into
     * {@code panels[p * depth + k] = B(k, 16p .. 16p+15)}, zero past the last column, for
     * {@link PanelMatmulKernel#matmulPanels}. {@code scratch} holds the packed floats on the heap
     * before one bulk copy.
     */
    static void packPanels(float[] matrix, int depth, int columns, int depthStride, int columnStride, VectorFloat16 panels,
            float[] scratch) {
        int lanes = MatrixKernels.LANES;
        int panelCount = panels.getLength() / depth;
        if (columnStride == 1) {
            packRowMajor(matrix, depth, columns, depthStride, panelCount, panels, scratch);
            return;
        }
        int out = 0;
        for (int p = 0; p < panelCount; p++) {
            int firstColumn = p * lanes;
            int validLanes = Math.max(0, Math.min(lanes, columns - firstColumn));
            for (int k = 0; k < depth; k++) {
                int source = k * depthStride + firstColumn * columnStride;
                for (int lane = 0; lane < validLanes; lane++) {
                    scratch[out + lane] = matrix[source + lane * columnStride];
                }
                for (int lane = validLanes; lane < lanes; lane++) {
                    scratch[out + lane] = 0.0f;
                }
                out += lanes;
            }
        }
        MemorySegment.copy(scratch, 0, panels.getArray().getSegment(), JAVA_FLOAT, 0, out);
    }

    /**
     * {@link #packPanels} of a matrix whose columns are contiguous (columnStride 1: W by feature for G W,
     * X for G^T X), the same panels written in one pass over the matrix: row k outer, its 16-column runs
     * copied to their panels. Panel by panel would read the whole matrix once per panel (at C = 10^4,
     * D = 512: 14 ms for W against 3-4 ms this way).
     */
    private static void packRowMajor(float[] matrix, int depth, int columns, int depthStride, int panelCount, VectorFloat16 panels,
            float[] scratch) {
        int lanes = MatrixKernels.LANES;
        int panelSize = depth * lanes;
        for (int k = 0; k < depth; k++) {
            int source = k * depthStride;
            for (int p = 0; p < panelCount; p++) {
                int firstColumn = p * lanes;
                int validLanes = Math.max(0, Math.min(lanes, columns - firstColumn));
                int out = p * panelSize + k * lanes;
                if (validLanes > 0) {
                    System.arraycopy(matrix, source + firstColumn, scratch, out, validLanes);
                }
                for (int lane = validLanes; lane < lanes; lane++) {
                    scratch[out + lane] = 0.0f;
                }
            }
        }
        MemorySegment.copy(scratch, 0, panels.getArray().getSegment(), JAVA_FLOAT, 0, panelCount * panelSize);
    }
}
