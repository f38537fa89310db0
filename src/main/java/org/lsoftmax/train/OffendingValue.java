package org.lsoftmax.train;

import java.util.Locale;

/**
 * The first value that made a training step diverge: which tensor, where in it, and the value. Found
 * by plain O(size) scans, cheap next to the matrix products that produced the tensor.
 *
 * @param tensor  e.g. "features", "loss", "gradient of dense1.weight", "update of lsoftmax.weight"
 * @param index   flat index in the tensor (0 for the loss)
 * @param value   the offending value: NaN, an infinity, or a finite change above the policy's limit
 * @param limit   for a finite value, the limit it exceeded; NaN otherwise
 * @param row     row of a batch-major tensor (features and their gradient), else -1
 * @param column  column of that row, else -1
 */
public record OffendingValue(String tensor, int index, double value, double limit, int row, int column) {

    /** The first non-finite value of {@code values[0, length)}, null when all are finite. */
    static OffendingValue firstNonFinite(String tensor, float[] values, int length) {
        for (int i = 0; i < length; i++) {
            if (!Float.isFinite(values[i])) {
                return nonFinite(tensor, i, values[i]);
            }
        }
        return null;
    }

    /** As {@link #firstNonFinite(String, float[], int)} for a rows x columns batch matrix, naming the row. */
    static OffendingValue firstNonFiniteInRows(String tensor, float[] values, int rows, int columns) {
        OffendingValue found = firstNonFinite(tensor, values, rows * columns);
        return found == null ? null : new OffendingValue(tensor, found.index, found.value, Double.NaN,
                found.index / columns, found.index % columns);
    }

    static OffendingValue nonFinite(String tensor, int index, double value) {
        return new OffendingValue(tensor, index, value, Double.NaN, -1, -1);
    }

    static OffendingValue scalar(String tensor, double value) {
        return nonFinite(tensor, 0, value);
    }

    static OffendingValue aboveLimit(String tensor, int index, double value, double limit) {
        return new OffendingValue(tensor, index, value, limit, -1, -1);
    }

    /** "NaN", "Infinity", or e.g. "3.2e+28 (above the limit 1e+06)": the tail of "TENSOR is ...". */
    public String valueText() {
        if (Double.isNaN(value) || Double.isInfinite(value)) {
            return Double.toString(value);
        }
        return String.format(Locale.ROOT, "%.3g (above the limit %.3g)", value, limit);
    }

    /** "features is NaN" */
    public String summary() {
        return tensor + " is " + valueText();
    }
}
