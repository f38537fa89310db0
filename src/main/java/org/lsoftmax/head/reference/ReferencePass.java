package org.lsoftmax.head.reference;

import org.lsoftmax.head.HeadChecks;
import org.lsoftmax.head.HeadOverflowException;
import org.lsoftmax.head.HeadPass;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.math.LSoftmaxMath;

/**
 * The reference pass: sequential, the simplest readable code, everything in double. It is the oracle
 * every other pass is tested against, and its double API ({@link #forward(double[], double[], int[], double, double[])},
 * {@link #backward(double[], double[])}) is what the float64 gradient check differentiates.
 *
 * <p>Zero norms (docs/DERIVATION.md, "Edges"): where {@code |x_i| = 0} or {@code |w_{y_i}| = 0} the angle is
 * undefined; the target logit is then the plain {@code w.x} (= 0, also the limit of the margin
 * formula) and its gradient is the plain one. No NaN is ever produced.
 */
public final class ReferencePass implements HeadPass {

    private final HeadShape shape;
    private final int margin;

    // What backward needs from the most recent forward.
    private double[] x;
    private double[] w;
    private int[] labels;
    private double beta;
    private final double[] probabilities;
    /** The logits of the most recent forward, with the plain w_y.x_i of each target entry beside them (for {@link #predict}). */
    private final double[] lastLogits;
    private final double[] plainTargetLogit;

    public ReferencePass(HeadShape shape, int margin) {
        this.shape = shape;
        this.margin = HeadChecks.checkMargin(margin);
        this.probabilities = new double[shape.logitsSize()];
        this.lastLogits = new double[shape.logitsSize()];
        this.plainTargetLogit = new double[shape.batch()];
    }

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public HeadShape shape() {
        return shape;
    }

    @Override
    public int margin() {
        return margin;
    }

