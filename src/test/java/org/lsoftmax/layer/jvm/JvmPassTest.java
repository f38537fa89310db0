package org.lsoftmax.layer.jvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.lsoftmax.layer.InvalidInputException;
import org.lsoftmax.layer.LSoftmaxPass;
import org.lsoftmax.layer.LayerShape;
import org.lsoftmax.layer.PassFactory;
import org.lsoftmax.layer.PassOptions;
import org.lsoftmax.layer.reference.ReferencePass;
import org.junit.jupiter.api.Test;

/** The jvm pass against the reference pass (the oracle), its determinism and its input checks. */
class JvmPassTest {

    private static final double TOLERANCE = 1e-5;
    private static final double[] BETAS = {0.0, 1.0, 1000.0};

    /** Shapes that are not multiples of any block size (MR 8, NR 32, KC 256, vector 16), and D = 1. */
    private static final LayerShape[] SMALL_SHAPES = {
            new LayerShape(1, 1, 2), new LayerShape(5, 3, 2), new LayerShape(17, 33, 7),
            new LayerShape(37, 70, 41), new LayerShape(64, 17, 130), new LayerShape(9, 300, 35),
    };
    private static final LayerShape MEDIUM = new LayerShape(300, 129, 1000);

    @Test
    void matchesReferenceOnSmallShapesForEveryMarginAndBeta() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        for (LayerShape shape : SMALL_SHAPES) {
            for (int margin = 1; margin <= 6; margin++) {
                try (JvmPass pass = new JvmPass(shape, margin, 2)) {
                    for (double beta : BETAS) {
                        compareWithReference(pass, beta, LayerInputs.draw(shape, random, Integer.MAX_VALUE), "seed " + seed);
                    }
                }
            }
        }
    }

    @Test
    void matchesReferenceOnAMediumShape() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        // {margin, beta, label range}; a label range of 5 puts ~60 samples in each class, exercising the grouped dW correction
        double[][] cases = {{1, 1000.0, Integer.MAX_VALUE}, {4, 0.0, 5}, {6, 1.0, Integer.MAX_VALUE}};
        for (double[] testCase : cases) {
            try (JvmPass pass = new JvmPass(MEDIUM, (int) testCase[0], 2)) {
                compareWithReference(pass, testCase[1], LayerInputs.draw(MEDIUM, random, (int) testCase[2]), "seed " + seed);
            }
        }
    }

    @Test
    void zeroNormSamplesAndClassesKeepThePlainLogitAsInTheReference() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        LayerShape shape = new LayerShape(20, 19, 6);
        LayerInputs inputs = LayerInputs.draw(shape, random, Integer.MAX_VALUE);
        Arrays.fill(inputs.x(), 3 * 19, 4 * 19, 0.0f);   // sample 3 is zero
        Arrays.fill(inputs.w(), inputs.labels()[7] * 19, (inputs.labels()[7] + 1) * 19, 0.0f); // sample 7's class is zero
        try (JvmPass pass = new JvmPass(shape, 4, 2)) {
            compareWithReference(pass, 0.0, inputs, "seed " + seed);
        }
    }

    @Test
    void hugeLogitsStayFiniteAndMatchTheReferenceLoss() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        LayerShape shape = new LayerShape(40, 50, 30);
        LayerInputs inputs = LayerInputs.draw(shape, random, Integer.MAX_VALUE);
        // |x||w| ~ 1e4: exp without the max shift would overflow
        for (int i = 0; i < inputs.x().length; i++) {
            inputs.x()[i] *= 100.0f;
        }
        for (int i = 0; i < inputs.w().length; i++) {
            inputs.w()[i] *= 100.0f;
        }
        Result expected = run(new ReferencePass(shape, 4), inputs, 0.0);
        try (JvmPass pass = new JvmPass(shape, 4, 2)) {
            Result actual = run(pass, inputs, 0.0);
            String where = "huge logits (seed " + seed + ")";
            assertTrue(expected.maxAbsLogit() > 1e3, "inputs are not huge: " + expected.maxAbsLogit());
            assertFinite(actual, where);
            assertEquals(expected.loss(), actual.loss(), 1e-5 * Math.abs(expected.loss()), where);
            assertClose(expected.logits(), actual.logits(), 1e-5, "logits, " + where);
            // float logits of size 1e4 carry absolute errors ~1e-3 into the softmax: a looser bound for G
            assertClose(expected.dx(), actual.dx(), 1e-3, "dX, " + where);
            assertClose(expected.dw(), actual.dw(), 1e-3, "dW, " + where);
        }
    }

    @Test
    void resultsAreBitIdenticalForOneTwoAndThreeThreads() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        for (int labelRange : new int[] {5, Integer.MAX_VALUE}) {
            LayerInputs inputs = LayerInputs.draw(MEDIUM, random, labelRange);
            Result single = null;
            for (int threads = 1; threads <= 3; threads++) {
                try (JvmPass pass = new JvmPass(MEDIUM, 4, threads)) {
                    Result result = run(pass, inputs, 1.0);
                    if (single == null) {
                        single = result;
                        continue;
                    }
                    String where = threads + " threads vs 1, label range " + labelRange + " (seed " + seed + ")";
                    assertEquals(single.loss(), result.loss(), 0.0, "loss, " + where);
                    assertTrue(Arrays.equals(single.logits(), result.logits()), "logits differ, " + where);
                    assertTrue(Arrays.equals(single.dx(), result.dx()), "dX differs, " + where);
                    assertTrue(Arrays.equals(single.dw(), result.dw()), "dW differs, " + where);
                }
            }
        }
    }

    @Test
    void repeatedStepsGiveTheSameResult() {
        long seed = System.nanoTime();
        LayerInputs inputs = LayerInputs.draw(MEDIUM, new Random(seed), Integer.MAX_VALUE);
        try (JvmPass pass = new JvmPass(MEDIUM, 3, 2)) {
            Result first = run(pass, inputs, 0.5);
            Result second = run(pass, inputs, 0.5);
            assertEquals(first.loss(), second.loss(), 0.0, "seed " + seed);
            assertArrayEquals(first.dw(), second.dw(), "seed " + seed);
        }
    }

    @Test
    void plainLogitsAreXTimesWTransposed() {
        long seed = System.nanoTime();
        LayerShape shape = new LayerShape(21, 45, 13);
        LayerInputs inputs = LayerInputs.draw(shape, new Random(seed), Integer.MAX_VALUE);
        float[] expected = new float[shape.logitsSize()];
        float[] actual = new float[shape.logitsSize()];
        new ReferencePass(shape, 2).plainLogits(inputs.x(), inputs.w(), expected);
        try (JvmPass pass = new JvmPass(shape, 2, 2)) {
            pass.plainLogits(inputs.x(), inputs.w(), actual);
        }
        assertClose(expected, actual, TOLERANCE, "plain logits (seed " + seed + ")");
    }

    @Test
    void badInputFailsWithTheReferenceMessage() {
        LayerShape shape = new LayerShape(6, 5, 4);
        LayerInputs good = LayerInputs.draw(shape, new Random(1), Integer.MAX_VALUE);
        float[] logits = new float[shape.logitsSize()];
        int[] badLabels = good.labels().clone();
        badLabels[2] = 4;
        float[] nanX = good.x().clone();
        nanX[7] = Float.NaN;
        float[] shortW = Arrays.copyOf(good.w(), 19);
        try (LSoftmaxPass jvm = new JvmPass(shape, 2, 2); LSoftmaxPass reference = new ReferencePass(shape, 2)) {
            assertSameFailure(jvm, reference, p -> p.forward(good.x(), good.w(), badLabels, 0.0, logits), "label out of range");
            assertSameFailure(jvm, reference, p -> p.forward(nanX, good.w(), good.labels(), 0.0, logits), "NaN in X");
            assertSameFailure(jvm, reference, p -> p.forward(good.x(), shortW, good.labels(), 0.0, logits), "short W");
            assertSameFailure(jvm, reference, p -> p.forward(good.x(), good.w(), good.labels(), -1.0, logits), "beta < 0");
            assertThrows(IllegalStateException.class, () -> jvm.backward(new float[30], new float[20]));
        }
    }

    @Test
    void nonFiniteValuesAnywhereFailWithTheReferenceMessage() {
        // 70 x 33 = 2310 values: several full 4-vector blocks of the vectorised check plus a scalar tail
        LayerShape shape = new LayerShape(70, 33, 9);
        LayerInputs good = LayerInputs.draw(shape, new Random(2), Integer.MAX_VALUE);
        float[] logits = new float[shape.logitsSize()];
        float[] bad = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        int[] xPositions = {0, 15, 16, 63, 64, 1000, 2303, 2304, 2309};
        int[] wPositions = {0, 31, 200, 296};
        try (LSoftmaxPass jvm = new JvmPass(shape, 3, 2); LSoftmaxPass reference = new ReferencePass(shape, 3)) {
            for (float value : bad) {
                for (int position : xPositions) {
                    float[] x = good.x().clone();
                    x[position] = value;
                    x[x.length - 1] = Float.NaN; // a later bad value: the message must name the first one
                    assertSameFailure(jvm, reference, p -> p.forward(x, good.w(), good.labels(), 1.0, logits),
                            value + " in X at " + position);
                }
                for (int position : wPositions) {
                    float[] w = good.w().clone();
                    w[position] = value;
                    assertSameFailure(jvm, reference, p -> p.forward(good.x(), w, good.labels(), 1.0, logits),
                            value + " in W at " + position);
                }
            }
            // huge but finite values pass the check (v - v is 0, not NaN)
            float[] huge = good.x().clone();
            Arrays.fill(huge, Float.MAX_VALUE);
            jvm.forward(huge, good.w(), good.labels(), 1.0, logits);
        }
    }

    @Test
    void factoryCreatesTheJvmPass() {
        try (LSoftmaxPass pass = PassFactory.create("jvm", new LayerShape(2, 3, 4), 2, new PassOptions(3, null))) {
            assertEquals("jvm", pass.name());
            assertEquals("jvm (3 threads)", pass.deviceDescription());
        }
        assertTrue(PassFactory.PASS_NAMES.contains("jvm"));
    }

    // ---- helpers -------------------------------------------------------------------------------

    private record Result(double loss, float[] logits, float[] dx, float[] dw) {
        double maxAbsLogit() {
            double max = 0.0;
            for (float value : logits) {
                max = Math.max(max, Math.abs(value));
            }
            return max;
        }
    }

    private static Result run(LSoftmaxPass pass, LayerInputs inputs, double beta) {
        LayerShape shape = pass.shape();
        float[] logits = new float[shape.logitsSize()];
        float[] dx = new float[shape.xSize()];
        float[] dw = new float[shape.wSize()];
        double loss = pass.forward(inputs.x(), inputs.w(), inputs.labels(), beta, logits);
        pass.backward(dx, dw);
        return new Result(loss, logits, dx, dw);
    }

    private static void compareWithReference(JvmPass pass, double beta, LayerInputs inputs, String seed) {
        LayerShape shape = pass.shape();
        Result expected = run(new ReferencePass(shape, pass.margin()), inputs, beta);
        Result actual = run(pass, inputs, beta);
        String where = shape + " m=" + pass.margin() + " beta=" + beta + " (" + seed + ")";
        assertFinite(actual, where);
        assertEquals(expected.loss(), actual.loss(), TOLERANCE * Math.abs(expected.loss()), "loss, " + where);
        assertClose(expected.logits(), actual.logits(), TOLERANCE, "logits, " + where);
        // dX = G W sums C terms of size up to max|W| / N that can cancel (D = 1, two nearly equal class
        // weights: ~0.1% of the draws on (1, 1, 2) left dX at 1e-4 of its terms); float products are
        // accurate relative to the terms, so the error is judged against the larger of the two
        double termScale = maxAbs(inputs.w()) / shape.batch();
        assertClose(expected.dx(), actual.dx(), TOLERANCE, termScale, "dX, " + where);
        assertClose(expected.dw(), actual.dw(), TOLERANCE, "dW, " + where);
    }

    private static double maxAbs(float[] values) {
        double max = 0.0;
        for (float value : values) {
            max = Math.max(max, Math.abs(value));
        }
        return max;
    }

    /** max |actual - expected| / max |expected| <= tolerance. */
    private static void assertClose(float[] expected, float[] actual, double tolerance, String where) {
        assertClose(expected, actual, tolerance, 0.0, where);
    }

    /** Max error <= tolerance * max(max |expected|, scaleFloor). */
    private static void assertClose(float[] expected, float[] actual, double tolerance, double scaleFloor, String where) {
        assertEquals(expected.length, actual.length, where);
        double maxError = 0.0;
        double maxReference = 0.0;
        for (int i = 0; i < expected.length; i++) {
            maxError = Math.max(maxError, Math.abs((double) actual[i] - expected[i]));
            maxReference = Math.max(maxReference, Math.abs(expected[i]));
        }
        double scale = Math.max(maxReference, scaleFloor);
        assertTrue(maxError <= tolerance * scale, where + ": relative error " + (maxError / scale));
    }

    private static void assertFinite(Result result, String where) {
        assertTrue(Double.isFinite(result.loss()), "loss not finite, " + where);
        for (float[] values : new float[][] {result.logits(), result.dx(), result.dw()}) {
            for (float value : values) {
                assertTrue(Float.isFinite(value), "non-finite output, " + where);
            }
        }
    }

    private interface PassCall {
        void call(LSoftmaxPass pass);
    }

    private static void assertSameFailure(LSoftmaxPass jvm, LSoftmaxPass reference, PassCall call, String what) {
        InvalidInputException expected = assertThrows(InvalidInputException.class, () -> call.call(reference), what);
        InvalidInputException actual = assertThrows(InvalidInputException.class, () -> call.call(jvm), what);
        assertEquals(expected.getMessage(), actual.getMessage(), what);
    }
}
