package org.lsoftmax.head.tornado;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.check.PassComparison;
import org.lsoftmax.check.RandomInputs;
import org.lsoftmax.head.HeadPass;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.MarginLoss;
import org.lsoftmax.head.PassOptions;
import org.lsoftmax.head.TornadoDeviceInfo;
import org.lsoftmax.head.TornadoRunInfo;
import org.lsoftmax.head.TornadoSupport;
import org.lsoftmax.head.select.PassFactory;
import org.lsoftmax.testing.Seeds;

/**
 * The tornado pass against the reference pass, on the TornadoVM device. Needs a JVM started with the
 * SDK's flags (ci/test.sh with an SDK at /opt/tornadovm, which also sets -Dtornado.recover.bailout=False
 * so a kernel that cannot be compiled fails instead of silently running as Java); skipped otherwise.
 * Goes through PassFactory and TornadoSupport only, so it compiles without the TornadoVM API.
 * Building a device layer JIT-compiles eight kernels (seconds on PoCL); closed passes hand their layer
 * to the next pass of the same shape (any margin), so the whole class compiles three layers.
 */
class TornadoPassTest {

    private static final double TOLERANCE = 1e-4;
    private static final double[] BETAS = {0.0, 1.0, 1000.0};
    /** Shapes that are multiples of no work-group or block size. */
    private static final List<HeadShape> SHAPES = List.of(new HeadShape(37, 29, 11), new HeadShape(130, 70, 13),
            // several 16-class panels of G and 16-deep blocks of every product
            new HeadShape(45, 36, 53));

    /** Per test (not @BeforeAll), so that each test is reported as skipped, with the reason. */
    @BeforeEach
    void requireTornadoRuntime() {
        assumeTrue(TornadoSupport.isAvailable(), () -> "no TornadoVM runtime (" + TornadoSupport.unavailableReason()
                + "): run ci/test.sh with an SDK at /opt/tornadovm");
    }

    /** Logits, loss, dX, dW within 1e-4 of the reference for m = 1..6 and beta in {0, 1, 1000}, on the device. */
    @Test
    void matchesReferenceOnTheDevice() {
        long seed = Seeds.draw();
        Random random = new Random(seed);
        for (HeadShape shape : SHAPES) {
            for (int margin = 1; margin <= 6; margin++) {
                try (HeadPass pass = PassFactory.create("tornado", shape, margin, PassOptions.DEFAULTS)) {
                    TornadoRunInfo info = assertInstanceOf(TornadoRunInfo.class, pass);
                    for (double beta : BETAS) {
                        String context = "seed " + seed + ", " + shape + ", m=" + margin + ", beta=" + beta;
                        assertMatchesReference(pass, shape, margin, beta, RandomInputs.generate(shape, margin, random.nextLong()), context);
                        assertTrue(info.runsOnDevice(), context + ": fell back: " + info.fallbackReason());
                    }
                }
            }
        }
    }

    /** Every loss of the family, on random inputs and on the edge set, within 1e-4 of the reference, on the device. */
    @Test
    void everyLossMatchesReferenceOnTheDevice() {
        long seed = Seeds.draw();
        Random random = new Random(seed);
        HeadShape shape = new HeadShape(37, 29, 11);
        MarginLoss[] losses = {MarginLoss.lsoftmax(4), MarginLoss.sphereface(4), MarginLoss.cosface(16, 0.35), MarginLoss.cosface(64, 0.35),
            MarginLoss.arcface(16, 0.5), MarginLoss.arcface(64, 0.5), MarginLoss.combined(30, 1.0, 0.3, 0.2),
            MarginLoss.combined(30, 1.5, 0.3, 0.2)};
        for (MarginLoss loss : losses) {
            try (HeadPass pass = PassFactory.create("tornado", shape, loss, PassOptions.DEFAULTS)) {
                TornadoRunInfo info = assertInstanceOf(TornadoRunInfo.class, pass);
                for (double beta : new double[] {0.0, 1000.0}) {
                    String context = "seed " + seed + ", " + loss + ", beta=" + beta;
                    assertMatchesReference(pass, shape, loss.margin(), beta, RandomInputs.generate(shape, loss, random.nextLong()), context);
                    assertMatchesReference(pass, shape, loss.margin(), beta, RandomInputs.edges(shape, loss, random.nextLong()), context + ", edges");
                    assertTrue(info.runsOnDevice(), context + ": fell back: " + info.fallbackReason());
                    assertTrue(info.graphExecutions() > 0, context + ": no graph execution on the device");
                }
            }
        }
    }