    /** Forward in double: writes the margin logits (N*C) and returns the mean cross-entropy loss. */
    public double forward(double[] x, double[] w, int[] labels, double beta, double[] logits) {
        HeadChecks.checkForwardInputs(shape, x, w, labels, beta);
        int n = shape.batch();
        int d = shape.features();
        int c = shape.classes();
        HeadChecks.checkLength("logits", logits == null ? -1 : logits.length, n, c);
        this.x = x;
        this.w = w;
        this.labels = labels;
        this.beta = beta;

        // f_ij = w_j . x_i
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < c; j++) {
                logits[i * c + j] = dot(x, i * d, w, j * d, d);
            }
        }
        // target column: f_iy = (beta w_y.x_i + |w_y||x_i| psi(theta)) / (1 + beta)
        for (int i = 0; i < n; i++) {
            int y = labels[i];
            plainTargetLogit[i] = logits[i * c + y];
            double normProduct = norm(x, i * d, d) * norm(w, y * d, d);
            if (normProduct > 0.0) {
                double dot = logits[i * c + y];
                double cosTheta = LSoftmaxMath.clampCos(dot / normProduct);
                int k = LSoftmaxMath.marginK(cosTheta, margin);
                double psi = LSoftmaxMath.psi(cosTheta, margin, k);
                logits[i * c + y] = LSoftmaxMath.targetLogit(dot, normProduct, psi, beta);
            }
        }
        // loss = mean_i (log sum_j exp f_ij - f_iy), with the row maximum subtracted for stability
        double lossSum = 0.0;
        for (int i = 0; i < n; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < c; j++) {
                max = Math.max(max, logits[i * c + j]);
            }
            double sumExp = 0.0;
            for (int j = 0; j < c; j++) {
                sumExp += Math.exp(logits[i * c + j] - max);
            }
            double logSumExp = max + Math.log(sumExp);
            for (int j = 0; j < c; j++) {
                probabilities[i * c + j] = Math.exp(logits[i * c + j] - logSumExp);
            }
            lossSum += logSumExp - logits[i * c + labels[i]];
        }
        if (!Double.isFinite(lossSum)) {
            throw HeadOverflowException.ofLoss(lossSum / n, x, w, d); // finite inputs: a logit or the loss overflowed
        }
        System.arraycopy(logits, 0, lastLogits, 0, logits.length);
        return lossSum / n;
    }

    /** Backward in double for the most recent double or float forward: writes dL/dX (N*D) and dL/dW (C*D). */
    public void backward(double[] dx, double[] dw) {
        if (x == null) {
            throw new IllegalStateException("backward called before forward");
        }
        int n = shape.batch();
        int d = shape.features();
        int c = shape.classes();
        HeadChecks.checkLength("dX", dx == null ? -1 : dx.length, n, d);
        HeadChecks.checkLength("dW", dw == null ? -1 : dw.length, c, d);

        // G = dJ/df = (softmax - onehot) / N
        double[] g = new double[n * c];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < c; j++) {
                g[i * c + j] = (probabilities[i * c + j] - (j == labels[i] ? 1.0 : 0.0)) / n;
            }
        }
        // plain fully-connected gradients: dX = G W, dW = G^T X
        java.util.Arrays.fill(dx, 0.0);
        java.util.Arrays.fill(dw, 0.0);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < c; j++) {
                double gij = g[i * c + j];
                for (int col = 0; col < d; col++) {
                    dx[i * d + col] += gij * w[j * d + col];
                    dw[j * d + col] += gij * x[i * d + col];
                }
            }
        }
        // target-column correction (docs/DERIVATION.md (L10), (L11)), with s = G_iy / (1 + beta):
        //   dX_i += s (df/dx_i - w_y),  df/dx = psi' w_y + (psi - c psi') |w_y|/|x_i| x_i
        //   dW_y += s (df/dw_y - x_i),  df/dw = psi' x_i + (psi - c psi') |x_i|/|w_y| w_y
        for (int i = 0; i < n; i++) {
            int y = labels[i];
            double xNorm = norm(x, i * d, d);
            double wNorm = norm(w, y * d, d);
            if (xNorm == 0.0 || wNorm == 0.0) {
                continue; // plain logit, plain gradient (docs/DERIVATION.md, "Edges")
            }
            double cosTheta = LSoftmaxMath.clampCos(dot(x, i * d, w, y * d, d) / (xNorm * wNorm));
            int k = LSoftmaxMath.marginK(cosTheta, margin);
            double cross = LSoftmaxMath.crossCoefficient(cosTheta, margin, k);
            double radial = LSoftmaxMath.radialCoefficient(cosTheta, margin, k);
            double scale = g[i * c + y] / (1.0 + beta);
            for (int col = 0; col < d; col++) {
                double xValue = x[i * d + col];
                double wValue = w[y * d + col];
                dx[i * d + col] += scale * (cross * wValue + radial * wNorm / xNorm * xValue);
                dw[y * d + col] += scale * (cross * xValue + radial * xNorm / wNorm * wValue);
            }
        }
    }

    @Override
    public double forward(float[] x, float[] w, int[] labels, double beta, float[] logits) {
        HeadChecks.checkOutput("logits", logits, shape.batch(), shape.classes());
        HeadChecks.checkLength("X", x == null ? -1 : x.length, shape.batch(), shape.features());
        HeadChecks.checkLength("W", w == null ? -1 : w.length, shape.classes(), shape.features());
        double[] logits64 = new double[logits.length];
        double loss = forward(toDouble(x), toDouble(w), labels, beta, logits64);
        copyInto(logits64, logits);
        return loss;
    }

    @Override
    public void backward(float[] dx, float[] dw) {
        HeadChecks.checkOutput("dX", dx, shape.batch(), shape.features());
        HeadChecks.checkOutput("dW", dw, shape.classes(), shape.features());
        double[] dx64 = new double[dx.length];
        double[] dw64 = new double[dw.length];
        backward(dx64, dw64);
        copyInto(dx64, dx);
        copyInto(dw64, dw);
    }

    /** Argmax of the plain logits of the most recent forward: its logits with each target entry's plain value put back. */
    @Override
    public void predict(int[] predictions) {
        if (x == null) {
            throw new IllegalStateException("predict called before forward");
        }
        HeadChecks.checkLength("predictions", predictions == null ? -1 : predictions.length, shape.batch(), 1);
        int c = shape.classes();
        for (int i = 0; i < shape.batch(); i++) {
            int best = 0;
            for (int j = 1; j < c; j++) {
                double value = j == labels[i] ? plainTargetLogit[i] : lastLogits[i * c + j];
                double bestValue = best == labels[i] ? plainTargetLogit[i] : lastLogits[i * c + best];
                if (value > bestValue) {
                    best = j;
                }
            }
            predictions[i] = best;
        }
    }

    @Override
    public void close() {
        x = null;
        w = null;
    }

    private static double dot(double[] a, int aOffset, double[] b, int bOffset, int length) {
        double sum = 0.0;
        for (int col = 0; col < length; col++) {
            sum += a[aOffset + col] * b[bOffset + col];
        }
        return sum;
    }

    private static double norm(double[] a, int offset, int length) {
        return Math.sqrt(dot(a, offset, a, offset, length));
    }

    public static double[] toDouble(float[] values) {
        double[] result = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            result[i] = values[i];
        }
        return result;
    }

    private static void copyInto(double[] source, float[] target) {
        for (int i = 0; i < source.length; i++) {
            target[i] = (float) source[i];
        }
    }
}
