package org.lsoftmax.head.jvm;

import org.lsoftmax.head.ClassGroups;
import org.lsoftmax.head.HeadChecks;
import org.lsoftmax.head.HeadOverflowException;
import org.lsoftmax.head.HeadPass;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.MarginLoss;
import org.lsoftmax.head.ShardRows;
import org.lsoftmax.linalg.Sgemm;
import org.lsoftmax.linalg.WorkerPool;
import org.lsoftmax.math.LSoftmaxMath;
import org.lsoftmax.math.MarginMath;

/**
 * The fast JVM pass, structured like mx-lsoftmax: the three N*D*C products run through {@link Sgemm},
 * and the margin touches only the target column, O(N*D) extra work; every loss of the family
 * (docs/DERIVATION.md).
 *
 * <p>Forward: the plain logits {@code P = X' W'^T} where {@code X' = diag(a) X} and
 * {@code W' = diag(b) W} are X and W themselves, or their rows normalised (a_i = s/|x_i|, b_j = 1/|w_j|)
 * for the losses that normalise them (F1): normalising the O(N*D + C*D) operands rather than scaling
 * the O(N*C) logits. Per sample the target entry becomes {@code (beta P_iy + A h(cos theta)) / (1 + beta)}
 * (F2; the dot and the norms recomputed in double from the raw X and W; zero norm: plain logit,
 * docs/DERIVATION.md "Edges"); then one sweep per row: max, log-sum-exp, loss, and
 * {@code G = (softmax - onehot) / N} kept for backward.
 *
 * <p>Backward: {@code dX = diag(a) G W'} and {@code dW = diag(b) G^T X'}, with the radial part removed
 * from a normalised vector's gradient (F13, F14), plus the target-column correction (F15) with
 * {@code s = G_iy / (1 + beta)}; for L-Softmax (L10), (L11):
 * {@code dX_i += s (cross w_y + radial |w_y|/|x_i| x_i)}, {@code dW_y += s (cross x_i + radial |x_i|/|w_y| w_y)}.
 * The dW correction is grouped by class, each class owned by one thread and its samples added in
 * index order, so it is race-free and deterministic.
 *
 * <p>Results are bit-identical for any thread count; per-sample scalar math is in double; nothing is
 * allocated per call. Not thread-safe: one forward/backward at a time.
 */
public final class JvmPass implements HeadPass {

    /** Below this many row elements a row loop runs on the caller: the fork-join would cost more. */
    private static final long SERIAL_ROW_ELEMENTS = 1L << 14;

    private final HeadShape shape;
    private MarginLoss loss;
    private final int margin;
    private final boolean normaliseFeatures;
    private final boolean normaliseWeights;
    private final Sgemm sgemm;
    private final WorkerPool workers;

    // Per-sample values of the most recent forward, in double (indexed by sample i).
    private final double[] xNorm;
    private final double[] wTargetNorm;
    private final double[] crossCoefficient;
    private final double[] radialCoefficient;
    /** The other losses' target corrections (F15): dX_i += s (alphaX w_y + gammaX x_i), dW_y += s (alphaW x_i + gammaW w_y). */
    private final double[] alphaX;
    private final double[] gammaX;
    private final double[] alphaW;
    private final double[] gammaW;
    /** a_i and X' = diag(a) X, for the losses that normalise the features (else unused). */
    private final double[] rowFactor;
    private final float[] scaledX;
    /** b_j and W' = diag(b) W, for the losses that normalise the weights (else unused). */
    private final double[] classFactor;
    private final float[] scaledW;
    private final boolean[] hasAngle;
    private final double[] rowLoss;
    /** {@code G = dLoss/dF}, N x C, written by forward. */
    private final float[] gradientLogits;
    /** G_iy in double (the target entry is a difference close to cancellation). */
    private final double[] targetGradient;
    /** The plain logit w_y.x_i of each target entry as the product computed it, before the margin replaced it (for {@link #predict}). */
    private final float[] plainTargetLogit;
    /** The samples grouped by class, for the dW correction. */
    private final ClassGroups classGroups;
    /** {@code cos(j pi / m)} for j = 1..m-1 ({@link LSoftmaxMath#marginThresholds}). */
    private final double[] marginThresholds;
    /** Per-worker lane scratch for the softmax row sums (padded apart: no false sharing). */
    private final double[][] laneScratch;