    /**
     * {@link HeadPass#trainingStep} is ONE graph execution per step, with or without the logits, and gives
     * what forward then backward give on the same pass, bit for bit (the same graph), for every loss of the
     * family; the predictions after it are those after a forward; the reference agrees within 1e-4.
     */
    @Test
    void trainingStepIsOneExecutionAndEqualsForwardThenBackward() {
        long seed = Seeds.draw();
        Random random = new Random(seed);
        HeadShape shape = SHAPES.get(2);
        MarginLoss[] losses = {MarginLoss.lsoftmax(1), MarginLoss.lsoftmax(4), MarginLoss.sphereface(4), MarginLoss.cosface(16, 0.35),
            MarginLoss.arcface(64, 0.5), MarginLoss.combined(30, 1.5, 0.3, 0.2)};
        for (MarginLoss loss : losses) {
            try (HeadPass pass = PassFactory.create("tornado", shape, loss, PassOptions.DEFAULTS)) {
                TornadoRunInfo info = assertInstanceOf(TornadoRunInfo.class, pass);
                assertTrue(pass.logitsOptional());
                for (double beta : new double[] {0.0, 1.0}) {
                    String context = "seed " + seed + ", " + loss + ", beta=" + beta;
                    RandomInputs inputs = RandomInputs.generate(shape, loss, random.nextLong());
                    float[] x = inputs.xFloat();
                    float[] w = inputs.wFloat();
                    PassComparison.Outputs separate = PassComparison.run(pass, beta, x, w, inputs.labels());
                    int[] separatePredictions = new int[shape.batch()];
                    pass.predict(separatePredictions);

                    float[] dx = new float[shape.xSize()];
                    float[] dw = new float[shape.wSize()];
                    long before = info.graphExecutions();
                    double lossValue = pass.trainingStep(x, w, inputs.labels(), beta, null, dx, dw);
                    assertEquals(1, info.graphExecutions() - before, context + ": graph executions of one step without logits");
                    assertEquals(separate.loss(), lossValue, 0.0, context + ": loss");
                    assertArrayEquals(separate.dx(), doubles(dx), 0.0, context + ": dX");
                    assertArrayEquals(separate.dw(), doubles(dw), 0.0, context + ": dW");
                    int[] predictions = new int[shape.batch()];
                    pass.predict(predictions);
                    assertArrayEquals(separatePredictions, predictions, context + ": predictions");

                    float[] logits = new float[shape.logitsSize()];
                    before = info.graphExecutions();
                    pass.trainingStep(x, w, inputs.labels(), beta, logits, dx, dw);
                    assertEquals(1, info.graphExecutions() - before, context + ": graph executions of one step with logits");
                    assertArrayEquals(separate.logits(), doubles(logits), 0.0, context + ": logits");
                    float[] dxAgain = new float[shape.xSize()];
                    float[] dwAgain = new float[shape.wSize()];
                    pass.backward(dxAgain, dwAgain);
                    assertEquals(1, info.graphExecutions() - before, context + ": a backward after the step runs nothing");
                    assertArrayEquals(dx, dxAgain, 0.0f, context + ": dX again");
                    assertArrayEquals(dw, dwAgain, 0.0f, context + ": dW again");
                    assertMatchesReference(pass, shape, loss.margin(), beta, inputs, context);
                    assertTrue(info.runsOnDevice(), context + ": fell back: " + info.fallbackReason());
                }
            }
        }
    }

