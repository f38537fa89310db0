package org.lsoftmax.head.tornado;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The three matrix products of a step, {@code out(r, c) = sum_k A(r, k) B(k, c)}, in two forms chosen
 * by device type ({@link GridSizes#matmulVariant}):
 * <ul>
 *   <li>{@link PanelMatmulKernel#matmulPanels} for CPU devices (PoCL): explicit {@code Float16} vectors, an
 *       outer-product block of 8 rows x 32 columns per work item with all 16 vector accumulators in
 *       registers, B packed into 16-column panels on the host when it is copied anyway. This is the only
 *       shape that PoCL compiles to full-width vector code (docs/TORNADOVM-NOTES.md). Its rows are spelled
 *       out one by one, so that file is generated.</li>
 *   <li>{@link #matmulTiled} for GPUs: 16 x 16 tiles of A and B staged in local memory by a
 *       {@link KernelContext} work-group.</li>
 * </ul>
 * A is read through strides, {@code A(r, k) = a[r * aRowStride + k * aDepthStride]} for a row-major
 * matrix, or in general (panels form) through blocks of 16 rows and 16 columns,
 * {@code a[(r / 16) * aRowPanelStride + (r % 16) * aRowStride + (k / 16) * aDepthPanelStride + (k % 16) * aDepthStride]},
 * so the same kernel serves X W^T, G W and G^T X (the latter from a copy of G in 16-class panels,
 * {@link #panelIndex}, so that it reads A along contiguous runs). Outputs are row-major with padded rows and columns
 * ({@link GridSizes}), so stores need no bounds checks.
 */
public final class MatrixKernels {

    /** Floats in one vector (Float16) and in one packed panel of B. */
    public static final int LANES = 16;
    /** Rows of A per work item of {@link PanelMatmulKernel#matmulPanels}. */
    public static final int BLOCK_ROWS = 8;
    /** Columns of B per work item of {@link PanelMatmulKernel#matmulPanels}: two panels. */
    public static final int BLOCK_COLUMNS = 2 * LANES;
    /** Tile edge of {@link #matmulTiled}; its work-groups are TILE x TILE. */
    public static final int TILE = 16;

    private MatrixKernels() {
    }

    /**
     * Index of element (i, j) of a matrix with {@code rows} rows stored as 16-column panels: panel
     * j / 16 holds its 16 columns of every row, row after row. The softmax kernel writes a second copy
     * of G = dJ/df this way for G^T X, which then reads 8 classes of one sample as 8 contiguous floats
     * and the next sample 64 bytes further: one stream, instead of one 40 KB stride per sample in the
     * row-major G. (G W keeps the row-major G: with panels it would jump 16 * rows floats every 16
     * classes, and measured slower.)
     */
    public static int panelIndex(int i, int j, int rows) {
        return (j >> 4) * (LANES * rows) + i * LANES + (j & 15);
    }

    /**
     * out(r, c) = sum_k A(r, k) B(k, c) with 16 x 16 tiles of A and B in local memory (GPUs): the
     * work-group loads A(rows of the tile, k0..k0+15) and B(k0..k0+15, columns of the tile), waits at
     * a barrier, and each work item adds its 16 products; B(k, c) = b[k * bDepthStride + c * bColumnStride].
     * Dimension 0 runs along columns (coalesced stores). Global size = padded (columns, rows).
     */
    public static void matmulTiled(KernelContext context, FloatArray a, FloatArray b, FloatArray out, int rows, int columns,
            int depth, int aRowStride, int aDepthStride, int bDepthStride, int bColumnStride, int outStride) {
        int localColumn = context.localIdx;
        int localRow = context.localIdy;
        int row = context.groupIdy * TILE + localRow;
        int column = context.groupIdx * TILE + localColumn;
        float[] aTile = context.allocateFloatLocalArray(TILE * TILE);
        float[] bTile = context.allocateFloatLocalArray(TILE * TILE);
        float sum = 0.0f;
        int tiles = (depth + TILE - 1) / TILE;
        for (int t = 0; t < tiles; t++) {
            int aColumn = t * TILE + localColumn;
            int bRow = t * TILE + localRow;
            float aValue = 0.0f;
            if (row < rows && aColumn < depth) {
                aValue = a.get(row * aRowStride + aColumn * aDepthStride);
            }
            float bValue = 0.0f;
            if (bRow < depth && column < columns) {
                bValue = b.get(bRow * bDepthStride + column * bColumnStride);
            }
            aTile[localRow * TILE + localColumn] = aValue;
            bTile[localRow * TILE + localColumn] = bValue;
            context.localBarrier();
            for (int k = 0; k < TILE; k++) {
                sum += aTile[localRow * TILE + k] * bTile[k * TILE + localColumn];
            }
            context.localBarrier();
        }
        out.set(row * outStride + column, sum);
    }
}
