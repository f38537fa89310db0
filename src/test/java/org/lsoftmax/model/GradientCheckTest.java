package org.lsoftmax.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.reference.ReferencePass;
import org.lsoftmax.linalg.MatrixProducts;
import org.lsoftmax.linalg.SimpleMatrixProducts;
import org.lsoftmax.math.SplitMix64;

/**
 * Analytic gradients of the MLP layers against central finite differences. The layers compute in
 * float, so the loss is summed in double and the step's actual size after float rounding,
 * {@code (float)(w+eps) - (float)(w-eps)}, is the denominator; the tolerance is loose but far below
 * the size of any real mistake (a wrong sign, a missing term, a transposed product).
 */
class GradientCheckTest {

    private static final double EPS = 1e-2;

    private final SplitMix64 random = new SplitMix64(7);
    private final MatrixProducts products = new SimpleMatrixProducts();

    private float[] randomArray(int size, double scale) {
        float[] values = new float[size];
        for (int i = 0; i < size; i++) {
            values[i] = (float) (scale * random.nextGaussian());
        }
        return values;
    }

    /** L = sum_i r_i y_i: linear in the output, so dL/dy = r exactly. */
    private static double readout(float[] output, float[] r, int count) {
        double sum = 0.0;
        for (int i = 0; i < count; i++) {
            sum += (double) r[i] * output[i];
        }
        return sum;
    }

    /** Checks every entry of {@code analytic} against central differences of {@code loss} in {@code values}. */
    private static void checkGradient(String what, float[] values, float[] analytic, DoubleSupplier loss,
            double eps, double absoluteTolerance, double relativeTolerance) {
        for (int i = 0; i < values.length; i++) {
            float original = values[i];
            float plus = (float) (original + eps);
            float minus = (float) (original - eps);
            values[i] = plus;
            double lossPlus = loss.getAsDouble();
            values[i] = minus;
            double lossMinus = loss.getAsDouble();
            values[i] = original;
            double numeric = (lossPlus - lossMinus) / ((double) plus - (double) minus);
            double error = Math.abs(numeric - analytic[i]);
            int index = i;
            assertTrue(error <= absoluteTolerance + relativeTolerance * Math.abs(numeric),
                    () -> what + "[" + index + "]: analytic " + analytic[index] + ", finite difference " + numeric);
        }
    }

    @Test
    void denseGradientsMatchFiniteDifferences() {
        int rows = 5;
        int in = 7;
        int out = 4;
        Dense dense = new Dense("d", in, out, rows, true, products);
        dense.initialise(random, 2.0);
        float[] bias = dense.bias().value();
        for (int o = 0; o < out; o++) {
            bias[o] = (float) random.nextGaussian();
        }
        float[] input = randomArray(rows * in, 1.0);
        float[] r = randomArray(rows * out, 1.0);
        DoubleSupplier loss = () -> readout(dense.forward(input, rows), r, rows * out);

        loss.getAsDouble();
        java.util.Arrays.fill(dense.weight().gradient(), 0f);
        java.util.Arrays.fill(dense.bias().gradient(), 0f);
        float[] inputGradient = dense.backward(r, rows).clone();

        checkGradient("dL/dW", dense.weight().value(), dense.weight().gradient(), loss, EPS, 1e-3, 1e-3);
        checkGradient("dL/db", dense.bias().value(), dense.bias().gradient(), loss, EPS, 1e-3, 1e-3);
        checkGradient("dL/dx", input, inputGradient, loss, EPS, 1e-3, 1e-3);
    }

    @Test
    void denseAccumulatesParameterGradientsAcrossCalls() {
        Dense dense = new Dense("d", 3, 2, 4, false, products);
        dense.initialise(random, 2.0);
        float[] input = randomArray(12, 1.0);
        float[] r = randomArray(8, 1.0);
        dense.forward(input, 4);
        dense.backward(r, 4);
        float[] once = dense.weight().gradient().clone();
        dense.backward(r, 4);
        for (int i = 0; i < once.length; i++) {
            assertTrue(Math.abs(dense.weight().gradient()[i] - 2 * once[i]) <= 1e-5f * (1 + Math.abs(once[i])));
        }
    }

