package org.lsoftmax.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.lsoftmax.linalg.Sgemm;
import org.lsoftmax.math.SplitMix64;
import org.lsoftmax.model.Parameter;
import org.lsoftmax.model.RowSelection;

/**
 * The vectorised optimizer sweeps against the scalar definitions: {@link SgdMomentum#step} is the
 * scalar loop bit for bit (lengths around the vector width, with and without decay), and
 * {@link SgdMomentum#isSafeStep} is true exactly when every gradient is finite and
 * {@link SgdMomentum#checkStep} finds nothing, for poisoned gradients, overflowing updates and limits
 * that are not floats.
 */
class SgdMomentumTest {

    private static final int[] LENGTHS = {1, 5, 15, 16, 17, 40, 64, 1000};

    private static Parameter parameter(SplitMix64 random, String name, int length, boolean decayed, double scale) {
        Parameter parameter = Parameter.zeros(name, length, decayed);
        for (int i = 0; i < length; i++) {
            parameter.value()[i] = (float) random.nextGaussian();
            parameter.gradient()[i] = (float) (scale * random.nextGaussian());
            parameter.momentum()[i] = (float) (0.1 * random.nextGaussian());
        }
        return parameter;
    }

    @Test
    void stepIsTheScalarUpdate() {
        SplitMix64 random = new SplitMix64(21);
        SgdMomentum optimizer = new SgdMomentum(0.9, 5e-4);
        for (int length : LENGTHS) {
            for (boolean decayed : new boolean[] {true, false}) {
                Parameter parameter = parameter(random, "p", length, decayed, 1.0);
                float[] w = parameter.value().clone();
                float[] v = parameter.momentum().clone();
                float[] g = parameter.gradient();
                float mu = 0.9f;
                float rate = (float) 0.05;
                float decay = decayed ? (float) 5e-4 : 0f;
                for (int i = 0; i < length; i++) {
                    v[i] = mu * v[i] + rate * (g[i] + decay * w[i]);
                    w[i] -= v[i];
                }
                optimizer.step(List.of(parameter), 0.05);
                for (int i = 0; i < length; i++) {
                    assertEquals(Float.floatToRawIntBits(v[i]), Float.floatToRawIntBits(parameter.momentum()[i]), "v " + i);
                    assertEquals(Float.floatToRawIntBits(w[i]), Float.floatToRawIntBits(parameter.value()[i]), "w " + i);
                }
            }
        }
    }

    /** What the training loop's slow path concludes: gradients finite, then checkStep. */
    private static boolean scalarSafe(SgdMomentum optimizer, List<Parameter> parameters, double rate, double limit) {
        for (Parameter parameter : parameters) {
            if (OffendingValue.firstNonFinite("g", parameter.gradient(), parameter.size()) != null) {
                return false;
            }
        }
        return optimizer.checkStep(parameters, rate, limit) == null;
    }

