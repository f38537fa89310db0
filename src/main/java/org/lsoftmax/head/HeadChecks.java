package org.lsoftmax.head;

import org.lsoftmax.InvalidInputException;
import org.lsoftmax.math.LSoftmaxMath;

/**
 * Input checks shared by every pass, so that bad input fails the same way, with a message naming
 * the value, the row and the column, whichever pass is used. They cost O(N*D + C*D) reads, small
 * next to the O(N*D*C) matrix products.
 */
public final class HeadChecks {

    private HeadChecks() {
    }

    public static int checkMargin(int margin) {
        if (margin < 1 || margin > LSoftmaxMath.MAX_MARGIN) {
            throw new InvalidInputException("margin m must be an integer in [1, " + LSoftmaxMath.MAX_MARGIN + "], got " + margin);
        }
        return margin;
    }

    /** A new loss for a pass: the same kind and integer margin as the pass's own (its buffers and kernels depend on them). */
    public static MarginLoss checkSameKind(MarginLoss current, MarginLoss next) {
        if (next.kind() != current.kind() || next.margin() != current.margin()) {
            throw new IllegalArgumentException("a pass for " + current + " cannot compute " + next
                    + ": only s, m1, m2 and m3 may change between steps");
        }
        return next;
    }

    public static double checkBeta(double beta) {
        if (!(beta >= 0.0) || Double.isInfinite(beta)) {
            throw new InvalidInputException("beta (lambda) must be a finite number >= 0, got " + beta);
        }
        return beta;
    }

    /** Checks array lengths, labels, and that X and W are finite. */
    public static void checkForwardInputs(HeadShape shape, float[] x, float[] w, int[] labels, double beta) {
        checkShapesLabelsAndBeta(shape, x == null ? -1 : x.length, w == null ? -1 : w.length, labels, beta);
        checkFinite("X", x, shape.features());
        checkFinite("W", w, shape.features());
    }

    /** The double-precision twin of {@link #checkForwardInputs(HeadShape, float[], float[], int[], double)}. */
    public static void checkForwardInputs(HeadShape shape, double[] x, double[] w, int[] labels, double beta) {
        checkShapesLabelsAndBeta(shape, x == null ? -1 : x.length, w == null ? -1 : w.length, labels, beta);
        checkFinite("X", x, shape.features());
        checkFinite("W", w, shape.features());
    }

    /**
     * Everything {@code checkForwardInputs} checks but finiteness, in the same order; for passes that
     * scan X and W for non-finite values their own (faster) way and call {@link #checkFinite} on a hit.
     */
    public static void checkShapesLabelsAndBeta(HeadShape shape, int xLength, int wLength, int[] labels, double beta) {
        checkLength("X", xLength, shape.batch(), shape.features());
        checkLength("W", wLength, shape.classes(), shape.features());
        checkLabels(labels, shape);
        checkBeta(beta);
    }

    public static void checkLength(String name, int actualLength, int rows, int columns) {
        long expected = (long) rows * columns;
        if (actualLength != expected) {
            throw new InvalidInputException(name + " must hold " + rows + " x " + columns + " = " + expected
                    + " values, got " + (actualLength < 0 ? "null" : actualLength + " values"));
        }
    }

    public static void checkLabels(int[] labels, HeadShape shape) {
        if (labels == null || labels.length != shape.batch()) {
            throw new InvalidInputException("labels must hold N = " + shape.batch() + " values, got "
                    + (labels == null ? "null" : labels.length));
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= shape.classes()) {
                throw new InvalidInputException("label " + labels[i] + " in row " + i + " is outside [0, "
                        + shape.classes() + ")");
            }
        }
    }

    /**
     * {@link #checkForwardInputs(HeadShape, float[], float[], int[], double)} for a shard stage
     * ({@link HeadPass#forwardShard}): the same checks, with labels in [-1, C) (-1: the sample's class is
     * on another shard).
     */
    public static void checkShardInputs(HeadShape shape, float[] x, float[] w, int[] localLabels, double beta) {
        checkLength("X", x == null ? -1 : x.length, shape.batch(), shape.features());
        checkLength("W", w == null ? -1 : w.length, shape.classes(), shape.features());
        checkLocalLabels(localLabels, shape);
        checkBeta(beta);
        checkFinite("X", x, shape.features());
        checkFinite("W", w, shape.features());
    }

    /** The double-precision twin of {@link #checkShardInputs(HeadShape, float[], float[], int[], double)}. */
    public static void checkShardInputs(HeadShape shape, double[] x, double[] w, int[] localLabels, double beta) {
        checkLength("X", x == null ? -1 : x.length, shape.batch(), shape.features());
        checkLength("W", w == null ? -1 : w.length, shape.classes(), shape.features());
        checkLocalLabels(localLabels, shape);
        checkBeta(beta);
        checkFinite("X", x, shape.features());
        checkFinite("W", w, shape.features());
    }

    /** Local labels of a shard: N values in [-1, C), -1 where the sample's class is on another shard. */
    public static void checkLocalLabels(int[] labels, HeadShape shape) {
        if (labels == null || labels.length != shape.batch()) {
            throw new InvalidInputException("labels must hold N = " + shape.batch() + " values, got "
                    + (labels == null ? "null" : labels.length));
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < -1 || labels[i] >= shape.classes()) {
                throw new InvalidInputException("local label " + labels[i] + " in row " + i + " is outside [-1, "
                        + shape.classes() + ") (-1: the class is on another shard)");
            }
        }
    }

    /** The whole head's lse_i handed to {@link HeadPass#backwardShard}: N finite values. */
    public static void checkLogSumExp(double[] logSumExp, HeadShape shape) {
        if (logSumExp == null || logSumExp.length != shape.batch()) {
            throw new IllegalArgumentException("lse must hold N = " + shape.batch() + " values, got "
                    + (logSumExp == null ? "null" : logSumExp.length));
        }
    }

    public static void checkFinite(String name, float[] values, int columns) {
        for (int index = 0; index < values.length; index++) {
            if (!Float.isFinite(values[index])) {
                throw nonFinite(name, values[index], index, columns);
            }
        }
    }

    public static void checkFinite(String name, double[] values, int columns) {
        for (int index = 0; index < values.length; index++) {
            if (!Double.isFinite(values[index])) {
                throw nonFinite(name, values[index], index, columns);
            }
        }
    }

    private static InvalidInputException nonFinite(String name, double value, int index, int columns) {
        return new InvalidInputException(name + " has a non-finite value " + value + " at row " + (index / columns)
                + ", column " + (index % columns));
    }

    /** Checks an output array's length. */
    public static void checkOutput(String name, float[] out, int rows, int columns) {
        checkLength(name, out == null ? -1 : out.length, rows, columns);
    }
}
