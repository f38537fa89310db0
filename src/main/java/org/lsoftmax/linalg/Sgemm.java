package org.lsoftmax.linalg;

import java.util.Arrays;

/**
 * Multi-threaded float32 matrix products for dense row-major matrices (leading dimension = row
 * length), the three forms a fully-connected layer needs:
 * <ul>
 *   <li>{@link #multiplyABt}: {@code C[m x n] (+)= A[m x k] B[n x k]^T} (forward logits X W^T)</li>
 *   <li>{@link #multiplyAB}:  {@code C[m x n] (+)= A[m x k] B[k x n]}   (dX = G W)</li>
 *   <li>{@link #multiplyAtB}: {@code C[m x n] (+)= A[k x m]^T B[k x n]} (dW = G^T X)</li>
 * </ul>
 *
 * <p>How: B is packed once per call into panels of {@link #NR} columns (k-major inside a panel,
 * zero-padded at the edge; the workers share the packing), then every worker sweeps its part of C in
 * cache blocks of {@code KC x NC} of B and {@code MC x KC} of A with an {@code MR x NR} outer-product
 * micro-kernel ({@link MicroKernel}). A is not packed up front: a row-major A (forms A B^T and A B) is
 * read in place, MR rows at a time (only a partial last row panel is copied, zero-padded); a
 * transposed A (form A^T B) is transposed block by block into the worker's own {@code MC x KC}
 * buffer (128 KiB, stays in L2) right before the micro-kernels use it. The output is partitioned across the
 * persistent workers by row or column panels; the reduction dimension k is never split.
 *
 * <p>Determinism: every output element is one chain of fused multiply-adds over p = 0..k-1 in
 * order, started from 0 (or from C when accumulating), whichever thread, tile or cache block
 * computes it. Results are therefore bit-identical for any thread count.
 *
 * <p>One call at a time: the public methods are synchronized.
 */
public final class Sgemm implements MatrixProducts {

    /** Rows of the micro-tile (one broadcast of A per row and k step). */
    static final int MR = MicroKernel.MR;
    /** Columns of the micro-tile: two float vectors. */
    static final int NR = MicroKernel.NR;
    /**
     * Depth of a cache block: the A micro-panel (MR x KC floats = 8 KiB) that the inner loop keeps
     * fixed stays in L1 while the B micro-panels (KC x NR = 32 KiB each) stream from the L2 block.
     * (KC = 128 and KC = 512 with NC = 256 measured no better here.)
     */
    static final int KC = 256;
    /** Rows of A per L2 block (MC x KC floats = 128 KiB). */
    static final int MC = 128;
    /** Columns of B per L2 block (KC x NC floats = 512 KiB of the 1 MiB L2). */
    static final int NC = 512;
    /**
     * Below this many multiply-adds (~20 us on one core) run on the caller: waking a parked worker
     * costs microseconds on an idle machine and up to a scheduler time slice on a busy one.
     */
    static final long SERIAL_MULTIPLY_ADDS = 1L << 21;

    private enum Form { A_BT, A_B, AT_B }

    private final WorkerPool pool;
    private final WorkerPool.Task packTask = this::packShare;
    private final WorkerPool.Task computeTask = this::computeShare;
    /** Per-worker MR x NR scratch tile for edge tiles. */
    private final float[][] edgeTiles;
    /** Per-worker MC x KC buffer for one packed block of A (L2-sized). */
    private final float[][] packedABlocks;

    private float[] packedB = new float[0];

    // The operands of the call in progress (published to the workers by WorkerPool.run).
    private Form form;
    private float[] a;
    private float[] b;
    private float[] c;
    private int m;
    private int n;
    private int k;
    private boolean accumulate;
    private int rowPanels;
    private int columnPanels;
    private boolean splitRows;

    /**
     * @param threads worker threads including the caller's, 0 = one per available core
     *                ({@link WorkerPool#resolveThreads}); they live until {@link #close()}
     */
    public Sgemm(int threads) {
        if (threads < 0) {
            throw new IllegalArgumentException("Sgemm needs threads >= 0 (0 = one per core), got " + threads);
        }
        threads = WorkerPool.resolveThreads(threads);
        this.pool = new WorkerPool(threads, "sgemm");
        this.edgeTiles = new float[threads][MR * NR];
        this.packedABlocks = new float[threads][MC * KC];
    }

