package org.lsoftmax.check;

import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.MarginLoss;
import org.lsoftmax.head.reference.ReferencePass;

/**
 * Checks the reference pass's analytic gradients against central finite differences of its loss,
 * all in float64: {@code dL/dp ~ (L(p + h) - L(p - h)) / 2h} for every entry p of X and W.
 * The error is normwise, {@code max|analytic - numeric| / max|numeric|}, so entries near zero do not
 * dominate.
 */
public final class GradientCheck {

    /** Relative step: h = STEP * max(1, |p|); truncation error ~h^2, rounding ~1e-16/h, both far below 1e-6. */
    public static final double STEP = 1e-5;

    /** Worst relative errors of one check. */
    public record Result(HeadShape shape, MarginLoss loss, double beta, double dxError, double dwError) {
        public double worst() {
            return Math.max(dxError, dwError);
        }
    }

    private GradientCheck() {
    }

    public static Result check(HeadShape shape, int margin, double beta, RandomInputs inputs) {
        return check(shape, MarginLoss.lsoftmax(margin), beta, inputs, STEP);
    }

    public static Result check(HeadShape shape, MarginLoss loss, double beta, RandomInputs inputs) {
        return check(shape, loss, beta, inputs, STEP);
    }

    public static Result check(HeadShape shape, int margin, double beta, RandomInputs inputs, double step) {
        return check(shape, MarginLoss.lsoftmax(margin), beta, inputs, step);
    }

    /**
     * The check with a chosen relative step. psi is C^1 but not C^2 at the branch boundaries, and the
     * combined margins have a corner at their join angle, so a central difference that straddles one
     * errs by O(h): points near one need a smaller h.
     */
    public static Result check(HeadShape shape, MarginLoss loss, double beta, RandomInputs inputs, double step) {
        double[] x = inputs.x().clone();
        double[] w = inputs.w().clone();
        int[] labels = inputs.labels();
        ReferencePass pass = new ReferencePass(shape, loss);
        double[] logits = new double[shape.logitsSize()];
        pass.forward(x, w, labels, beta, logits);
        double[] dx = new double[x.length];
        double[] dw = new double[w.length];
        pass.backward(dx, dw);

        double[] numericDx = numericGradient(pass, x, x, w, labels, beta, logits, step);
        double[] numericDw = numericGradient(pass, w, x, w, labels, beta, logits, step);
        return new Result(shape, loss, beta, relativeError(dx, numericDx), relativeError(dw, numericDw));
    }

    /** Central differences of the loss with respect to every entry of {@code parameter} (x or w, perturbed in place). */
    private static double[] numericGradient(ReferencePass pass, double[] parameter, double[] x, double[] w,
                                            int[] labels, double beta, double[] scratchLogits, double step) {
        double[] gradient = new double[parameter.length];
        for (int p = 0; p < parameter.length; p++) {
            double original = parameter[p];
            double h = step * Math.max(1.0, Math.abs(original));
            parameter[p] = original + h;
            double lossPlus = pass.forward(x, w, labels, beta, scratchLogits);
            parameter[p] = original - h;
            double lossMinus = pass.forward(x, w, labels, beta, scratchLogits);
            parameter[p] = original;
            gradient[p] = (lossPlus - lossMinus) / (2.0 * h);
        }
        return gradient;
    }

    /** Normwise relative error {@code max|actual - expected| / max|expected|} (absolute when expected is all zero). */
    public static double relativeError(double[] actual, double[] expected) {
        double maxDifference = 0.0;
        double maxExpected = 0.0;
        for (int i = 0; i < expected.length; i++) {
            maxDifference = Math.max(maxDifference, Math.abs(actual[i] - expected[i]));
            maxExpected = Math.max(maxExpected, Math.abs(expected[i]));
        }
        if (Double.isNaN(maxDifference)) {
            return Double.POSITIVE_INFINITY;
        }
        return maxExpected == 0.0 ? maxDifference : maxDifference / maxExpected;
    }

    /** The float twin of {@link #relativeError(double[], double[])}, against a float64 expectation. */
    public static double relativeError(float[] actual, double[] expected) {
        double[] widened = new double[actual.length];
        for (int i = 0; i < actual.length; i++) {
            widened[i] = actual[i];
        }
        return relativeError(widened, expected);
    }
}
