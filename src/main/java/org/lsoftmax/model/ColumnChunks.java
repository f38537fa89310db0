package org.lsoftmax.model;

import jdk.incubator.vector.FloatVector;
import org.lsoftmax.linalg.MatrixProducts;
import org.lsoftmax.linalg.Sgemm;
import org.lsoftmax.linalg.WorkerPool;

/**
 * Runs a layer's elementwise sweep over {@code rows x columns} on the products' worker pool (the
 * threads are idle between two products), small sweeps on the caller:
 * <ul>
 *   <li>{@link #run}: in chunks of columns (bounds multiples of the vector length), for the sweeps that
 *       reduce over the rows (the bias gradient, the PReLU slope gradient): each column stays one sum
 *       in row order, the same whichever thread computes it, so results do not depend on the thread
 *       count;</li>
 *   <li>{@link #runRows}: in chunks of rows, for the forward sweeps, so that each thread works on the
 *       rows it just computed in the product before (the pool gives each thread the same share of
 *       every job; a cache line the other core wrote is slow to read on 2 vCPUs).</li>
 * </ul>
 */
final class ColumnChunks {

    /** Below this many elements a sweep runs on the caller (a fork-join would cost about as much). */
    private static final int PARALLEL_ELEMENTS = 1 << 15;
    private static final int LANES = FloatVector.SPECIES_PREFERRED.length();

    /** A sweep over columns {@code [from, to)} of all rows, or rows {@code [from, to)} of all columns. */
    @FunctionalInterface
    interface Sweep {
        void run(int from, int to);
    }

    private final WorkerPool pool;
    private final int columns;
    private final int chunks;
    private Sweep sweep;
    private int sweepRows;
    private final WorkerPool.ChunkTask task = (chunk, worker) -> sweep.run(start(chunk), start(chunk + 1));
    private final WorkerPool.ChunkTask rowTask = (chunk, worker) -> sweep.run(rowStart(chunk), rowStart(chunk + 1));

    /** @param products the layer's products: their worker pool when they are an {@link Sgemm}, else the caller alone */
    ColumnChunks(MatrixProducts products, int columns) {
        this.pool = products instanceof Sgemm sgemm && sgemm.threads() > 1 ? sgemm.workers() : null;
        this.columns = columns;
        int vectors = (columns + LANES - 1) / LANES;
        this.chunks = pool == null ? 1 : Math.max(1, Math.min(vectors, 4 * pool.size()));
    }

    private int start(int chunk) {
        int vectors = (columns + LANES - 1) / LANES;
        return Math.min(columns, (int) ((long) vectors * chunk / chunks) * LANES);
    }

    private int rowStart(int chunk) {
        return (int) ((long) sweepRows * chunk / chunks);
    }

    /** Runs {@code sweep} over rows {@code [0, rows)} in chunks of rows, on the pool when large enough. */
    void runRows(Sweep sweep, int rows) {
        if (pool == null || chunks == 1 || (long) rows * columns < PARALLEL_ELEMENTS) {
            sweep.run(0, rows);
            return;
        }
        this.sweep = sweep;
        this.sweepRows = rows;
        try {
            pool.runChunks(rowTask, chunks);
        } finally {
            this.sweep = null;
        }
    }

    /** Runs {@code sweep} over all columns of {@code rows} rows, in chunks of columns on the pool when large enough. */
    void run(Sweep sweep, int rows) {
        if (pool == null || chunks == 1 || (long) rows * columns < PARALLEL_ELEMENTS) {
            sweep.run(0, columns);
            return;
        }
        this.sweep = sweep;
        try {
            pool.runChunks(task, chunks);
        } finally {
            this.sweep = null;
        }
    }
}
