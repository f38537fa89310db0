package org.lsoftmax.head.tornado;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.lsoftmax.testing.Seeds;
import uk.ac.manchester.tornado.api.types.collections.VectorFloat16;
import uk.ac.manchester.tornado.api.types.vectors.Float16;

/**
 * The packing of a product's B operand into 16-column panels ({@link HostCopies#packPanels}), against
 * its definition {@code panels[p * depth + k] = B(k, 16p .. 16p+15)}, zero past the last column: for the
 * row-major path (columnStride 1: W by feature, X) and the strided one (W by class), on sizes that are
 * multiples of no panel. Needs no device.
 */
class HostCopiesTest {

    @Test
    void panelsHoldBColumnBlocksZeroPadded() {
        Random random = new Random(Seeds.draw());
        for (int[] size : new int[][] {{37, 29}, {20, 64}, {5, 16}, {1, 33}}) {
            int depth = size[0];
            int columns = size[1];
            float[] matrix = new float[depth * columns];
            for (int i = 0; i < matrix.length; i++) {
                matrix[i] = (float) random.nextGaussian();
            }
            int panelCount = (columns + 31) / 32 * 2; // padded to panel pairs, as GridSizes pads
            // B(k, c) = matrix[k * columns + c] (row-major, columnStride 1) and B(k, c) = matrix[c * depth + k] (strided)
            for (boolean rowMajor : new boolean[] {true, false}) {
                float[] source = rowMajor ? matrix : transpose(matrix, depth, columns);
                int depthStride = rowMajor ? columns : 1;
                int columnStride = rowMajor ? 1 : depth;
                VectorFloat16 panels = new VectorFloat16(panelCount * depth);
                float[] scratch = new float[panels.getLength() * MatrixKernels.LANES];
                scratch[scratch.length - 1] = Float.NaN; // stale scratch must not leak into the panels
                HostCopies.packPanels(source, depth, columns, depthStride, columnStride, panels, scratch);
                for (int p = 0; p < panelCount; p++) {
                    for (int k = 0; k < depth; k++) {
                        Float16 vector = panels.get(p * depth + k);
                        for (int lane = 0; lane < MatrixKernels.LANES; lane++) {
                            int column = p * MatrixKernels.LANES + lane;
                            float expected = column < columns ? matrix[k * columns + column] : 0.0f;
                            assertEquals(expected, vector.get(lane), 0.0f, (rowMajor ? "row-major" : "strided") + " " + depth + "x" + columns
                                    + ": panel " + p + ", k " + k + ", lane " + lane);
                        }
                    }
                }
            }
        }
    }

    private static float[] transpose(float[] matrix, int rows, int columns) {
        float[] result = new float[matrix.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < columns; c++) {
                result[c * rows + r] = matrix[r * columns + c];
            }
        }
        return result;
    }
}
