package org.lsoftmax.layer.tornado;

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
import org.lsoftmax.layer.InvalidInputException;
import org.lsoftmax.layer.LSoftmaxPass;
import org.lsoftmax.layer.LayerShape;
import org.lsoftmax.layer.PassFactory;
import org.lsoftmax.layer.PassOptions;
import org.lsoftmax.layer.RandomInputs;
import org.lsoftmax.layer.reference.GradientCheck;
import org.lsoftmax.layer.reference.ReferencePass;

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
    private static final List<LayerShape> SHAPES = List.of(new LayerShape(37, 29, 11), new LayerShape(130, 70, 13),
            // several 16-class panels of G and 16-deep blocks of every product
            new LayerShape(45, 36, 53));

    /** Per test (not @BeforeAll), so that each test is reported as skipped, with the reason. */
    @BeforeEach
    void requireTornadoRuntime() {
        assumeTrue(TornadoSupport.isAvailable(), () -> "no TornadoVM runtime (" + TornadoSupport.unavailableReason()
                + "): run ci/test.sh with an SDK at /opt/tornadovm");
    }

    /** Logits, loss, dX, dW within 1e-4 of the reference for m = 1..6 and beta in {0, 1, 1000}, on the device. */
    @Test
    void matchesReferenceOnTheDevice() {
        long seed = new Random().nextLong();
        Random random = new Random(seed);
        for (LayerShape shape : SHAPES) {
            for (int margin = 1; margin <= 6; margin++) {
                try (LSoftmaxPass pass = PassFactory.create("tornado", shape, margin, PassOptions.DEFAULTS)) {
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

    /**
     * The local-memory tiled products (the GPU kernels, forced here on whatever device there is) give
     * the same results.
     */
    @Test
    void tiledProductsMatchReference() {
        LayerShape shape = SHAPES.get(0);
        String previous = System.setProperty("lsoftmax.tornado.matmul", "tiled");
        try {
            for (int margin : new int[] {2, 5}) {
                try (LSoftmaxPass pass = PassFactory.create("tornado", shape, margin, PassOptions.DEFAULTS)) {
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

    /** The work really ran on the TornadoVM device: the profiler saw device kernel time and the description names it. */
    @Test
    void runsOnTheDevice() {
        LayerShape shape = SHAPES.get(0);
        try (LSoftmaxPass pass = PassFactory.create("tornado", shape, 4, new PassOptions(0, "0:0"))) {
            TornadoRunInfo info = assertInstanceOf(TornadoRunInfo.class, pass);
            RandomInputs inputs = RandomInputs.generate(shape, 4, 11);
            pass.forward(inputs.xFloat(), inputs.wFloat(), inputs.labels(), 0.0, new float[shape.logitsSize()]);
            pass.backward(new float[shape.xSize()], new float[shape.wSize()]);
            assertTrue(info.runsOnDevice(), "fell back: " + info.fallbackReason());
            assertTrue(info.lastDeviceKernelNanos() > 0, "no device kernel time");
            assertTrue(pass.deviceDescription().startsWith("tornado 0:0 "), pass.deviceDescription());
            String deviceName = TornadoSupport.listDevices().get(0).name();
            assertTrue(pass.deviceDescription().contains(deviceName), pass.deviceDescription() + " vs " + deviceName);
        }
    }

    /** W changes between steps (training): every step must use the new W, also when it is the same array object. */
    @Test
    void followsWeightUpdatesAndPlainLogits() {
        LayerShape shape = SHAPES.get(0);
        int margin = 3;
        RandomInputs inputs = RandomInputs.generate(shape, margin, 5);
        float[] x = inputs.xFloat();
        float[] w = inputs.wFloat();
        try (LSoftmaxPass pass = PassFactory.create("tornado", shape, margin, PassOptions.DEFAULTS)) {
            for (int step = 0; step < 3; step++) {
                float[] logits = new float[shape.logitsSize()];
                double loss = pass.forward(x, w, inputs.labels(), 1.0, logits);
                float[] dx = new float[shape.xSize()];
                float[] dw = new float[shape.wSize()];
                pass.backward(dx, dw);
                ReferencePass reference = new ReferencePass(shape, margin);
                double[] referenceLogits = new double[shape.logitsSize()];
                double referenceLoss = reference.forward(ReferencePass.toDouble(x), ReferencePass.toDouble(w), inputs.labels(), 1.0, referenceLogits);
                assertEquals(referenceLoss, loss, TOLERANCE * Math.abs(referenceLoss), "step " + step);
                double[] plain = new double[shape.logitsSize()];
                reference.plainLogits(ReferencePass.toDouble(x), ReferencePass.toDouble(w), plain);
                float[] plainLogits = new float[shape.logitsSize()];
                pass.plainLogits(x, w, plainLogits);
                assertTrue(GradientCheck.relativeError(plainLogits, plain) <= TOLERANCE, "plain logits, step " + step);
                for (int index = 0; index < w.length; index++) {
                    w[index] -= 0.5f * dw[index]; // in place, as an optimiser does
                }
            }
            TornadoRunInfo info = assertInstanceOf(TornadoRunInfo.class, pass);
            assertTrue(info.runsOnDevice(), "fell back: " + info.fallbackReason());
        }
    }

    /** A device index that does not exist: the pass still computes, on the JVM, and says so. */
    @Test
    void unavailableDeviceFallsBackToTheJvm() {
        LayerShape shape = new LayerShape(7, 5, 3);
        try (LSoftmaxPass pass = PassFactory.create("tornado", shape, 2, new PassOptions(0, "0:9"))) {
            TornadoRunInfo info = assertInstanceOf(TornadoRunInfo.class, pass);
            assertFalse(info.runsOnDevice());
            assertTrue(info.fallbackReason().contains("0:9"), info.fallbackReason());
            assertTrue(pass.deviceDescription().startsWith(TornadoSupport.FALLBACK_PASS + " (fallback: "), pass.deviceDescription());
            assertMatchesReference(pass, shape, 2, 1.0, RandomInputs.generate(shape, 2, 3), "fallback");
        }
    }

    @Test
    void malformedDeviceIsBadInput() {
        assertThrows(InvalidInputException.class,
                () -> PassFactory.create("tornado", new LayerShape(3, 2, 2), 2, new PassOptions(0, "gpu")).close());
    }

    @Test
    void listsTheDevices() {
        List<TornadoDeviceInfo> devices = TornadoSupport.listDevices();
        assertFalse(devices.isEmpty());
        assertEquals("0:0", devices.get(0).id());
        assertTrue(devices.stream().filter(TornadoDeviceInfo::isDefault).count() == 1, devices.toString());
    }

    private static void assertMatchesReference(LSoftmaxPass pass, LayerShape shape, int margin, double beta, RandomInputs inputs,
            String context) {
        float[] x = inputs.xFloat();
        float[] w = inputs.wFloat();
        ReferencePass reference = new ReferencePass(shape, margin);
        double[] referenceLogits = new double[shape.logitsSize()];
        double referenceLoss = reference.forward(ReferencePass.toDouble(x), ReferencePass.toDouble(w), inputs.labels(), beta, referenceLogits);
        double[] referenceDx = new double[shape.xSize()];
        double[] referenceDw = new double[shape.wSize()];
        reference.backward(referenceDx, referenceDw);

        float[] logits = new float[shape.logitsSize()];
        double loss = pass.forward(x, w, inputs.labels(), beta, logits);
        float[] dx = new float[shape.xSize()];
        float[] dw = new float[shape.wSize()];
        pass.backward(dx, dw);

        double lossError = Math.abs(loss - referenceLoss) / Math.abs(referenceLoss);
        assertTrue(lossError <= TOLERANCE, context + ": loss " + loss + " vs " + referenceLoss);
        assertError(GradientCheck.relativeError(logits, referenceLogits), context + ": logits");
        assertError(GradientCheck.relativeError(dx, referenceDx), context + ": dX");
        assertError(GradientCheck.relativeError(dw, referenceDw), context + ": dW");
    }

    private static void assertError(double error, String what) {
        assertTrue(error <= TOLERANCE, what + " relative error " + error + " > " + TOLERANCE);
    }
}
