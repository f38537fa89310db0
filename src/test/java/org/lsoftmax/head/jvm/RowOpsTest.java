package org.lsoftmax.head.jvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.lsoftmax.testing.Seeds;

class RowOpsTest {

    @Test
    void threeDotsGivesTheBitsOfThreeSeparateDots() {
        long seed = Seeds.draw();
        Random random = new Random(seed);
        double[] out = new double[RowOps.THREE_DOTS_SCRATCH];
        for (int length : new int[] {1, 3, 7, 8, 9, 16, 31, 33, 512, 517}) {
            float[] x = new float[length + 5];
            float[] w = new float[length + 3];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) random.nextGaussian();
            }
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) random.nextGaussian();
            }
            RowOps.threeDots(x, 5, w, 3, length, out);
            String where = "length " + length + " (seed " + seed + ")";
            assertEquals(RowOps.dot(x, 5, x, 5, length), out[0], 0.0, "x.x, " + where);
            assertEquals(RowOps.dot(w, 3, w, 3, length), out[1], 0.0, "w.w, " + where);
            assertEquals(RowOps.dot(x, 5, w, 3, length), out[2], 0.0, "x.w, " + where);
        }
    }

    @Test
    void allFiniteFindsEveryNonFiniteValueWherever() {
        for (int length : new int[] {0, 1, 15, 16, 63, 64, 65, 200}) {
            float[] values = new float[length];
            for (int i = 0; i < length; i++) {
                values[i] = (i % 2 == 0 ? 1 : -1) * Float.MAX_VALUE / (i + 1);
            }
            assertTrue(RowOps.allFinite(values), "length " + length);
            for (int position = 0; position < length; position++) {
                for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                    float[] copy = values.clone();
                    copy[position] = bad;
                    assertFalse(RowOps.allFinite(copy), bad + " at " + position + " of " + length);
                }
            }
        }
    }
}
