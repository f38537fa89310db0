package org.lsoftmax.data;

import java.util.Arrays;
import org.lsoftmax.InvalidInputException;

/**
 * An array read from or written to a NumPy {@code .npy} file: its dtype, its C-order shape and its
 * values. Floating-point values are held as double (exact for float32 and float64), integers as long.
 *
 * @param source  where the array came from, for error messages
 * @param dtype   the element type
 * @param shape   the shape, C order ({@code int[0]} for a 0-d scalar)
 * @param doubles values of a float array (null for integer arrays)
 * @param longs   values of an integer array (null for float arrays)
 */
public record NpyArray(String source, NpyDtype dtype, int[] shape, double[] doubles, long[] longs) {

    /** Number of elements: the product of the shape (1 for a 0-d array). */
    public int size() {
        return sizeOf(shape);
    }

    public int rank() {
        return shape.length;
    }

    public String shapeString() {
        return shapeString(shape);
    }

    /**
     * The values as float32, for a float array; a finite float64 value beyond float32's range (it would
     * become an infinity) is refused, naming where it is.
     */
    public float[] toFloats() {
        double[] values = requireFloating();
        float[] result = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            result[i] = (float) values[i];
            if (Float.isInfinite(result[i]) && Double.isFinite(values[i])) {
                String where = shape.length == 2 ? "row " + i / shape[1] + ", column " + i % shape[1] : "index " + i;
                throw new InvalidInputException(source + ": the value " + values[i] + " at " + where
                        + " does not fit float32 (magnitudes up to 3.4e38); read it with a float64 pass (--pass reference)");
            }
        }
        return result;
    }

    /** The values as float64, for a float array. */
    public double[] toDoubles() {
        return requireFloating().clone();
    }

    /** The values as int labels, for an integer array; a value that does not fit an int is refused. */
    public int[] toInts() {
        if (longs == null) {
            throw new InvalidInputException(source + ": expected an integer array (int32 or int64), got dtype " + dtype.descr());
        }
        int[] result = new int[longs.length];
        for (int i = 0; i < longs.length; i++) {
            if (longs[i] < Integer.MIN_VALUE || longs[i] > Integer.MAX_VALUE) {
                throw new InvalidInputException(source + ": value " + longs[i] + " at index " + i + " does not fit a 32-bit int");
            }
            result[i] = (int) longs[i];
        }
        return result;
    }

    /** Refuses the array unless it has the given rank, naming the file and the shape it has. */
    public NpyArray requireRank(int expectedRank, String meaning) {
        if (shape.length != expectedRank) {
            throw new InvalidInputException(source + ": expected a " + expectedRank + "-d array (" + meaning
                    + "), got shape " + shapeString());
        }
        return this;
    }

    private double[] requireFloating() {
        if (doubles == null) {
            throw new InvalidInputException(source + ": expected a float array (float32 or float64), got dtype " + dtype.descr());
        }
        return doubles;
    }

    static int sizeOf(int[] shape) {
        long size = 1;
        for (int dimension : shape) {
            size *= dimension;
        }
        return (int) size;
    }

    static String shapeString(int[] shape) {
        if (shape.length == 1) {
            return "(" + shape[0] + ",)";
        }
        return Arrays.toString(shape).replace('[', '(').replace(']', ')');
    }
}