    private final WorkerPool.Task featureScalingTask = this::featureScalingShare;
    private final WorkerPool.Task weightScalingTask = this::weightScalingShare;
    private final WorkerPool.Task dxRadialTask = this::dxRadialShare;
    private final WorkerPool.Task dwRadialTask = this::dwRadialShare;
    private final WorkerPool.Task targetTask = this::targetColumnShare;
    private final WorkerPool.Task softmaxTask = this::softmaxShare;
    private final WorkerPool.Task dxCorrectionTask = this::dxCorrectionShare;
    private final WorkerPool.Task dwCorrectionTask = this::dwCorrectionShare;
    private final WorkerPool.Task predictTask = this::predictShare;
    private final WorkerPool.Task shardSoftmaxTask = this::shardSoftmaxShare;
    private final WorkerPool.Task shardGradientTask = this::shardGradientShare;

    // The shard stages (forwardShard / backwardShard): the row maxima and owned target logits of the
    // most recent forwardShard, the rows it writes, the whole head's lse_i backwardShard was given.
    private final float[] shardMax;
    private final double[] shardTargetLogit;
    private ShardRows shardRows;
    private double[] logSumExp;
    /** Whether the most recent forward was a shard stage (then only backwardShard may follow). */
    private boolean shardForward;

    // Operands of the forward/backward in progress (backward reads x, w, labels, beta of the last forward).
    private float[] x;
    private float[] w;
    private int[] labels;
    private double beta;
    private float[] logits;
    private float[] dx;
    private float[] dw;
    /** The logits of the most recent forward (the caller's array) and where predict writes. */
    private float[] lastLogits;
    private int[] predictions;

    /** The L-Softmax head with integer margin m. */
    public JvmPass(HeadShape shape, int margin, int threads) {
        this(shape, MarginLoss.lsoftmax(HeadChecks.checkMargin(margin)), threads);
    }

    public JvmPass(HeadShape shape, MarginLoss loss, int threads) {
        this.shape = shape;
        this.loss = loss;
        this.margin = loss.margin();
        this.normaliseFeatures = loss.kind().normalisesFeatures();
        this.normaliseWeights = loss.kind().normalisesWeights();
        this.sgemm = new Sgemm(threads);
        this.workers = sgemm.workers();
        int n = shape.batch();
        this.xNorm = new double[n];
        this.wTargetNorm = new double[n];
        this.crossCoefficient = new double[n];
        this.radialCoefficient = new double[n];
        this.alphaX = new double[n];
        this.gammaX = new double[n];
        this.alphaW = new double[n];
        this.gammaW = new double[n];
        this.rowFactor = new double[normaliseFeatures ? n : 0];
        this.scaledX = new float[normaliseFeatures ? shape.xSize() : 0];
        this.classFactor = new double[normaliseWeights ? shape.classes() : 0];
        this.scaledW = new float[normaliseWeights ? shape.wSize() : 0];
        this.hasAngle = new boolean[n];
        this.rowLoss = new double[n];
        this.targetGradient = new double[n];
        this.gradientLogits = new float[shape.logitsSize()];
        this.plainTargetLogit = new float[n];
        this.classGroups = new ClassGroups(n, shape.classes());
        this.marginThresholds = LSoftmaxMath.marginThresholds(this.margin);
        this.laneScratch = new double[threads][Math.max(RowOps.SCRATCH_DOUBLES, RowOps.THREE_DOTS_SCRATCH) + 16];
        this.shardMax = new float[n];
        this.shardTargetLogit = new double[n];
    }

    @Override
    public String name() {
        return "jvm";
    }

