package org.lsoftmax.head.tornado;

import static org.lsoftmax.head.tornado.KernelHarness.assertClose;
import static org.lsoftmax.head.tornado.KernelHarness.block;
import static org.lsoftmax.head.tornado.KernelHarness.gaussian;
import static org.lsoftmax.head.tornado.KernelHarness.range;
import static org.lsoftmax.head.tornado.KernelHarness.runOnce;

import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lsoftmax.head.ClassGroups;
import org.lsoftmax.math.LSoftmaxMath;
import org.lsoftmax.testing.Seeds;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.WorkerGrid2D;
import uk.ac.manchester.tornado.api.types.arrays.DoubleArray;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Each kernel of {@link LSoftmaxKernels} on the device against its plain-Java twin (the formulas of
 * docs/DERIVATION.md in double), on shapes that are multiples of no work-group size.
 */
class LSoftmaxKernelsTest {

    private static final int N = 37;
    private static final int D = 29;
    private static final int C = 23;
    private static final int STRIDE = 32; // padded logit rows, as GridSizes pads them
    private static final int LOCAL = 16;

    @BeforeEach
    void requireRuntime() {
        KernelHarness.requireRuntime();
    }

    private static int extent(int size) {
        return (size + LOCAL - 1) / LOCAL * LOCAL;
    }

    private static WorkerGrid1D rows(int size) {
        WorkerGrid1D grid = new WorkerGrid1D(extent(size));
        grid.setLocalWork(LOCAL, 1, 1);
        return grid;
    }

    private static double norm(FloatArray matrix, int row, int columns) {
        double sum = 0.0;
        for (int col = 0; col < columns; col++) {
            double value = matrix.get(row * columns + col);
            sum += value * value;
        }
        return Math.sqrt(sum);
    }

    @Test
    void classNormsAreTheRowNormsOfW() {
        Random random = new Random(Seeds.draw());
        FloatArray w = gaussian(C * D, random, 1.0);
        FloatArray norms = new FloatArray(C);
        runOnce("norms", new Object[] {w}, graph -> graph.task("norms", LSoftmaxKernels::classNorms, w, norms, C, D, extent(C)),
                rows(C), norms);
        double[] expected = new double[C];
        for (int j = 0; j < C; j++) {
            expected[j] = norm(w, j, D);
        }
        assertClose(expected, norms, range(C), 1e-6, 0.0, "|w_j|");
    }

    /** (L2)-(L4): the margin on the target logit, the plain logit kept, and the backward terms; a zero row keeps its plain logit. */
    @Test
    void targetMarginReplacesTheTargetLogit() {
        Random random = new Random(Seeds.draw());
        FloatArray x = gaussian(N * D, random, 1.0);
        for (int col = 0; col < D; col++) {
            x.set(5 * D + col, 0.0f); // sample 5 has no direction
        }
        FloatArray w = gaussian(C * D, random, 1.0);
        IntArray labels = new IntArray(N);
        FloatArray wNorms = new FloatArray(C);
        for (int j = 0; j < C; j++) {
            wNorms.set(j, (float) norm(w, j, D));
        }
        FloatArray logits = new FloatArray(N * STRIDE);
        for (int i = 0; i < N; i++) {
            labels.set(i, random.nextInt(C));
            for (int j = 0; j < C; j++) {
                double dot = 0.0;
                for (int col = 0; col < D; col++) {
                    dot += (double) x.get(i * D + col) * w.get(j * D + col);
                }
                logits.set(i * STRIDE + j, (float) dot);
            }
        }
        double[] plainLogits = KernelHarness.toDoubles(logits);
        int margin = 4;
        double betaValue = 0.5;
        DoubleArray beta = new DoubleArray(1);
        beta.set(0, betaValue);
        IntArray marginHolder = new IntArray(1);
        marginHolder.set(0, margin);
        FloatArray plainTarget = new FloatArray(N);
        FloatArray rowTerms = new FloatArray(N * LSoftmaxKernels.TERMS_PER_ROW);
        runOnce("margin", new Object[] {x, labels, wNorms, beta, marginHolder, logits},
                graph -> graph.task("margin", LSoftmaxKernels::targetMargin, x, labels, wNorms, beta, marginHolder, logits, plainTarget,
                        rowTerms, N, D, STRIDE, extent(N)), rows(N), logits, plainTarget, rowTerms);
        double[] expectedLogits = plainLogits.clone();
        double[] expectedPlain = new double[N];
        double[] expectedTerms = new double[N * LSoftmaxKernels.TERMS_PER_ROW];
        for (int i = 0; i < N; i++) {
            int y = labels.get(i);
            double dot = plainLogits[i * STRIDE + y];
            expectedPlain[i] = dot;
            double xNorm = norm(x, i, D);
            double wNorm = wNorms.get(y);
            if (xNorm * wNorm > 0) {
                double c = LSoftmaxMath.clampCos(dot / (xNorm * wNorm));
                int k = (int) Math.min(margin - 1, Math.floor(margin * Math.acos(c) / Math.PI));
                double psi = (k % 2 == 0 ? 1 : -1) * Math.cos(margin * Math.acos(c)) - 2 * k;
                expectedLogits[i * STRIDE + y] = (betaValue * dot + xNorm * wNorm * psi) / (1 + betaValue);
                double dPsi = LSoftmaxMath.dPsiDCos(c, margin, k);
                expectedTerms[3 * i] = dPsi - 1;
                expectedTerms[3 * i + 1] = psi - c * dPsi;
                expectedTerms[3 * i + 2] = xNorm / wNorm;
            }
        }
        assertClose(expectedLogits, logits, block(N, C, STRIDE), 1e-5, 0.0, "logits after the margin");
        assertClose(expectedPlain, plainTarget, range(N), 1e-6, 0.0, "plain target logits");
        assertClose(expectedTerms, rowTerms, range(3 * N), 1e-4, 1.0, "row terms (cross, radial, |x|/|w|)");
    }

