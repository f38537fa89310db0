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
import org.lsoftmax.head.MarginLoss;
import org.lsoftmax.math.MarginMath;
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

    private static DoubleArray lossArray(MarginLoss loss) {
        return DoubleArray.fromArray(LSoftmaxKernels.lossValues(loss));
    }

    /** |w_j|, and b_j = 1 / |w_j| for a loss that normalises the weights (1 for L-Softmax, 0 for a zero row). */
    @Test
    void classNormsAreTheRowNormsOfW() {
        Random random = new Random(Seeds.draw());
        FloatArray w = gaussian(C * D, random, 1.0);
        for (int col = 0; col < D; col++) {
            w.set(2 * D + col, 0.0f);
        }
        for (MarginLoss loss : new MarginLoss[] {MarginLoss.lsoftmax(2), MarginLoss.sphereface(4)}) {
            FloatArray norms = new FloatArray(C);
            FloatArray classScale = new FloatArray(C);
            DoubleArray lossValues = lossArray(loss);
            runOnce("norms", new Object[] {w, lossValues}, graph -> graph.task("norms", LSoftmaxKernels::classNorms, w, lossValues, norms,
                    classScale, C, D, extent(C)), rows(C), norms, classScale);
            double[] expected = new double[C];
            double[] expectedScale = new double[C];
            for (int j = 0; j < C; j++) {
                expected[j] = norm(w, j, D);
                expectedScale[j] = loss.kind().normalisesWeights() ? (expected[j] > 0 ? 1 / expected[j] : 0) : 1;
            }
            assertClose(expected, norms, range(C), 1e-6, 0.0, "|w_j|, " + loss);
            assertClose(expectedScale, classScale, range(C), 1e-6, 0.0, "b_j, " + loss);
        }
    }

    /** The margin function h(theta) of lsoftmax and arcface, written from its definition (acos, cos): the twin of MarginMath. */
    private static double twinMargin(MarginLoss loss, double c) {
        double theta = Math.acos(c);
        if (loss.kind() == MarginLoss.Kind.LSOFTMAX) {
            int m = loss.margin();
            int k = (int) Math.min(m - 1, Math.floor(m * theta / Math.PI));
            return (k % 2 == 0 ? 1 : -1) * Math.cos(m * theta) - 2 * k;
        }
        double join = Math.PI - loss.m2(); // arcface
        return theta <= join ? Math.cos(theta + loss.m2()) : c - Math.cos(join) - 1;
    }

    /**
     * (F2), (F15): the margin on the target logit, the plain logit kept, a_i, and the coefficients of
     * the target corrections, for L-Softmax and ArcFace; a zero row keeps its plain logit. The slope of
     * the twin is a central difference of {@link #twinMargin} (away from the corners of the draw).
     */
    @Test
    void targetMarginReplacesTheTargetLogit() {
        for (MarginLoss loss : new MarginLoss[] {MarginLoss.lsoftmax(4), MarginLoss.arcface(16, 0.5)}) {
            Random random = new Random(Seeds.draw());
            FloatArray x = gaussian(N * D, random, 1.0);
            for (int col = 0; col < D; col++) {
                x.set(5 * D + col, 0.0f); // sample 5 has no direction
            }
            FloatArray w = gaussian(C * D, random, 1.0);
            IntArray labels = new IntArray(N);
            FloatArray classScale = new FloatArray(C);
            for (int j = 0; j < C; j++) {
                classScale.set(j, loss.kind().normalisesWeights() ? (float) (1 / norm(w, j, D)) : 1.0f);
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
            double[] dots = KernelHarness.toDoubles(logits);
            double betaValue = 0.5;
            DoubleArray beta = DoubleArray.fromArray(new double[] {betaValue});
            DoubleArray lossValues = lossArray(loss);
            FloatArray plainTarget = new FloatArray(N);
            FloatArray rowScale = new FloatArray(N);
            DoubleArray rowTerms = new DoubleArray(N * LSoftmaxKernels.TERMS_PER_ROW);
            runOnce("margin", new Object[] {x, w, labels, classScale, beta, lossValues, logits},
                    graph -> graph.task("margin", LSoftmaxKernels::targetMargin, x, w, labels, classScale, beta, lossValues, logits, plainTarget,
                            rowScale, rowTerms, N, D, STRIDE, extent(N)), rows(N), logits, plainTarget, rowScale, rowTerms);
            double[] expectedTarget = new double[N * STRIDE];
            double[] expectedPlain = new double[N];
            double[] expectedScale = new double[N];
            double[] expectedTerms = new double[N * LSoftmaxKernels.TERMS_PER_ROW];
            int[] targets = new int[N];
            for (int i = 0; i < N; i++) {
                int y = labels.get(i);
                targets[i] = i * STRIDE + y;
                double dot = dots[i * STRIDE + y];
                double xNorm = norm(x, i, D);
                double wNorm = norm(w, y, D);
                double a = loss.kind().normalisesFeatures() ? (xNorm > 0 ? loss.scale() / xNorm : 0) : 1;
                double b = classScale.get(y);
                expectedScale[i] = a;
                expectedPlain[i] = a * b * dot;
                expectedTarget[i * STRIDE + y] = a * b * dot;
                if (xNorm > 0) {
                    double c = Math.max(-1, Math.min(1, dot / (xNorm * wNorm)));
                    double h = twinMargin(loss, c);
                    double slope = (twinMargin(loss, c + 1e-7) - twinMargin(loss, c - 1e-7)) / 2e-7;
                    double cross = slope - 1;
                    double radial = h - c * slope;
                    boolean psi = loss.kind() == MarginLoss.Kind.LSOFTMAX;
                    double radius = psi ? xNorm * wNorm : loss.scale();
                    expectedTarget[i * STRIDE + y] = (betaValue * (psi ? dot : a * b * dot) + radius * h) / (1 + betaValue);
                    double s = loss.scale();
                    expectedTerms[4 * i] = psi ? cross : s * cross / (xNorm * wNorm);
                    expectedTerms[4 * i + 1] = psi ? radial * wNorm / xNorm : -s * c * cross / (xNorm * xNorm);
                    expectedTerms[4 * i + 2] = expectedTerms[4 * i];
                    expectedTerms[4 * i + 3] = psi ? radial * xNorm / wNorm : -s * c * cross / (wNorm * wNorm);
                }
            }
            assertClose(expectedTarget, logits, targets, 1e-5, 0.0, "target logits, " + loss);
            assertClose(expectedPlain, plainTarget, range(N), 1e-5, 0.0, "plain target logits, " + loss);
            assertClose(expectedScale, rowScale, range(N), 1e-6, 0.0, "a_i, " + loss);
            double maxError = 0.0;
            double scale = 1.0;
            for (int t = 0; t < expectedTerms.length; t++) {
                maxError = Math.max(maxError, Math.abs(rowTerms.get(t) - expectedTerms[t]));
                scale = Math.max(scale, Math.abs(expectedTerms[t]));
            }
            org.junit.jupiter.api.Assertions.assertTrue(maxError <= 1e-4 * scale, "correction coefficients, " + loss + ": " + maxError);
        }
    }

    /**
     * (L5), (L7): loss per row, G = (softmax - onehot) / N, the row terms scaled by G_iy / (1 + beta), and
     * each row's prediction (the plain-logit argmax, first index on ties) against the host's argmax.
     */
    @Test
    void softmaxCrossEntropyGivesTheLossAndG() {
        Random random = new Random(Seeds.draw());
        FloatArray logits = gaussian(N * STRIDE, random, 30.0); // large logits: the row max must be subtracted
        IntArray labels = new IntArray(N);
        DoubleArray rowTerms = new DoubleArray(N * LSoftmaxKernels.TERMS_PER_ROW);
        double[] terms = new double[N * LSoftmaxKernels.TERMS_PER_ROW];
        for (int t = 0; t < terms.length; t++) {
            terms[t] = random.nextGaussian();
            rowTerms.set(t, terms[t]);
        }
        for (int i = 0; i < N; i++) {
            labels.set(i, random.nextInt(C));
        }
        DoubleArray beta = DoubleArray.fromArray(new double[] {2.0});
        DoubleArray lossValues = lossArray(MarginLoss.lsoftmax(3));
        FloatArray ones = new FloatArray(Math.max(N, C));
        ones.init(1.0f);
        FloatArray gradLogits = new FloatArray(N * STRIDE);
        FloatArray gradPanels = new FloatArray(1);
        DoubleArray rowLoss = new DoubleArray(N);
        // plain target logits: the target's own logit in a third of the rows, above the row max in another
        // third (the target is predicted), below every logit in the rest; ties on row 0
        FloatArray plainTarget = new FloatArray(N);
        for (int i = 0; i < N; i++) {
            float own = logits.get(i * STRIDE + labels.get(i));
            plainTarget.set(i, i % 3 == 0 ? own : i % 3 == 1 ? 1000.0f : -1000.0f);
        }
        logits.set(1, logits.get(0));
        IntArray predictions = new IntArray(N);
        runOnce("softmax", new Object[] {logits, labels, beta, lossValues, ones, plainTarget, rowTerms},
                graph -> graph.task("softmax", LSoftmaxKernels::softmaxCrossEntropy, logits, labels, beta, lossValues, ones, ones, plainTarget,
                        gradLogits, gradPanels, rowLoss, rowTerms, predictions, N, C, STRIDE, 0, extent(N)), rows(N), gradLogits, rowLoss,
                rowTerms, predictions);
        for (int i = 0; i < N; i++) {
            int y = labels.get(i);
            int best = 0;
            float bestValue = y == 0 ? plainTarget.get(i) : logits.get(i * STRIDE);
            for (int j = 1; j < C; j++) {
                float value = j == y ? plainTarget.get(i) : logits.get(i * STRIDE + j);
                if (value > bestValue) {
                    best = j;
                    bestValue = value;
                }
            }
            org.junit.jupiter.api.Assertions.assertEquals(best, predictions.get(i), "prediction of row " + i);
        }
        double[] expectedG = new double[N * STRIDE];
        double[] expectedLoss = new double[N];
        double[] expectedTerms = new double[N * LSoftmaxKernels.TERMS_PER_ROW];
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
            for (int t = 0; t < LSoftmaxKernels.TERMS_PER_ROW; t++) {
                expectedTerms[4 * i + t] = s * terms[4 * i + t];
            }
        }
        assertClose(expectedG, gradLogits, block(N, C, STRIDE), 1e-5, 0.0, "G");
        double maxLossError = 0.0;
        for (int i = 0; i < N; i++) {
            maxLossError = Math.max(maxLossError, Math.abs(rowLoss.get(i) - expectedLoss[i]) / Math.max(1.0, expectedLoss[i]));
        }
        org.junit.jupiter.api.Assertions.assertTrue(maxLossError <= 1e-5, "row losses: error " + maxLossError);
        double maxTermError = 0.0;
        for (int t = 0; t < expectedTerms.length; t++) {
            maxTermError = Math.max(maxTermError, Math.abs(rowTerms.get(t) - expectedTerms[t]));
        }
        org.junit.jupiter.api.Assertions.assertTrue(maxTermError <= 1e-5 / N, "scaled row terms: error " + maxTermError);
    }

    /**
     * The shard stages' two kernels: shardSoftmax's per-row max, sum of exp and owned target logit (label -1
     * for a third of the rows: the class is on another shard), then shardGradient's G from a given lse_i,
     * G_ij = (exp(f_ij - lse_i) - [j = y_i]) / N (times b_j for a normalising loss) and the row terms scaled
     * by G_iy / (1 + beta) (0 for rows without a target here).
     */
    @Test
    void shardKernelsGiveTheRowStatisticsAndGFromTheWholeHeadsLse() {
        Random random = new Random(Seeds.draw());
        for (MarginLoss loss : new MarginLoss[] {MarginLoss.lsoftmax(3), MarginLoss.cosface(16, 0.35)}) {
            FloatArray logits = gaussian(N * STRIDE, random, 20.0);
            double[] original = new double[N * STRIDE];
            IntArray labels = new IntArray(N);
            for (int i = 0; i < N; i++) {
                labels.set(i, i % 3 == 0 ? -1 : random.nextInt(C));
            }
            FloatArray rowScale = new FloatArray(N);
            FloatArray classScale = new FloatArray(C);
            for (int i = 0; i < N; i++) {
                rowScale.set(i, loss.kind() == MarginLoss.Kind.LSOFTMAX ? 1.0f : (float) (0.5 + random.nextDouble()));
            }
            for (int j = 0; j < C; j++) {
                classScale.set(j, loss.kind() == MarginLoss.Kind.LSOFTMAX ? 1.0f : (float) (0.5 + random.nextDouble()));
            }
            for (int index = 0; index < original.length; index++) {
                original[index] = logits.get(index);
            }
            DoubleArray lossValues = lossArray(loss);
            FloatArray gradLogits = new FloatArray(N * STRIDE);
            DoubleArray rowMax = new DoubleArray(N);
            DoubleArray rowSum = new DoubleArray(N);
            DoubleArray rowTarget = new DoubleArray(N);
            runOnce("shardSoftmax", new Object[] {logits, labels, lossValues, rowScale, classScale},
                    graph -> graph.task("shardSoftmax", LSoftmaxKernels::shardSoftmax, logits, labels, lossValues, rowScale, classScale, gradLogits,
                            rowMax, rowSum, rowTarget, N, C, STRIDE, extent(N)), rows(N), logits, gradLogits, rowMax, rowSum, rowTarget);
            double[] lse = new double[N];
            double[] f = new double[N * STRIDE];
            for (int i = 0; i < N; i++) {
                int y = labels.get(i);
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < C; j++) {
                    double scale = loss.kind() == MarginLoss.Kind.LSOFTMAX || j == y ? 1.0 : rowScale.get(i) * (double) classScale.get(j);
                    f[i * STRIDE + j] = (float) (original[i * STRIDE + j] * scale);
                    max = Math.max(max, f[i * STRIDE + j]);
                }
                double sum = 0.0;
                for (int j = 0; j < C; j++) {
                    sum += Math.exp(f[i * STRIDE + j] - max);
                }
                org.junit.jupiter.api.Assertions.assertEquals(max, rowMax.get(i), 1e-5 * Math.abs(max), "row max " + i);
                org.junit.jupiter.api.Assertions.assertEquals(sum, rowSum.get(i), 1e-5 * sum, "row sum " + i);
                org.junit.jupiter.api.Assertions.assertEquals(y >= 0 ? f[i * STRIDE + y] : 0.0, rowTarget.get(i), 1e-5 * Math.abs(max), "target " + i);
                // another shard's sum of exp joins this one's: lse is above this shard's own log-sum-exp
                lse[i] = max + Math.log(sum) + random.nextDouble();
            }
            DoubleArray logSumExp = DoubleArray.fromArray(lse);
            DoubleArray beta = DoubleArray.fromArray(new double[] {2.0});
            DoubleArray rowTerms = new DoubleArray(N * LSoftmaxKernels.TERMS_PER_ROW);
            double[] terms = new double[N * LSoftmaxKernels.TERMS_PER_ROW];
            for (int t = 0; t < terms.length; t++) {
                terms[t] = random.nextGaussian();
                rowTerms.set(t, terms[t]);
            }
            runOnce("shardGradient", new Object[] {gradLogits, labels, beta, lossValues, rowScale, classScale, rowMax, logSumExp, rowTarget, rowTerms},
                    graph -> graph.task("shardGradient", LSoftmaxKernels::shardGradient, gradLogits, labels, beta, lossValues, rowScale, classScale,
                            rowMax, logSumExp, rowTarget, rowTerms, N, C, STRIDE, extent(N)), rows(N), gradLogits, rowTerms);
            double[] expectedG = new double[N * STRIDE];
            double maxTermError = 0.0;
            for (int i = 0; i < N; i++) {
                int y = labels.get(i);
                for (int j = 0; j < C; j++) {
                    double g = (Math.exp(f[i * STRIDE + j] - lse[i]) - (j == y ? 1 : 0)) / N;
                    double scale = loss.kind() == MarginLoss.Kind.LSOFTMAX ? 1.0 : rowScale.get(i) * (double) classScale.get(j);
                    expectedG[i * STRIDE + j] = g * scale;
                }
                double s = y >= 0 ? (Math.exp(f[i * STRIDE + y] - lse[i]) - 1) / N / (1 + 2.0) : 0.0;
                for (int t = 0; t < LSoftmaxKernels.TERMS_PER_ROW; t++) {
                    maxTermError = Math.max(maxTermError, Math.abs(rowTerms.get(4 * i + t) - s * terms[4 * i + t]));
                }
            }
            assertClose(expectedG, gradLogits, block(N, C, STRIDE), 1e-5, 0.0, loss + ": G");
            org.junit.jupiter.api.Assertions.assertTrue(maxTermError <= 1e-5 / N, loss + ": scaled row terms: error " + maxTermError);
        }
    }

    /**
     * The single-pass step's fused kernels against the kernels they fuse, bit for bit (G to float rounding), on fresh random
     * inputs for every kind of the family: {@link LSoftmaxKernels#marginSoftmax} = targetMargin then
     * softmaxCrossEntropy; {@link LSoftmaxKernels#finishGradX} = removeRadialPart (features) then
     * correctGradX; {@link LSoftmaxKernels#finishGradW} = removeRadialPart (weights) then correctGradW.
     * Each of the parts is checked against its Java twin by the tests of this class.
     */
    @Test
    void fusedKernelsEqualTheKernelsTheyFuse() {
        for (MarginLoss loss : new MarginLoss[] {MarginLoss.lsoftmax(4), MarginLoss.sphereface(3), MarginLoss.cosface(16, 0.35),
            MarginLoss.arcface(30, 0.5), MarginLoss.combined(30, 1.5, 0.3, 0.2)}) {
            Random random = new Random(Seeds.draw());
            FloatArray x = gaussian(N * D, random, 1.0);
            FloatArray w = gaussian(C * D, random, 1.0);
            for (int col = 0; col < D; col++) {
                x.set(5 * D + col, 0.0f); // a zero row: the plain target and no correction
            }
            int[] labelValues = new int[N];
            IntArray labels = new IntArray(N);
            for (int i = 0; i < N; i++) {
                labelValues[i] = random.nextInt(C / 2) * 2; // odd classes absent
                labels.set(i, labelValues[i]);
            }
            FloatArray classScale = new FloatArray(C);
            for (int j = 0; j < C; j++) {
                classScale.set(j, loss.kind().normalisesWeights() ? (float) (1 / norm(w, j, D)) : 1.0f);
            }
            FloatArray logits = new FloatArray(N * STRIDE);
            for (int i = 0; i < N; i++) {
                for (int j = 0; j < C; j++) {
                    double dot = 0.0;
                    for (int col = 0; col < D; col++) {
                        dot += (double) x.get(i * D + col) * w.get(j * D + col);
                    }
                    logits.set(i * STRIDE + j, (float) dot);
                }
            }
            DoubleArray beta = DoubleArray.fromArray(new double[] {0.5});
            DoubleArray lossValues = lossArray(loss);
            String what = loss.toString();

            // the forward's row kernels: two, then one
            FloatArray[] floats = new FloatArray[2];
            FloatArray[] plain = new FloatArray[2];
            FloatArray[] scale = new FloatArray[2];
            FloatArray[] grad = new FloatArray[2];
            DoubleArray[] terms = new DoubleArray[2];
            DoubleArray[] rowLoss = new DoubleArray[2];
            IntArray[] predictions = new IntArray[2];
            for (int run = 0; run < 2; run++) {
                FloatArray f = KernelHarness.copy(logits);
                FloatArray p = new FloatArray(N);
                FloatArray a = new FloatArray(N);
                FloatArray g = new FloatArray(N * STRIDE);
                FloatArray panels = new FloatArray(1);
                DoubleArray t = new DoubleArray(N * LSoftmaxKernels.TERMS_PER_ROW);
                DoubleArray l = new DoubleArray(N);
                IntArray predicted = new IntArray(N);
                if (run == 0) {
                    KernelHarness.runTasks(new Object[] {x, w, labels, classScale, beta, lossValues, f}, graph -> graph
                            .task("margin", LSoftmaxKernels::targetMargin, x, w, labels, classScale, beta, lossValues, f, p, a, t, N, D, STRIDE,
                                    extent(N))
                            .task("softmax", LSoftmaxKernels::softmaxCrossEntropy, f, labels, beta, lossValues, a, classScale, p, g, panels, l, t,
                                    predicted, N, C, STRIDE, 0, extent(N)),
                            java.util.Map.of("margin", rows(N), "softmax", rows(N)), f, p, a, g, t, l, predicted);
                } else {
                    KernelHarness.runTasks(new Object[] {x, w, labels, classScale, beta, lossValues, f}, graph -> graph
                            .task("fused", LSoftmaxKernels::marginSoftmax, x, w, labels, classScale, beta, lossValues, f, p, a, t, g, panels, l,
                                    predicted, N, D, C, STRIDE, 0, extent(N)),
                            java.util.Map.of("fused", rows(N)), f, p, a, g, t, l, predicted);
                }
                floats[run] = f;
                plain[run] = p;
                scale[run] = a;
                grad[run] = g;
                terms[run] = t;
                rowLoss[run] = l;
                predictions[run] = predicted;
            }
            KernelHarness.assertSameBits(floats[0], floats[1], "logits, " + what);
            KernelHarness.assertSameBits(plain[0], plain[1], "plain targets, " + what);
            KernelHarness.assertSameBits(scale[0], scale[1], "a_i, " + what);
            // G: the same up to float rounding (for the scaled losses the compiler contracts G's scaling by
            // a_i b_j differently inside the fused kernel: a last-bit difference)
            assertClose(KernelHarness.toDoubles(grad[0]), grad[1], block(N, C, STRIDE), 1e-6, 0.0, "G, " + what);
            KernelHarness.assertSameBits(terms[0], terms[1], "row terms, " + what);
            KernelHarness.assertSameBits(rowLoss[0], rowLoss[1], "row losses, " + what);
            KernelHarness.assertSameBits(predictions[0], predictions[1], "predictions, " + what);

            // the backward's finishing kernels: two, then one, on the row terms the forward gave
            DoubleArray rowTerms = terms[0];
            ClassGroups groups = new ClassGroups(N, C);
            groups.group(labelValues);
            IntArray present = IntArray.fromArray(groups.presentClasses());
            IntArray classStart = IntArray.fromArray(groups.classStart());
            IntArray samples = IntArray.fromArray(groups.samples());
            int gradStride = 32;
            int columns = 32;
            WorkerGrid2D gradXGrid = new WorkerGrid2D(columns, N);
            gradXGrid.setLocalWork(columns, 1, 1);
            WorkerGrid2D gradWGrid = new WorkerGrid2D(columns, Math.min(N, C));
            gradWGrid.setLocalWork(columns, 1, 1);
            FloatArray gradX = gaussian(N * gradStride, random, 0.1);
            FloatArray gradW = gaussian(C * gradStride, random, 0.1);
            FloatArray gradXParts = KernelHarness.copy(gradX);
            FloatArray gradWParts = KernelHarness.copy(gradW);
            KernelHarness.runTasks(new Object[] {x, w, labels, lossValues, rowTerms, present, classStart, samples, gradXParts, gradWParts},
                    graph -> graph
                            .task("xRadial", LSoftmaxKernels::removeRadialPart, x, gradXParts, lossValues, MarginMath.COSFACE, N, D, gradStride,
                                    extent(N))
                            .task("xTarget", LSoftmaxKernels::correctGradX, x, w, labels, rowTerms, gradXParts, columns, N, D, gradStride)
                            .task("wRadial", LSoftmaxKernels::removeRadialPart, w, gradWParts, lossValues, MarginMath.SPHEREFACE, C, D,
                                    gradStride, extent(C))
                            .task("wTarget", LSoftmaxKernels::correctGradW, x, w, present, classStart, samples, rowTerms, gradWParts, columns,
                                    Math.min(N, C), D, gradStride),
                    java.util.Map.of("xRadial", rows(N), "xTarget", gradXGrid, "wRadial", rows(C), "wTarget", gradWGrid), gradXParts, gradWParts);
            KernelHarness.runTasks(new Object[] {x, w, labels, lossValues, rowTerms, classStart, samples, gradX, gradW}, graph -> graph
                    .task("finishX", LSoftmaxKernels::finishGradX, x, w, labels, lossValues, rowTerms, gradX, N, D, gradStride, extent(N))
                    .task("finishW", LSoftmaxKernels::finishGradW, x, w, classStart, samples, lossValues, rowTerms, gradW, C, D, gradStride,
                            extent(C)),
                    java.util.Map.of("finishX", rows(N), "finishW", rows(C)), gradX, gradW);
            KernelHarness.assertSameBits(gradXParts, gradX, "dX, " + what);
            KernelHarness.assertSameBits(gradWParts, gradW, "dW, " + what);
        }
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
        DoubleArray rowTerms = randomTerms(random);
        int gradStride = 32;
        FloatArray gradX = gaussian(N * gradStride, random, 0.1);
        double[] expected = KernelHarness.toDoubles(gradX);
        int columns = 32;
        WorkerGrid2D grid = new WorkerGrid2D(columns, N); // dimension 0 along the columns, as GridSizes.elements
        grid.setLocalWork(columns, 1, 1);
        runOnce("gradX", new Object[] {x, w, labels, rowTerms, gradX},
                graph -> graph.task("gradX", LSoftmaxKernels::correctGradX, x, w, labels, rowTerms, gradX, columns, N, D, gradStride), grid, gradX);
        for (int i = 0; i < N; i++) {
            int y = labels.get(i);
            for (int col = 0; col < D; col++) {
                expected[i * gradStride + col] += rowTerms.get(4 * i) * w.get(y * D + col) + rowTerms.get(4 * i + 1) * x.get(i * D + col);
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
        DoubleArray rowTerms = randomTerms(random);
        int gradStride = 32;
        FloatArray gradW = gaussian(C * gradStride, random, 0.1);
        double[] expected = KernelHarness.toDoubles(gradW);
        int columns = 32;
        WorkerGrid2D grid = new WorkerGrid2D(columns, N); // dimension 0 along the columns, as GridSizes.elements
        grid.setLocalWork(columns, 1, 1);
        runOnce("gradW", new Object[] {x, w, present, classStart, samples, rowTerms, gradW},
                graph -> graph.task("gradW", LSoftmaxKernels::correctGradW, x, w, present, classStart, samples, rowTerms, gradW, columns, N, D,
                        gradStride), grid, gradW);
        for (int i = 0; i < N; i++) {
            int j = labelValues[i];
            for (int col = 0; col < D; col++) {
                expected[j * gradStride + col] += rowTerms.get(4 * i + 2) * x.get(i * D + col) + rowTerms.get(4 * i + 3) * w.get(j * D + col);
            }
        }
        assertClose(expected, gradW, block(C, D, gradStride), 1e-5, 0.0, "dW after the correction");
    }

    private static DoubleArray randomTerms(Random random) {
        DoubleArray terms = new DoubleArray(N * LSoftmaxKernels.TERMS_PER_ROW);
        for (int t = 0; t < terms.getSize(); t++) {
            terms.set(t, 0.1 * random.nextGaussian());
        }
        return terms;
    }

    /**
     * (F14): g_r <- g_r - (v_r.g_r / |v_r|^2) v_r for the rows of a normalised vector (the gradient of a
     * normalised vector is orthogonal to it), and nothing for a loss that does not normalise them.
     */
    @Test
    void radialPartIsRemovedForNormalisedVectorsOnly() {
        Random random = new Random(Seeds.draw());
        FloatArray vectors = gaussian(N * D, random, 1.0);
        int gradStride = 32;
        for (MarginLoss loss : new MarginLoss[] {MarginLoss.cosface(16, 0.35), MarginLoss.lsoftmax(2)}) {
            FloatArray gradient = gaussian(N * gradStride, random, 1.0);
            double[] expected = KernelHarness.toDoubles(gradient);
            DoubleArray lossValues = lossArray(loss);
            runOnce("radial", new Object[] {vectors, gradient, lossValues}, graph -> graph.task("radial", LSoftmaxKernels::removeRadialPart,
                    vectors, gradient, lossValues, MarginMath.COSFACE, N, D, gradStride, extent(N)), rows(N), gradient);
            if (loss.kind().normalisesFeatures()) {
                for (int r = 0; r < N; r++) {
                    double vv = 0;
                    double vg = 0;
                    for (int col = 0; col < D; col++) {
                        vv += (double) vectors.get(r * D + col) * vectors.get(r * D + col);
                        vg += vectors.get(r * D + col) * expected[r * gradStride + col];
                    }
                    for (int col = 0; col < D; col++) {
                        expected[r * gradStride + col] -= vg / vv * vectors.get(r * D + col);
                    }
                }
            }
            assertClose(expected, gradient, block(N, D, gradStride), 1e-5, 0.0, "radial part removed, " + loss);
        }
    }
}
