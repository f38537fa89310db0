package org.lsoftmax.head;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.head.reference.ReferencePass;
import org.lsoftmax.head.select.PassFactory;
import org.lsoftmax.testing.Seeds;

/**
 * Finite inputs whose logits overflow the pass's precision (issue 14, finding 7: X and W of magnitude
 * 1e19 gave the jvm pass a NaN loss and NaN gradients, without a word): every pass refuses them with a
 * {@link HeadOverflowException} naming X, W and their largest values, an {@link InvalidInputException}
 * (exit code 2 on the command line); and the pass stays usable.
 */
class OverflowTest {

    private static final HeadShape SHAPE = new HeadShape(37, 29, 11);

    private static float[] scaled(int length, double scale, Random random) {
        float[] values = new float[length];
        for (int i = 0; i < length; i++) {
            values[i] = (float) (scale * (0.5 + random.nextDouble()) * (random.nextBoolean() ? 1 : -1));
        }
        return values;
    }

    private static int[] labels(Random random) {
        int[] labels = new int[SHAPE.batch()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = random.nextInt(SHAPE.classes());
        }
        return labels;
    }

    private static void assertRefusedAndStillUsable(String passName) {
        Random random = new Random(Seeds.draw());
        float[] x = scaled(SHAPE.xSize(), 1e19, random);
        float[] w = scaled(SHAPE.wSize(), 1e19, random);
        int[] labels = labels(random);
        float[] logits = new float[SHAPE.logitsSize()];
        try (HeadPass pass = PassFactory.create(passName, SHAPE, 3, PassOptions.DEFAULTS)) {
            HeadOverflowException overflow = assertThrows(HeadOverflowException.class,
                    () -> pass.forward(x, w, labels, 0.0, logits));
            assertInstanceOfInvalidInput(overflow);
            assertTrue(overflow.getMessage().startsWith("the logits overflow float32 (the loss is "), overflow.getMessage());
            assertTrue(overflow.getMessage().contains("the largest |X| is 1."), overflow.getMessage());
            assertTrue(overflow.getMessage().contains("e+19 (row "), overflow.getMessage());
            assertFalse(Double.isFinite(overflow.loss()));
            if (pass instanceof TornadoRunInfo device) {
                assertTrue(device.runsOnDevice(), "the device computed it: " + device.fallbackReason());
            }
            // the same pass goes on with inputs in range
            float[] small = scaled(SHAPE.xSize(), 1, random);
            float[] smallW = scaled(SHAPE.wSize(), 1, random);
            assertTrue(Double.isFinite(pass.forward(small, smallW, labels, 0.0, logits)));
        }
    }

    private static void assertInstanceOfInvalidInput(Exception e) {
        assertTrue(e instanceof InvalidInputException, e.getClass().getName());
    }

    @Test
    void theJvmPassRefusesLogitsThatOverflowFloat32() {
        assertRefusedAndStillUsable("jvm");
    }

    @Test
    void theTornadoPassRefusesLogitsThatOverflowFloat32() {
        assumeTrue(TornadoSupport.isAvailable(), () -> "no TornadoVM runtime (" + TornadoSupport.unavailableReason()
                + "): run ci/test.sh with an SDK at /opt/tornadovm");
        assertRefusedAndStillUsable("tornado");
    }

    @Test
    void theReferencePassRefusesLogitsThatOverflowFloat64AndComputesFloat32OverflowsExactly() {
        Random random = new Random(Seeds.draw());
        HeadShape shape = new HeadShape(6, 4, 3);
        double[] x = new double[shape.xSize()];
        double[] w = new double[shape.wSize()];
        for (int i = 0; i < x.length; i++) {
            x[i] = 1e200 * (0.5 + random.nextDouble());
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = 1e200 * (0.5 + random.nextDouble());
        }
        int[] labels = {0, 1, 2, 0, 1, 2};
        ReferencePass pass = new ReferencePass(shape, 4);
        HeadOverflowException overflow = assertThrows(HeadOverflowException.class,
                () -> pass.forward(x, w, labels, 0.0, new double[shape.logitsSize()]));
        assertTrue(overflow.getMessage().startsWith("the logits overflow float64"), overflow.getMessage());
        assertTrue(overflow.getMessage().contains("e+200 (row "), overflow.getMessage());
        // inputs near 1e19 overflow float32 logits, not float64 ones: the reference computes them
        for (int i = 0; i < x.length; i++) {
            x[i] *= 1e-181;
        }
        for (int i = 0; i < w.length; i++) {
            w[i] *= 1e-181;
        }
        double loss = pass.forward(x, w, labels, 0.0, new double[shape.logitsSize()]);
        assertTrue(Double.isFinite(loss) && loss > 1e37, "loss " + loss);
        assertEquals(shape, pass.shape());
    }
}