    @Test
    void zeroGradientsThenBackwardIsBackwardOntoZeros() {
        Dense dense = new Dense("d", 5, 3, 4, true, products);
        dense.initialise(random, 2.0);
        float[] input = randomArray(20, 1.0);
        float[] r = randomArray(12, 1.0);
        dense.forward(input, 4);
        java.util.Arrays.fill(dense.weight().gradient(), 0f);
        java.util.Arrays.fill(dense.bias().gradient(), 0f);
        dense.backward(r, 4);
        float[] expectedWeight = dense.weight().gradient().clone();
        float[] expectedBias = dense.bias().gradient().clone();
        dense.backward(r, 4); // now twice the values
        dense.zeroGradients();
        dense.backward(r, 4);
        assertArrayEquals(expectedWeight, dense.weight().gradient());
        assertArrayEquals(expectedBias, dense.bias().gradient());
    }

    @Test
    void preluGradientsMatchFiniteDifferences() {
        int rows = 6;
        int channels = 5;
        PRelu prelu = new PRelu("p", channels, rows);
        float[] slopes = prelu.slope().value();
        for (int c = 0; c < channels; c++) {
            slopes[c] = 0.1f + 0.1f * c;
        }
        // inputs kept at least 0.1 away from the kink at 0, so a step of EPS never crosses it
        float[] input = randomArray(rows * channels, 1.0);
        for (int i = 0; i < input.length; i++) {
            input[i] = input[i] >= 0 ? input[i] + 0.1f : input[i] - 0.1f;
        }
        float[] r = randomArray(rows * channels, 1.0);
        DoubleSupplier loss = () -> readout(prelu.forward(input, rows), r, rows * channels);

        loss.getAsDouble();
        java.util.Arrays.fill(prelu.slope().gradient(), 0f);
        float[] inputGradient = prelu.backward(r, rows).clone();

        checkGradient("dL/da", slopes, prelu.slope().gradient(), loss, EPS, 1e-3, 1e-3);
        checkGradient("dL/dx", input, inputGradient, loss, EPS, 1e-3, 1e-3);
    }

    @Test
    void wholeNetworkWithLSoftmaxHeadMatchesFiniteDifferences() {
        int rows = 6;
        int classes = 4;
        Architecture architecture = new Architecture(5, List.of(8, 6), 3, classes);
        Network network = new Network(architecture, rows, products);
        network.initialise(random);
        float[] input = randomArray(rows * 5, 1.0);
        int[] labels = {0, 1, 2, 3, 1, 2};
        double beta = 0.5;
        ReferencePass head = new ReferencePass(new HeadShape(rows, 3, classes), 3);
        float[] logits = new float[rows * classes];
        float[] classWeights = network.classWeights().value();
        DoubleSupplier loss = () -> head.forward(network.features(input, rows), classWeights, labels, beta, logits);

        loss.getAsDouble();
        network.zeroGradients();
        float[] featureGradient = new float[rows * 3];
        float[] classWeightGradient = new float[classes * 3];
        head.backward(featureGradient, classWeightGradient);
        System.arraycopy(classWeightGradient, 0, network.classWeights().gradient(), 0, classWeightGradient.length);
        network.backward(featureGradient, rows);

        // The loss is smooth (psi is C^1) but the PReLU kinks are not: a small step and a tolerance
        // that allows the rare crossing of a kink by a hidden unit, still far below a wrong gradient.
        for (Parameter parameter : network.parameters()) {
            checkGradient(parameter.name(), parameter.value(), parameter.gradient().clone(), loss, 1e-3, 2e-3, 2e-2);
        }
    }
}
