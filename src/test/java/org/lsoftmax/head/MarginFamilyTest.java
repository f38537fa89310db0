package org.lsoftmax.head;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.check.GradientCheck;
import org.lsoftmax.check.PassComparison;
import org.lsoftmax.check.RandomInputs;
import org.lsoftmax.head.reference.ReferencePass;
import org.lsoftmax.head.select.PassFactory;
import org.lsoftmax.testing.Seeds;

/**
 * Every loss of the family (docs/DERIVATION.md, (F1)-(F16)) on the reference and jvm passes: the
 * reference against float64 finite differences, the jvm pass against the reference, on shapes that are
 * multiples of no tile, for s in {1, 16, 64} and beta in {0, 1, 1000}; the exact reductions; the edges
 * finite. (The tornado pass: TornadoPassTest.)
 */
class MarginFamilyTest {

    private static final double[] BETAS = {0.0, 1.0, 1000.0};
    private static final HeadShape[] SHAPES = {new HeadShape(9, 5, 4), new HeadShape(13, 7, 3), new HeadShape(37, 33, 17)};

    private static List<MarginLoss> losses() {
        return List.of(MarginLoss.lsoftmax(4), MarginLoss.sphereface(3), MarginLoss.sphereface(4),
                MarginLoss.cosface(1, 0.35), MarginLoss.cosface(16, 0.35), MarginLoss.cosface(64, 0.35),
                MarginLoss.arcface(1, 0.5), MarginLoss.arcface(16, 0.5), MarginLoss.arcface(64, 0.5), MarginLoss.arcface(30, 2.5),
                MarginLoss.combined(1, 1.0, 0.3, 0.2), MarginLoss.combined(16, 1.35, 0.3, 0.2), MarginLoss.combined(64, 2.0, 0.1, 0.05));
    }

    @Test
    void referenceGradientsMatchFiniteDifferences() {
        long seed = Seeds.draw();
        Random random = new Random(seed);
        for (MarginLoss loss : losses()) {
            for (double beta : BETAS) {
                HeadShape shape = SHAPES[random.nextInt(2)];
                GradientCheck.Result result = GradientCheck.check(shape, loss, beta, RandomInputs.generate(shape, loss, random.nextLong()));
                assertTrue(result.worst() <= 1e-6, loss + " beta=" + beta + " " + shape + ": dX " + result.dxError() + ", dW " + result.dwError());
            }
        }
    }

    @Test
    void jvmPassMatchesTheReference() {
        long seed = Seeds.draw();
        Random random = new Random(seed);
        for (MarginLoss loss : losses()) {
            for (HeadShape shape : SHAPES) {
                try (HeadPass pass = PassFactory.create("jvm", shape, loss, new PassOptions(2, null))) {
                    for (double beta : BETAS) {
                        RandomInputs inputs = RandomInputs.generate(shape, loss, random.nextLong());
                        PassComparison.Errors errors = PassComparison.compare(pass, beta, inputs.xFloat(), inputs.wFloat(), inputs.labels());
                        assertTrue(errors.worst() <= 1e-4, loss + " beta=" + beta + " " + shape + ": " + errors);
                    }
                }
            }
        }
    }

    /** cos theta = +-1, zero rows, the join, a branch boundary, large logits: finite everywhere, and the passes agree. */
    @Test
    void edgesAreFiniteAndAgree() {
        long seed = Seeds.draw();
        Random random = new Random(seed);
        HeadShape shape = new HeadShape(11, 6, 5);
        for (MarginLoss loss : losses()) {
            for (double beta : BETAS) {
                RandomInputs inputs = RandomInputs.edges(shape, loss, random.nextLong());
                float[] x = inputs.xFloat();
                float[] w = inputs.wFloat();
                PassComparison.Outputs expected = PassComparison.reference(shape, loss, beta, x, w, inputs.labels());
                assertFinite(expected, "reference, " + loss + " beta=" + beta);
                try (HeadPass pass = PassFactory.create("jvm", shape, loss, new PassOptions(1, null))) {
                    PassComparison.Outputs actual = PassComparison.run(pass, beta, x, w, inputs.labels());
                    assertFinite(actual, "jvm, " + loss + " beta=" + beta);
                    PassComparison.Errors errors = PassComparison.errors(shape, expected, actual, x, w);
                    assertTrue(errors.worst() <= 1e-4, "edges, " + loss + " beta=" + beta + ": " + errors);
                }
            }
        }
    }

