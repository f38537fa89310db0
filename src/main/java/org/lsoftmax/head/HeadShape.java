package org.lsoftmax.head;

import org.lsoftmax.InvalidInputException;

/**
 * The fixed shape of one L-Softmax layer: X is {@code batch x features} (rows are samples),
 * W is {@code classes x features} (row j is the weight of class j), labels are {@code batch} ints.
 * All matrices are flat, row-major arrays.
 */
public record HeadShape(int batch, int features, int classes) {

    public HeadShape {
        if (batch < 1 || features < 1 || classes < 2) {
            throw new InvalidInputException("layer shape must have batch >= 1, features >= 1 and classes >= 2, got N="
                    + batch + ", D=" + features + ", C=" + classes);
        }
        long largest = Math.max((long) batch * classes, Math.max((long) batch * features, (long) classes * features));
        if (largest > Integer.MAX_VALUE - 16) {
            throw new InvalidInputException("layer shape N=" + batch + ", D=" + features + ", C=" + classes
                    + " needs a matrix of " + largest + " elements, more than a Java array can hold");
        }
    }

    public int xSize() {
        return batch * features;
    }

    public int wSize() {
        return classes * features;
    }

    public int logitsSize() {
        return batch * classes;
    }

    /** Floating-point operations of one forward+backward step: three N*D*C matrix products. */
    public double stepFlops() {
        return 6.0 * batch * features * classes;
    }

    @Override
    public String toString() {
        return "(N=" + batch + ", D=" + features + ", C=" + classes + ")";
    }
}
