package org.lsoftmax.head.jvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.check.PassComparison;
import org.lsoftmax.check.RandomInputs;
import org.lsoftmax.head.HeadOverflowException;
import org.lsoftmax.head.HeadPass;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.PassOptions;
import org.lsoftmax.head.reference.ReferencePass;
import org.lsoftmax.head.select.PassFactory;
import org.lsoftmax.linalg.Sgemm;
import org.lsoftmax.testing.Seeds;

/** The jvm pass against the reference pass (the oracle), its determinism and its input checks. */
class JvmPassTest {

    private static final double TOLERANCE = 1e-5;
    private static final double[] BETAS = {0.0, 1.0, 1000.0};

    /** Shapes that are not multiples of any block size (MR 8, NR 32, KC 256, vector 16), and D = 1. */
    private static final HeadShape[] SMALL_SHAPES = {
            new HeadShape(1, 1, 2), new HeadShape(5, 3, 2), new HeadShape(17, 33, 7),
            new HeadShape(37, 70, 41), new HeadShape(64, 17, 130), new HeadShape(9, 300, 35),
    };
    private static final HeadShape MEDIUM = new HeadShape(300, 129, 1000);

    @Test
    void matchesReferenceOnSmallShapesForEveryMarginAndBeta() {
        long seed = Seeds.draw();
        Random random = new Random(seed);
        for (HeadShape shape : SMALL_SHAPES) {
            for (int margin = 1; margin <= 6; margin++) {
                try (JvmPass pass = new JvmPass(shape, margin, 2)) {
                    for (double beta : BETAS) {
                        compareWithReference(pass, beta, RandomInputs.spread(shape, random, Integer.MAX_VALUE), "seed " + seed);
                    }
                }
            }
        }
    }

    @Test
    void matchesReferenceOnAMediumShape() {
        long seed = Seeds.draw();
        Random random = new Random(seed);
        // {margin, beta, label range}; a label range of 5 puts ~60 samples in each class, exercising the grouped dW correction
        double[][] cases = {{1, 1000.0, Integer.MAX_VALUE}, {4, 0.0, 5}, {6, 1.0, Integer.MAX_VALUE}};
        for (double[] testCase : cases) {
            try (JvmPass pass = new JvmPass(MEDIUM, (int) testCase[0], 2)) {
                compareWithReference(pass, testCase[1], RandomInputs.spread(MEDIUM, random, (int) testCase[2]), "seed " + seed);
            }
        }
    }

    @Test
    void zeroNormSamplesAndClassesKeepThePlainLogitAsInTheReference() {
        long seed = Seeds.draw();
        Random random = new Random(seed);
        HeadShape shape = new HeadShape(20, 19, 6);
        RandomInputs.Floats inputs = RandomInputs.spread(shape, random, Integer.MAX_VALUE);
        Arrays.fill(inputs.x(), 3 * 19, 4 * 19, 0.0f);   // sample 3 is zero
        Arrays.fill(inputs.w(), inputs.labels()[7] * 19, (inputs.labels()[7] + 1) * 19, 0.0f); // sample 7's class is zero
        try (JvmPass pass = new JvmPass(shape, 4, 2)) {
            compareWithReference(pass, 0.0, inputs, "seed " + seed);
        }
    }

    @Test
    void hugeLogitsStayFiniteAndMatchTheReferenceLoss() {
        long seed = Seeds.draw();
        Random random = new Random(seed);
        HeadShape shape = new HeadShape(40, 50, 30);
        RandomInputs.Floats inputs = RandomInputs.spread(shape, random, Integer.MAX_VALUE);
        // |x||w| ~ 1e4: exp without the max shift would overflow
        for (int i = 0; i < inputs.x().length; i++) {
            inputs.x()[i] *= 100.0f;
        }
        for (int i = 0; i < inputs.w().length; i++) {
            inputs.w()[i] *= 100.0f;
        }
        PassComparison.Outputs expected = PassComparison.reference(shape, 4, 0.0, inputs.x(), inputs.w(), inputs.labels());
        try (JvmPass pass = new JvmPass(shape, 4, 2)) {
            Result actual = run(pass, inputs, 0.0);
            String where = "huge logits (seed " + seed + ")";
            assertTrue(maxAbs(expected.logits()) > 1e3, "inputs are not huge: " + maxAbs(expected.logits()));
            assertFinite(actual, where);
            PassComparison.Errors errors = PassComparison.errors(shape, expected, PassComparison.run(pass, 0.0, inputs.x(),
                    inputs.w(), inputs.labels()), inputs.x(), inputs.w());
            assertTrue(errors.loss() <= 1e-5 && errors.logits() <= 1e-5, where + ": " + errors);
            // float logits of size 1e4 carry absolute errors ~1e-3 into the softmax: a looser bound for G
            assertTrue(errors.dx() <= 1e-3 && errors.dw() <= 1e-3, where + ": " + errors);
        }
    }

