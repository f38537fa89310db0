package org.lsoftmax.check;

import org.lsoftmax.head.HeadPass;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.MarginLoss;
import org.lsoftmax.head.reference.ReferencePass;

/**
 * The one comparison of a pass against the float64 reference, used by {@code gradcheck} and by every
 * pass test: both run on the same float32-rounded inputs, and each output's error is normwise, judged
 * against the size of what it is made of:
 * <pre>
 *   loss    |L - L_ref| / max(|L_ref|, 1)
 *   logits  max|f - f_ref| / max|f_ref|
 *   dX      max|dX - dX_ref| / max(max|dX_ref|, max|W| / N)
 *   dW      max|dW - dW_ref| / max(max|dW_ref|, max|X| / N)
 * </pre>
 * The floors are the size of the terms the output sums ({@code |G_ij| <= 1/N}, so a term of
 * {@code dX = G W} is at most {@code max|W| / N}): a float32 pass is accurate relative to its terms,
 * and where they cancel (two nearly equal class weights, D = 1) the result itself can be far smaller.
 * The loss is a mean of O(1) log-sum-exps; below 1 its error is judged absolutely.
 */
public final class PassComparison {

    private PassComparison() {
    }

    /** What one forward + backward produced, widened to double. */
    public record Outputs(double loss, double[] logits, double[] dx, double[] dw) {
    }

    /** The normwise errors of one pass against the reference (see the class comment). */
    public record Errors(double loss, double logits, double dx, double dw) {

        public double worst() {
            return Math.max(Math.max(loss, logits), Math.max(dx, dw));
        }

        @Override
        public String toString() {
            return String.format(java.util.Locale.ROOT, "loss %.2e, logits %.2e, dX %.2e, dW %.2e", loss, logits, dx, dw);
        }
    }

    /** The reference's outputs, in float64, for the float32 inputs widened exactly. */
    public static Outputs reference(HeadShape shape, int margin, double beta, float[] x, float[] w, int[] labels) {
        return reference(shape, MarginLoss.lsoftmax(margin), beta, x, w, labels);
    }

    /** The reference's outputs for {@code loss}, in float64, for the float32 inputs widened exactly. */
    public static Outputs reference(HeadShape shape, MarginLoss loss, double beta, float[] x, float[] w, int[] labels) {
        ReferencePass reference = new ReferencePass(shape, loss);
        double[] logits = new double[shape.logitsSize()];
        double[] dx = new double[shape.xSize()];
        double[] dw = new double[shape.wSize()];
        double lossValue = reference.forward(ReferencePass.toDouble(x), ReferencePass.toDouble(w), labels, beta, logits);
        reference.backward(dx, dw);
        return new Outputs(lossValue, logits, dx, dw);
    }

    /** One forward and backward of {@code pass}. */
    public static Outputs run(HeadPass pass, double beta, float[] x, float[] w, int[] labels) {
        HeadShape shape = pass.shape();
        float[] logits = new float[shape.logitsSize()];
        float[] dx = new float[shape.xSize()];
        float[] dw = new float[shape.wSize()];
        double loss = pass.forward(x, w, labels, beta, logits);
        pass.backward(dx, dw);
        return new Outputs(loss, ReferencePass.toDouble(logits), ReferencePass.toDouble(dx), ReferencePass.toDouble(dw));
    }

    /** {@code pass} against the reference on the same inputs. */
    public static Errors compare(HeadPass pass, double beta, float[] x, float[] w, int[] labels) {
        Outputs expected = reference(pass.shape(), pass.loss(), beta, x, w, labels);
        return errors(pass.shape(), expected, run(pass, beta, x, w, labels), x, w);
    }

    /** The errors of {@code actual} against {@code expected} for inputs x (N x D) and w (C x D). */
    public static Errors errors(HeadShape shape, Outputs expected, Outputs actual, float[] x, float[] w) {
        int batch = shape.batch();
        double lossError = Math.abs(actual.loss() - expected.loss()) / Math.max(Math.abs(expected.loss()), 1.0);
        if (Double.isNaN(lossError)) {
            lossError = Double.POSITIVE_INFINITY;
        }
        return new Errors(lossError, normwise(actual.logits(), expected.logits(), 0.0),
                normwise(actual.dx(), expected.dx(), maxAbs(w) / batch),
                normwise(actual.dw(), expected.dw(), maxAbs(x) / batch));
    }

    /** {@code max|actual - expected| / max(max|expected|, floor)}; infinity for a NaN, absolute when both are 0. */
    public static double normwise(double[] actual, double[] expected, double floor) {
        double maxDifference = 0.0;
        double maxExpected = floor;
        for (int i = 0; i < expected.length; i++) {
            double difference = Math.abs(actual[i] - expected[i]);
            if (Double.isNaN(difference)) {
                return Double.POSITIVE_INFINITY;
            }
            maxDifference = Math.max(maxDifference, difference);
            maxExpected = Math.max(maxExpected, Math.abs(expected[i]));
        }
        return maxExpected == 0.0 ? maxDifference : maxDifference / maxExpected;
    }

    private static double maxAbs(float[] values) {
        double max = 0.0;
        for (float value : values) {
            max = Math.max(max, Math.abs(value));
        }
        return max;
    }
}
