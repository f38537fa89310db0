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
 * <p>How: C is computed in {@code MR x NR} tiles by an outer-product micro-kernel ({@link MicroKernel})
 * that reads an MR-row panel of A' (k contiguous) and a k-major NR-column panel of B':
 * <ul>
 *   <li>B' is packed once per call into panels of NR columns (k-major inside a panel, zero-padded at the
 *       edge; the workers share the packing; B^T, the forward's W^T, through 16 x 16 blocks transposed
 *       in registers, {@link Packing#packRowMajorRows}). (Reading a row-major B in place instead, with its row
 *       length as the panel stride, was measured: the saved copy was lost again in the micro-kernel,
 *       ~6% slower on every product, as a variable stride keeps C2 from hoisting the bounds checks.)</li>
 *   <li>A' = A (forms A B^T and A B): read in place, MR rows at a time (only a partial last row panel is
 *       copied, zero-padded); A' = A^T (form A^T B): transposed micro-panel by micro-panel into the
 *       worker's own {@code MC x KC} buffer (256 KiB, stays in L2) right before the micro-kernels use it.</li>
 * </ul>
 * The reduction dimension k is cut into equal slices of at most {@link #KC} (784 = 4 x 196, not
 * 3 x 256 + 16: a short last slice would load and store C for a few multiply-adds); inside a slice the
 * A micro-panel stays fixed in L1 while the B micro-panels stream from L2.
 *
 * <p>Work split: the output is cut into chunks of row panels (and, when there are few rows, column
 * panels; with one thread a chunk spans all rows, so each B block is reused by all of them), which the
 * persistent workers and the caller claim dynamically ({@link WorkerPool#runChunks}: each thread its own
 * contiguous block first, so that with every thread running the rows of a batch stay on the core that
 * computed them from one layer to the next); a worker the scheduler runs late costs the call nothing
 * (the others take its chunks). k is never split.
 *
 * <p>Determinism: every output element is one chain of fused multiply-adds over p = 0..k-1 in
 * order, started from 0 (or from C when accumulating), whichever thread, chunk, tile or cache block
 * computes it. Results are therefore bit-identical for any thread count (and equal to
 * {@code c = Math.fma(a(i, p), b(p, j), c)} in a scalar loop, which the tests check).
 *
 * <p>One call at a time: the public methods are synchronized.
 */
public final class Sgemm implements MatrixProducts {

    /** Rows of the micro-tile (one broadcast of A per row and k step). */
    static final int MR = MicroKernel.MR;
    /** Columns of the micro-tile: two float vectors. */
    static final int NR = MicroKernel.NR;
    /**
     * Largest depth of a cache block: the A micro-panel (MR x KC floats = 8 KiB) that the inner loop
     * keeps fixed stays in L1 while the B micro-panels (KC x NR = 32 KiB each) stream from the L2 block.
     * (KC = 128 and KC = 512 with NC = 256 measured no better here.)
     */
    static final int KC = 256;
    /**
     * Most rows of a chunk when A is transposed (MC x KC floats of packed A = 256 KiB; 128 rows, which
     * streams B once more per call, measured ~3% slower on the trunk's dW products).
     */
    static final int MC = 256;
    /** Columns of B per L2 block (KC x NC floats = 512 KiB of the 1 MiB L2). */
    static final int NC = 512;
    /**
     * Below this many multiply-adds (~20 us on one core) run on the caller: waking a parked worker
     * costs microseconds on an idle machine and up to a scheduler time slice on a busy one.
     */
    static final long SERIAL_MULTIPLY_ADDS = 1L << 21;
    /**
     * Chunks per thread that a product is cut into (enough for the others to absorb a late worker; 8
     * measured the same in the training loop, 16 ~15% slower).
     */
    private static final int CHUNKS_PER_THREAD = 4;

    private enum Form { A_BT, A_B, AT_B }

    private final WorkerPool pool;
    private final WorkerPool.ChunkTask packTask = this::packChunk;
    private final WorkerPool.ChunkTask computeTask = this::computeChunk;
    /** Per-worker MR x NR scratch tile for edge tiles. */
    private final float[][] edgeTiles;
    /** Per-worker MC x KC buffer for the packed A micro-panels of one chunk and slice (L2-sized). */
    private final float[][] packedABlocks;

    private float[] packedB = new float[0];
    private boolean closed;

    // The operands of the call in progress (published to the workers by WorkerPool.runChunks).
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
    private int slices;
    private int rowsPerChunk;        // in row panels
    private int columnsPerChunk;     // in column panels
    private int rowChunks;
    private int packChunks;

    /**
     * @param threads worker threads including the caller's, 0 = one per available core
     *                ({@link WorkerPool#resolveThreads}); they live until {@link #close()}
     */
    public Sgemm(int threads) {
        if (threads < 0) {
            throw new IllegalArgumentException("Sgemm needs threads >= 0 (0 = one per core), got " + threads);
        }
        threads = WorkerPool.resolveThreads(threads);
        this.pool = WorkerPool.acquire(threads);
        this.edgeTiles = new float[threads][MR * NR];
        this.packedABlocks = new float[threads][MC * KC];
    }

    public int threads() {
        return pool.size();
    }

    /**
     * The persistent workers (shared by the Sgemm instances of this thread count), for callers that
     * parallelise their own row loops between products (the jvm pass).
     */
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
        if (!closed) {
            closed = true;
            pool.release();
        }
        packedB = new float[0];
    }

    private void run(Form form, float[] a, float[] b, float[] c, int m, int n, int k, boolean accumulate) {
        if (closed) {
            throw new IllegalStateException("Sgemm is closed");
        }
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
        this.slices = (k + KC - 1) / KC;
        boolean serial = (long) m * n * k < SERIAL_MULTIPLY_ADDS || pool.size() == 1;
        int threads = serial ? 1 : pool.size();
        planChunks(threads);
        ensurePackCapacity((long) columnPanels * NR * k);
        this.packChunks = Math.min(columnPanels, CHUNKS_PER_THREAD * threads);
        try {
            if (serial) {
                for (int chunk = 0; chunk < packChunks; chunk++) {
                    packChunk(chunk, 0);
                }
                int chunks = rowChunks * ((columnPanels + columnsPerChunk - 1) / columnsPerChunk);
                for (int chunk = 0; chunk < chunks; chunk++) {
                    computeChunk(chunk, 0);
                }
            } else {
                pool.runChunks(packTask, packChunks);
                pool.runChunks(computeTask, rowChunks * ((columnPanels + columnsPerChunk - 1) / columnsPerChunk));
            }
        } finally {
            this.a = null;
            this.b = null;
            this.c = null;
        }
    }

    /**
     * CHUNKS_PER_THREAD chunks per thread (one with one thread), cut along the rows where they allow it
     * (at most MC rows when A is transposed into the per-worker block); with few row panels the columns
     * are cut too (for A^T B that repacks A once per column chunk, so rows first).
     */
    private void planChunks(int threads) {
        int target = threads == 1 ? 1 : CHUNKS_PER_THREAD * threads;
        int maxRowsPerChunk = form == Form.AT_B ? MC / MR : rowPanels;
        rowsPerChunk = Math.min(maxRowsPerChunk, Math.max(1, (rowPanels + target - 1) / target));
        rowChunks = (rowPanels + rowsPerChunk - 1) / rowsPerChunk;
        int columnChunks = rowChunks >= target ? 1 : Math.min(columnPanels, (target + rowChunks - 1) / rowChunks);
        columnsPerChunk = (columnPanels + columnChunks - 1) / columnChunks;
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

    /** Packs chunk {@code chunk} of the B column panels. */
    private void packChunk(int chunk, int worker) {
        int from = shareStart(columnPanels, chunk, packChunks);
        int to = shareStart(columnPanels, chunk + 1, packChunks);
        for (int panel = from; panel < to; panel++) {
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
     * C tile (i, j) = sum_p A'(i, p) B'(p, j) for the micro-tiles of one chunk (a rectangle of row and
     * column panels), in cache blocks: for each k slice, the chunk's A micro-panels that need packing (A
     * transposed: all, at most MC rows; else the partial last row panel, if the chunk has it) into this
     * worker's block, then for each NC block of columns,
     * for each row panel, the micro-kernel over the column panels. loadC is false only on the first
     * slice without accumulate.
     */
    private void computeChunk(int chunk, int worker) {
        int rowChunk = chunk % rowChunks;
        int columnChunk = chunk / rowChunks;
        int rowFrom = rowChunk * rowsPerChunk;
        int rowTo = Math.min(rowPanels, rowFrom + rowsPerChunk);
        int columnFrom = columnChunk * columnsPerChunk;
        int columnTo = Math.min(columnPanels, columnFrom + columnsPerChunk);
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
        // panels of this chunk read from the packed block: all (transposed A) or the partial one
        int packedFrom = transposedA ? rowFrom : Math.max(rowFrom, fullRowPanels);
        for (int slice = 0; slice < slices; slice++) {
            int sliceStart = shareStart(depth, slice, slices);
            int sliceDepth = shareStart(depth, slice + 1, slices) - sliceStart;
            boolean loadC = accumulate || slice > 0;
            for (int ip = packedFrom; ip < rowTo; ip++) {
                int blockOffset = (ip - packedFrom) * MR * sliceDepth;
                // a transposed A two row panels at a time through 16 x 16 register transposes where it can
                if (transposedA && ip + 1 < Math.min(rowTo, fullRowPanels)
                        && Packing.packTransposedSlicePair(source, rows, ip * MR, sliceStart, sliceDepth, block, blockOffset)) {
                    ip++;
                    continue;
                }
                Packing.packSliceRows(source, transposedA, rows, depth, ip * MR, MR, sliceStart, sliceDepth,
                        block, blockOffset);
            }
            for (int jc = columnFrom; jc < columnTo; jc += columnBlock) {
                int jcEnd = Math.min(columnTo, jc + columnBlock);
                // A micro-panel (MR x KC, 8 KiB) fixed and L1-resident in the inner loop; B micro-panels stream from L2
                for (int ip = rowFrom; ip < rowTo; ip++) {
                    int row0 = ip * MR;
                    int tileRows = Math.min(MR, rows - row0);
                    float[] aArray = source;
                    int aOffset = row0 * depth + sliceStart;
                    int lda = depth;
                    if (ip >= packedFrom) {
                        aArray = block;
                        aOffset = (ip - packedFrom) * MR * sliceDepth;
                        lda = sliceDepth;
                    }
                    for (int jp = jc; jp < jcEnd; jp++) {
                        int column0 = jp * NR;
                        int bOffset = jp * NR * depth + sliceStart * NR;
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

    /** First item of share {@code part} when {@code items} are split evenly into {@code parts}. */
    private static int shareStart(int items, int part, int parts) {
        return (int) ((long) items * part / parts);
    }
}