    @Override
    public String deviceDescription() {
        return "jvm (" + sgemm.threads() + (sgemm.threads() == 1 ? " thread)" : " threads)");
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

    @Override
    public double forward(float[] x, float[] w, int[] labels, double beta, float[] logits) {
        checkForwardInputs(x, w, labels, beta);
        HeadChecks.checkOutput("logits", logits, shape.batch(), shape.classes());
        this.x = x;
        this.w = w;
        this.labels = labels;
        this.beta = beta;
        this.logits = logits;
        this.shardForward = false;
        int n = shape.batch();
        marginLogits();
        runRows(softmaxTask, (long) n * shape.classes());
        this.lastLogits = logits;
        this.logits = null;
        double lossSum = 0.0;
        for (int i = 0; i < n; i++) {
            lossSum += rowLoss[i];
        }
        if (!Double.isFinite(lossSum)) {
            // finite inputs, so an overflow of a logit or the loss: one bad row makes the sum NaN or infinite
            throw HeadOverflowException.ofLoss(lossSum / n, x, w, shape.features());
        }
        return lossSum / n;
    }

    /** (F1), (F2): the operands scaled for the normalising losses, P = X' W'^T, the margin on the target column. */
    private void marginLogits() {
        int n = shape.batch();
        // (F1) P = X' W'^T, with X' = diag(a) X and W' = diag(b) W for the normalising losses
        if (normaliseFeatures) {
            runRows(featureScalingTask, (long) n * shape.features());
        }
        if (normaliseWeights) {
            runRows(weightScalingTask, (long) shape.classes() * shape.features());
        }
        sgemm.multiplyABt(featureOperand(), weightOperand(), logits, n, shape.classes(), shape.features(), false);
        runRows(targetTask, (long) n * shape.features());
    }

    @Override
    public void forwardShard(float[] x, float[] w, int[] localLabels, double beta, float[] logits, ShardRows rows) {
        checkShardInputs(x, w, localLabels, beta);
        HeadChecks.checkOutput("logits", logits, shape.batch(), shape.classes());
        ShardRows.check(rows, shape);
        this.x = x;
        this.w = w;
        this.labels = localLabels;
        this.beta = beta;
        this.logits = logits;
        this.shardForward = true;
        this.shardRows = rows;
        marginLogits();
        runRows(shardSoftmaxTask, (long) shape.batch() * shape.classes());
        this.lastLogits = logits;
        this.logits = null;
        this.shardRows = null;
    }

    @Override
    public void backwardShard(double[] logSumExp, float[] dx, float[] dw) {
        if (x == null) {
            throw new IllegalStateException("backward called before forward");
        }
        requireStage(true);
        HeadChecks.checkLogSumExp(logSumExp, shape);
        HeadChecks.checkOutput("dX", dx, shape.batch(), shape.features());
        HeadChecks.checkOutput("dW", dw, shape.classes(), shape.features());
        this.logSumExp = logSumExp;
        runRows(shardGradientTask, (long) shape.batch() * shape.classes());
        this.logSumExp = null;
        gradients(dx, dw);
    }

    private void requireStage(boolean shard) {
        if (shardForward != shard) {
            throw new IllegalStateException(shard ? "backwardShard needs a forwardShard before it" : "backward needs a forward before it");
        }
    }

    @Override
    public void backward(float[] dx, float[] dw) {
        if (x == null) {
            throw new IllegalStateException("backward called before forward");
        }
        requireStage(false);
        HeadChecks.checkOutput("dX", dx, shape.batch(), shape.features());
        HeadChecks.checkOutput("dW", dw, shape.classes(), shape.features());
        gradients(dx, dw);
    }

    /** dX and dW from G (written by the softmax sweep or rescaled by the shard stage): (F13)-(F15). */
    private void gradients(float[] dx, float[] dw) {
        int n = shape.batch();
        int d = shape.features();
        int c = shape.classes();
        // (F13) dX = G W', dW = G^T X' (L-Softmax: dX = G W, dW = G^T X)
        sgemm.multiplyAB(gradientLogits, weightOperand(), dx, n, d, c, false);
        sgemm.multiplyAtB(gradientLogits, featureOperand(), dw, c, d, n, false);
        this.dx = dx;
        this.dw = dw;
        // (F14) dX_i <- a_i (dX_i - radial part), dW_j <- b_j (dW_j - radial part) for normalised vectors
        if (normaliseFeatures) {
            runRows(dxRadialTask, (long) n * d);
        }
        if (normaliseWeights) {
            runRows(dwRadialTask, (long) c * d);
        }
        classGroups.group(labels);
        runRows(dxCorrectionTask, (long) n * d);
        runRows(dwCorrectionTask, (long) n * d);
        this.dx = null;
        this.dw = null;
    }

    @Override
    public void predict(int[] predictions) {
        if (lastLogits == null) {
            throw new IllegalStateException("predict called before forward");
        }
        HeadChecks.checkLength("predictions", predictions == null ? -1 : predictions.length, shape.batch(), 1);
        this.predictions = predictions;
        runRows(predictTask, (long) shape.batch() * shape.classes());
        this.predictions = null;
    }

    @Override
    public void close() {
        sgemm.close();
        x = null;
        w = null;
        labels = null;
        lastLogits = null;
    }

    /**
     * {@link HeadChecks#checkForwardInputs} in the same order, with the O(N*D + C*D) finite checks
     * vectorised; on a failure the scalar check of HeadChecks finds the index and throws its message.
     */
    private void checkForwardInputs(float[] x, float[] w, int[] labels, double beta) {
        HeadChecks.checkShapesLabelsAndBeta(shape, x == null ? -1 : x.length, w == null ? -1 : w.length, labels, beta);
        if (!RowOps.allFinite(x)) {
            HeadChecks.checkFinite("X", x, shape.features());
        }
        if (!RowOps.allFinite(w)) {
            HeadChecks.checkFinite("W", w, shape.features());
        }
    }

    /** {@link HeadChecks#checkShardInputs} in the same order, with the finite checks vectorised (as {@link #checkForwardInputs}). */
    private void checkShardInputs(float[] x, float[] w, int[] localLabels, double beta) {
        HeadChecks.checkLength("X", x == null ? -1 : x.length, shape.batch(), shape.features());
        HeadChecks.checkLength("W", w == null ? -1 : w.length, shape.classes(), shape.features());
        HeadChecks.checkLocalLabels(localLabels, shape);
        HeadChecks.checkBeta(beta);
        if (!RowOps.allFinite(x)) {
            HeadChecks.checkFinite("X", x, shape.features());
        }
        if (!RowOps.allFinite(w)) {
            HeadChecks.checkFinite("W", w, shape.features());
        }
    }

    private void runRows(WorkerPool.Task task, long elements) {
        if (elements < SERIAL_ROW_ELEMENTS || workers.size() == 1) {
            task.run(0, 1);
        } else {
            workers.run(task);
        }
    }

    private int shareStart(int items, int worker, int workers) {
        return (int) ((long) items * worker / workers);
    }

    /** X' of (F1): X itself, or its rows scaled by a_i = s / |x_i|. */
    private float[] featureOperand() {
        return normaliseFeatures ? scaledX : x;
    }

    /** W' of (F1): W itself, or its rows scaled by b_j = 1 / |w_j|. */
    private float[] weightOperand() {
        return normaliseWeights ? scaledW : w;
    }

    /** a_i = s / |x_i| (0 for a zero row) and X'_i = a_i x_i, for this worker's rows. */
    private void featureScalingShare(int worker, int workerCount) {
        int n = shape.batch();
        int d = shape.features();
        int from = shareStart(n, worker, workerCount);
        int to = shareStart(n, worker + 1, workerCount);
        for (int i = from; i < to; i++) {
            double norm = Math.sqrt(RowOps.dot(x, i * d, x, i * d, d));
            rowFactor[i] = norm > 0.0 ? loss.scale() / norm : 0.0;
            RowOps.scaleInto(x, i * d, rowFactor[i], scaledX, i * d, d);
        }
    }

    /** b_j = 1 / |w_j| (0 for a zero row) and W'_j = b_j w_j, for this worker's classes. */
    private void weightScalingShare(int worker, int workerCount) {
        int c = shape.classes();
        int d = shape.features();
        int from = shareStart(c, worker, workerCount);
        int to = shareStart(c, worker + 1, workerCount);
        for (int j = from; j < to; j++) {
            double norm = Math.sqrt(RowOps.dot(w, j * d, w, j * d, d));
            classFactor[j] = norm > 0.0 ? 1.0 / norm : 0.0;
            RowOps.scaleInto(w, j * d, classFactor[j], scaledW, j * d, d);
        }
    }

    /** (F14) dX_i <- a_i (dX_i - (x_i.dX_i / |x_i|^2) x_i) for this worker's rows. */
    private void dxRadialShare(int worker, int workerCount) {
        int n = shape.batch();
        int d = shape.features();
        int from = shareStart(n, worker, workerCount);
        int to = shareStart(n, worker + 1, workerCount);
        double[] scratch = laneScratch[worker];
        for (int i = from; i < to; i++) {
            RowOps.scaleOrthogonal(dx, i * d, x, i * d, d, rowFactor[i], scratch);
        }
    }

    /** (F14) dW_j <- b_j (dW_j - (w_j.dW_j / |w_j|^2) w_j) for this worker's classes. */
    private void dwRadialShare(int worker, int workerCount) {
        int c = shape.classes();
        int d = shape.features();
        int from = shareStart(c, worker, workerCount);
        int to = shareStart(c, worker + 1, workerCount);
        double[] scratch = laneScratch[worker];
        for (int j = from; j < to; j++) {
            RowOps.scaleOrthogonal(dw, j * d, w, j * d, d, classFactor[j], scratch);
        }
    }

    /**
     * Target column of this worker's rows (F2): cos(theta) = w_y.x / (|w_y||x|) clamped, the margin
     * function h and its slope h', the target logit (beta P_iy + A h) / (1 + beta); also the
     * coefficients backward needs (F15).
     */
    private void targetColumnShare(int worker, int workerCount) {
        int n = shape.batch();
        int d = shape.features();
        int c = shape.classes();
        int from = shareStart(n, worker, workerCount);
        int to = shareStart(n, worker + 1, workerCount);
        double[] dots = laneScratch[worker];
        boolean psiMargin = loss.kind().integerMargin();
        for (int i = from; i < to; i++) {
            int y = labels[i];
            if (y < 0) {
                hasAngle[i] = false; // a shard's row whose class is elsewhere: plain logits, no correction
                continue;
            }
            plainTargetLogit[i] = logits[i * c + y];
            // x.x, w.w and x.w in one pass over the two rows
            RowOps.threeDots(x, i * d, w, y * d, d, dots);
            double xNormValue = Math.sqrt(dots[0]);
            double wNormValue = Math.sqrt(dots[1]);
            xNorm[i] = xNormValue;
            wTargetNorm[i] = wNormValue;
            double normProduct = xNormValue * wNormValue;
            hasAngle[i] = normProduct > 0.0;
            if (!hasAngle[i]) {
                continue; // plain logit and plain gradient (docs/DERIVATION.md, "Edges")
            }
            double dot = dots[2];
            double cosTheta = LSoftmaxMath.clampCos(dot / normProduct);
            double h;
            double slope;
            if (psiMargin) {
                int k = LSoftmaxMath.marginK(cosTheta, marginThresholds);
                h = LSoftmaxMath.psi(cosTheta, margin, k);
                slope = LSoftmaxMath.dPsiDCos(cosTheta, margin, k);
            } else {
                int kind = loss.kind().code();
                h = MarginMath.value(kind, cosTheta, margin, loss.m1(), loss.m2(), loss.m3());
                // (F16) an additive angular margin's slope needs sin(theta) to full accuracy near theta = 0
                double sinTheta = MarginMath.needsAccurateSine(kind, loss.m2())
                        ? MarginMath.sinThetaFromChord(RowOps.unitChord(x, i * d, 1.0 / xNormValue, w, y * d, 1.0 / wNormValue, d, dots))
                        : MarginMath.sinTheta(cosTheta);
                slope = MarginMath.slope(kind, cosTheta, sinTheta, margin, loss.m1(), loss.m2(), loss.m3());
            }
            // cross = h' - 1 and radial = h - c h' (for L-Softmax LSoftmaxMath.crossCoefficient and radialCoefficient,
            // with psi and psi' evaluated once)
            double cross = slope - 1.0;
            double radial = h - cosTheta * slope;
            crossCoefficient[i] = cross;
            radialCoefficient[i] = radial;
            switch (loss.kind()) {
                case LSOFTMAX -> logits[i * c + y] = (float) LSoftmaxMath.targetLogit(dot, normProduct, h, beta);
                case SPHEREFACE -> {
                    double plain = classFactor[y] * dot;
                    logits[i * c + y] = (float) ((beta * plain + xNormValue * h) / (1.0 + beta));
                    alphaX[i] = cross / wNormValue;
                    gammaX[i] = radial / xNormValue;
                    alphaW[i] = cross / wNormValue;
                    gammaW[i] = -cosTheta * cross * xNormValue / (wNormValue * wNormValue);
                }
                default -> {
                    double s = loss.scale();
                    double plain = rowFactor[i] * classFactor[y] * dot;
                    logits[i * c + y] = (float) ((beta * plain + s * h) / (1.0 + beta));
                    alphaX[i] = s * cross / normProduct;
                    gammaX[i] = -s * cosTheta * cross / (xNormValue * xNormValue);
                    alphaW[i] = alphaX[i];
                    gammaW[i] = -s * cosTheta * cross / (wNormValue * wNormValue);
                }
            }
        }
    }

    /**
     * One sweep per row: max_j f_ij, s = sum_j exp(f_ij - max), lse = max + log s,
     * loss_i = lse - f_iy, G_ij = exp(f_ij - max) / (s N) - [j = y_i] / N.
     */
    private void softmaxShare(int worker, int workerCount) {
        int n = shape.batch();
        int c = shape.classes();
        int from = shareStart(n, worker, workerCount);
        int to = shareStart(n, worker + 1, workerCount);
        float[] f = logits;
        float[] g = gradientLogits;
        double[] scratch = laneScratch[worker];
        for (int i = from; i < to; i++) {
            int row = i * c;
            int y = labels[i];
            float max = RowOps.max(f, row, c);
            double sumExp = RowOps.expShiftedAndSum(f, row, max, g, row, c, scratch);
            double logSumExp = max + Math.log(sumExp);
            rowLoss[i] = logSumExp - f[row + y];
            RowOps.scale(g, row, c, (float) (1.0 / (sumExp * n)));
            double targetProbability = Math.exp(f[row + y] - logSumExp);
            targetGradient[i] = (targetProbability - 1.0) / n;
            g[row + y] = (float) targetGradient[i];
        }
    }

    /**
     * The shard forward's sweep per row: max_j f_ij, e_ij = exp(f_ij - max) kept in G (scaled by
     * {@link #shardGradientShare} once the whole head's lse_i is known), s = sum_j e_ij in double lanes, and
     * for an owned target its margin and plain logits.
     */
    private void shardSoftmaxShare(int worker, int workerCount) {
        int n = shape.batch();
        int c = shape.classes();
        int from = shareStart(n, worker, workerCount);
        int to = shareStart(n, worker + 1, workerCount);
        float[] f = logits;
        float[] g = gradientLogits;
        double[] scratch = laneScratch[worker];
        ShardRows rows = shardRows;
        for (int i = from; i < to; i++) {
            int row = i * c;
            int y = labels[i];
            float max = RowOps.max(f, row, c);
            double sumExp = RowOps.expShiftedAndSum(f, row, max, g, row, c, scratch);
            shardMax[i] = max;
            shardTargetLogit[i] = y >= 0 ? f[row + y] : 0.0;
            rows.max()[i] = max;
            rows.sumExp()[i] = sumExp;
            rows.target()[i] = shardTargetLogit[i];
            rows.plainTarget()[i] = y >= 0 ? plainTargetLogit[i] : 0.0f;
        }
    }

    /**
     * G of the shard from the whole head's lse_i: G_ij = e_ij exp(max_i - lse_i) / N, and for an owned
     * target G_iy = (exp(f_iy - lse_i) - 1) / N in double (the difference is close to cancellation).
     */
    private void shardGradientShare(int worker, int workerCount) {
        int n = shape.batch();
        int c = shape.classes();
        int from = shareStart(n, worker, workerCount);
        int to = shareStart(n, worker + 1, workerCount);
        float[] g = gradientLogits;
        for (int i = from; i < to; i++) {
            int row = i * c;
            int y = labels[i];
            RowOps.scale(g, row, c, (float) (Math.exp(shardMax[i] - logSumExp[i]) / n));
            if (y >= 0) {
                targetGradient[i] = (Math.exp(shardTargetLogit[i] - logSumExp[i]) - 1.0) / n;
                g[row + y] = (float) targetGradient[i];
            } else {
                targetGradient[i] = 0.0;
            }
        }
    }

    /**
     * (F15) dX_i += s (alpha w_y + gamma x_i), s = G_iy / (1 + beta), for this worker's rows; for
     * L-Softmax (L10) alpha = cross, gamma = radial |w_y|/|x_i|.
     */
    private void dxCorrectionShare(int worker, int workerCount) {
        int n = shape.batch();
        int d = shape.features();
        int from = shareStart(n, worker, workerCount);
        int to = shareStart(n, worker + 1, workerCount);
        for (int i = from; i < to; i++) {
            if (!hasAngle[i]) {
                continue;
            }
            int y = labels[i];
            double s = targetGradient[i] / (1.0 + beta);
            double alpha;
            double gamma;
            if (loss.kind() == MarginLoss.Kind.LSOFTMAX) {
                alpha = s * crossCoefficient[i];
                gamma = s * radialCoefficient[i] * wTargetNorm[i] / xNorm[i];
            } else {
                alpha = s * alphaX[i];
                gamma = s * gammaX[i];
            }
            RowOps.addTwoScaled(dx, i * d, alpha, w, y * d, gamma, x, i * d, d);
        }
    }

    /**
     * (F15) dW_y += s (alpha x_i + gamma w_y) over the samples of class y in index order (L-Softmax,
     * (L11): alpha = cross, gamma = radial |x_i|/|w_y|); this
     * worker owns the classes whose first sample (in class order) falls in its share of the N samples.
     */
    private void dwCorrectionShare(int worker, int workerCount) {
        int n = shape.batch();
        int d = shape.features();
        int c = shape.classes();
        int from = shareStart(n, worker, workerCount);
        int to = shareStart(n, worker + 1, workerCount);
        int[] classStart = classGroups.classStart();
        int[] samplesByClass = classGroups.samples();
        for (int y = 0; y < c; y++) {
            int first = classStart[y];
            int end = classStart[y + 1];
            if (first == end || first < from || first >= to) {
                continue;
            }
            for (int position = first; position < end; position++) {
                int i = samplesByClass[position];
                if (!hasAngle[i]) {
                    continue;
                }
                double s = targetGradient[i] / (1.0 + beta);
                double alpha;
                double gamma;
                if (loss.kind() == MarginLoss.Kind.LSOFTMAX) {
                    alpha = s * crossCoefficient[i];
                    gamma = s * radialCoefficient[i] * xNorm[i] / wTargetNorm[i];
                } else {
                    alpha = s * alphaW[i];
                    gamma = s * gammaW[i];
                }
                RowOps.addTwoScaled(dw, y * d, alpha, x, i * d, gamma, w, y * d, d);
            }
        }
    }

    /** Plain-logit argmax of this worker's rows: the row's logits with the target entry's plain value put back. */
    private void predictShare(int worker, int workerCount) {
        int n = shape.batch();
        int c = shape.classes();
        int from = shareStart(n, worker, workerCount);
        int to = shareStart(n, worker + 1, workerCount);
        for (int i = from; i < to; i++) {
            predictions[i] = RowOps.argmaxWithReplacement(lastLogits, i * c, c, labels[i], plainTargetLogit[i]);
        }
    }
}
