package org.lsoftmax.model;

import java.util.Arrays;

/**
 * The rows of a matrix parameter (rows x {@link #rowLength()} values, row-major) that one training step
 * touches, ascending and distinct: the sampled classes of a class-sharded head with sampled negatives
 * (Partial FC). The optimizer updates those rows' values and momentum and leaves every other row as it
 * is. Filled in place every step (a fixed capacity: no allocation per step).
 */
public final class RowSelection {

    private final int rowLength;
    private final int[] rows;
    private int count;

    public RowSelection(int capacity, int rowLength) {
        if (capacity < 0 || rowLength < 1) {
            throw new IllegalArgumentException("a row selection needs capacity >= 0 and row length >= 1, got " + capacity + ", " + rowLength);
        }
        this.rowLength = rowLength;
        this.rows = new int[capacity];
    }

    /** Sets the selection to {@code sortedRows[0 .. count)}, which must be ascending and distinct. */
    public void set(int[] sortedRows, int count) {
        if (count > rows.length) {
            throw new IllegalArgumentException("a selection of " + count + " rows, capacity " + rows.length);
        }
        for (int k = 1; k < count; k++) {
            if (sortedRows[k] <= sortedRows[k - 1]) {
                throw new IllegalArgumentException("rows must be ascending and distinct: " + sortedRows[k - 1] + ", " + sortedRows[k]);
            }
        }
        System.arraycopy(sortedRows, 0, rows, 0, count);
        this.count = count;
    }

    public int count() {
        return count;
    }

    /** The k-th selected row, k < {@link #count()}. */
    public int row(int k) {
        return rows[k];
    }

    public int rowLength() {
        return rowLength;
    }

    /** The selected rows, a copy. */
    public int[] toArray() {
        return Arrays.copyOf(rows, count);
    }
}