    private static double[] doubles(float[] values) {
        double[] result = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            result[i] = values[i];
        }
        return result;
    }

    /**
     * The local-memory tiled products (the GPU kernels, forced here on whatever device there is) give
     * the same results.
     */
    @Test
    void tiledProductsMatchReference() {
        HeadShape shape = SHAPES.get(0);
        String previous = System.setProperty("lsoftmax.tornado.matmul", "tiled");
        try {
            for (int margin : new int[] {2, 5}) {
                try (HeadPass pass = PassFactory.create("tornado", shape, margin, PassOptions.DEFAULTS)) {
                    assertTrue(pass.deviceDescription().contains("tiled"), pass.deviceDescription());
                    assertMatchesReference(pass, shape, margin, 1.0, RandomInputs.generate(shape, margin, 17 + margin), "tiled m=" + margin);
                    TornadoRunInfo info = assertInstanceOf(TornadoRunInfo.class, pass);
                    assertTrue(info.runsOnDevice(), "fell back: " + info.fallbackReason());
                }
            }
        } finally {
            if (previous == null) {
                System.clearProperty("lsoftmax.tornado.matmul");
            } else {
                System.setProperty("lsoftmax.tornado.matmul", previous);
            }
        }
    }

    /**
     * The work really ran on the TornadoVM device: one graph execution per step, the profiler (on when
     * asked for: {@code lsoftmax.tornado.profiler=true}) saw device kernel time, the description names it.
     */
    @Test
    void runsOnTheDevice() {
        HeadShape shape = SHAPES.get(0);
        String previous = System.setProperty("lsoftmax.tornado.profiler", "true");
        try (HeadPass pass = PassFactory.create("tornado", shape, 4, new PassOptions(0, "0:0"))) {
            TornadoRunInfo info = assertInstanceOf(TornadoRunInfo.class, pass);
            RandomInputs inputs = RandomInputs.generate(shape, 4, 11);
            long before = info.graphExecutions();
            pass.forward(inputs.xFloat(), inputs.wFloat(), inputs.labels(), 0.0, new float[shape.logitsSize()]);
            pass.backward(new float[shape.xSize()], new float[shape.wSize()]);
            assertEquals(1, info.graphExecutions() - before, "graph executions of forward + backward");
            assertTrue(info.runsOnDevice(), "fell back: " + info.fallbackReason());
            assertTrue(info.lastDeviceKernelNanos() > 0, "no device kernel time");
            assertTrue(pass.deviceDescription().startsWith("tornado 0:0 "), pass.deviceDescription());
            String deviceName = TornadoSupport.listDevices().get(0).name();
            assertTrue(pass.deviceDescription().contains(deviceName), pass.deviceDescription() + " vs " + deviceName);
        } finally {
            if (previous == null) {
                System.clearProperty("lsoftmax.tornado.profiler");
            } else {
                System.setProperty("lsoftmax.tornado.profiler", previous);
            }
        }
    }

    /**
     * W changes between steps (training): every step must use the new W, also when it is the same array
     * object; and the predictions are the plain-logit argmax of each step's inputs.
     */
    @Test
    void followsWeightUpdatesAndPredicts() {
        HeadShape shape = SHAPES.get(0);
        int margin = 3;
        RandomInputs inputs = RandomInputs.generate(shape, margin, 5);
        float[] x = inputs.xFloat();
        float[] w = inputs.wFloat();
        try (HeadPass pass = PassFactory.create("tornado", shape, margin, PassOptions.DEFAULTS)) {
            for (int step = 0; step < 3; step++) {
                PassComparison.Outputs expected = PassComparison.reference(shape, margin, 1.0, x, w, inputs.labels());
                PassComparison.Outputs actual = PassComparison.run(pass, 1.0, x, w, inputs.labels());
                PassComparison.Errors errors = PassComparison.errors(shape, expected, actual, x, w);
                assertTrue(errors.worst() <= TOLERANCE, "step " + step + ": " + errors);
                int[] predictions = new int[shape.batch()];
                pass.predict(predictions);
                assertPlainArgmax(shape, x, w, predictions, "step " + step);
                for (int index = 0; index < w.length; index++) {
                    w[index] -= (float) (0.5 * actual.dw()[index]); // in place, as an optimiser does
                }
            }
            TornadoRunInfo info = assertInstanceOf(TornadoRunInfo.class, pass);
            assertTrue(info.runsOnDevice(), "fell back: " + info.fallbackReason());
        }
    }

    /** Each prediction is the argmax of the plain logits x_i.w_j in float64, unless the top two are within float rounding. */
    private static void assertPlainArgmax(HeadShape shape, float[] x, float[] w, int[] predictions, String context) {
        int d = shape.features();
        for (int i = 0; i < shape.batch(); i++) {
            double best = Double.NEGATIVE_INFINITY;
            int bestClass = -1;
            double scale = 0.0;
            double[] logits = new double[shape.classes()];
            for (int j = 0; j < shape.classes(); j++) {
                for (int col = 0; col < d; col++) {
                    logits[j] += (double) x[i * d + col] * w[j * d + col];
                }
                scale = Math.max(scale, Math.abs(logits[j]));
                if (logits[j] > best) {
                    best = logits[j];
                    bestClass = j;
                }
            }
            if (predictions[i] != bestClass) {
                assertTrue(best - logits[predictions[i]] <= 1e-5 * scale, context + ": sample " + i + " predicted "
                        + predictions[i] + " (logit " + logits[predictions[i]] + "), the plain argmax is " + bestClass + " (" + best + ")");
            }
        }
    }

    /** A device index that does not exist: the pass still computes, on the JVM, and says so. */
    @Test
    void unavailableDeviceFallsBackToTheJvm() {
        HeadShape shape = new HeadShape(7, 5, 3);
        try (HeadPass pass = PassFactory.create("tornado", shape, 2, new PassOptions(0, "0:9"))) {
            TornadoRunInfo info = assertInstanceOf(TornadoRunInfo.class, pass);
            assertFalse(info.runsOnDevice());
            assertTrue(info.fallbackReason().contains("0:9"), info.fallbackReason());
            assertTrue(pass.deviceDescription().startsWith(PassFactory.FALLBACK_PASS + " (fallback: "), pass.deviceDescription());
            assertMatchesReference(pass, shape, 2, 1.0, RandomInputs.generate(shape, 2, 3), "fallback");
        }
    }

    @Test
    void malformedDeviceIsBadInput() {
        assertThrows(InvalidInputException.class,
                () -> PassFactory.create("tornado", new HeadShape(3, 2, 2), 2, new PassOptions(0, "gpu")).close());
    }

    @Test
    void listsTheDevices() {
        List<TornadoDeviceInfo> devices = TornadoSupport.listDevices();
        assertFalse(devices.isEmpty());
        assertEquals("0:0", devices.get(0).id());
        assertTrue(devices.stream().filter(TornadoDeviceInfo::isDefault).count() == 1, devices.toString());
    }

    private static void assertMatchesReference(HeadPass pass, HeadShape shape, int margin, double beta, RandomInputs inputs,
            String context) {
        PassComparison.Errors errors = PassComparison.compare(pass, beta, inputs.xFloat(), inputs.wFloat(), inputs.labels());
        assertTrue(errors.worst() <= TOLERANCE, context + ": " + errors + " > " + TOLERANCE);
    }
}
