package org.lsoftmax.head.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.check.GradientCheck;
import org.lsoftmax.check.RandomInputs;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.testing.Seeds;

class ReferencePassTest {

    private static final double[] BETAS = {0.0, 1.0, 1000.0};

    /** Analytic gradients against float64 central differences, m = 1..6, beta in {0, 1, 1000}, random shapes. */
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 5, 6})
    void gradientsMatchFiniteDifferences(int margin) {
        long seed = Seeds.draw();
        Random random = new Random(seed);
        for (double beta : BETAS) {
            for (int trial = 0; trial < 3; trial++) {
                HeadShape shape = new HeadShape(margin + 1 + random.nextInt(10), 2 + random.nextInt(7), 2 + random.nextInt(5));
                RandomInputs inputs = RandomInputs.generate(shape, margin, random.nextLong());
                GradientCheck.Result result = GradientCheck.check(shape, margin, beta, inputs);
                assertTrue(result.worst() <= 1e-6, "seed " + seed + ": " + result);
            }
        }
    }

    /** The inputs really cover every branch k (otherwise the gradient check proves less than it says). */
    @Test
    void randomInputsCoverEveryBranch() {
        int margin = 5;
        HeadShape shape = new HeadShape(40, 6, 3);
        RandomInputs inputs = RandomInputs.generate(shape, margin, 7);
        boolean[] seen = new boolean[margin];
        int d = shape.features();
        for (int i = 0; i < shape.batch(); i++) {
            int y = inputs.labels()[i];
            double dot = 0;
            double xx = 0;
            double ww = 0;
            for (int col = 0; col < d; col++) {
                dot += inputs.x()[i * d + col] * inputs.w()[y * d + col];
                xx += inputs.x()[i * d + col] * inputs.x()[i * d + col];
                ww += inputs.w()[y * d + col] * inputs.w()[y * d + col];
            }
            seen[org.lsoftmax.math.LSoftmaxMath.marginK(dot / Math.sqrt(xx * ww), margin)] = true;
        }
        for (int k = 0; k < margin; k++) {
            assertTrue(seen[k], "branch k=" + k + " not drawn");
        }
    }

    /** m = 1 is exactly softmax cross-entropy on x W^T, whatever beta. */
    @ParameterizedTest
    @ValueSource(doubles = {0.0, 0.5, 1.0, 1000.0})
    void marginOneIsPlainSoftmaxCrossEntropy(double beta) {
        HeadShape shape = new HeadShape(9, 5, 4);
        RandomInputs inputs = RandomInputs.generate(shape, 1, Seeds.draw());
        ReferencePass pass = new ReferencePass(shape, 1);
        double[] logits = new double[shape.logitsSize()];
        double loss = pass.forward(inputs.x(), inputs.w(), inputs.labels(), beta, logits);
        double[] dx = new double[shape.xSize()];
        double[] dw = new double[shape.wSize()];
        pass.backward(dx, dw);

        PlainSoftmax plain = PlainSoftmax.of(shape, inputs.x(), inputs.w(), inputs.labels());
        assertEquals(plain.loss, loss, 1e-13);
        assertTrue(GradientCheck.relativeError(logits, plain.logits) < 1e-14);
        assertTrue(GradientCheck.relativeError(dx, plain.dx) < 1e-13);
        assertTrue(GradientCheck.relativeError(dw, plain.dw) < 1e-13);
    }

    /** Large beta approaches plain softmax: the margin part is scaled by 1/(1+beta). */
    @Test
    void largeBetaApproachesPlainSoftmax() {
        HeadShape shape = new HeadShape(6, 4, 3);
        RandomInputs inputs = RandomInputs.generate(shape, 4, 3);
        PlainSoftmax plain = PlainSoftmax.of(shape, inputs.x(), inputs.w(), inputs.labels());
        double[] logits = new double[shape.logitsSize()];
        double loss = new ReferencePass(shape, 4).forward(inputs.x(), inputs.w(), inputs.labels(), 1e9, logits);
        assertEquals(plain.loss, loss, 1e-7);
        double lossNoAnnealing = new ReferencePass(shape, 4).forward(inputs.x(), inputs.w(), inputs.labels(), 0.0, logits);
        assertTrue(lossNoAnnealing > plain.loss, "the margin makes the loss larger");
    }

    /** docs/DERIVATION.md, "Edges": zero-norm x or w_y gives the plain logit and plain gradient, never NaN. */
    @Test
    void zeroNormsGivePlainLogitAndNoNaN() {
        HeadShape shape = new HeadShape(3, 4, 3);
        RandomInputs inputs = RandomInputs.generate(shape, 4, 11);
        double[] x = inputs.x().clone();
        double[] w = inputs.w().clone();
        int[] labels = {0, 1, 2};
        java.util.Arrays.fill(x, 0, 4, 0.0);       // |x_0| = 0
        java.util.Arrays.fill(w, 2 * 4, 3 * 4, 0.0); // |w_2| = 0, the class of sample 2
        ReferencePass pass = new ReferencePass(shape, 4);
        double[] logits = new double[shape.logitsSize()];
        double loss = pass.forward(x, w, labels, 0.0, logits);
        double[] dx = new double[shape.xSize()];
        double[] dw = new double[shape.wSize()];
        pass.backward(dx, dw);
        assertTrue(Double.isFinite(loss));
        assertEquals(0.0, logits[0], 0.0, "target logit of a zero x is w.x = 0");
        assertEquals(0.0, logits[2 * 3 + 2], 0.0, "target logit with a zero w_y is w.x = 0");
        for (double value : dx) {
            assertTrue(Double.isFinite(value));
        }
        for (double value : dw) {
            assertTrue(Double.isFinite(value));
        }
        // sample 0's dX row is the plain one: sum_j G_0j w_j
        PlainSoftmaxRow row = PlainSoftmaxRow.of(logits, 0, 3, labels[0], 3);
        for (int col = 0; col < 4; col++) {
            double expected = 0;
            for (int j = 0; j < 3; j++) {
                expected += row.gradient[j] * w[j * 4 + col];
            }
            assertEquals(expected, dx[col], 1e-15);
        }
    }

    /** cos(theta) = +1, -1 and exactly on k boundaries: finite, and the gradient check still holds. */
    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4, 6})
    void cosineOnBoundariesAndExtremes(int margin) {
        int d = 3;
        HeadShape shape = new HeadShape(margin + 1, d, 2);
        double[] w = {1.5, 0.0, 0.0, 0.0, 0.7, 0.2};
        double[] x = new double[shape.xSize()];
        int[] labels = new int[shape.batch()];
        for (int j = 0; j <= margin; j++) {
            double theta = j * Math.PI / margin; // 0, every boundary, and pi
            x[j * d] = 2.0 * Math.cos(theta);
            x[j * d + 2] = 2.0 * Math.sin(theta);
        }
        x[0] = 2.0;     // exactly +1
        x[2] = 0.0;
        x[margin * d] = -2.0; // exactly -1
        x[margin * d + 2] = 0.0;
        for (double beta : BETAS) {
            ReferencePass pass = new ReferencePass(shape, margin);
            double[] logits = new double[shape.logitsSize()];
            double loss = pass.forward(x, w, labels, beta, logits);
            assertTrue(Double.isFinite(loss));
            // target logit at theta = pi: (beta w.x + |w||x| (1 - 2m)) / (1 + beta)
            double expected = (beta * -3.0 + 3.0 * (1.0 - 2.0 * margin)) / (1.0 + beta);
            assertEquals(expected, logits[margin * 2], 1e-12);
            // on a boundary psi'' jumps, so a straddling central difference errs by O(h): use a small h
            GradientCheck.Result result = GradientCheck.check(shape, margin, beta, new RandomInputs(x, w, labels), 1e-8);
            assertTrue(result.worst() <= 1e-6, result.toString());
        }
    }

    @Test
    void hugeLogitsGiveFiniteLoss() {
        HeadShape shape = new HeadShape(2, 2, 3);
        double[] x = {100, 0, 0, -100};
        double[] w = {100, 0, -100, 0, 0, 100};
        ReferencePass pass = new ReferencePass(shape, 4);
        double[] logits = new double[6];
        double loss = pass.forward(x, w, new int[] {0, 2}, 0.0, logits);
        assertTrue(Double.isFinite(loss), "loss " + loss);
        double[] dx = new double[4];
        double[] dw = new double[6];
        pass.backward(dx, dw);
        for (double value : dx) {
            assertTrue(Double.isFinite(value));
        }
    }

    @Test
    void badInputsAreRefusedWithClearMessages() {
        HeadShape shape = new HeadShape(2, 3, 4);
        double[] x = new double[6];
        double[] w = new double[12];
        int[] labels = {0, 3};
        ReferencePass pass = new ReferencePass(shape, 2);
        double[] logits = new double[8];
        assertMessage("margin m must be an integer in [1, 16], got 0", () -> new ReferencePass(shape, 0));
        assertMessage("margin m must be an integer in [1, 16], got -3", () -> new ReferencePass(shape, -3));
        assertMessage("beta (lambda) must be a finite number >= 0, got -1.0", () -> pass.forward(x, w, labels, -1.0, logits));
        assertMessage("beta (lambda) must be a finite number >= 0, got NaN", () -> pass.forward(x, w, labels, Double.NaN, logits));
        assertMessage("label 4 in row 1 is outside [0, 4)", () -> pass.forward(x, w, new int[] {0, 4}, 0.0, logits));
        assertMessage("label -1 in row 0 is outside [0, 4)", () -> pass.forward(x, w, new int[] {-1, 0}, 0.0, logits));
        assertMessage("X must hold 2 x 3 = 6 values, got 5 values", () -> pass.forward(new double[5], w, labels, 0.0, logits));
        assertMessage("W must hold 4 x 3 = 12 values, got 9 values", () -> pass.forward(x, new double[9], labels, 0.0, logits));
        assertMessage("labels must hold N = 2 values, got 3", () -> pass.forward(x, w, new int[3], 0.0, logits));
        double[] badX = x.clone();
        badX[4] = Double.NaN;
        assertMessage("X has a non-finite value NaN at row 1, column 1", () -> pass.forward(badX, w, labels, 0.0, logits));
        double[] badW = w.clone();
        badW[7] = Double.POSITIVE_INFINITY;
        assertMessage("W has a non-finite value Infinity at row 2, column 1", () -> pass.forward(x, badW, labels, 0.0, logits));
        assertMessage("layer shape must have batch >= 1, features >= 1 and classes >= 2, got N=0, D=3, C=4",
                () -> new HeadShape(0, 3, 4));
        assertThrows(IllegalStateException.class, () -> new ReferencePass(shape, 2).backward(new double[6], new double[12]));
    }

    private static void assertMessage(String expected, org.junit.jupiter.api.function.Executable action) {
        InvalidInputException error = assertThrows(InvalidInputException.class, action);
        assertEquals(expected, error.getMessage());
    }

    /** Plain softmax cross-entropy on x W^T, written independently of the pass. */
    private record PlainSoftmax(double loss, double[] logits, double[] dx, double[] dw) {
        static PlainSoftmax of(HeadShape shape, double[] x, double[] w, int[] labels) {
            int n = shape.batch();
            int d = shape.features();
            int c = shape.classes();
            double[] logits = new double[n * c];
            double[] dx = new double[n * d];
            double[] dw = new double[c * d];
            double loss = 0;
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < c; j++) {
                    for (int col = 0; col < d; col++) {
                        logits[i * c + j] += x[i * d + col] * w[j * d + col];
                    }
                }
            }
            for (int i = 0; i < n; i++) {
                PlainSoftmaxRow row = PlainSoftmaxRow.of(logits, i, c, labels[i], n);
                loss += row.loss / n;
                for (int j = 0; j < c; j++) {
                    for (int col = 0; col < d; col++) {
                        dx[i * d + col] += row.gradient[j] * w[j * d + col];
                        dw[j * d + col] += row.gradient[j] * x[i * d + col];
                    }
                }
            }
            return new PlainSoftmax(loss, logits, dx, dw);
        }
    }

    /** One row's cross-entropy and its gradient (softmax - onehot) / batch. */
    private record PlainSoftmaxRow(double loss, double[] gradient) {
        static PlainSoftmaxRow of(double[] logits, int row, int classes, int label, int batch) {
            double sum = 0;
            for (int j = 0; j < classes; j++) {
                sum += Math.exp(logits[row * classes + j]);
            }
            double[] gradient = new double[classes];
            for (int j = 0; j < classes; j++) {
                gradient[j] = (Math.exp(logits[row * classes + j]) / sum - (j == label ? 1 : 0)) / batch;
            }
            return new PlainSoftmaxRow(Math.log(sum) - logits[row * classes + label], gradient);
        }
    }
}
