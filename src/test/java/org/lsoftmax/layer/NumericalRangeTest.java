package org.lsoftmax.layer;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lsoftmax.layer.reference.GradientCheck;
import org.lsoftmax.layer.reference.ReferencePass;

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
        LayerShape shape = new LayerShape(33, 20, 7);
        RandomInputs inputs = RandomInputs.generate(shape, margin, new Random().nextLong());
        // |x| and |w| in [0.5, 2] each: scale both by 50 for |w.x| up to 1e4
        compare("jvm", shape, margin, 0.0, scale(inputs.x(), 50.0), scale(inputs.w(), 50.0), inputs.labels());
    }

    @ParameterizedTest
    @ValueSource(doubles = {1e-6, 1e-3, 1e3, 1e6})
    void featureNormsFromOneMillionthToOneMillion(double featureScale) {
        int margin = 4;
        LayerShape shape = new LayerShape(29, 16, 5);
        RandomInputs inputs = RandomInputs.generate(shape, margin, new Random().nextLong());
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
        LayerShape shape = new LayerShape((margin - 1) * samplesPerBoundary, d, 3);
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

    private static void compare(String passName, LayerShape shape, int margin, double beta, double[] x, double[] w, int[] labels) {
        float[] xFloat = RandomInputs.toFloat(x);
        float[] wFloat = RandomInputs.toFloat(w);
        ReferencePass reference = new ReferencePass(shape, margin);
        double[] referenceLogits = new double[shape.logitsSize()];
        double[] referenceDx = new double[shape.xSize()];
        double[] referenceDw = new double[shape.wSize()];
        double referenceLoss = reference.forward(ReferencePass.toDouble(xFloat), ReferencePass.toDouble(wFloat), labels, beta,
                referenceLogits);
        reference.backward(referenceDx, referenceDw);
        assertTrue(Double.isFinite(referenceLoss), "reference loss " + referenceLoss);
        assertAllFinite(referenceDx, "reference dX");
        assertAllFinite(referenceDw, "reference dW");

        try (LSoftmaxPass pass = PassFactory.create(passName, shape, margin, PassOptions.DEFAULTS)) {
            float[] logits = new float[shape.logitsSize()];
            float[] dx = new float[shape.xSize()];
            float[] dw = new float[shape.wSize()];
            double loss = pass.forward(xFloat, wFloat, labels, beta, logits);
            pass.backward(dx, dw);
            String where = passName + " m=" + margin + " beta=" + beta + " " + shape;
            assertTrue(Math.abs(loss - referenceLoss) <= TOLERANCE * Math.max(1.0, Math.abs(referenceLoss)),
                    where + ": loss " + loss + " vs reference " + referenceLoss);
            assertTrue(GradientCheck.relativeError(logits, referenceLogits) <= TOLERANCE, where + ": logits");
            assertTrue(GradientCheck.relativeError(dx, referenceDx) <= TOLERANCE,
                    where + ": dX error " + GradientCheck.relativeError(dx, referenceDx));
            assertTrue(GradientCheck.relativeError(dw, referenceDw) <= TOLERANCE,
                    where + ": dW error " + GradientCheck.relativeError(dw, referenceDw));
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
