package org.lsoftmax.head.tornado;

import static org.lsoftmax.head.tornado.KernelHarness.assertClose;
import static org.lsoftmax.head.tornado.KernelHarness.block;
import static org.lsoftmax.head.tornado.KernelHarness.gaussian;
import static org.lsoftmax.head.tornado.KernelHarness.runOnce;

import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.tornado.GridSizes.MatmulVariant;
import org.lsoftmax.testing.Seeds;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.collections.VectorFloat16;

/**
 * Both matrix-product kernels on the device against a plain triple loop in double, in the two ways the
 * head calls them: A row-major (X W^T) and A read down its columns (G^T X), on sizes that are
 * multiples of no block (8 x 32), tile (16) or panel (16).
 */
class MatrixKernelsTest {

    private static final int ROWS = 45;
    private static final int DEPTH = 37;
    private static final int COLUMNS = 53;

    @BeforeEach
    void requireRuntime() {
        KernelHarness.requireRuntime();
    }

    /** out(r, c) = sum_k A(r, k) B(k, c), A(r, k) = a[r * rowStride + k * depthStride], B(k, c) = b[c * depth + k] (B^T row-major). */
    private static double[] expected(FloatArray a, int rowStride, int depthStride, float[] bTransposed, int outStride, int outRows) {
        double[] out = new double[outRows * outStride];
        for (int r = 0; r < ROWS; r++) {
            for (int c = 0; c < COLUMNS; c++) {
                double sum = 0.0;
                for (int k = 0; k < DEPTH; k++) {
                    sum += (double) a.get(r * rowStride + k * depthStride) * bTransposed[c * DEPTH + k];
                }
                out[r * outStride + c] = sum;
            }
        }
        return out;
    }

    private static float[] randomMatrix(int size, Random random) {
        float[] values = new float[size];
        for (int i = 0; i < size; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }

    @Test
    void panelKernelMultipliesRowMajorA() {
        Random random = new Random(Seeds.draw());
        GridSizes grid = new GridSizes(new HeadShape(ROWS, DEPTH, COLUMNS), MatmulVariant.PANELS, 16);
        FloatArray a = gaussian(ROWS * DEPTH, random, 1.0);
        float[] bTransposed = randomMatrix(COLUMNS * DEPTH, random); // like W: row c is column c of B
        VectorFloat16 panels = new VectorFloat16(grid.paddedClasses / MatrixKernels.LANES * DEPTH);
        HostCopies.packPanels(bTransposed, DEPTH, COLUMNS, 1, DEPTH, panels, new float[panels.getLength() * MatrixKernels.LANES]);
        int stride = grid.paddedClasses;
        FloatArray out = new FloatArray(grid.paddedBatch * stride);
        runOnce("panels", new Object[] {a, panels}, graph -> graph.task("panels", PanelMatmulKernel::matmulPanels, a, panels, out, ROWS, DEPTH,
                DEPTH, 16 * DEPTH, 1, 16, GridSizes.rowBlocks(grid.paddedBatch), GridSizes.panelPairs(stride)),
                grid.matmul(grid.paddedBatch, stride), out);
        assertClose(expected(a, DEPTH, 1, bTransposed, stride, grid.paddedBatch), out, block(ROWS, COLUMNS, stride), 1e-5, 0.0,
                "panels, A row-major");
    }

    /** A stored transposed (depth x rows, like G for G^T X): A(r, k) = a[k * ROWS + r], read in 16 x 16 blocks. */
    @Test
    void panelKernelMultipliesTransposedA() {
        Random random = new Random(Seeds.draw());
        GridSizes grid = new GridSizes(new HeadShape(ROWS, DEPTH, COLUMNS), MatmulVariant.PANELS, 16);
        FloatArray a = gaussian(DEPTH * ROWS, random, 1.0);
        float[] bTransposed = randomMatrix(COLUMNS * DEPTH, random);
        VectorFloat16 panels = new VectorFloat16(grid.paddedClasses / MatrixKernels.LANES * DEPTH);
        HostCopies.packPanels(bTransposed, DEPTH, COLUMNS, 1, DEPTH, panels, new float[panels.getLength() * MatrixKernels.LANES]);
        int stride = grid.paddedClasses;
        FloatArray out = new FloatArray(grid.paddedBatch * stride);
        runOnce("panelsT", new Object[] {a, panels}, graph -> graph.task("panelsT", PanelMatmulKernel::matmulPanels, a, panels, out, ROWS,
                DEPTH, 1, 16, ROWS, 16 * ROWS, GridSizes.rowBlocks(grid.paddedBatch), GridSizes.panelPairs(stride)),
                grid.matmul(grid.paddedBatch, stride), out);
        assertClose(expected(a, 1, ROWS, bTransposed, stride, grid.paddedBatch), out, block(ROWS, COLUMNS, stride), 1e-5, 0.0,
                "panels, A transposed");
    }

    @Test
    void tiledKernelMultipliesInLocalMemoryTiles() {
        Random random = new Random(Seeds.draw());
        GridSizes grid = new GridSizes(new HeadShape(ROWS, DEPTH, COLUMNS), MatmulVariant.TILED, 16);
        FloatArray a = gaussian(ROWS * DEPTH, random, 1.0);
        FloatArray b = gaussian(COLUMNS * DEPTH, random, 1.0); // B(k, c) = b[c * DEPTH + k]
        float[] bTransposed = new float[COLUMNS * DEPTH];
        for (int i = 0; i < bTransposed.length; i++) {
            bTransposed[i] = b.get(i);
        }
        int stride = grid.paddedClasses;
        FloatArray out = new FloatArray(grid.paddedBatch * stride);
        runOnce("tiled", new Object[] {a, b}, graph -> graph.task("tiled", MatrixKernels::matmulTiled, new KernelContext(), a, b, out, ROWS,
                COLUMNS, DEPTH, DEPTH, 1, 1, DEPTH, stride), grid.matmul(grid.paddedBatch, stride), out);
        assertClose(expected(a, DEPTH, 1, bTransposed, stride, grid.paddedBatch), out, block(ROWS, COLUMNS, stride), 1e-5, 0.0, "tiled");
    }
}
