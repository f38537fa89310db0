package org.lsoftmax.head.reference;

import java.util.Arrays;
import org.lsoftmax.head.HeadChecks;
import org.lsoftmax.head.HeadOverflowException;
import org.lsoftmax.head.HeadPass;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.MarginLoss;
import org.lsoftmax.head.ShardRows;
import org.lsoftmax.math.LSoftmaxMath;
import org.lsoftmax.math.MarginMath;

/**
 * The reference pass: sequential, the simplest readable code, everything in double, every loss of the
 * family (docs/DERIVATION.md). It is the oracle every other pass is tested against, and its double API
 * ({@link #forward(double[], double[], int[], double, double[])}, {@link #backward(double[], double[])})
 * is what the float64 gradient check differentiates.
 *
 * <p>The logits are {@code P_ij = a_i b_j (w_j . x_i)} (F1) with {@code a_i = s / |x_i|} when the loss
 * normalises the features (else 1) and {@code b_j = 1 / |w_j|} when it normalises the weights (else 1),
 * the target entry replaced by {@code (beta P_iy + A h(c)) / (1 + beta)} (F2). Zero norms
 * (docs/DERIVATION.md, "Edges"): a factor 1/|v| of a zero vector is 0, and where the target angle is
 * undefined the target keeps its plain logit and plain gradient. No NaN is ever produced.
 */
public final class ReferencePass implements HeadPass {

    private final HeadShape shape;
    private MarginLoss loss;

    // What backward needs from the most recent forward.
    private double[] x;
    private double[] w;
    private int[] labels;
    private double beta;
    private final double[] probabilities;
    /** The logits of the most recent forward, with the plain logit of each target entry beside them (for {@link #predict}). */
    private final double[] lastLogits;
    private final double[] plainTargetLogit;
    /** Whether the most recent forward was a shard stage (then only {@link #backwardShard} may follow). */
    private boolean shardForward;

    public ReferencePass(HeadShape shape, MarginLoss loss) {
        this.shape = shape;
        this.loss = loss;
        this.probabilities = new double[shape.logitsSize()];
        this.lastLogits = new double[shape.logitsSize()];
        this.plainTargetLogit = new double[shape.batch()];
    }