    /** combined(1, m2, 0) == arcface and combined(1, 0, m3) == cosface, bit for bit, on the reference and the jvm pass. */
    @Test
    void combinedReducesExactlyToArcFaceAndCosFace() {
        long seed = Seeds.draw();
        HeadShape shape = new HeadShape(23, 9, 7);
        MarginLoss[][] pairs = {{MarginLoss.combined(30, 1.0, 0.5, 0.0), MarginLoss.arcface(30, 0.5)},
            {MarginLoss.combined(30, 1.0, 0.0, 0.35), MarginLoss.cosface(30, 0.35)}};
        for (MarginLoss[] pair : pairs) {
            RandomInputs inputs = RandomInputs.generate(shape, pair[1], seed);
            for (String passName : new String[] {"reference", "jvm"}) {
                PassComparison.Outputs first;
                PassComparison.Outputs second;
                try (HeadPass a = PassFactory.create(passName, shape, pair[0], PassOptions.DEFAULTS);
                        HeadPass b = PassFactory.create(passName, shape, pair[1], PassOptions.DEFAULTS)) {
                    first = PassComparison.run(a, 0.5, inputs.xFloat(), inputs.wFloat(), inputs.labels());
                    second = PassComparison.run(b, 0.5, inputs.xFloat(), inputs.wFloat(), inputs.labels());
                }
                String what = pair[0] + " vs " + pair[1] + " on " + passName;
                assertEquals(second.loss(), first.loss(), 0.0, what);
                assertArrayEquals(second.logits(), first.logits(), 0.0, what);
                assertArrayEquals(second.dx(), first.dx(), 0.0, what);
                assertArrayEquals(second.dw(), first.dw(), 0.0, what);
            }
        }
    }

    /**
     * lsoftmax m = 1 is softmax cross-entropy of X W^T, and cosface m3 = 0 the normalised softmax
     * s cos(theta_j), for every beta: against a plain computation of each, in float64.
     */
    @Test
    void marginFreeLossesAreTheirSoftmax() {
        long seed = Seeds.draw();
        HeadShape shape = new HeadShape(17, 6, 5);
        RandomInputs inputs = RandomInputs.generate(shape, 1, seed);
        for (MarginLoss loss : new MarginLoss[] {MarginLoss.lsoftmax(1), MarginLoss.cosface(16, 0.0)}) {
            double expected = softmaxLoss(shape, inputs, loss.kind() == MarginLoss.Kind.COSFACE ? 16.0 : 0.0);
            for (double beta : BETAS) {
                double actual = new ReferencePass(shape, loss).forward(inputs.x(), inputs.w(), inputs.labels(), beta,
                        new double[shape.logitsSize()]);
                assertEquals(expected, actual, 1e-12 * Math.abs(expected), loss + " beta=" + beta);
            }
        }
    }

    /** Softmax cross-entropy of w_j.x (scale 0) or of scale * cos(theta_j). */
    private static double softmaxLoss(HeadShape shape, RandomInputs inputs, double scale) {
        int d = shape.features();
        double total = 0.0;
        for (int i = 0; i < shape.batch(); i++) {
            double[] logits = new double[shape.classes()];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < shape.classes(); j++) {
                double dot = 0;
                double xx = 0;
                double ww = 0;
                for (int col = 0; col < d; col++) {
                    dot += inputs.x()[i * d + col] * inputs.w()[j * d + col];
                    xx += inputs.x()[i * d + col] * inputs.x()[i * d + col];
                    ww += inputs.w()[j * d + col] * inputs.w()[j * d + col];
                }
                logits[j] = scale == 0.0 ? dot : scale * dot / Math.sqrt(xx * ww);
                max = Math.max(max, logits[j]);
            }
            double sum = 0;
            for (double logit : logits) {
                sum += Math.exp(logit - max);
            }
            total += max + Math.log(sum) - logits[inputs.labels()[i]];
        }
        return total / shape.batch();
    }

    @Test
    void badParametersAreRefusedWithOneLine() {
        assertThrows(InvalidInputException.class, () -> MarginLoss.cosface(0.0, 0.35));
        assertThrows(InvalidInputException.class, () -> MarginLoss.arcface(-1.0, 0.5));
        assertThrows(InvalidInputException.class, () -> MarginLoss.arcface(64, Math.PI));
        assertThrows(InvalidInputException.class, () -> MarginLoss.arcface(64, -0.1));
        assertThrows(InvalidInputException.class, () -> MarginLoss.combined(64, 0.9, 0.3, 0.2));
        assertThrows(InvalidInputException.class, () -> MarginLoss.combined(64, 1.0, 0.3, -0.2));
        assertThrows(InvalidInputException.class, () -> MarginLoss.sphereface(17));
        assertThrows(InvalidInputException.class, () -> new MarginLoss(MarginLoss.Kind.ARCFACE, 4, 1.0, 0.5, 0.0, 64.0));
        assertThrows(InvalidInputException.class, () -> MarginLoss.cosface(Double.NaN, 0.35));
        assertEquals("arcface(s=30, m2=0.5)", MarginLoss.arcface(30, 0.5).toString());
        for (MarginLoss loss : losses()) {
            assertEquals(loss, MarginLoss.parse(loss.toText()), loss.toText());
        }
    }

    private static void assertFinite(PassComparison.Outputs outputs, String what) {
        assertTrue(Double.isFinite(outputs.loss()), what + ": loss " + outputs.loss());
        for (double[] values : new double[][] {outputs.logits(), outputs.dx(), outputs.dw()}) {
            for (double value : values) {
                assertTrue(Double.isFinite(value), what + ": " + value);
            }
        }
    }
}