    public int threads() {
        return pool.size();
    }

    /** The persistent workers, for callers that parallelise their own row loops between products (the jvm pass). */
    public WorkerPool workers() {
        return pool;
    }

    /** {@code C[m x n] (+)= A[m x k] * B[n x k]^T}. */
    @Override
    public synchronized void multiplyABt(float[] a, float[] b, float[] c, int m, int n, int k, boolean accumulate) {
        run(Form.A_BT, a, b, c, m, n, k, accumulate);
    }

    /** {@code C[m x n] (+)= A[m x k] * B[k x n]}. */
    @Override
    public synchronized void multiplyAB(float[] a, float[] b, float[] c, int m, int n, int k, boolean accumulate) {
        run(Form.A_B, a, b, c, m, n, k, accumulate);
    }

    /** {@code C[m x n] (+)= A[k x m]^T * B[k x n]}. */
    @Override
    public synchronized void multiplyAtB(float[] a, float[] b, float[] c, int m, int n, int k, boolean accumulate) {
        run(Form.AT_B, a, b, c, m, n, k, accumulate);
    }

    @Override
    public synchronized void close() {
        pool.close();
        packedB = new float[0];
    }

    private void run(Form form, float[] a, float[] b, float[] c, int m, int n, int k, boolean accumulate) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("negative matrix size m=" + m + ", n=" + n + ", k=" + k);
        }
        checkSize("A", a, (long) m * k);
        checkSize("B", b, (long) n * k);
        checkSize("C", c, (long) m * n);
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            if (!accumulate) {
                Arrays.fill(c, 0, m * n, 0.0f);
            }
            return;
        }
        this.form = form;
        this.a = a;
        this.b = b;
        this.c = c;
        this.m = m;
        this.n = n;
        this.k = k;
        this.accumulate = accumulate;
        this.rowPanels = (m + MR - 1) / MR;
        this.columnPanels = (n + NR - 1) / NR;
        this.splitRows = rowPanels >= columnPanels || rowPanels >= 4 * pool.size();
        ensurePackCapacity((long) columnPanels * NR * k);
        try {
            if ((long) m * n * k < SERIAL_MULTIPLY_ADDS || pool.size() == 1) {
                packShare(0, 1);
                computeShare(0, 1);
            } else {
                pool.run(packTask);
                pool.run(computeTask);
            }
        } finally {
            this.a = null;
            this.b = null;
            this.c = null;
        }
    }

    private static void checkSize(String name, float[] array, long needed) {
        if (array == null || array.length < needed) {
            throw new IllegalArgumentException(name + " must hold at least " + needed + " floats, got "
                    + (array == null ? "null" : array.length));
        }
    }

    private void ensurePackCapacity(long bFloats) {
        if (bFloats > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("matrices too large to pack: m=" + m + ", n=" + n + ", k=" + k);
        }
        if (packedB.length < bFloats) {
            packedB = new float[(int) bFloats];
        }
    }

    // ---- packing -------------------------------------------------------------------------------

    /** Packs this worker's share of the B column panels. */
    private void packShare(int worker, int workers) {
        int bFrom = shareStart(columnPanels, worker, workers);
        int bTo = shareStart(columnPanels, worker + 1, workers);
        for (int panel = bFrom; panel < bTo; panel++) {
            if (form == Form.A_BT) {
                // B' = B^T: column j of B' is row j of B
                Packing.packRowMajorRows(b, n, k, panel * NR, NR, packedB, panel * NR * k);
            } else {
                Packing.packColumnMajorRows(b, n, k, panel * NR, NR, packedB, panel * NR * k);
            }
        }
    }

    // ---- compute -------------------------------------------------------------------------------

    /**
     * C tile (i, j) = sum_p A'(i, p) B'(p, j) for this worker's rectangle of micro-tiles, in cache
     * blocks: for each KC slice of k, for each NC block of columns, for each MC block of rows (A block
     * packed here when A is transposed; else only a partial last row panel), the micro-kernel over
     * NR x MR tiles. loadC is false only on the first slice without accumulate.
     */
    private void computeShare(int worker, int workers) {
        int rowFrom = 0;
        int rowTo = rowPanels;
        int columnFrom = 0;
        int columnTo = columnPanels;
        if (splitRows) {
            rowFrom = shareStart(rowPanels, worker, workers);
            rowTo = shareStart(rowPanels, worker + 1, workers);
        } else {
            columnFrom = shareStart(columnPanels, worker, workers);
            columnTo = shareStart(columnPanels, worker + 1, workers);
        }
        if (rowFrom >= rowTo || columnFrom >= columnTo) {
            return;
        }
        float[] source = a;
        float[] block = packedABlocks[worker];
        float[] pb = packedB;
        float[] out = c;
        float[] edgeTile = edgeTiles[worker];
        boolean transposedA = form == Form.AT_B;
        int rows = m;
        int columns = n;
        int depth = k;
        int fullRowPanels = rows / MR;
        int columnBlock = NC / NR;
        int rowBlock = MC / MR;
        for (int sliceStart = 0; sliceStart < depth; sliceStart += KC) {
            int sliceDepth = Math.min(KC, depth - sliceStart);
            boolean loadC = accumulate || sliceStart > 0;
            for (int jc = columnFrom; jc < columnTo; jc += columnBlock) {
                int jcEnd = Math.min(columnTo, jc + columnBlock);
                for (int ic = rowFrom; ic < rowTo; ic += rowBlock) {
                    int icEnd = Math.min(rowTo, ic + rowBlock);
                    // panels ip of this block that are read from the packed block: all (transposed A) or the partial one
                    int packedFrom = transposedA ? ic : Math.max(ic, fullRowPanels);
                    for (int ip = packedFrom; ip < icEnd; ip++) {
                        Packing.packSliceRows(source, transposedA, rows, depth, ip * MR, MR, sliceStart, sliceDepth,
                                block, (ip - ic) * MR * sliceDepth);
                    }
                    // A micro-panel (MR x KC, 8 KiB) fixed and L1-resident in the inner loop; B micro-panels stream from the L2 block
                    for (int ip = ic; ip < icEnd; ip++) {
                        int row0 = ip * MR;
                        int tileRows = Math.min(MR, rows - row0);
                        float[] aArray = source;
                        int aOffset = row0 * depth + sliceStart;
                        int lda = depth;
                        if (ip >= packedFrom) {
                            aArray = block;
                            aOffset = (ip - ic) * MR * sliceDepth;
                            lda = sliceDepth;
                        }
                        for (int jp = jc; jp < jcEnd; jp++) {
                            int bOffset = jp * NR * depth + sliceStart * NR;
                            int column0 = jp * NR;
                            int tileColumns = Math.min(NR, columns - column0);
                            if (tileColumns == NR && tileRows == MR) {
                                MicroKernel.multiplyRows(aArray, aOffset, lda, pb, bOffset, sliceDepth,
                                        out, row0 * columns + column0, columns, loadC);
                            } else {
                                edgeTile(aArray, aOffset, lda, pb, bOffset, sliceDepth, out, row0, column0,
                                        tileRows, tileColumns, loadC, edgeTile);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * A partial tile at the bottom or right edge: the valid part of C goes through a full MR x NR
     * scratch tile so that the same micro-kernel (hence the same fma chain) computes it.
     */
    private void edgeTile(float[] pa, int aOffset, int lda, float[] pb, int bOffset, int depth, float[] out,
                          int row0, int column0, int tileRows, int tileColumns, boolean loadC, float[] tile) {
        int columns = n;
        if (loadC) {
            for (int r = 0; r < tileRows; r++) {
                System.arraycopy(out, (row0 + r) * columns + column0, tile, r * NR, tileColumns);
            }
        }
        MicroKernel.multiplyRows(pa, aOffset, lda, pb, bOffset, depth, tile, 0, NR, loadC);
        for (int r = 0; r < tileRows; r++) {
            System.arraycopy(tile, r * NR, out, (row0 + r) * columns + column0, tileColumns);
        }
    }

    /** First item of share {@code worker} when {@code items} are split evenly across {@code workers}. */
    private static int shareStart(int items, int worker, int workers) {
        return (int) ((long) items * worker / workers);
    }
}
