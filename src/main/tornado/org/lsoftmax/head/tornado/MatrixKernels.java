package org.lsoftmax.head.tornado;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.collections.VectorFloat16;
import uk.ac.manchester.tornado.api.types.vectors.Float16;

/**
 * The three matrix products of a step, {@code out(r, c) = sum_k A(r, k) B(k, c)}, in two forms chosen
 * by device type ({@link GridSizes#matmulVariant}):
 * <ul>
 *   <li>{@link #matmulPanels} for CPU devices (PoCL): explicit {@code Float16} vectors, an outer-product
 *       block of 8 rows x 32 columns per work item with all 16 vector accumulators in registers, B
 *       packed into 16-column panels on the host when it is copied anyway. This is the only shape that
 *       PoCL compiles to full-width vector code (see TORNADO-ON-POCL.md).</li>
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
    /** Rows of A per work item of {@link #matmulPanels}. */
    public static final int BLOCK_ROWS = 8;
    /** Columns of B per work item of {@link #matmulPanels}: two panels. */
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
     * out(r, c) = sum_k A(r, k) B(k, c) by outer products: for each k, eight broadcast A(r, k) times the
     * two 16-wide panel vectors B(k, c..c+31). B is packed: {@code bPanels[p * depth + k]} holds
     * B(k, 16p .. 16p+15) (zero past the last column). Rows past {@code rows} read row rows-1 and land
     * in the padding of {@code out} (row stride 32 * panelPairs). The k = 0 term initialises every
     * accumulator with its own value (a shared or empty initial Float16 crashes the TornadoVM compiler).
     * The broadcast is an explicit 16-lane {@code new Float16(v, ..., v)}: only vector x vector
     * {@code Float16.mult} is a TornadoVM intrinsic; {@code mult(Float16, float)} is plain Java and
     * fails to compile inside the k loop.
     */
    public static void matmulPanels(FloatArray a, VectorFloat16 bPanels, FloatArray out, int rows, int depth,
            int aRowStride, int aRowPanelStride, int aDepthStride, int aDepthPanelStride, int rowBlocks, int panelPairs) {
        for (@Parallel int block = 0; block < rowBlocks; block++) {
            for (@Parallel int pair = 0; pair < panelPairs; pair++) {
                int firstRow = block * BLOCK_ROWS;
                int r0 = Math.min(firstRow + 0, rows - 1);
                int a0 = (r0 >> 4) * aRowPanelStride + (r0 & 15) * aRowStride;
                int r1 = Math.min(firstRow + 1, rows - 1);
                int a1 = (r1 >> 4) * aRowPanelStride + (r1 & 15) * aRowStride;
                int r2 = Math.min(firstRow + 2, rows - 1);
                int a2 = (r2 >> 4) * aRowPanelStride + (r2 & 15) * aRowStride;
                int r3 = Math.min(firstRow + 3, rows - 1);
                int a3 = (r3 >> 4) * aRowPanelStride + (r3 & 15) * aRowStride;
                int r4 = Math.min(firstRow + 4, rows - 1);
                int a4 = (r4 >> 4) * aRowPanelStride + (r4 & 15) * aRowStride;
                int r5 = Math.min(firstRow + 5, rows - 1);
                int a5 = (r5 >> 4) * aRowPanelStride + (r5 & 15) * aRowStride;
                int r6 = Math.min(firstRow + 6, rows - 1);
                int a6 = (r6 >> 4) * aRowPanelStride + (r6 & 15) * aRowStride;
                int r7 = Math.min(firstRow + 7, rows - 1);
                int a7 = (r7 >> 4) * aRowPanelStride + (r7 & 15) * aRowStride;
                int lowPanel = 2 * pair * depth;
                int highPanel = lowPanel + depth;
                Float16 bLow = bPanels.get(lowPanel);
                Float16 bHigh = bPanels.get(highPanel);
                float first0 = a.get(a0);
                Float16 splat0 = new Float16(first0, first0, first0, first0, first0, first0, first0, first0, first0, first0, first0, first0, first0, first0, first0, first0);
                float first1 = a.get(a1);
                Float16 splat1 = new Float16(first1, first1, first1, first1, first1, first1, first1, first1, first1, first1, first1, first1, first1, first1, first1, first1);
                float first2 = a.get(a2);
                Float16 splat2 = new Float16(first2, first2, first2, first2, first2, first2, first2, first2, first2, first2, first2, first2, first2, first2, first2, first2);
                float first3 = a.get(a3);
                Float16 splat3 = new Float16(first3, first3, first3, first3, first3, first3, first3, first3, first3, first3, first3, first3, first3, first3, first3, first3);
                float first4 = a.get(a4);
                Float16 splat4 = new Float16(first4, first4, first4, first4, first4, first4, first4, first4, first4, first4, first4, first4, first4, first4, first4, first4);
                float first5 = a.get(a5);
                Float16 splat5 = new Float16(first5, first5, first5, first5, first5, first5, first5, first5, first5, first5, first5, first5, first5, first5, first5, first5);
                float first6 = a.get(a6);
                Float16 splat6 = new Float16(first6, first6, first6, first6, first6, first6, first6, first6, first6, first6, first6, first6, first6, first6, first6, first6);
                float first7 = a.get(a7);
                Float16 splat7 = new Float16(first7, first7, first7, first7, first7, first7, first7, first7, first7, first7, first7, first7, first7, first7, first7, first7);
                Float16 c0Low = Float16.mult(bLow, splat0);
                Float16 c0High = Float16.mult(bHigh, splat0);
                Float16 c1Low = Float16.mult(bLow, splat1);
                Float16 c1High = Float16.mult(bHigh, splat1);
                Float16 c2Low = Float16.mult(bLow, splat2);
                Float16 c2High = Float16.mult(bHigh, splat2);
                Float16 c3Low = Float16.mult(bLow, splat3);
                Float16 c3High = Float16.mult(bHigh, splat3);
                Float16 c4Low = Float16.mult(bLow, splat4);
                Float16 c4High = Float16.mult(bHigh, splat4);
                Float16 c5Low = Float16.mult(bLow, splat5);
                Float16 c5High = Float16.mult(bHigh, splat5);
                Float16 c6Low = Float16.mult(bLow, splat6);
                Float16 c6High = Float16.mult(bHigh, splat6);
                Float16 c7Low = Float16.mult(bLow, splat7);
                Float16 c7High = Float16.mult(bHigh, splat7);
                // k in blocks of 16: A's address is linear in k inside a block (16-column panels of A)
                int depthBlocks = (depth + LANES - 1) / LANES;
                for (int kb = 0; kb < depthBlocks; kb++) {
                  int blockStart = kb * LANES;
                  int blockEnd = Math.min(depth, blockStart + LANES);
                  int aBlock = kb * aDepthPanelStride - blockStart * aDepthStride;
                  for (int k = Math.max(blockStart, 1); k < blockEnd; k++) {
                    int aColumn = aBlock + k * aDepthStride;
                    Float16 low = bPanels.get(lowPanel + k);
                    Float16 high = bPanels.get(highPanel + k);
                    float v0 = a.get(a0 + aColumn);
                    Float16 s0 = new Float16(v0, v0, v0, v0, v0, v0, v0, v0, v0, v0, v0, v0, v0, v0, v0, v0);
                    c0Low = Float16.add(c0Low, Float16.mult(low, s0));
                    c0High = Float16.add(c0High, Float16.mult(high, s0));
                    float v1 = a.get(a1 + aColumn);
                    Float16 s1 = new Float16(v1, v1, v1, v1, v1, v1, v1, v1, v1, v1, v1, v1, v1, v1, v1, v1);
                    c1Low = Float16.add(c1Low, Float16.mult(low, s1));
                    c1High = Float16.add(c1High, Float16.mult(high, s1));
                    float v2 = a.get(a2 + aColumn);
                    Float16 s2 = new Float16(v2, v2, v2, v2, v2, v2, v2, v2, v2, v2, v2, v2, v2, v2, v2, v2);
                    c2Low = Float16.add(c2Low, Float16.mult(low, s2));
                    c2High = Float16.add(c2High, Float16.mult(high, s2));
                    float v3 = a.get(a3 + aColumn);
                    Float16 s3 = new Float16(v3, v3, v3, v3, v3, v3, v3, v3, v3, v3, v3, v3, v3, v3, v3, v3);
                    c3Low = Float16.add(c3Low, Float16.mult(low, s3));
                    c3High = Float16.add(c3High, Float16.mult(high, s3));
                    float v4 = a.get(a4 + aColumn);
                    Float16 s4 = new Float16(v4, v4, v4, v4, v4, v4, v4, v4, v4, v4, v4, v4, v4, v4, v4, v4);
                    c4Low = Float16.add(c4Low, Float16.mult(low, s4));
                    c4High = Float16.add(c4High, Float16.mult(high, s4));
                    float v5 = a.get(a5 + aColumn);
                    Float16 s5 = new Float16(v5, v5, v5, v5, v5, v5, v5, v5, v5, v5, v5, v5, v5, v5, v5, v5);
                    c5Low = Float16.add(c5Low, Float16.mult(low, s5));
                    c5High = Float16.add(c5High, Float16.mult(high, s5));
                    float v6 = a.get(a6 + aColumn);
                    Float16 s6 = new Float16(v6, v6, v6, v6, v6, v6, v6, v6, v6, v6, v6, v6, v6, v6, v6, v6);
                    c6Low = Float16.add(c6Low, Float16.mult(low, s6));
                    c6High = Float16.add(c6High, Float16.mult(high, s6));
                    float v7 = a.get(a7 + aColumn);
                    Float16 s7 = new Float16(v7, v7, v7, v7, v7, v7, v7, v7, v7, v7, v7, v7, v7, v7, v7, v7);
                    c7Low = Float16.add(c7Low, Float16.mult(low, s7));
                    c7High = Float16.add(c7High, Float16.mult(high, s7));
                  }
                }
                int outStride = panelPairs * BLOCK_COLUMNS;
                int o = firstRow * outStride + pair * BLOCK_COLUMNS;
                // lane by lane (a helper method taking a Float16 fails TornadoVM's sketch phase)
                out.set(o + 0 * outStride + 0, c0Low.getS0());
                out.set(o + 0 * outStride + 1, c0Low.getS1());
                out.set(o + 0 * outStride + 2, c0Low.getS2());
                out.set(o + 0 * outStride + 3, c0Low.getS3());
                out.set(o + 0 * outStride + 4, c0Low.getS4());
                out.set(o + 0 * outStride + 5, c0Low.getS5());
                out.set(o + 0 * outStride + 6, c0Low.getS6());
                out.set(o + 0 * outStride + 7, c0Low.getS7());
                out.set(o + 0 * outStride + 8, c0Low.getS8());
                out.set(o + 0 * outStride + 9, c0Low.getS9());
                out.set(o + 0 * outStride + 10, c0Low.getS10());
                out.set(o + 0 * outStride + 11, c0Low.getS11());
                out.set(o + 0 * outStride + 12, c0Low.getS12());
                out.set(o + 0 * outStride + 13, c0Low.getS13());
                out.set(o + 0 * outStride + 14, c0Low.getS14());
                out.set(o + 0 * outStride + 15, c0Low.getS15());
                out.set(o + 0 * outStride + LANES + 0, c0High.getS0());
                out.set(o + 0 * outStride + LANES + 1, c0High.getS1());
                out.set(o + 0 * outStride + LANES + 2, c0High.getS2());
                out.set(o + 0 * outStride + LANES + 3, c0High.getS3());
                out.set(o + 0 * outStride + LANES + 4, c0High.getS4());
                out.set(o + 0 * outStride + LANES + 5, c0High.getS5());
                out.set(o + 0 * outStride + LANES + 6, c0High.getS6());
                out.set(o + 0 * outStride + LANES + 7, c0High.getS7());
                out.set(o + 0 * outStride + LANES + 8, c0High.getS8());
                out.set(o + 0 * outStride + LANES + 9, c0High.getS9());
                out.set(o + 0 * outStride + LANES + 10, c0High.getS10());
                out.set(o + 0 * outStride + LANES + 11, c0High.getS11());
                out.set(o + 0 * outStride + LANES + 12, c0High.getS12());
                out.set(o + 0 * outStride + LANES + 13, c0High.getS13());
                out.set(o + 0 * outStride + LANES + 14, c0High.getS14());
                out.set(o + 0 * outStride + LANES + 15, c0High.getS15());
                out.set(o + 1 * outStride + 0, c1Low.getS0());
                out.set(o + 1 * outStride + 1, c1Low.getS1());
                out.set(o + 1 * outStride + 2, c1Low.getS2());
                out.set(o + 1 * outStride + 3, c1Low.getS3());
                out.set(o + 1 * outStride + 4, c1Low.getS4());
                out.set(o + 1 * outStride + 5, c1Low.getS5());
                out.set(o + 1 * outStride + 6, c1Low.getS6());
                out.set(o + 1 * outStride + 7, c1Low.getS7());
                out.set(o + 1 * outStride + 8, c1Low.getS8());
                out.set(o + 1 * outStride + 9, c1Low.getS9());
                out.set(o + 1 * outStride + 10, c1Low.getS10());
                out.set(o + 1 * outStride + 11, c1Low.getS11());
                out.set(o + 1 * outStride + 12, c1Low.getS12());
                out.set(o + 1 * outStride + 13, c1Low.getS13());
                out.set(o + 1 * outStride + 14, c1Low.getS14());
                out.set(o + 1 * outStride + 15, c1Low.getS15());
                out.set(o + 1 * outStride + LANES + 0, c1High.getS0());
                out.set(o + 1 * outStride + LANES + 1, c1High.getS1());
                out.set(o + 1 * outStride + LANES + 2, c1High.getS2());
                out.set(o + 1 * outStride + LANES + 3, c1High.getS3());
                out.set(o + 1 * outStride + LANES + 4, c1High.getS4());
                out.set(o + 1 * outStride + LANES + 5, c1High.getS5());
                out.set(o + 1 * outStride + LANES + 6, c1High.getS6());
                out.set(o + 1 * outStride + LANES + 7, c1High.getS7());
                out.set(o + 1 * outStride + LANES + 8, c1High.getS8());
                out.set(o + 1 * outStride + LANES + 9, c1High.getS9());
                out.set(o + 1 * outStride + LANES + 10, c1High.getS10());
                out.set(o + 1 * outStride + LANES + 11, c1High.getS11());
                out.set(o + 1 * outStride + LANES + 12, c1High.getS12());
                out.set(o + 1 * outStride + LANES + 13, c1High.getS13());
                out.set(o + 1 * outStride + LANES + 14, c1High.getS14());
                out.set(o + 1 * outStride + LANES + 15, c1High.getS15());
                out.set(o + 2 * outStride + 0, c2Low.getS0());
                out.set(o + 2 * outStride + 1, c2Low.getS1());
                out.set(o + 2 * outStride + 2, c2Low.getS2());
                out.set(o + 2 * outStride + 3, c2Low.getS3());
                out.set(o + 2 * outStride + 4, c2Low.getS4());
                out.set(o + 2 * outStride + 5, c2Low.getS5());
                out.set(o + 2 * outStride + 6, c2Low.getS6());
                out.set(o + 2 * outStride + 7, c2Low.getS7());
                out.set(o + 2 * outStride + 8, c2Low.getS8());
                out.set(o + 2 * outStride + 9, c2Low.getS9());
                out.set(o + 2 * outStride + 10, c2Low.getS10());
                out.set(o + 2 * outStride + 11, c2Low.getS11());
                out.set(o + 2 * outStride + 12, c2Low.getS12());
                out.set(o + 2 * outStride + 13, c2Low.getS13());
                out.set(o + 2 * outStride + 14, c2Low.getS14());
                out.set(o + 2 * outStride + 15, c2Low.getS15());
                out.set(o + 2 * outStride + LANES + 0, c2High.getS0());
                out.set(o + 2 * outStride + LANES + 1, c2High.getS1());
                out.set(o + 2 * outStride + LANES + 2, c2High.getS2());
                out.set(o + 2 * outStride + LANES + 3, c2High.getS3());
                out.set(o + 2 * outStride + LANES + 4, c2High.getS4());
                out.set(o + 2 * outStride + LANES + 5, c2High.getS5());
                out.set(o + 2 * outStride + LANES + 6, c2High.getS6());
                out.set(o + 2 * outStride + LANES + 7, c2High.getS7());
                out.set(o + 2 * outStride + LANES + 8, c2High.getS8());
                out.set(o + 2 * outStride + LANES + 9, c2High.getS9());
                out.set(o + 2 * outStride + LANES + 10, c2High.getS10());
                out.set(o + 2 * outStride + LANES + 11, c2High.getS11());
                out.set(o + 2 * outStride + LANES + 12, c2High.getS12());
                out.set(o + 2 * outStride + LANES + 13, c2High.getS13());
                out.set(o + 2 * outStride + LANES + 14, c2High.getS14());
                out.set(o + 2 * outStride + LANES + 15, c2High.getS15());
                out.set(o + 3 * outStride + 0, c3Low.getS0());
                out.set(o + 3 * outStride + 1, c3Low.getS1());
                out.set(o + 3 * outStride + 2, c3Low.getS2());
                out.set(o + 3 * outStride + 3, c3Low.getS3());
                out.set(o + 3 * outStride + 4, c3Low.getS4());
                out.set(o + 3 * outStride + 5, c3Low.getS5());
                out.set(o + 3 * outStride + 6, c3Low.getS6());
                out.set(o + 3 * outStride + 7, c3Low.getS7());
                out.set(o + 3 * outStride + 8, c3Low.getS8());
                out.set(o + 3 * outStride + 9, c3Low.getS9());
                out.set(o + 3 * outStride + 10, c3Low.getS10());
                out.set(o + 3 * outStride + 11, c3Low.getS11());
                out.set(o + 3 * outStride + 12, c3Low.getS12());
                out.set(o + 3 * outStride + 13, c3Low.getS13());
                out.set(o + 3 * outStride + 14, c3Low.getS14());
                out.set(o + 3 * outStride + 15, c3Low.getS15());
                out.set(o + 3 * outStride + LANES + 0, c3High.getS0());
                out.set(o + 3 * outStride + LANES + 1, c3High.getS1());
                out.set(o + 3 * outStride + LANES + 2, c3High.getS2());
                out.set(o + 3 * outStride + LANES + 3, c3High.getS3());
                out.set(o + 3 * outStride + LANES + 4, c3High.getS4());
                out.set(o + 3 * outStride + LANES + 5, c3High.getS5());
                out.set(o + 3 * outStride + LANES + 6, c3High.getS6());
                out.set(o + 3 * outStride + LANES + 7, c3High.getS7());
                out.set(o + 3 * outStride + LANES + 8, c3High.getS8());
                out.set(o + 3 * outStride + LANES + 9, c3High.getS9());
                out.set(o + 3 * outStride + LANES + 10, c3High.getS10());
                out.set(o + 3 * outStride + LANES + 11, c3High.getS11());
                out.set(o + 3 * outStride + LANES + 12, c3High.getS12());
                out.set(o + 3 * outStride + LANES + 13, c3High.getS13());
                out.set(o + 3 * outStride + LANES + 14, c3High.getS14());
                out.set(o + 3 * outStride + LANES + 15, c3High.getS15());
                out.set(o + 4 * outStride + 0, c4Low.getS0());
                out.set(o + 4 * outStride + 1, c4Low.getS1());
                out.set(o + 4 * outStride + 2, c4Low.getS2());
                out.set(o + 4 * outStride + 3, c4Low.getS3());
                out.set(o + 4 * outStride + 4, c4Low.getS4());
                out.set(o + 4 * outStride + 5, c4Low.getS5());
                out.set(o + 4 * outStride + 6, c4Low.getS6());
                out.set(o + 4 * outStride + 7, c4Low.getS7());
                out.set(o + 4 * outStride + 8, c4Low.getS8());
                out.set(o + 4 * outStride + 9, c4Low.getS9());
                out.set(o + 4 * outStride + 10, c4Low.getS10());
                out.set(o + 4 * outStride + 11, c4Low.getS11());
                out.set(o + 4 * outStride + 12, c4Low.getS12());
                out.set(o + 4 * outStride + 13, c4Low.getS13());
                out.set(o + 4 * outStride + 14, c4Low.getS14());
                out.set(o + 4 * outStride + 15, c4Low.getS15());
                out.set(o + 4 * outStride + LANES + 0, c4High.getS0());
                out.set(o + 4 * outStride + LANES + 1, c4High.getS1());
                out.set(o + 4 * outStride + LANES + 2, c4High.getS2());
                out.set(o + 4 * outStride + LANES + 3, c4High.getS3());
                out.set(o + 4 * outStride + LANES + 4, c4High.getS4());
                out.set(o + 4 * outStride + LANES + 5, c4High.getS5());
                out.set(o + 4 * outStride + LANES + 6, c4High.getS6());
                out.set(o + 4 * outStride + LANES + 7, c4High.getS7());
                out.set(o + 4 * outStride + LANES + 8, c4High.getS8());
                out.set(o + 4 * outStride + LANES + 9, c4High.getS9());
                out.set(o + 4 * outStride + LANES + 10, c4High.getS10());
                out.set(o + 4 * outStride + LANES + 11, c4High.getS11());
                out.set(o + 4 * outStride + LANES + 12, c4High.getS12());
                out.set(o + 4 * outStride + LANES + 13, c4High.getS13());
                out.set(o + 4 * outStride + LANES + 14, c4High.getS14());
                out.set(o + 4 * outStride + LANES + 15, c4High.getS15());
                out.set(o + 5 * outStride + 0, c5Low.getS0());
                out.set(o + 5 * outStride + 1, c5Low.getS1());
                out.set(o + 5 * outStride + 2, c5Low.getS2());
                out.set(o + 5 * outStride + 3, c5Low.getS3());
                out.set(o + 5 * outStride + 4, c5Low.getS4());
                out.set(o + 5 * outStride + 5, c5Low.getS5());
                out.set(o + 5 * outStride + 6, c5Low.getS6());
                out.set(o + 5 * outStride + 7, c5Low.getS7());
                out.set(o + 5 * outStride + 8, c5Low.getS8());
                out.set(o + 5 * outStride + 9, c5Low.getS9());
                out.set(o + 5 * outStride + 10, c5Low.getS10());
                out.set(o + 5 * outStride + 11, c5Low.getS11());
                out.set(o + 5 * outStride + 12, c5Low.getS12());
                out.set(o + 5 * outStride + 13, c5Low.getS13());
                out.set(o + 5 * outStride + 14, c5Low.getS14());
                out.set(o + 5 * outStride + 15, c5Low.getS15());
                out.set(o + 5 * outStride + LANES + 0, c5High.getS0());
                out.set(o + 5 * outStride + LANES + 1, c5High.getS1());
                out.set(o + 5 * outStride + LANES + 2, c5High.getS2());
                out.set(o + 5 * outStride + LANES + 3, c5High.getS3());
                out.set(o + 5 * outStride + LANES + 4, c5High.getS4());
                out.set(o + 5 * outStride + LANES + 5, c5High.getS5());
                out.set(o + 5 * outStride + LANES + 6, c5High.getS6());
                out.set(o + 5 * outStride + LANES + 7, c5High.getS7());
                out.set(o + 5 * outStride + LANES + 8, c5High.getS8());
                out.set(o + 5 * outStride + LANES + 9, c5High.getS9());
                out.set(o + 5 * outStride + LANES + 10, c5High.getS10());
                out.set(o + 5 * outStride + LANES + 11, c5High.getS11());
                out.set(o + 5 * outStride + LANES + 12, c5High.getS12());
                out.set(o + 5 * outStride + LANES + 13, c5High.getS13());
                out.set(o + 5 * outStride + LANES + 14, c5High.getS14());
                out.set(o + 5 * outStride + LANES + 15, c5High.getS15());
                out.set(o + 6 * outStride + 0, c6Low.getS0());
                out.set(o + 6 * outStride + 1, c6Low.getS1());
                out.set(o + 6 * outStride + 2, c6Low.getS2());
                out.set(o + 6 * outStride + 3, c6Low.getS3());
                out.set(o + 6 * outStride + 4, c6Low.getS4());
                out.set(o + 6 * outStride + 5, c6Low.getS5());
                out.set(o + 6 * outStride + 6, c6Low.getS6());
                out.set(o + 6 * outStride + 7, c6Low.getS7());
                out.set(o + 6 * outStride + 8, c6Low.getS8());
                out.set(o + 6 * outStride + 9, c6Low.getS9());
                out.set(o + 6 * outStride + 10, c6Low.getS10());
                out.set(o + 6 * outStride + 11, c6Low.getS11());
                out.set(o + 6 * outStride + 12, c6Low.getS12());
                out.set(o + 6 * outStride + 13, c6Low.getS13());
                out.set(o + 6 * outStride + 14, c6Low.getS14());
                out.set(o + 6 * outStride + 15, c6Low.getS15());
                out.set(o + 6 * outStride + LANES + 0, c6High.getS0());
                out.set(o + 6 * outStride + LANES + 1, c6High.getS1());
                out.set(o + 6 * outStride + LANES + 2, c6High.getS2());
                out.set(o + 6 * outStride + LANES + 3, c6High.getS3());
                out.set(o + 6 * outStride + LANES + 4, c6High.getS4());
                out.set(o + 6 * outStride + LANES + 5, c6High.getS5());
                out.set(o + 6 * outStride + LANES + 6, c6High.getS6());
                out.set(o + 6 * outStride + LANES + 7, c6High.getS7());
                out.set(o + 6 * outStride + LANES + 8, c6High.getS8());
                out.set(o + 6 * outStride + LANES + 9, c6High.getS9());
                out.set(o + 6 * outStride + LANES + 10, c6High.getS10());
                out.set(o + 6 * outStride + LANES + 11, c6High.getS11());
                out.set(o + 6 * outStride + LANES + 12, c6High.getS12());
                out.set(o + 6 * outStride + LANES + 13, c6High.getS13());
                out.set(o + 6 * outStride + LANES + 14, c6High.getS14());
                out.set(o + 6 * outStride + LANES + 15, c6High.getS15());
                out.set(o + 7 * outStride + 0, c7Low.getS0());
                out.set(o + 7 * outStride + 1, c7Low.getS1());
                out.set(o + 7 * outStride + 2, c7Low.getS2());
                out.set(o + 7 * outStride + 3, c7Low.getS3());
                out.set(o + 7 * outStride + 4, c7Low.getS4());
                out.set(o + 7 * outStride + 5, c7Low.getS5());
                out.set(o + 7 * outStride + 6, c7Low.getS6());
                out.set(o + 7 * outStride + 7, c7Low.getS7());
                out.set(o + 7 * outStride + 8, c7Low.getS8());
                out.set(o + 7 * outStride + 9, c7Low.getS9());
                out.set(o + 7 * outStride + 10, c7Low.getS10());
                out.set(o + 7 * outStride + 11, c7Low.getS11());
                out.set(o + 7 * outStride + 12, c7Low.getS12());
                out.set(o + 7 * outStride + 13, c7Low.getS13());
                out.set(o + 7 * outStride + 14, c7Low.getS14());
                out.set(o + 7 * outStride + 15, c7Low.getS15());
                out.set(o + 7 * outStride + LANES + 0, c7High.getS0());
                out.set(o + 7 * outStride + LANES + 1, c7High.getS1());
                out.set(o + 7 * outStride + LANES + 2, c7High.getS2());
                out.set(o + 7 * outStride + LANES + 3, c7High.getS3());
                out.set(o + 7 * outStride + LANES + 4, c7High.getS4());
                out.set(o + 7 * outStride + LANES + 5, c7High.getS5());
                out.set(o + 7 * outStride + LANES + 6, c7High.getS6());
                out.set(o + 7 * outStride + LANES + 7, c7High.getS7());
                out.set(o + 7 * outStride + LANES + 8, c7High.getS8());
                out.set(o + 7 * outStride + LANES + 9, c7High.getS9());
                out.set(o + 7 * outStride + LANES + 10, c7High.getS10());
                out.set(o + 7 * outStride + LANES + 11, c7High.getS11());
                out.set(o + 7 * outStride + LANES + 12, c7High.getS12());
                out.set(o + 7 * outStride + LANES + 13, c7High.getS13());
                out.set(o + 7 * outStride + LANES + 14, c7High.getS14());
                out.set(o + 7 * outStride + LANES + 15, c7High.getS15());
            }
        }
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
