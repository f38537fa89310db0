package org.lsoftmax.head.tornado;

import org.lsoftmax.head.MarginLoss;
import org.lsoftmax.math.LSoftmaxMath;
import org.lsoftmax.math.MarginMath;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.DoubleArray;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * The head's kernels around the matrix products (see {@link MatrixKernels}), for every loss of the
 * family: norms, the margin on the target logit, the softmax cross-entropy (with the normalising
 * losses' scaling of the logits and of G), the radial parts of normalised vectors' gradients, and the
 * target-column corrections. Per-row scalar math runs in double through {@link MarginMath} and
 * {@link LSoftmaxMath} (TornadoVM inlines them), exactly as in {@link org.lsoftmax.head.reference.ReferencePass};
 * equation numbers refer to docs/DERIVATION.md.
 *
 * <p>The loss arrives in a device array {@code loss} = (kind, m, m1, m2, m3, s) ({@link #lossValues}),
 * never as scalar arguments: TornadoVM specialises scalar arguments into constants and then fails to
 * constant-fold {@code Math.cos} of them ("unable to compute op COS"), e.g. the cos(j pi / m) thresholds
 * of {@link LSoftmaxMath#marginK}.
 *
 * <p>The single-pass step (docs/TORNADOVM-NOTES.md, "The training step") runs the fused kernels
 * {@link #marginSoftmax}, {@link #finishGradX} and {@link #finishGradW}, each the same arithmetic as the
 * kernels it fuses, which the shard stages run one by one.
 *
 * <p>Matrices are flat and row-major. The outputs of the matrix products (logits, dX, dW) have padded
 * rows of {@code stride} floats (see {@link GridSizes}); X and W are dense ({@code features} per row).
 * {@code rowTerms} holds {@value #TERMS_PER_ROW} doubles per sample, written by {@link #targetMargin},
 * scaled by {@link #softmaxCrossEntropy} and read by the target corrections. The factors
 * {@code rowScale} (a_i) and {@code classScale} (b_j) of (F1) are 1 for L-Softmax.
 *
 * <p>With a {@code GridScheduler}, TornadoVM runs a @Parallel loop up to the grid's global size,
 * which is rounded up to whole work-groups ({@link GridSizes}). So those loops run to that
 * {@code grid*} extent and check the real size inside (a check against the loop's own bound would be
 * folded away by the compiler).
 */
public final class LSoftmaxKernels {

    /** Offsets into the per-sample {@code rowTerms}: dX_i += (alpha w_y + gamma x_i), dW_y += (alphaW x_i + gammaW w_y) (F15). */
    static final int TERM_ALPHA_X = 0;
    static final int TERM_GAMMA_X = 1;
    static final int TERM_ALPHA_W = 2;
    static final int TERM_GAMMA_W = 3;
    static final int TERMS_PER_ROW = 4;

    /** Offsets into the device array {@code loss}. */
    static final int LOSS_KIND = 0;
    static final int LOSS_MARGIN = 1;
    static final int LOSS_M1 = 2;
    static final int LOSS_M2 = 3;
    static final int LOSS_M3 = 4;
    static final int LOSS_SCALE = 5;
    static final int LOSS_VALUES = 6;

    private LSoftmaxKernels() {
    }

    /** The device array {@code loss} of a {@link MarginLoss}. */
    static double[] lossValues(MarginLoss loss) {
        return new double[] {loss.kind().code(), loss.margin(), loss.m1(), loss.m2(), loss.m3(), loss.scale()};
    }

    /**
     * |w_j| for every class j, and b_j of (F1): 1 / |w_j| for the losses that normalise the weights
     * (0 for a zero row), else 1 (once per weight upload).
     */
    public static void classNorms(FloatArray w, DoubleArray loss, FloatArray wNorms, FloatArray classScale, int classes, int features,
            int gridClasses) {
        for (@Parallel int j = 0; j < gridClasses; j++) {
            if (j < classes) {
                double sumSquares = 0.0;
                for (int col = 0; col < features; col++) {
                    double value = w.get(j * features + col);
                    sumSquares += value * value;
                }
                double norm = Math.sqrt(sumSquares);
                wNorms.set(j, (float) norm);
                int kind = (int) loss.get(LOSS_KIND);
                float scale = 1.0f;
                if (kind != MarginMath.LSOFTMAX) {
                    scale = norm > 0.0 ? (float) (1.0 / norm) : 0.0f;
                }
                classScale.set(j, scale);
            }
        }
    }

    /**
     * The margin on the target logit, one row per work item (F2): x.x, w_y.w_y and x.w_y in double,
     * cos(theta) = x.w_y / (|x||w_y|) clamped, f_iy <- (beta P_iy + A h(c)) / (1 + beta) with the
     * plain logit P_iy = a_i b_y x.w_y; a_i (s / |x_i| or 1) goes to {@code rowScale}, P_iy to
     * {@code plainTarget} (for predictions). Also the coefficients of the target corrections (F15) in
     * {@code rowTerms}, zero where a norm is zero (then the target keeps its plain logit and plain
     * gradient, docs/DERIVATION.md, "Edges").
     */
    public static void targetMargin(FloatArray x, FloatArray w, IntArray labels, FloatArray classScale, DoubleArray beta, DoubleArray loss,
            FloatArray logits, FloatArray plainTarget, FloatArray rowScale, DoubleArray rowTerms, int batch, int features, int logitStride,
            int gridRows) {
        for (@Parallel int i = 0; i < gridRows; i++) {
            if (i < batch) {
                int kind = (int) loss.get(LOSS_KIND);
                int margin = (int) loss.get(LOSS_MARGIN);
                double m1 = loss.get(LOSS_M1);
                double m2 = loss.get(LOSS_M2);
                double m3 = loss.get(LOSS_M3);
                double s = loss.get(LOSS_SCALE);
                int y = labels.get(i);
                // a shard's row whose class is on another shard (y = -1) reads row 0 and discards what it gives
                int wRow = y >= 0 ? y : 0;
                double xx = 0.0;
                double ww = 0.0;
                double xw = 0.0;
                for (int col = 0; col < features; col++) {
                    double xValue = x.get(i * features + col);
                    double wValue = w.get(wRow * features + col);
                    xx += xValue * xValue;
                    ww += wValue * wValue;
                    xw += xValue * wValue;
                }
                double xNorm = Math.sqrt(xx);
                double wNorm = Math.sqrt(ww);
                double a = 1.0;
                if (kind != MarginMath.LSOFTMAX && kind != MarginMath.SPHEREFACE) {
                    a = xNorm > 0.0 ? s / xNorm : 0.0;
                }
                rowScale.set(i, (float) a);
                double b = classScale.get(wRow);
                double plain = a * b * xw;
                float plainLogit = (float) (a * b * logits.get(i * logitStride + wRow));
                double alphaX = 0.0;
                double gammaX = 0.0;
                double alphaW = 0.0;
                double gammaW = 0.0;
                double normProduct = xNorm * wNorm;
                if (y < 0) {
                    plainTarget.set(i, 0.0f); // no target here: plain logits, no correction
                } else if (normProduct > 0.0) {
                    plainTarget.set(i, plainLogit);
                    double c = LSoftmaxMath.clampCos(xw / normProduct);
                    double h = MarginMath.value(kind, c, margin, m1, m2, m3);
                    // (F16) an additive angular margin's slope needs sin(theta) to full accuracy near theta = 0
                    double sinTheta = MarginMath.sinTheta(c);
                    if (MarginMath.needsAccurateSine(kind, m2)) {
                        double chordSquared = 0.0;
                        for (int col = 0; col < features; col++) {
                            double difference = x.get(i * features + col) / xNorm - w.get(y * features + col) / wNorm;
                            chordSquared += difference * difference;
                        }
                        sinTheta = MarginMath.sinThetaFromChord(Math.sqrt(chordSquared));
                    }
                    double slope = MarginMath.slope(kind, c, sinTheta, margin, m1, m2, m3);
                    double cross = slope - 1.0;
                    double radial = h - c * slope;
                    double radius = s;
                    if (kind == MarginMath.LSOFTMAX) {
                        radius = normProduct;
                        alphaX = cross;
                        gammaX = radial * wNorm / xNorm;
                        alphaW = cross;
                        gammaW = radial * xNorm / wNorm;
                    } else if (kind == MarginMath.SPHEREFACE) {
                        radius = xNorm;
                        alphaX = cross / wNorm;
                        gammaX = radial / xNorm;
                        alphaW = cross / wNorm;
                        gammaW = -c * cross * xNorm / (wNorm * wNorm);
                    } else {
                        alphaX = s * cross / normProduct;
                        gammaX = -s * c * cross / (xNorm * xNorm);
                        alphaW = alphaX;
                        gammaW = -s * c * cross / (wNorm * wNorm);
                    }
                    double betaValue = beta.get(0);
                    logits.set(i * logitStride + y, (float) ((betaValue * plain + radius * h) / (1.0 + betaValue)));
                } else {
                    plainTarget.set(i, plainLogit);
                    logits.set(i * logitStride + y, plainLogit);
                }
                rowTerms.set(i * TERMS_PER_ROW + TERM_ALPHA_X, alphaX);
                rowTerms.set(i * TERMS_PER_ROW + TERM_GAMMA_X, gammaX);
                rowTerms.set(i * TERMS_PER_ROW + TERM_ALPHA_W, alphaW);
                rowTerms.set(i * TERMS_PER_ROW + TERM_GAMMA_W, gammaW);
            }
        }
    }

    /**
     * Softmax cross-entropy per row, fused: for the normalising losses first P_ij = a_i b_j (X W^T)_ij
     * (F1; the target entry already holds its final logit), then lse_i = max_j f_ij + log sum_j
     * exp(f_ij - max), loss_i = lse_i - f_iy, G_ij = (exp(f_ij - lse_i) - [j = y]) / N (L5, L7). One
     * float exp per logit (the exponentials are kept in G and scaled by 1 / (N sum) afterwards), summed
     * in double. The matrix products then read G~ = a_i b_j G_ij (F13), written to {@code gradLogits}
     * row-major (row stride {@code logitStride}) and, when {@code writePanels} is not 0, also to
     * {@code gradPanels} as 16-class panels ({@link MatrixKernels#panelIndex}, the A of G^T X). Then
     * scales the row's correction coefficients by G_iy / (1 + beta) (F15). Also the row's prediction, the
     * argmax of its plain logits (the target entry's from {@code plainTarget}; the first index on ties), to
     * {@code predictions}.
     */
    public static void softmaxCrossEntropy(FloatArray logits, IntArray labels, DoubleArray beta, DoubleArray loss, FloatArray rowScale,
            FloatArray classScale, FloatArray plainTarget, FloatArray gradLogits, FloatArray gradPanels, DoubleArray rowLoss,
            DoubleArray rowTerms, IntArray predictions, int batch, int classes, int logitStride, int writePanels, int gridRows) {
        for (@Parallel int i = 0; i < gridRows; i++) {
            if (i < batch) {
                softmaxRow(i, logits, labels, beta, loss, rowScale, classScale, plainTarget, gradLogits, gradPanels, rowLoss, rowTerms,
                        predictions, batch, classes, logitStride, writePanels);
            }
        }
    }

    /** Row i of {@link #softmaxCrossEntropy} (inlined by TornadoVM into each kernel that calls it). */
    private static void softmaxRow(int i, FloatArray logits, IntArray labels, DoubleArray beta, DoubleArray loss, FloatArray rowScale,
            FloatArray classScale, FloatArray plainTarget, FloatArray gradLogits, FloatArray gradPanels, DoubleArray rowLoss,
            DoubleArray rowTerms, IntArray predictions, int batch, int classes, int logitStride, int writePanels) {
        int base = i * logitStride;
        int y = labels.get(i);
        int kind = (int) loss.get(LOSS_KIND);
        float a = rowScale.get(i);
        if (kind != MarginMath.LSOFTMAX) {
            for (int j = 0; j < classes; j++) {
                if (j != y) {
                    logits.set(base + j, logits.get(base + j) * a * classScale.get(j));
                }
            }
        }
        float max = logits.get(base);
        // the prediction: the plain-logit argmax (the target entry's plain logit), the first index on ties
        float plain = plainTarget.get(i);
        int best = 0;
        float bestValue = y == 0 ? plain : max;
        for (int j = 1; j < classes; j++) {
            float value = logits.get(base + j);
            max = Math.max(max, value);
            if (j == y) {
                value = plain;
            }
            if (value > bestValue) {
                best = j;
                bestValue = value;
            }
        }
        predictions.set(i, best);
        double sumExp = 0.0;
        for (int j = 0; j < classes; j++) {
            float e = TornadoMath.exp(logits.get(base + j) - max);
            gradLogits.set(base + j, e);
            sumExp += e;
        }
        double inverseBatch = 1.0 / batch;
        float scale = (float) (inverseBatch / sumExp);
        int panelBase = i * MatrixKernels.LANES;
        int panelStride = MatrixKernels.LANES * batch;
        for (int j = 0; j < classes; j++) {
            float g = gradLogits.get(base + j) * scale;
            if (j == y) {
                g = (float) (g - inverseBatch);
            }
            if (kind != MarginMath.LSOFTMAX) {
                g = g * a * classScale.get(j);
            }
            gradLogits.set(base + j, g);
            if (writePanels != 0) {
                gradPanels.set(panelBase + (j >> 4) * panelStride + (j & 15), g);
            }
        }
        float targetLogit = logits.get(base + y);
        double targetGrad = TornadoMath.exp(targetLogit - max) * scale - inverseBatch;
        rowLoss.set(i, max + Math.log(sumExp) - targetLogit);

        double termScale = targetGrad / (1.0 + beta.get(0));
        for (int t = 0; t < TERMS_PER_ROW; t++) {
            rowTerms.set(i * TERMS_PER_ROW + t, termScale * rowTerms.get(i * TERMS_PER_ROW + t));
        }
    }

    /**
     * The forward's per-row work in ONE kernel (the single-pass step, {@code DevicePlan#STEP}): for each row
     * {@link #targetMargin} (the margin on the target logit, (F2), and the correction coefficients, (F15))
     * and then {@link #softmaxCrossEntropy} (loss, G and the prediction, (L5), (L7)), the same arithmetic in
     * the same order; one launch instead of two.
     */
    public static void marginSoftmax(FloatArray x, FloatArray w, IntArray labels, FloatArray classScale, DoubleArray beta, DoubleArray loss,
            FloatArray logits, FloatArray plainTarget, FloatArray rowScale, DoubleArray rowTerms, FloatArray gradLogits, FloatArray gradPanels,
            DoubleArray rowLoss, IntArray predictions, int batch, int features, int classes, int logitStride, int writePanels, int gridRows) {
        for (@Parallel int i = 0; i < gridRows; i++) {
            if (i < batch) {
                // targetMargin's row, spelled out again: a helper holding MarginMath's calls is over TornadoVM's
                // inlining limit (600 graph nodes); LSoftmaxKernelsTest checks the two kernels agree bit for bit
                int kind = (int) loss.get(LOSS_KIND);
                int margin = (int) loss.get(LOSS_MARGIN);
                double m1 = loss.get(LOSS_M1);
                double m2 = loss.get(LOSS_M2);
                double m3 = loss.get(LOSS_M3);
                double s = loss.get(LOSS_SCALE);
                int y = labels.get(i);
                // a shard's row whose class is on another shard (y = -1) reads row 0 and discards what it gives
                int wRow = y >= 0 ? y : 0;
                double xx = 0.0;
                double ww = 0.0;
                double xw = 0.0;
                for (int col = 0; col < features; col++) {
                    double xValue = x.get(i * features + col);
                    double wValue = w.get(wRow * features + col);
                    xx += xValue * xValue;
                    ww += wValue * wValue;
                    xw += xValue * wValue;
                }
                double xNorm = Math.sqrt(xx);
                double wNorm = Math.sqrt(ww);
                double a = 1.0;
                if (kind != MarginMath.LSOFTMAX && kind != MarginMath.SPHEREFACE) {
                    a = xNorm > 0.0 ? s / xNorm : 0.0;
                }
                rowScale.set(i, (float) a);
                double b = classScale.get(wRow);
                double plain = a * b * xw;
                float plainLogit = (float) (a * b * logits.get(i * logitStride + wRow));
                double alphaX = 0.0;
                double gammaX = 0.0;
                double alphaW = 0.0;
                double gammaW = 0.0;
                double normProduct = xNorm * wNorm;
                if (y < 0) {
                    plainTarget.set(i, 0.0f); // no target here: plain logits, no correction
                } else if (normProduct > 0.0) {
                    plainTarget.set(i, plainLogit);
                    double c = LSoftmaxMath.clampCos(xw / normProduct);
                    double h = MarginMath.value(kind, c, margin, m1, m2, m3);
                    // (F16) an additive angular margin's slope needs sin(theta) to full accuracy near theta = 0
                    double sinTheta = MarginMath.sinTheta(c);
                    if (MarginMath.needsAccurateSine(kind, m2)) {
                        double chordSquared = 0.0;
                        for (int col = 0; col < features; col++) {
                            double difference = x.get(i * features + col) / xNorm - w.get(y * features + col) / wNorm;
                            chordSquared += difference * difference;
                        }
                        sinTheta = MarginMath.sinThetaFromChord(Math.sqrt(chordSquared));
                    }
                    double slope = MarginMath.slope(kind, c, sinTheta, margin, m1, m2, m3);
                    double cross = slope - 1.0;
                    double radial = h - c * slope;
                    double radius = s;
                    if (kind == MarginMath.LSOFTMAX) {
                        radius = normProduct;
                        alphaX = cross;
                        gammaX = radial * wNorm / xNorm;
                        alphaW = cross;
                        gammaW = radial * xNorm / wNorm;
                    } else if (kind == MarginMath.SPHEREFACE) {
                        radius = xNorm;
                        alphaX = cross / wNorm;
                        gammaX = radial / xNorm;
                        alphaW = cross / wNorm;
                        gammaW = -c * cross * xNorm / (wNorm * wNorm);
                    } else {
                        alphaX = s * cross / normProduct;
                        gammaX = -s * c * cross / (xNorm * xNorm);
                        alphaW = alphaX;
                        gammaW = -s * c * cross / (wNorm * wNorm);
                    }
                    double betaValue = beta.get(0);
                    logits.set(i * logitStride + y, (float) ((betaValue * plain + radius * h) / (1.0 + betaValue)));
                } else {
                    plainTarget.set(i, plainLogit);
                    logits.set(i * logitStride + y, plainLogit);
                }
                rowTerms.set(i * TERMS_PER_ROW + TERM_ALPHA_X, alphaX);
                rowTerms.set(i * TERMS_PER_ROW + TERM_GAMMA_X, gammaX);
                rowTerms.set(i * TERMS_PER_ROW + TERM_ALPHA_W, alphaW);
                rowTerms.set(i * TERMS_PER_ROW + TERM_GAMMA_W, gammaW);
                softmaxRow(i, logits, labels, beta, loss, rowScale, classScale, plainTarget, gradLogits, gradPanels, rowLoss, rowTerms,
                        predictions, batch, classes, logitStride, writePanels);
            }
        }
    }

    /**
     * The shard forward's softmax sweep per row ({@code HeadPass.forwardShard}, docs/SCALING.md): for the
     * normalising losses first P_ij = a_i b_j (X W^T)_ij (F1; an owned target entry already holds its final
     * logit; a row without a target here, y = -1, has all its entries scaled), then max_i = max_j f_ij,
     * e_ij = exp(f_ij - max_i) kept in {@code gradLogits} (scaled by {@link #shardGradient} once the whole
     * head's lse_i is known), sum_i = sum_j e_ij in double, and the owned target logit (0 for y = -1).
     */
    public static void shardSoftmax(FloatArray logits, IntArray labels, DoubleArray loss, FloatArray rowScale, FloatArray classScale,
            FloatArray gradLogits, DoubleArray rowMax, DoubleArray rowSum, DoubleArray rowTarget, int batch, int classes, int logitStride,
            int gridRows) {
        for (@Parallel int i = 0; i < gridRows; i++) {
            if (i < batch) {
                int base = i * logitStride;
                int y = labels.get(i);
                int kind = (int) loss.get(LOSS_KIND);
                float a = rowScale.get(i);
                if (kind != MarginMath.LSOFTMAX) {
                    for (int j = 0; j < classes; j++) {
                        if (j != y) {
                            logits.set(base + j, logits.get(base + j) * a * classScale.get(j));
                        }
                    }
                }
                float max = logits.get(base);
                for (int j = 1; j < classes; j++) {
                    max = Math.max(max, logits.get(base + j));
                }
                double sumExp = 0.0;
                for (int j = 0; j < classes; j++) {
                    float e = TornadoMath.exp(logits.get(base + j) - max);
                    gradLogits.set(base + j, e);
                    sumExp += e;
                }
                rowMax.set(i, max);
                rowSum.set(i, sumExp);
                double target = 0.0;
                if (y >= 0) {
                    target = logits.get(base + y);
                }
                rowTarget.set(i, target);
            }
        }
    }

    /**
     * The shard backward's G from the whole head's lse_i: G_ij = e_ij exp(max_i - lse_i) / N, an owned
     * target's G_iy = (exp(f_iy - lse_i) - 1) / N in double, times a_i b_j for the normalising losses (the
     * G~ the products read, F13); the row's correction coefficients scaled by G_iy / (1 + beta) (F15; 0 for
     * a row without a target here).
     */
    public static void shardGradient(FloatArray gradLogits, IntArray labels, DoubleArray beta, DoubleArray loss, FloatArray rowScale,
            FloatArray classScale, DoubleArray rowMax, DoubleArray logSumExp, DoubleArray rowTarget, DoubleArray rowTerms, int batch,
            int classes, int logitStride, int gridRows) {
        for (@Parallel int i = 0; i < gridRows; i++) {
            if (i < batch) {
                int base = i * logitStride;
                int y = labels.get(i);
                int kind = (int) loss.get(LOSS_KIND);
                float a = rowScale.get(i);
                double inverseBatch = 1.0 / batch;
                double lse = logSumExp.get(i);
                float factor = (float) (Math.exp(rowMax.get(i) - lse) * inverseBatch);
                double targetGrad = 0.0;
                if (y >= 0) {
                    targetGrad = (Math.exp(rowTarget.get(i) - lse) - 1.0) * inverseBatch;
                }
                for (int j = 0; j < classes; j++) {
                    float g = gradLogits.get(base + j) * factor;
                    if (j == y) {
                        g = (float) targetGrad;
                    }
                    if (kind != MarginMath.LSOFTMAX) {
                        g = g * a * classScale.get(j);
                    }
                    gradLogits.set(base + j, g);
                }
                double termScale = targetGrad / (1.0 + beta.get(0));
                for (int t = 0; t < TERMS_PER_ROW; t++) {
                    rowTerms.set(i * TERMS_PER_ROW + t, termScale * rowTerms.get(i * TERMS_PER_ROW + t));
                }
            }
        }
    }

    /**
     * (F14) The gradient of a normalised vector keeps only its part orthogonal to the vector:
     * {@code g_r <- g_r - (v_r . g_r / |v_r|^2) v_r} for every row r < {@code rows} of the gradient
     * (row stride {@code gradStride}) and of the vectors (dense), when the loss's kind code is at least
     * {@code normalisedFrom} (1 for the weights: sphereface and after; 2 for the features: cosface and
     * after). The kernel is in every plan; for the losses that do not normalise these vectors it does
     * nothing.
     */
    public static void removeRadialPart(FloatArray vectors, FloatArray gradient, DoubleArray loss, int normalisedFrom, int rows,
            int features, int gradStride, int gridRows) {
        for (@Parallel int r = 0; r < gridRows; r++) {
            int kind = (int) loss.get(LOSS_KIND);
            if (r < rows && kind >= normalisedFrom) {
                removeRadialRow(r, vectors, gradient, features, gradStride);
            }
        }
    }

    /** Row r of {@link #removeRadialPart}: g_r <- g_r - (v_r . g_r / |v_r|^2) v_r in double, rounded once (F14). */
    private static void removeRadialRow(int r, FloatArray vectors, FloatArray gradient, int features, int gradStride) {
        double vv = 0.0;
        double vg = 0.0;
        for (int col = 0; col < features; col++) {
            double v = vectors.get(r * features + col);
            vv += v * v;
            vg += v * gradient.get(r * gradStride + col);
        }
        if (vv > 0.0) {
            double along = vg / vv;
            for (int col = 0; col < features; col++) {
                int index = r * gradStride + col;
                gradient.set(index, (float) (gradient.get(index) - along * vectors.get(r * features + col)));
            }
        }
    }

    /**
     * What the single-pass step does to dX after G W, one row per work item, in ONE kernel: the radial
     * part removed for the losses that normalise the features ((F14), {@link #removeRadialPart}), then the
     * target correction dX_i += s (alpha w_y + gamma x_i) in double, rounded once ((F15), {@link #correctGradX}):
     * the same arithmetic in the same order as those two kernels, one launch instead of two.
     */
    public static void finishGradX(FloatArray x, FloatArray w, IntArray labels, DoubleArray loss, DoubleArray rowTerms, FloatArray gradX,
            int batch, int features, int gradStride, int gridRows) {
        for (@Parallel int i = 0; i < gridRows; i++) {
            if (i < batch) {
                int kind = (int) loss.get(LOSS_KIND);
                if (kind >= MarginMath.COSFACE) {
                    removeRadialRow(i, x, gradX, features, gradStride);
                }
                int y = labels.get(i);
                if (y >= 0) {
                    double alpha = rowTerms.get(i * TERMS_PER_ROW + TERM_ALPHA_X);
                    double gamma = rowTerms.get(i * TERMS_PER_ROW + TERM_GAMMA_X);
                    for (int col = 0; col < features; col++) {
                        int index = i * gradStride + col;
                        gradX.set(index, (float) (gradX.get(index) + alpha * w.get(y * features + col) + gamma * x.get(i * features + col)));
                    }
                }
            }
        }
    }

    /**
     * What the single-pass step does to dW after G^T X, one class row per work item, in ONE kernel: the
     * radial part removed for the losses that normalise the weights ((F14), {@link #removeRadialPart}), then
     * the target correction of the class's own samples (listed by {@code classStart}/{@code samplesByClass};
     * none for a class absent from the batch), dW_j += sum_{i: y_i = j} s_i (alphaW_i x_i + gammaW_i w_j),
     * summed in double and rounded once ((F15), {@link #correctGradW}): the same arithmetic in the same
     * order as those two kernels, one launch instead of two, race-free (row j only touches row j).
     */
    public static void finishGradW(FloatArray x, FloatArray w, IntArray classStart, IntArray samplesByClass, DoubleArray loss,
            DoubleArray rowTerms, FloatArray gradW, int classes, int features, int gradStride, int gridRows) {
        for (@Parallel int j = 0; j < gridRows; j++) {
            if (j < classes) {
                int kind = (int) loss.get(LOSS_KIND);
                if (kind >= MarginMath.SPHEREFACE) {
                    removeRadialRow(j, w, gradW, features, gradStride);
                }
                int start = classStart.get(j);
                int end = classStart.get(j + 1);
                if (end > start) {
                    for (int col = 0; col < features; col++) {
                        double wValue = w.get(j * features + col);
                        double sum = 0.0;
                        for (int s = start; s < end; s++) {
                            int i = samplesByClass.get(s);
                            sum += rowTerms.get(i * TERMS_PER_ROW + TERM_ALPHA_W) * x.get(i * features + col)
                                    + rowTerms.get(i * TERMS_PER_ROW + TERM_GAMMA_W) * wValue;
                        }
                        int index = j * gradStride + col;
                        gradW.set(index, (float) (gradW.get(index) + sum));
                    }
                }
            }
        }
    }

    /**
     * Target correction of dX, one element per work item (row i only touches row i: race-free), in
     * double: dX_i += s (alpha w_y + gamma x_i) (F15; L-Softmax: (L10)). The columns run in dimension 0
     * (what PoCL vectorises across), so {@code gridColumns} comes first among the loop bounds: TornadoVM
     * takes a 2-D kernel's bounds in the order of their parameters (docs/TORNADOVM-NOTES.md). The
     * single-pass step uses {@link #finishGradX}; the shard backward this one.
     */
    public static void correctGradX(FloatArray x, FloatArray w, IntArray labels, DoubleArray rowTerms, FloatArray gradX,
            int gridColumns, int batch, int features, int gradStride) {
        for (@Parallel int col = 0; col < gridColumns; col++) {
            for (@Parallel int i = 0; i < batch; i++) {
                int y = labels.get(i);
                if (col < features && y >= 0) {
                    double alpha = rowTerms.get(i * TERMS_PER_ROW + TERM_ALPHA_X);
                    double gamma = rowTerms.get(i * TERMS_PER_ROW + TERM_GAMMA_X);
                    int index = i * gradStride + col;
                    gradX.set(index, (float) (gradX.get(index) + alpha * w.get(y * features + col) + gamma * x.get(i * features + col)));
                }
            }
        }
    }

    /**
     * Target correction of dW, partitioned by class (class j sums over its own samples only, listed by
     * {@code classStart}/{@code samplesByClass}: race-free, no atomics), over the classes present in
     * the batch only ({@code presentClasses[0]} of them, listed after it; the grid has {@code maxPresent} =
     * min(N, C) rows, at least that many):
     * dW_j += sum_{i: y_i = j} s_i (alphaW_i x_i + gammaW_i w_j) (F15; L-Softmax: (L11)), in double.
     */
    public static void correctGradW(FloatArray x, FloatArray w, IntArray presentClasses, IntArray classStart, IntArray samplesByClass,
            DoubleArray rowTerms, FloatArray gradW, int gridColumns, int maxPresent, int features, int gradStride) {
        for (@Parallel int col = 0; col < gridColumns; col++) {
            for (@Parallel int t = 0; t < maxPresent; t++) {
                if (col < features && t < presentClasses.get(0)) {
                    int j = presentClasses.get(t + 1);
                    double wValue = w.get(j * features + col);
                    double sum = 0.0;
                    int end = classStart.get(j + 1);
                    for (int s = classStart.get(j); s < end; s++) {
                        int i = samplesByClass.get(s);
                        sum += rowTerms.get(i * TERMS_PER_ROW + TERM_ALPHA_W) * x.get(i * features + col)
                                + rowTerms.get(i * TERMS_PER_ROW + TERM_GAMMA_W) * wValue;
                    }
                    int index = j * gradStride + col;
                    gradW.set(index, (float) (gradW.get(index) + sum));
                }
            }
        }
    }
}