    /** The L-Softmax head with integer margin m. */
    public ReferencePass(HeadShape shape, int margin) {
        this(shape, MarginLoss.lsoftmax(HeadChecks.checkMargin(margin)));
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
    public MarginLoss loss() {
        return loss;
    }

    @Override
    public void setLoss(MarginLoss newLoss) {
        this.loss = HeadChecks.checkSameKind(loss, newLoss);
    }

    /** a_i: s / |x_i| when the loss normalises the features, else 1; 0 for a zero row. */
    private double[] rowFactors() {
        double[] factors = new double[shape.batch()];
        for (int i = 0; i < factors.length; i++) {
            double xNorm = norm(x, i * shape.features(), shape.features());
            factors[i] = !loss.kind().normalisesFeatures() ? 1.0 : xNorm > 0.0 ? loss.scale() / xNorm : 0.0;
        }
        return factors;
    }

    /** b_j: 1 / |w_j| when the loss normalises the weights, else 1; 0 for a zero row. */
    private double[] classFactors() {
        double[] factors = new double[shape.classes()];
        for (int j = 0; j < factors.length; j++) {
            double wNorm = norm(w, j * shape.features(), shape.features());
            factors[j] = !loss.kind().normalisesWeights() ? 1.0 : wNorm > 0.0 ? 1.0 / wNorm : 0.0;
        }
        return factors;
    }

    /** A, the radius of the target logit (F2): |w_y||x| (lsoftmax), |x| (sphereface), s (the others). */
    private double radius(double xNorm, double wNorm) {
        return switch (loss.kind()) {
            case LSOFTMAX -> xNorm * wNorm;
            case SPHEREFACE -> xNorm;
            default -> loss.scale();
        };
    }

    private double marginValue(double cosTheta) {
        return MarginMath.value(loss.kind().code(), cosTheta, loss.margin(), loss.m1(), loss.m2(), loss.m3());
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
        this.shardForward = false;
        marginLogits(logits);
        // (L5) loss = mean_i (log sum_j exp f_ij - f_iy), with the row maximum subtracted for stability
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

    /**
     * The shard stage of {@link HeadPass#forwardShard} in double: the margin logits of this block of
     * classes (the margin on the targets it owns, {@code labels[i] >= 0}), and per row the maximum, the
     * sum of exp(f - max), and for owned targets the margin and plain target logits (0 elsewhere).
     */
    public void forwardShard(double[] x, double[] w, int[] labels, double beta, double[] logits, double[] rowMax, double[] rowSumExp,
            double[] target, double[] plainTarget) {
        HeadChecks.checkShardInputs(shape, x, w, labels, beta);
        int n = shape.batch();
        int c = shape.classes();
        HeadChecks.checkLength("logits", logits == null ? -1 : logits.length, n, c);
        this.x = x;
        this.w = w;
        this.labels = labels;
        this.beta = beta;
        this.shardForward = true;
        marginLogits(logits);
        for (int i = 0; i < n; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < c; j++) {
                max = Math.max(max, logits[i * c + j]);
            }
            double sumExp = 0.0;
            for (int j = 0; j < c; j++) {
                sumExp += Math.exp(logits[i * c + j] - max);
            }
            rowMax[i] = max;
            rowSumExp[i] = sumExp;
            int y = labels[i];
            target[i] = y >= 0 ? logits[i * c + y] : 0.0;
            plainTarget[i] = y >= 0 ? plainTargetLogit[i] : 0.0;
        }
        System.arraycopy(logits, 0, lastLogits, 0, logits.length);
    }

    /**
     * The shard stage of {@link HeadPass#backwardShard} in double: G_ij = (exp(f_ij - lse_i) - [j = y_i]) / N
     * with the whole head's lse_i, then this block's dW and its part of dX exactly as {@link #backward(double[], double[])}.
     */
    public void backwardShard(double[] logSumExp, double[] dx, double[] dw) {
        if (x == null) {
            throw new IllegalStateException("backward called before forward");
        }
        HeadChecks.checkLogSumExp(logSumExp, shape);
        requireStage(true);
        int n = shape.batch();
        int c = shape.classes();
        double[] g = new double[n * c];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < c; j++) {
                g[i * c + j] = (Math.exp(lastLogits[i * c + j] - logSumExp[i]) - (j == labels[i] ? 1.0 : 0.0)) / n;
            }
        }
        gradients(g, dx, dw);
    }

    /**
     * (F1), (F2): the logits with the margin on the target entry of every row whose label is >= 0 (a
     * shard's rows of other shards' classes keep their plain logits), the plain target logits kept.
     */
    private void marginLogits(double[] logits) {
        int n = shape.batch();
        int d = shape.features();
        int c = shape.classes();
        // (F1) P_ij = a_i b_j (w_j . x_i)
        double[] a = rowFactors();
        double[] b = classFactors();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < c; j++) {
                logits[i * c + j] = a[i] * b[j] * dot(x, i * d, w, j * d, d);
            }
        }
        // (F2) target column: f_iy = (beta P_iy + A h(cos theta)) / (1 + beta)
        for (int i = 0; i < n; i++) {
            int y = labels[i];
            if (y < 0) {
                continue; // a shard's row whose class is elsewhere: plain logits only
            }
            plainTargetLogit[i] = logits[i * c + y];
            double xNorm = norm(x, i * d, d);
            double wNorm = norm(w, y * d, d);
            double normProduct = xNorm * wNorm;
            if (normProduct > 0.0) {
                double cosTheta = LSoftmaxMath.clampCos(dot(x, i * d, w, y * d, d) / normProduct);
                logits[i * c + y] = (beta * logits[i * c + y] + radius(xNorm, wNorm) * marginValue(cosTheta)) / (1.0 + beta);
            }
        }
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
        requireStage(false);

        // (L7) G = dJ/df = (softmax - onehot) / N
        double[] g = new double[n * c];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < c; j++) {
                g[i * c + j] = (probabilities[i * c + j] - (j == labels[i] ? 1.0 : 0.0)) / n;
            }
        }
        gradients(g, dx, dw);
    }

    /** dX and dW from G = dJ/df (N x C): (F13)-(F15), the target corrections of the rows whose label is >= 0. */
    private void gradients(double[] g, double[] dx, double[] dw) {
        int n = shape.batch();
        int d = shape.features();
        int c = shape.classes();
        HeadChecks.checkLength("dX", dx == null ? -1 : dx.length, n, d);
        HeadChecks.checkLength("dW", dw == null ? -1 : dw.length, c, d);
        // (F13) the plain part of every entry: dX = G~ W, dW = G~^T X with G~_ij = a_i b_j G_ij
        Arrays.fill(dx, 0.0);
        Arrays.fill(dw, 0.0);
        double[] a = rowFactors();
        double[] b = classFactors();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < c; j++) {
                double scaled = a[i] * b[j] * g[i * c + j];
                for (int col = 0; col < d; col++) {
                    dx[i * d + col] += scaled * w[j * d + col];
                    dw[j * d + col] += scaled * x[i * d + col];
                }
            }
        }
        // (F14) normalised vectors: the gradient keeps only its part orthogonal to the vector
        if (loss.kind().normalisesFeatures()) {
            for (int i = 0; i < n; i++) {
                removeRadialPart(dx, x, i * d, d);
            }
        }
        if (loss.kind().normalisesWeights()) {
            for (int j = 0; j < c; j++) {
                removeRadialPart(dw, w, j * d, d);
            }
        }
        // (F15) target-column correction, with s = G_iy / (1 + beta), cross = h' - 1, radial = h - c h':
        //   dX_i += s (alpha w_y + gamma x_i),  dW_y += s (alphaW x_i + gammaW w_y)   (coefficients per kind)
        for (int i = 0; i < n; i++) {
            int y = labels[i];
            if (y < 0) {
                continue; // the target is on another shard, which corrects it
            }
            double xNorm = norm(x, i * d, d);
            double wNorm = norm(w, y * d, d);
            if (xNorm == 0.0 || wNorm == 0.0) {
                continue; // plain logit, plain gradient (docs/DERIVATION.md, "Edges")
            }
            double cosTheta = LSoftmaxMath.clampCos(dot(x, i * d, w, y * d, d) / (xNorm * wNorm));
            // (F16) an additive angular margin's slope needs sin(theta) to full accuracy near theta = 0
            double sinTheta = MarginMath.needsAccurateSine(loss.kind().code(), loss.m2())
                    ? MarginMath.sinThetaFromChord(chord(x, i * d, xNorm, w, y * d, wNorm, d)) : MarginMath.sinTheta(cosTheta);
            double slope = MarginMath.slope(loss.kind().code(), cosTheta, sinTheta, loss.margin(), loss.m1(), loss.m2(), loss.m3());
            double cross = slope - 1.0;
            double radial = marginValue(cosTheta) - cosTheta * slope;
            double scale = g[i * c + y] / (1.0 + beta);
            double alpha;
            double gamma;
            double alphaW;
            double gammaW;
            switch (loss.kind()) {
                case LSOFTMAX -> {
                    alpha = cross;
                    gamma = radial * wNorm / xNorm;
                    alphaW = cross;
                    gammaW = radial * xNorm / wNorm;
                }
                case SPHEREFACE -> {
                    alpha = cross / wNorm;
                    gamma = radial / xNorm;
                    alphaW = cross / wNorm;
                    gammaW = -cosTheta * cross * xNorm / (wNorm * wNorm);
                }
                default -> {
                    double s = loss.scale();
                    alpha = s * cross / (xNorm * wNorm);
                    gamma = -s * cosTheta * cross / (xNorm * xNorm);
                    alphaW = alpha;
                    gammaW = -s * cosTheta * cross / (wNorm * wNorm);
                }
            }
            for (int col = 0; col < d; col++) {
                double xValue = x[i * d + col];
                double wValue = w[y * d + col];
                dx[i * d + col] += scale * (alpha * wValue + gamma * xValue);
                dw[y * d + col] += scale * (alphaW * xValue + gammaW * wValue);
            }
        }
    }

    private void requireStage(boolean shard) {
        if (shardForward != shard) {
            throw new IllegalStateException(shard ? "backwardShard needs a forwardShard before it" : "backward needs a forward before it");
        }
    }

    /** {@code gradient_r -= (v_r . gradient_r / |v_r|^2) v_r} for row r at {@code offset} (nothing for a zero row). */
    private static void removeRadialPart(double[] gradient, double[] vectors, int offset, int length) {
        double squaredNorm = dot(vectors, offset, vectors, offset, length);
        if (squaredNorm == 0.0) {
            return;
        }
        double along = dot(vectors, offset, gradient, offset, length) / squaredNorm;
        for (int col = 0; col < length; col++) {
            gradient[offset + col] -= along * vectors[offset + col];
        }
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

    @Override
    public void forwardShard(float[] x, float[] w, int[] localLabels, double beta, float[] logits, ShardRows rows) {
        HeadChecks.checkOutput("logits", logits, shape.batch(), shape.classes());
        ShardRows.check(rows, shape);
        HeadChecks.checkLength("X", x == null ? -1 : x.length, shape.batch(), shape.features());
        HeadChecks.checkLength("W", w == null ? -1 : w.length, shape.classes(), shape.features());
        double[] logits64 = new double[logits.length];
        double[] plain = new double[shape.batch()];
        forwardShard(toDouble(x), toDouble(w), localLabels, beta, logits64, rows.max(), rows.sumExp(), rows.target(), plain);
        copyInto(logits64, logits);
        copyInto(plain, rows.plainTarget());
    }

    @Override
    public void backwardShard(double[] logSumExp, float[] dx, float[] dw) {
        HeadChecks.checkOutput("dX", dx, shape.batch(), shape.features());
        HeadChecks.checkOutput("dW", dw, shape.classes(), shape.features());
        double[] dx64 = new double[dx.length];
        double[] dw64 = new double[dw.length];
        backwardShard(logSumExp, dx64, dw64);
        copyInto(dx64, dx);
        copyInto(dw64, dw);
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

    /** {@code |a/|a| - b/|b||}, the chord between the two unit vectors (F16). */
    private static double chord(double[] a, int aOffset, double aNorm, double[] b, int bOffset, double bNorm, int length) {
        double sum = 0.0;
        for (int col = 0; col < length; col++) {
            double difference = a[aOffset + col] / aNorm - b[bOffset + col] / bNorm;
            sum += difference * difference;
        }
        return Math.sqrt(sum);
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