    /** (L5), (L7): loss per row, G = (softmax - onehot) / N, and the row terms scaled by G_iy / (1 + beta). */
    @Test
    void softmaxCrossEntropyGivesTheLossAndG() {
        Random random = new Random(Seeds.draw());
        FloatArray logits = gaussian(N * STRIDE, random, 30.0); // large logits: the row max must be subtracted
        IntArray labels = new IntArray(N);
        FloatArray rowTerms = gaussian(N * LSoftmaxKernels.TERMS_PER_ROW, random, 1.0);
        for (int i = 0; i < N; i++) {
            labels.set(i, random.nextInt(C));
            rowTerms.set(3 * i + 2, (float) (0.5 + random.nextDouble())); // |x|/|w| > 0
        }
        double[] terms = KernelHarness.toDoubles(rowTerms);
        DoubleArray beta = new DoubleArray(1);
        beta.set(0, 2.0);
        FloatArray gradLogits = new FloatArray(N * STRIDE);
        FloatArray gradPanels = new FloatArray(1);
        DoubleArray rowLoss = new DoubleArray(N);
        runOnce("softmax", new Object[] {logits, labels, beta, rowTerms},
                graph -> graph.task("softmax", LSoftmaxKernels::softmaxCrossEntropy, logits, labels, beta, gradLogits, gradPanels, rowLoss,
                        rowTerms, N, C, STRIDE, 0, extent(N)), rows(N), gradLogits, rowLoss, rowTerms);
        double[] expectedG = new double[N * STRIDE];
        double[] expectedLoss = new double[N];
        double[] expectedTerms = new double[N * 3];
        for (int i = 0; i < N; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < C; j++) {
                max = Math.max(max, logits.get(i * STRIDE + j));
            }
            double sum = 0.0;
            for (int j = 0; j < C; j++) {
                sum += Math.exp(logits.get(i * STRIDE + j) - max);
            }
            int y = labels.get(i);
            double lse = max + Math.log(sum);
            expectedLoss[i] = lse - logits.get(i * STRIDE + y);
            for (int j = 0; j < C; j++) {
                expectedG[i * STRIDE + j] = (Math.exp(logits.get(i * STRIDE + j) - lse) - (j == y ? 1 : 0)) / N;
            }
            double s = expectedG[i * STRIDE + y] / (1 + 2.0);
            expectedTerms[3 * i] = s * terms[3 * i];
            expectedTerms[3 * i + 1] = s * terms[3 * i + 1] / terms[3 * i + 2];
            expectedTerms[3 * i + 2] = s * terms[3 * i + 1] * terms[3 * i + 2];
        }
        assertClose(expectedG, gradLogits, block(N, C, STRIDE), 1e-5, 0.0, "G");
        double maxLossError = 0.0;
        for (int i = 0; i < N; i++) {
            maxLossError = Math.max(maxLossError, Math.abs(rowLoss.get(i) - expectedLoss[i]) / Math.max(1.0, expectedLoss[i]));
        }
        org.junit.jupiter.api.Assertions.assertTrue(maxLossError <= 1e-5, "row losses: error " + maxLossError);
        assertClose(expectedTerms, rowTerms, range(3 * N), 1e-4, 1.0 / N, "scaled row terms");
    }

    /** (L10): dX_i += cross_i w_y + radial_i x_i, element by element. */
    @Test
    void gradXCorrectionAddsTheTargetTerms() {
        Random random = new Random(Seeds.draw());
        FloatArray x = gaussian(N * D, random, 1.0);
        FloatArray w = gaussian(C * D, random, 1.0);
        IntArray labels = new IntArray(N);
        for (int i = 0; i < N; i++) {
            labels.set(i, random.nextInt(C));
        }
        FloatArray rowTerms = gaussian(N * 3, random, 0.1);
        int gradStride = 32;
        FloatArray gradX = gaussian(N * gradStride, random, 0.1);
        double[] expected = KernelHarness.toDoubles(gradX);
        int columns = 32;
        WorkerGrid2D grid = new WorkerGrid2D(N, columns);
        grid.setLocalWork(1, columns, 1);
        runOnce("gradX", new Object[] {x, w, labels, rowTerms, gradX},
                graph -> graph.task("gradX", LSoftmaxKernels::correctGradX, x, w, labels, rowTerms, gradX, N, D, gradStride, columns), grid, gradX);
        for (int i = 0; i < N; i++) {
            int y = labels.get(i);
            for (int col = 0; col < D; col++) {
                expected[i * gradStride + col] += rowTerms.get(3 * i) * w.get(y * D + col) + rowTerms.get(3 * i + 1) * x.get(i * D + col);
            }
        }
        assertClose(expected, gradX, block(N, D, gradStride), 1e-5, 0.0, "dX after the correction");
    }

    /** (L11): dW_j += sum over the samples of class j, classes present in the batch only, race-free. */
    @Test
    void gradWCorrectionAddsEachClassesSamples() {
        Random random = new Random(Seeds.draw());
        FloatArray x = gaussian(N * D, random, 1.0);
        FloatArray w = gaussian(C * D, random, 1.0);
        int[] labelValues = new int[N];
        for (int i = 0; i < N; i++) {
            labelValues[i] = random.nextInt(C / 2) * 2; // odd classes absent: their rows must not change
        }
        ClassGroups groups = new ClassGroups(N, C);
        groups.group(labelValues);
        IntArray present = IntArray.fromArray(groups.presentClasses());
        IntArray classStart = IntArray.fromArray(groups.classStart());
        IntArray samples = IntArray.fromArray(groups.samples());
        FloatArray rowTerms = gaussian(N * 3, random, 0.1);
        int gradStride = 32;
        FloatArray gradW = gaussian(C * gradStride, random, 0.1);
        double[] expected = KernelHarness.toDoubles(gradW);
        int columns = 32;
        WorkerGrid2D grid = new WorkerGrid2D(N, columns);
        grid.setLocalWork(1, columns, 1);
        runOnce("gradW", new Object[] {x, w, present, classStart, samples, rowTerms, gradW},
                graph -> graph.task("gradW", LSoftmaxKernels::correctGradW, x, w, present, classStart, samples, rowTerms, gradW, N, D,
                        gradStride, columns), grid, gradW);
        for (int i = 0; i < N; i++) {
            int j = labelValues[i];
            for (int col = 0; col < D; col++) {
                expected[j * gradStride + col] += rowTerms.get(3 * i) * x.get(i * D + col) + rowTerms.get(3 * i + 2) * w.get(j * D + col);
            }
        }
        assertClose(expected, gradW, block(C, D, gradStride), 1e-5, 0.0, "dW after the correction");
    }
}
