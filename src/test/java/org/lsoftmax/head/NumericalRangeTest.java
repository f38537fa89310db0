package org.lsoftmax.head;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lsoftmax.check.PassComparison;
import org.lsoftmax.check.RandomInputs;
import org.lsoftmax.head.select.PassFactory;
import org.lsoftmax.testing.Seeds;

/**
 * The fast passes at the edges of the numerical range, against the reference in float64 on the
 * same float32-rounded inputs: logits up to 1e4 in magnitude, feature norms from 1e-6 to 1e6, and
 * cos(theta) within 1e-7 of every branch boundary. Loss and gradients must be finite and agree.
 */
class NumericalRangeTest {

    private static final double TOLERANCE = 1e-4;

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4, 6})
    void logitsUpToTenThousand(int margin) {
        HeadShape shape = new HeadShape(33, 20, 7);
        RandomInputs inputs = RandomInputs.generate(shape, margin, Seeds.draw());
        // |x| and |w| in [0.5, 2] each: scale both by 50 for |w.x| up to 1e4
        compare("jvm", shape, margin, 0.0, scale(inputs.x(), 50.0), scale(inputs.w(), 50.0), inputs.labels());
    }

    @ParameterizedTest
    @ValueSource(doubles = {1e-6, 1e-3, 1e3, 1e6})
    void featureNormsFromOneMillionthToOneMillion(double featureScale) {
        int margin = 4;
        HeadShape shape = new HeadShape(29, 16, 5);
        RandomInputs inputs = RandomInputs.generate(shape, margin, Seeds.draw());
        double[] x = inputs.x().clone();
        // rows scaled differently: a mix of tiny and huge features in one batch
        for (int i = 0; i < shape.batch(); i++) {
            double rowScale = i % 2 == 0 ? featureScale : 1.0;
            for (int col = 0; col < shape.features(); col++) {
                x[i * shape.features() + col] *= rowScale;
            }
        }
        compare("jvm", shape, margin, 1.0, x, inputs.w(), inputs.labels());
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4, 5, 6})
    void cosineWithinOneTenMillionthOfEveryBoundary(int margin) {
        int d = 4;
        int samplesPerBoundary = 4;
        HeadShape shape = new HeadShape((margin - 1) * samplesPerBoundary, d, 3);
        double[] w = {1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0};
        double[] x = new double[shape.xSize()];
        int[] labels = new int[shape.batch()];
        int row = 0;
        for (int j = 1; j < margin; j++) {
            double boundary = Math.cos(j * Math.PI / margin);
            for (double offset : new double[] {-1e-7, -1e-8, 1e-8, 1e-7}) {
                double c = Math.max(-1.0, Math.min(1.0, boundary + offset));
                labels[row] = 0;
                x[row * d] = 3.0 * c;
                x[row * d + 3] = 3.0 * Math.sqrt(1.0 - c * c);
                row++;
            }
        }
        for (double beta : new double[] {0.0, 1.0}) {
            compare("jvm", shape, margin, beta, x, w, labels);
        }
    }

    private static void compare(String passName, HeadShape shape, int margin, double beta, double[] x, double[] w, int[] labels) {
        float[] xFloat = RandomInputs.toFloat(x);
        float[] wFloat = RandomInputs.toFloat(w);
        PassComparison.Outputs reference = PassComparison.reference(shape, margin, beta, xFloat, wFloat, labels);
        assertTrue(Double.isFinite(reference.loss()), "reference loss " + reference.loss());
        assertAllFinite(reference.dx(), "reference dX");
        assertAllFinite(reference.dw(), "reference dW");
        try (HeadPass pass = PassFactory.create(passName, shape, margin, PassOptions.DEFAULTS)) {
            PassComparison.Errors errors = PassComparison.errors(shape, reference,
                    PassComparison.run(pass, beta, xFloat, wFloat, labels), xFloat, wFloat);
            assertTrue(errors.worst() <= TOLERANCE, passName + " m=" + margin + " beta=" + beta + " " + shape + ": " + errors);
        }
    }

    private static double[] scale(double[] values, double factor) {
        double[] result = values.clone();
        for (int i = 0; i < result.length; i++) {
            result[i] *= factor;
        }
        return result;
    }

    private static void assertAllFinite(double[] values, String what) {
        for (double value : values) {
            assertTrue(Double.isFinite(value), what + " has " + value);
        }
    }
}
