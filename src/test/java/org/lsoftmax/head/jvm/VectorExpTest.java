package org.lsoftmax.head.jvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;
import org.lsoftmax.testing.Seeds;

class VectorExpTest {

    private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;

    @Test
    void matchesMathExpToAboutOneUlpOverTheSoftmaxRange() {
        long seed = Seeds.draw();
        Random random = new Random(seed);
        float[] inputs = new float[FLOATS.length() * 4096];
        for (int i = 0; i < inputs.length; i++) {
            inputs[i] = (float) (-87.0 * random.nextDouble() * random.nextDouble()); // dense near 0
        }
        inputs[0] = 0.0f;
        inputs[1] = -1e-8f;
        inputs[2] = -0.5f * (float) Math.log(2.0);
        inputs[3] = 10.0f;
        float[] outputs = new float[inputs.length];
        for (int i = 0; i < inputs.length; i += FLOATS.length()) {
            VectorExp.exp(FloatVector.fromArray(FLOATS, inputs, i)).intoArray(outputs, i);
        }
        double worst = 0.0;
        for (int i = 0; i < inputs.length; i++) {
            double expected = Math.exp(inputs[i]);
            worst = Math.max(worst, Math.abs(outputs[i] - expected) / expected);
        }
        assertEquals(1.0f, outputs[0], 0.0f, "exp(0) must be exactly 1 (the row maximum's term)");
        assertTrue(worst < 3e-7, "worst relative error " + worst + " (seed " + seed + ")");
    }

    @Test
    void hugeNegativeArgumentsGiveATinyNonNegativeValueNotNaN() {
        float[] inputs = new float[FLOATS.length()];
        java.util.Arrays.fill(inputs, -1e4f);
        inputs[1] = -Float.MAX_VALUE;
        float[] outputs = new float[inputs.length];
        VectorExp.exp(FloatVector.fromArray(FLOATS, inputs, 0)).intoArray(outputs, 0);
        for (float value : outputs) {
            assertTrue(value >= 0.0f && value < 1e-37f, "exp(-1e4) gave " + value);
        }
    }
}
