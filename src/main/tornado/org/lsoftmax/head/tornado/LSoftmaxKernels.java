package org.lsoftmax.head.tornado;

import org.lsoftmax.math.LSoftmaxMath;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.DoubleArray;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * The L-Softmax kernels around the matrix products (see {@link MatrixKernels}): norms, the margin on
 * the target logit, the softmax cross-entropy, and the target-column corrections of the gradients.
 * Per-row scalar math runs in double through {@link LSoftmaxMath} (TornadoVM inlines it), exactly as
 * in {@link org.lsoftmax.head.reference.ReferencePass}.
 *
 * <p>Matrices are flat and row-major. The outputs of the matrix products (logits, dX, dW) have padded
 * rows of {@code stride} floats (see {@link GridSizes}); X and W are dense ({@code features} per row).
 * {@code rowTerms} holds three floats per sample, written by {@link #targetMargin} and
 * {@link #softmaxCrossEntropy} and read by the backward corrections.
 *
 * <p>With a {@code GridScheduler}, TornadoVM runs a @Parallel loop up to the grid's global size,
 * which is rounded up to whole work-groups ({@link GridSizes}). So those loops run to that
 * {@code grid*} extent and check the real size inside (a check against the loop's own bound would be
 * folded away by the compiler).
 */
public final class LSoftmaxKernels {

    /** Offsets into the per-sample {@code rowTerms}. */
    static final int TERM_CROSS = 0;
    static final int TERM_RADIAL_DX = 1;
    static final int TERM_RADIAL_DW = 2;
    static final int TERMS_PER_ROW = 3;

    private LSoftmaxKernels() {
    }

    /** |w_j| = sqrt(sum_d W_jd^2) for every class j (once per weight upload). */
    public static void classNorms(FloatArray w, FloatArray wNorms, int classes, int features, int gridClasses) {
        for (@Parallel int j = 0; j < gridClasses; j++) {
            if (j < classes) {
                double sumSquares = 0.0;
                for (int col = 0; col < features; col++) {
                    double value = w.get(j * features + col);
                    sumSquares += value * value;
                }
                wNorms.set(j, (float) Math.sqrt(sumSquares));
            }
        }
    }

    /**
     * Norms of x_i and the margin on the target logit, fused (one row per work item):
     * cos(theta) = f_iy / (|x_i||w_y|) (clamped), k = floor(m theta / pi),
     * f_iy <- (beta w_y.x_i + |w_y||x_i| psi(theta)) / (1 + beta)   (docs/DERIVATION.md (L4)).
     * Also keeps for backward: rowTerms = (psi' - 1, psi - c psi', |x_i|/|w_y|), zero where a norm is
     * zero (plain logit and plain gradient, docs/DERIVATION.md, "Edges").
     *
     * <p>The margin m comes in a device array, not as a scalar argument: TornadoVM specialises scalar
     * arguments into constants, and then fails to constant-fold the cos(j pi / m) thresholds of
     * {@link LSoftmaxMath#marginK} ("unable to compute op COS").
     */
    public static void targetMargin(FloatArray x, IntArray labels, FloatArray wNorms, DoubleArray beta, IntArray marginHolder,
            FloatArray logits, FloatArray plainTarget, FloatArray rowTerms, int batch, int features, int logitStride, int gridRows) {
        for (@Parallel int i = 0; i < gridRows; i++) {
            if (i < batch) {
                int margin = marginHolder.get(0);
                double sumSquares = 0.0;
                for (int col = 0; col < features; col++) {
                    double value = x.get(i * features + col);
                    sumSquares += value * value;
                }
                double xNorm = Math.sqrt(sumSquares);
                int y = labels.get(i);
                double wNorm = wNorms.get(y);
                double normProduct = xNorm * wNorm;
                double cross = 0.0;
                double radial = 0.0;
                double normRatio = 0.0;
                float plainLogit = logits.get(i * logitStride + y);
                plainTarget.set(i, plainLogit);
                if (normProduct > 0.0) {
                    double dot = plainLogit;
                    double cosTheta = LSoftmaxMath.clampCos(dot / normProduct);
                    int k = LSoftmaxMath.marginK(cosTheta, margin);
                    double psi = LSoftmaxMath.psi(cosTheta, margin, k);
                    logits.set(i * logitStride + y, (float) LSoftmaxMath.targetLogit(dot, normProduct, psi, beta.get(0)));
                    cross = LSoftmaxMath.crossCoefficient(cosTheta, margin, k);
                    radial = LSoftmaxMath.radialCoefficient(cosTheta, margin, k);
                    normRatio = xNorm / wNorm;
                }
                rowTerms.set(i * TERMS_PER_ROW + TERM_CROSS, (float) cross);
                rowTerms.set(i * TERMS_PER_ROW + TERM_RADIAL_DX, (float) radial);
                rowTerms.set(i * TERMS_PER_ROW + TERM_RADIAL_DW, (float) normRatio);
            }
        }
    }

    /**
     * Softmax cross-entropy per row, fused: lse_i = max_j f_ij + log sum_j exp(f_ij - max),
     * loss_i = lse_i - f_iy, G_ij = (exp(f_ij - lse_i) - [j = y]) / N. One float exp per logit (the
     * exponentials are kept in G and scaled by 1 / (N sum) afterwards), summed in double. G goes to
     * {@code gradLogits} row-major (row stride {@code logitStride}, the A of G W) and, when
     * {@code writePanels} is not 0, also to {@code gradPanels} as 16-class panels
     * ({@link MatrixKernels#panelIndex}, the A of G^T X). Then scales the row's backward terms by
     * s = G_iy / (1 + beta): rowTerms = (s (psi' - 1), s (psi - c psi') |w|/|x|, s (psi - c psi') |x|/|w|).
     */
    public static void softmaxCrossEntropy(FloatArray logits, IntArray labels, DoubleArray beta, FloatArray gradLogits,
            FloatArray gradPanels, DoubleArray rowLoss, FloatArray rowTerms, int batch, int classes, int logitStride, int writePanels,
            int gridRows) {
        for (@Parallel int i = 0; i < gridRows; i++) {
            if (i < batch) {
                int base = i * logitStride;
                int y = labels.get(i);
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
                double inverseBatch = 1.0 / batch;
                float scale = (float) (inverseBatch / sumExp);
                int panelBase = i * MatrixKernels.LANES;
                int panelStride = MatrixKernels.LANES * batch;
                for (int j = 0; j < classes; j++) {
                    float g = gradLogits.get(base + j) * scale;
                    if (j == y) {
                        g = (float) (g - inverseBatch);
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
                double cross = rowTerms.get(i * TERMS_PER_ROW + TERM_CROSS);
                double radial = rowTerms.get(i * TERMS_PER_ROW + TERM_RADIAL_DX);
                double xOverW = rowTerms.get(i * TERMS_PER_ROW + TERM_RADIAL_DW);
                double wOverX = xOverW > 0.0 ? 1.0 / xOverW : 0.0;
                rowTerms.set(i * TERMS_PER_ROW + TERM_CROSS, (float) (termScale * cross));
                rowTerms.set(i * TERMS_PER_ROW + TERM_RADIAL_DX, (float) (termScale * radial * wOverX));
                rowTerms.set(i * TERMS_PER_ROW + TERM_RADIAL_DW, (float) (termScale * radial * xOverW));
            }
        }
    }

    /**
     * Target correction of dX, one element per work item (row i only touches row i: race-free):
     * dX_i += s (psi' - 1) w_y + s (psi - c psi') |w_y|/|x_i| x_i.
     */
    public static void correctGradX(FloatArray x, FloatArray w, IntArray labels, FloatArray rowTerms, FloatArray gradX,
            int batch, int features, int gradStride, int gridColumns) {
        for (@Parallel int i = 0; i < batch; i++) {
            for (@Parallel int col = 0; col < gridColumns; col++) {
                if (col < features) {
                    int y = labels.get(i);
                    float cross = rowTerms.get(i * TERMS_PER_ROW + TERM_CROSS);
                    float radial = rowTerms.get(i * TERMS_PER_ROW + TERM_RADIAL_DX);
                    int index = i * gradStride + col;
                    gradX.set(index, gradX.get(index) + cross * w.get(y * features + col) + radial * x.get(i * features + col));
                }
            }
        }
    }

    /**
     * Target correction of dW, partitioned by class (class j sums over its own samples only, listed by
     * {@code classStart}/{@code samplesByClass}: race-free, no atomics), over the classes present in
     * the batch only ({@code presentClasses[0]} of them, listed after it: at most one per sample):
     * dW_j += sum_{i: y_i = j} s_i (psi' - 1) x_i + s_i (psi - c psi') |x_i|/|w_j| w_j.
     */
    public static void correctGradW(FloatArray x, FloatArray w, IntArray presentClasses, IntArray classStart, IntArray samplesByClass,
            FloatArray rowTerms, FloatArray gradW, int batch, int features, int gradStride, int gridColumns) {
        for (@Parallel int t = 0; t < batch; t++) {
            for (@Parallel int col = 0; col < gridColumns; col++) {
                if (col < features && t < presentClasses.get(0)) {
                    int j = presentClasses.get(t + 1);
                    float wValue = w.get(j * features + col);
                    float sum = 0.0f;
                    int end = classStart.get(j + 1);
                    for (int s = classStart.get(j); s < end; s++) {
                        int i = samplesByClass.get(s);
                        sum += rowTerms.get(i * TERMS_PER_ROW + TERM_CROSS) * x.get(i * features + col)
                                + rowTerms.get(i * TERMS_PER_ROW + TERM_RADIAL_DW) * wValue;
                    }
                    int index = j * gradStride + col;
                    gradW.set(index, gradW.get(index) + sum);
                }
            }
        }
    }
}