    @Test
    void isSafeStepAgreesWithTheScalarChecks() {
        SplitMix64 random = new SplitMix64(22);
        SgdMomentum optimizer = new SgdMomentum(0.9, 5e-4);
        float[] poison = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1e30f, -1e30f, Float.MAX_VALUE};
        // limits that are floats and limits that are not (between two floats), and 0
        double[] limits = {1e6, 0.3, Math.nextUp(0.3f), (double) 0.3f, 2.5, 0.0};
        for (int trial = 0; trial < 400; trial++) {
            List<Parameter> parameters = new ArrayList<>();
            for (int p = 0; p < 3; p++) {
                parameters.add(parameter(random, "p" + p, LENGTHS[(int) (random.nextDouble() * LENGTHS.length)],
                        random.nextDouble() < 0.5, 5 * random.nextDouble()));
            }
            if (trial % 3 != 0) {
                Parameter victim = parameters.get((int) (random.nextDouble() * 3));
                int index = (int) (random.nextDouble() * victim.size());
                float value = poison[(int) (random.nextDouble() * poison.length)];
                if (random.nextDouble() < 0.5) {
                    victim.gradient()[index] = value;
                } else {
                    victim.value()[index] = value == Float.MAX_VALUE ? value : value / 1e10f;
                }
            }
            double limit = limits[trial % limits.length];
            double rate = trial % 7 == 0 ? 0.0 : 0.05;
            boolean expected = scalarSafe(optimizer, parameters, rate, limit);
            assertEquals(expected, optimizer.isSafeStep(parameters, rate, limit), "trial " + trial + ", limit " + limit);
        }
    }

    @Test
    void theParallelSweepsAreTheSerialOnes() {
        SplitMix64 random = new SplitMix64(23);
        try (Sgemm sgemm = new Sgemm(3)) {
            SgdMomentum serial = new SgdMomentum(0.9, 5e-4);
            SgdMomentum parallel = new SgdMomentum(0.9, 5e-4, sgemm.workers());
            // sizes across segment boundaries, enough in all to use the workers
            int[] sizes = {SgdMomentum.SEGMENT * 3 + 17, 513, SgdMomentum.SEGMENT, 5, 40_000};
            List<Parameter> first = new ArrayList<>();
            List<Parameter> second = new ArrayList<>();
            for (int p = 0; p < sizes.length; p++) {
                Parameter parameter = parameter(random, "p" + p, sizes[p], p % 2 == 0, 1.0);
                first.add(parameter);
                second.add(new Parameter(parameter.name(), parameter.value().clone(), parameter.gradient().clone(),
                        parameter.momentum().clone(), parameter.weightDecayed()));
            }
            for (int round = 0; round < 3; round++) {
                assertEquals(serial.isSafeStep(first, 0.05, 1e6), parallel.isSafeStep(second, 0.05, 1e6));
                serial.step(first, 0.05);
                parallel.step(second, 0.05);
            }
            for (int p = 0; p < sizes.length; p++) {
                for (int i = 0; i < sizes[p]; i++) {
                    assertEquals(Float.floatToRawIntBits(first.get(p).value()[i]),
                            Float.floatToRawIntBits(second.get(p).value()[i]), "w of p" + p + " at " + i);
                    assertEquals(Float.floatToRawIntBits(first.get(p).momentum()[i]),
                            Float.floatToRawIntBits(second.get(p).momentum()[i]), "v of p" + p + " at " + i);
                }
            }
            // a poisoned element in a late segment of a large parameter is found by the parallel check
            second.get(0).gradient()[SgdMomentum.SEGMENT * 2 + 3] = Float.NaN;
            assertEquals(false, parallel.isSafeStep(second, 0.05, 1e6));
            second.get(0).gradient()[SgdMomentum.SEGMENT * 2 + 3] = 0f;
            second.get(4).gradient()[39_999] = 1e9f;
            assertEquals(false, parallel.isSafeStep(second, 0.05, 1e6));
        }
    }

    private static Parameter copy(Parameter parameter) {
        return new Parameter(parameter.name(), parameter.value().clone(), parameter.gradient().clone(),
                parameter.momentum().clone(), parameter.weightDecayed());
    }

    /**
     * The row-selection overloads (sampled negatives): the selected rows get the scalar update bit for
     * bit and every other row keeps value and momentum; the parameters without a selection get the
     * (segmented) full step; isSafeStep with rows agrees with checkStep with rows; with and without workers.
     */
    @Test
    void theRowSelectionSweepsAreTheScalarRowUpdates() {
        SplitMix64 random = new SplitMix64(24);
        try (Sgemm sgemm = new Sgemm(3)) {
            int rowLength = 19;
            int rowCount = 300;
            for (SgdMomentum optimizer : List.of(new SgdMomentum(0.9, 5e-4), new SgdMomentum(0.9, 5e-4, sgemm.workers()))) {
                Parameter trunk = parameter(random, "trunk", SgdMomentum.SEGMENT * 3 + 5, true, 1.0);
                Parameter sampled = parameter(random, "sampled", rowLength * rowCount, true, 1.0);
                Parameter whole = parameter(random, "whole", rowLength * 7, true, 1.0);
                List<Parameter> parameters = List.of(trunk, sampled, whole);
                RowSelection selection = new RowSelection(rowCount, rowLength);
                for (int round = 0; round < 4; round++) {
                    int[] rows = new int[rowCount];
                    int count = 0;
                    for (int r = 0; r < rowCount; r++) {
                        if (random.nextDouble() < 0.3) {
                            rows[count++] = r;
                        }
                    }
                    selection.set(rows, count);
                    java.util.function.Function<Parameter, RowSelection> touched = p -> p == sampled ? selection : null;
                    Parameter before = copy(sampled);
                    Parameter trunkExpected = copy(trunk);
                    Parameter wholeExpected = copy(whole);
                    new SgdMomentum(0.9, 5e-4).step(List.of(trunkExpected, wholeExpected), 0.05);
                    assertEquals(optimizer.checkStep(parameters, 0.05, 1e6, touched) == null,
                            optimizer.isSafeStep(parameters, 0.05, 1e6, touched), "round " + round);
                    optimizer.step(parameters, 0.05, touched);
                    boolean[] selected = new boolean[rowCount];
                    for (int k = 0; k < count; k++) {
                        selected[rows[k]] = true;
                    }
                    float mu = 0.9f;
                    float rate = (float) 0.05;
                    float decay = (float) 5e-4;
                    for (int i = 0; i < sampled.size(); i++) {
                        float v = before.momentum()[i];
                        float w = before.value()[i];
                        if (selected[i / rowLength]) {
                            v = mu * v + rate * (before.gradient()[i] + decay * w);
                            w -= v;
                        }
                        assertEquals(Float.floatToRawIntBits(v), Float.floatToRawIntBits(sampled.momentum()[i]), "v " + i);
                        assertEquals(Float.floatToRawIntBits(w), Float.floatToRawIntBits(sampled.value()[i]), "w " + i);
                    }
                    for (Parameter[] pair : new Parameter[][] {{trunkExpected, trunk}, {wholeExpected, whole}}) {
                        for (int i = 0; i < pair[0].size(); i++) {
                            assertEquals(Float.floatToRawIntBits(pair[0].value()[i]), Float.floatToRawIntBits(pair[1].value()[i]),
                                    pair[0].name() + " w " + i);
                            assertEquals(Float.floatToRawIntBits(pair[0].momentum()[i]), Float.floatToRawIntBits(pair[1].momentum()[i]),
                                    pair[0].name() + " v " + i);
                        }
                    }
                    // an overflowing update in a selected row is caught, one in a row outside the selection is not
                    int inside = rows[0] * rowLength + 3;
                    float saved = sampled.gradient()[inside];
                    sampled.gradient()[inside] = 1e9f;
                    assertEquals(false, optimizer.isSafeStep(parameters, 0.05, 1e6, touched));
                    sampled.gradient()[inside] = saved;
                    int outsideRow = 0;
                    while (selected[outsideRow]) {
                        outsideRow++;
                    }
                    saved = sampled.gradient()[outsideRow * rowLength];
                    sampled.gradient()[outsideRow * rowLength] = 1e9f;
                    assertEquals(optimizer.checkStep(parameters, 0.05, 1e6, touched) == null,
                            optimizer.isSafeStep(parameters, 0.05, 1e6, touched));
                    assertEquals(true, optimizer.isSafeStep(parameters, 0.05, 1e6, touched));
                    sampled.gradient()[outsideRow * rowLength] = saved;
                }
            }
        }
    }

    @Test
    void aChangeJustAboveALimitThatIsNotAFloatIsCaught() {
        SgdMomentum optimizer = new SgdMomentum(0.0, 0.0);
        Parameter parameter = Parameter.zeros("p", 3, false);
        float change = 0.3f;                          // 0.30000001192...
        parameter.gradient()[2] = change;             // v' = 1 * g with rate 1 and momentum 0
        double limitBelow = Math.nextDown((double) change);
        assertEquals(false, optimizer.isSafeStep(List.of(parameter), 1.0, limitBelow));
        assertEquals(true, optimizer.isSafeStep(List.of(parameter), 1.0, (double) change));
        assertNull(optimizer.checkStep(List.of(parameter), 1.0, (double) change));
    }
}