    @Test
    void resultsAreBitIdenticalForOneTwoAndThreeThreads() {
        long seed = Seeds.draw();
        Random random = new Random(seed);
        for (int labelRange : new int[] {5, Integer.MAX_VALUE}) {
            RandomInputs.Floats inputs = RandomInputs.spread(MEDIUM, random, labelRange);
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
        long seed = Seeds.draw();
        RandomInputs.Floats inputs = RandomInputs.spread(MEDIUM, new Random(seed), Integer.MAX_VALUE);
        try (JvmPass pass = new JvmPass(MEDIUM, 3, 2)) {
            Result first = run(pass, inputs, 0.5);
            Result second = run(pass, inputs, 0.5);
            assertEquals(first.loss(), second.loss(), 0.0, "seed " + seed);
            assertArrayEquals(first.dw(), second.dw(), "seed " + seed);
        }
    }

    /** predict is the argmax of the plain logits X W^T (no margin), as the trunk's own product computes them. */
    @Test
    void predictionsAreTheArgmaxOfThePlainLogits() {
        long seed = Seeds.draw();
        HeadShape shape = new HeadShape(61, 45, 13);
        RandomInputs.Floats inputs = RandomInputs.spread(shape, new Random(seed), Integer.MAX_VALUE);
        float[] plain = new float[shape.logitsSize()];
        try (Sgemm sgemm = new Sgemm(1)) {
            sgemm.multiplyABt(inputs.x(), inputs.w(), plain, shape.batch(), shape.classes(), shape.features(), false);
        }
        for (int margin : new int[] {1, 4}) {
            try (JvmPass pass = new JvmPass(shape, margin, 2)) {
                pass.forward(inputs.x(), inputs.w(), inputs.labels(), 0.0, new float[shape.logitsSize()]);
                int[] predictions = new int[shape.batch()];
                pass.predict(predictions);
                int wrong = 0;
                for (int i = 0; i < shape.batch(); i++) {
                    int expected = 0;
                    for (int j = 1; j < shape.classes(); j++) {
                        if (plain[i * shape.classes() + j] > plain[i * shape.classes() + expected]) {
                            expected = j;
                        }
                    }
                    assertEquals(expected, predictions[i], "sample " + i + ", m=" + margin);
                    wrong += expected == inputs.labels()[i] ? 0 : 1;
                }
                assertTrue(wrong > 0 && wrong < shape.batch(), "the draw should have some right and some wrong: " + wrong);
            }
        }
    }

    @Test
    void badInputFailsWithTheReferenceMessage() {
        HeadShape shape = new HeadShape(6, 5, 4);
        RandomInputs.Floats good = RandomInputs.spread(shape, new Random(1), Integer.MAX_VALUE);
        float[] logits = new float[shape.logitsSize()];
        int[] badLabels = good.labels().clone();
        badLabels[2] = 4;
        float[] nanX = good.x().clone();
        nanX[7] = Float.NaN;
        float[] shortW = Arrays.copyOf(good.w(), 19);
        try (HeadPass jvm = new JvmPass(shape, 2, 2); HeadPass reference = new ReferencePass(shape, 2)) {
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
        HeadShape shape = new HeadShape(70, 33, 9);
        RandomInputs.Floats good = RandomInputs.spread(shape, new Random(2), Integer.MAX_VALUE);
        float[] logits = new float[shape.logitsSize()];
        float[] bad = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        int[] xPositions = {0, 15, 16, 63, 64, 1000, 2303, 2304, 2309};
        int[] wPositions = {0, 31, 200, 296};
        try (HeadPass jvm = new JvmPass(shape, 3, 2); HeadPass reference = new ReferencePass(shape, 3)) {
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
            // huge but finite values pass the check (v - v is 0, not NaN); their logits overflow float32,
            // which is refused as an overflow that names the largest input, not as a non-finite input
            float[] huge = good.x().clone();
            Arrays.fill(huge, Float.MAX_VALUE);
            HeadOverflowException overflow = assertThrows(HeadOverflowException.class,
                    () -> jvm.forward(huge, good.w(), good.labels(), 1.0, logits));
            assertTrue(overflow.getMessage().startsWith("the logits overflow float32"), overflow.getMessage());
            assertTrue(overflow.getMessage().contains("the largest |X| is 3.40e+38 (row 0, column 0)"), overflow.getMessage());
        }
    }

    @Test
    void factoryCreatesTheJvmPass() {
        try (HeadPass pass = PassFactory.create("jvm", new HeadShape(2, 3, 4), 2, new PassOptions(3, null))) {
            assertEquals("jvm", pass.name());
            assertEquals("jvm (3 threads)", pass.deviceDescription());
        }
        assertTrue(PassFactory.PASS_NAMES.contains("jvm"));
    }

    // ---- helpers -------------------------------------------------------------------------------

    private record Result(double loss, float[] logits, float[] dx, float[] dw) {
    }

    private static Result run(HeadPass pass, RandomInputs.Floats inputs, double beta) {
        HeadShape shape = pass.shape();
        float[] logits = new float[shape.logitsSize()];
        float[] dx = new float[shape.xSize()];
        float[] dw = new float[shape.wSize()];
        double loss = pass.forward(inputs.x(), inputs.w(), inputs.labels(), beta, logits);
        pass.backward(dx, dw);
        return new Result(loss, logits, dx, dw);
    }

    private static void compareWithReference(JvmPass pass, double beta, RandomInputs.Floats inputs, String seed) {
        HeadShape shape = pass.shape();
        String where = shape + " m=" + pass.margin() + " beta=" + beta + " (" + seed + ")";
        assertFinite(run(pass, inputs, beta), where);
        // dX = G W sums C terms of size up to max|W| / N that can cancel (D = 1, two nearly equal class
        // weights): PassComparison judges dX against the larger of its value and its terms
        PassComparison.Errors errors = PassComparison.compare(pass, beta, inputs.x(), inputs.w(), inputs.labels());
        assertTrue(errors.worst() <= TOLERANCE, where + ": " + errors);
    }

    private static double maxAbs(double[] values) {
        double max = 0.0;
        for (double value : values) {
            max = Math.max(max, Math.abs(value));
        }
        return max;
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
        void call(HeadPass pass);
    }

    private static void assertSameFailure(HeadPass jvm, HeadPass reference, PassCall call, String what) {
        InvalidInputException expected = assertThrows(InvalidInputException.class, () -> call.call(reference), what);
        InvalidInputException actual = assertThrows(InvalidInputException.class, () -> call.call(jvm), what);
        assertEquals(expected.getMessage(), actual.getMessage(), what);
    }
}
