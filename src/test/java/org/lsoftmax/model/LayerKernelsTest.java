package org.lsoftmax.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.lsoftmax.linalg.Sgemm;
import org.lsoftmax.math.SplitMix64;

/**
 * The vectorised sweeps of {@link PRelu} and {@link Dense} against the plain scalar loops they replace
 * (kept here as the twins), bit for bit: widths around the vector length (full vectors, masked tails,
 * rows shorter than a vector) and the values where a shortcut would differ: zeros of both signs, NaN,
 * infinities, subnormals. Bits are compared with every NaN counted as one value (the JVM does not fix
 * which NaN an operation returns: the sign of x86's default NaN depends on the operand order an
 * instruction got); zeros of different sign count as different.
 */
class LayerKernelsTest {

    private static final float[] SPECIAL = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
        Float.MIN_VALUE, -Float.MIN_VALUE, 1e-40f, -1e-40f, Float.MAX_VALUE, -Float.MAX_VALUE, 1f, -1f};

    private static float[] values(SplitMix64 random, int size) {
        float[] values = new float[size];
        for (int i = 0; i < size; i++) {
            values[i] = random.nextDouble() < 0.2 ? SPECIAL[(int) (random.nextDouble() * SPECIAL.length)]
                    : (float) random.nextGaussian();
        }
        return values;
    }

    private static void assertSameBits(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            int index = i;
            assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(actual[i]),
                    () -> what + "[" + index + "]: expected " + expected[index] + ", got " + actual[index]);
        }
    }

    private static final int[] WIDTHS = {1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 64, 100, 512};

    @Test
    void preluForwardIsTheScalarSelect() {
        SplitMix64 random = new SplitMix64(11);
        for (int channels : WIDTHS) {
            int rows = 5;
            float[] x = values(random, rows * channels);
            float[] a = values(random, channels);
            float[] expected = new float[rows * channels];
            for (int i = 0; i < rows; i++) {
                for (int c = 0; c < channels; c++) {
                    float v = x[i * channels + c];
                    expected[i * channels + c] = v > 0f ? v : a[c] * v;
                }
            }
            float[] actual = new float[rows * channels];
            PRelu.forward(x, a, actual, rows, channels);
            assertSameBits(expected, actual, "y, channels " + channels);
        }
    }

    @Test
    void preluBackwardIsTheScalarLoop() {
        SplitMix64 random = new SplitMix64(12);
        for (int channels : WIDTHS) {
            int rows = 9;
            float[] x = values(random, rows * channels);
            float[] dy = values(random, rows * channels);
            float[] a = values(random, channels);
            float[] start = values(random, channels);
            float[] expectedDx = new float[rows * channels];
            float[] expectedDa = start.clone();
            for (int i = 0; i < rows; i++) {
                for (int c = 0; c < channels; c++) {
                    float v = x[i * channels + c];
                    float g = dy[i * channels + c];
                    if (v > 0f) {
                        expectedDx[i * channels + c] = g;
                    } else {
                        expectedDx[i * channels + c] = a[c] * g;
                        expectedDa[c] += g * v;
                    }
                }
            }
            float[] dx = new float[rows * channels];
            float[] da = start.clone();
            PRelu.backward(x, dy, a, dx, da, rows, channels);
            assertSameBits(expectedDx, dx, "dx, channels " + channels);
            assertSameBits(expectedDa, da, "da, channels " + channels);
        }
    }

    @Test
    void layersOnAWorkerPoolGiveTheCallersBits() {
        SplitMix64 random = new SplitMix64(14);
        int rows = 200;
        for (int channels : new int[] {512, 300, 17}) {
            float[] input = values(random, rows * channels);
            float[] gradient = values(random, rows * channels);
            float[][] results = new float[2][];
            float[][] slopeGradients = new float[2][];
            float[][] denseResults = new float[2][];
            float[][] biasGradients = new float[2][];
            for (int threads : new int[] {1, 3}) {
                try (Sgemm sgemm = new Sgemm(threads)) {
                    PRelu prelu = new PRelu("p", channels, rows, sgemm);
                    System.arraycopy(values(new SplitMix64(15), channels), 0, prelu.slope().value(), 0, channels);
                    float[] y = prelu.forward(input, rows).clone();
                    float[] dx = prelu.backward(gradient, rows);
                    int index = threads == 1 ? 0 : 1;
                    results[index] = concat(y, dx);
                    slopeGradients[index] = prelu.slope().gradient().clone();
                    Dense dense = new Dense("d", 8, channels, rows, true, sgemm);
                    dense.initialise(new SplitMix64(16), 2.0);
                    System.arraycopy(values(new SplitMix64(17), channels), 0, dense.bias().value(), 0, channels);
                    float[] x = values(new SplitMix64(18), rows * 8);
                    denseResults[index] = dense.forward(x, rows).clone();
                    dense.backward(gradient, rows);
                    biasGradients[index] = dense.bias().gradient().clone();
                }
            }
            assertSameBits(results[0], results[1], "prelu y and dx, channels " + channels);
            assertSameBits(slopeGradients[0], slopeGradients[1], "prelu da, channels " + channels);
            assertSameBits(denseResults[0], denseResults[1], "dense y, outputs " + channels);
            assertSameBits(biasGradients[0], biasGradients[1], "dense db, outputs " + channels);
        }
    }

    private static float[] concat(float[] first, float[] second) {
        float[] all = java.util.Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, all, first.length, second.length);
        return all;
    }

    @Test
    void biasAndItsGradientAreTheScalarLoops() {
        SplitMix64 random = new SplitMix64(13);
        for (int columns : WIDTHS) {
            int rows = 7;
            float[] y = values(random, rows * columns);
            float[] b = values(random, columns);
            float[] expected = y.clone();
            for (int i = 0; i < rows; i++) {
                for (int o = 0; o < columns; o++) {
                    expected[i * columns + o] += b[o];
                }
            }
            Dense.addToRows(y, b, rows, columns);
            assertSameBits(expected, y, "y + b, columns " + columns);

            float[] dy = values(random, rows * columns);
            float[] sum = values(random, columns);
            float[] expectedSum = sum.clone();
            for (int i = 0; i < rows; i++) {
                for (int o = 0; o < columns; o++) {
                    expectedSum[o] += dy[i * columns + o];
                }
            }
            Dense.addRows(dy, sum, rows, columns);
            assertSameBits(expectedSum, sum, "db, columns " + columns);
        }
    }
}
