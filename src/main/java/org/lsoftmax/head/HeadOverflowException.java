package org.lsoftmax.head;

import java.util.Locale;
import org.lsoftmax.InvalidInputException;

/**
 * The logits, the loss or a gradient of a pass overflowed the pass's floating-point range although
 * every input was finite: X and W are too large for its precision (float32 holds magnitudes below
 * 3.4e38, float64 below 1.8e308). Bad input: the message names X and W and their largest values, and
 * the command line prints it as one line with exit code 2. In training it is a diverged step.
 *
 * <p>The passes detect it where it costs nothing: a non-finite mean loss (a row sum the softmax sweep
 * computes anyway) after finite inputs can only come from an overflow; the largest values are only
 * searched for then.
 */
public final class HeadOverflowException extends InvalidInputException {

    private final double loss;

    private HeadOverflowException(String message, double loss) {
        super(message);
        this.loss = loss;
    }

    /** The non-finite loss the pass computed (NaN when a gradient, not the loss, overflowed). */
    public double loss() {
        return loss;
    }

    /** The loss of a float32 pass is {@code loss} (NaN or infinite) for finite X (N x features) and W. */
    public static HeadOverflowException ofLoss(double loss, float[] x, float[] w, int features) {
        return new HeadOverflowException("the logits overflow float32 (the loss is " + loss + "): " + largest("X", x, features)
                + ", " + largest("W", w, features) + ", and each |w_j.x_i| must stay below 3.4e38: scale X or W down, "
                + "or use the float64 reference pass", loss);
    }

    /** The float64 twin of {@link #ofLoss(double, float[], float[], int)}. */
    public static HeadOverflowException ofLoss(double loss, double[] x, double[] w, int features) {
        return new HeadOverflowException("the logits overflow float64 (the loss is " + loss + "): " + largest("X", x, features)
                + ", " + largest("W", w, features) + ", and each |w_j.x_i| must stay below 1.8e308: scale X or W down", loss);
    }

    /** Refuses a float32 output (logits, dX, dW) holding a non-finite value, naming it and the inputs' largest values. */
    public static void requireFinite(String output, float[] values, int columns, float[] x, float[] w, int features) {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw new HeadOverflowException(output + " overflows float32 at row " + i / columns + ", column " + i % columns
                        + " (" + values[i] + "): " + largest("X", x, features) + ", " + largest("W", w, features)
                        + ": scale X or W down, or use the float64 reference pass", Double.NaN);
            }
        }
    }

    /** The float64 twin of {@link #requireFinite(String, float[], int, float[], float[], int)}. */
    public static void requireFinite(String output, double[] values, int columns, double[] x, double[] w, int features) {
        for (int i = 0; i < values.length; i++) {
            if (!Double.isFinite(values[i])) {
                throw new HeadOverflowException(output + " overflows float64 at row " + i / columns + ", column " + i % columns
                        + " (" + values[i] + "): " + largest("X", x, features) + ", " + largest("W", w, features)
                        + ": scale X or W down", Double.NaN);
            }
        }
    }

    private static String largest(String name, float[] values, int columns) {
        int at = 0;
        for (int i = 1; i < values.length; i++) {
            if (Math.abs(values[i]) > Math.abs(values[at])) {
                at = i;
            }
        }
        return describe(name, values.length == 0 ? 0 : values[at], at, columns);
    }

    private static String largest(String name, double[] values, int columns) {
        int at = 0;
        for (int i = 1; i < values.length; i++) {
            if (Math.abs(values[i]) > Math.abs(values[at])) {
                at = i;
            }
        }
        return describe(name, values.length == 0 ? 0 : values[at], at, columns);
    }

    private static String describe(String name, double value, int index, int columns) {
        return String.format(Locale.ROOT, "the largest |%s| is %.3g (row %d, column %d)", name, Math.abs(value),
                index / columns, index % columns);
    }
}
