package org.lsoftmax.head.tornado;

import org.lsoftmax.head.HeadShape;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.WorkerGrid2D;
import uk.ac.manchester.tornado.api.WorkerGrid;

/**
 * Every padded size and every work grid of the head, in one place. Outputs of the matrix products
 * have rows and columns padded to multiples of {@value #PAD}, which both matrix kernels' blocks divide
 * (8 x 32 outer-product blocks, 16 x 16 tiles), so no kernel store needs a bounds check. Global sizes
 * are rounded up to a multiple of the local size; TornadoVM then runs the @Parallel loops to the
 * global size, so the kernels take that extent as their loop bound and check the real size inside.
 */
final class GridSizes {

    /** Padding of the matrix-product outputs (rows and columns). */
    static final int PAD = 32;

    enum MatmulVariant { PANELS, TILED }

    final MatmulVariant matmulVariant;
    final int paddedBatch;
    final int paddedClasses;
    final int paddedFeatures;
    private final HeadShape shape;
    private final int localSize;

    GridSizes(HeadShape shape, MatmulVariant matmulVariant, int localSize) {
        this.shape = shape;
        this.matmulVariant = matmulVariant;
        this.localSize = localSize;
        this.paddedBatch = roundUp(shape.batch(), PAD);
        this.paddedClasses = roundUp(shape.classes(), PAD);
        this.paddedFeatures = roundUp(shape.features(), PAD);
    }

    static int roundUp(int value, int multiple) {
        return (value + multiple - 1) / multiple * multiple;
    }

    /** Row blocks of {@link PanelMatmulKernel#matmulPanels} over {@code paddedRows} rows. */
    static int rowBlocks(int paddedRows) {
        return paddedRows / MatrixKernels.BLOCK_ROWS;
    }

    /** Panel pairs of {@link PanelMatmulKernel#matmulPanels} over {@code paddedColumns} columns. */
    static int panelPairs(int paddedColumns) {
        return paddedColumns / MatrixKernels.BLOCK_COLUMNS;
    }

    /** The grid of a matrix product writing a {@code paddedRows x paddedColumns} output. */
    WorkerGrid matmul(int paddedRows, int paddedColumns) {
        if (matmulVariant == MatmulVariant.TILED) {
            WorkerGrid2D grid = new WorkerGrid2D(paddedColumns, paddedRows);
            grid.setLocalWork(MatrixKernels.TILE, MatrixKernels.TILE, 1);
            return grid;
        }
        // one work item per 8 x 32 block; 4 row blocks per work-group (rowBlocks is a multiple of 4)
        WorkerGrid2D grid = new WorkerGrid2D(rowBlocks(paddedRows), panelPairs(paddedColumns));
        grid.setLocalWork(PAD / MatrixKernels.BLOCK_ROWS, 1, 1);
        return grid;
    }

    /** Global size of a row-wise kernel over {@code rows}: whole work-groups (the kernel checks the real size). */
    int rowsExtent(int rows) {
        return roundUp(rows, localSize);
    }

    /** One work item per row of {@code rows}. */
    WorkerGrid rows(int rows) {
        WorkerGrid1D grid = new WorkerGrid1D(rowsExtent(rows));
        grid.setLocalWork(localSize, 1, 1);
        return grid;
    }

    /**
     * Work-group width of the element-wise kernels: a whole row of up to {@value #ELEMENT_GROUP} columns
     * (PoCL vectorises across a work-group's items; many tiny work-groups cost more than their work).
     */
    static final int ELEMENT_GROUP = 128;

    private int elementLocal() {
        return Math.min(ELEMENT_GROUP, roundUp(shape.features(), localSize));
    }

    /** Global size along the columns (the features) of an element-wise kernel. */
    int elementColumnsExtent() {
        return roundUp(shape.features(), elementLocal());
    }

    /** Most rows in one work-group of an element-wise kernel. */
    static final int ELEMENT_ROWS = 16;

    /**
     * Rows per work-group of an element-wise kernel over {@code rows} rows: the largest power of two up to
     * {@value #ELEMENT_ROWS} that divides {@code rows} (their row loops run to {@code rows} exactly): fewer,
     * larger work-groups (the dX correction at 256 x 512 in 128 x 16 groups: 0.35 ms; in 1024 groups of
     * 128 x 1: 0.46 ms; docs/TORNADOVM-NOTES.md).
     */
    static int elementRowsPerGroup(int rows) {
        return Math.min(ELEMENT_ROWS, Integer.lowestOneBit(rows));
    }

    /** One work item per element of a {@code rows x features} matrix. */
    WorkerGrid elements(int rows) {
        WorkerGrid2D grid = new WorkerGrid2D(elementColumnsExtent(), rows);
        grid.setLocalWork(elementLocal(), elementRowsPerGroup(rows), 1);
        return grid;
    }

    /** Rows of the dW target correction: one per class present in a batch, at most min(N, C). */
    int presentClassRows() {
        return Math.min(shape.batch(), shape.classes());
    }

    /** The scheduler for every task of the single-pass plan's graph ({@link DevicePlan#STEP}; names as graph.task). */
    GridScheduler scheduler() {
        int n = shape.batch();
        int c = shape.classes();
        String step = DevicePlan.STEP;
        GridScheduler scheduler = new GridScheduler();
        scheduler.addWorkerGrid(step + ".classNorms", rows(c));
        scheduler.addWorkerGrid(step + ".logits", matmul(paddedBatch, paddedClasses));
        scheduler.addWorkerGrid(step + ".marginSoftmax", rows(n));
        scheduler.addWorkerGrid(step + ".gradXMatmul", matmul(paddedBatch, paddedFeatures));
        scheduler.addWorkerGrid(step + ".finishGradX", rows(n));
        scheduler.addWorkerGrid(step + ".gradWMatmul", matmul(paddedClasses, paddedFeatures));
        scheduler.addWorkerGrid(step + ".finishGradW", rows(c));
        return scheduler;
    }

    /** The scheduler of a plan with the shard stages' graphs ({@link DevicePlan#SHARD_FORWARD}, {@link DevicePlan#SHARD_BACKWARD}). */
    GridScheduler shardScheduler() {
        int n = shape.batch();
        int c = shape.classes();
        String forward = DevicePlan.SHARD_FORWARD;
        String backward = DevicePlan.SHARD_BACKWARD;
        GridScheduler scheduler = new GridScheduler();
        scheduler.addWorkerGrid(forward + ".classNorms", rows(c));
        scheduler.addWorkerGrid(forward + ".logits", matmul(paddedBatch, paddedClasses));
        scheduler.addWorkerGrid(forward + ".targetMargin", rows(n));
        scheduler.addWorkerGrid(forward + ".shardSoftmax", rows(n));
        scheduler.addWorkerGrid(backward + ".shardGradient", rows(n));
        scheduler.addWorkerGrid(backward + ".gradXMatmul", matmul(paddedBatch, paddedFeatures));
        scheduler.addWorkerGrid(backward + ".gradXRadial", rows(n));
        scheduler.addWorkerGrid(backward + ".gradXTarget", elements(n));
        scheduler.addWorkerGrid(backward + ".gradWMatmul", matmul(paddedClasses, paddedFeatures));
        scheduler.addWorkerGrid(backward + ".gradWRadial", rows(c));
        scheduler.addWorkerGrid(backward + ".gradWTarget", elements(presentClassRows()));
        return scheduler;
    }
}
