package org.lsoftmax.bench;

import java.util.Random;
import org.lsoftmax.head.HeadShape;

/** Fixed-seed layer inputs for the benchmarks: Gaussian X and W with rows of norm ~1, uniform labels. */
record BenchmarkInputs(float[] x, float[] w, int[] labels) {

    static final long SEED = 20160620L;

    /** Parses "NxDxC", e.g. "256x512x1000" (batch x features x classes). */
    static HeadShape parseShape(String text) {
        String[] parts = text.split("x");
        if (parts.length != 3) {
            throw new IllegalArgumentException("shape must be NxDxC, got " + text);
        }
        return new HeadShape(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]), Integer.parseInt(parts[2]));
    }

    static BenchmarkInputs draw(HeadShape shape) {
        Random random = new Random(SEED);
        return new BenchmarkInputs(gaussian(random, shape.batch(), shape.features()),
                gaussian(random, shape.classes(), shape.features()),
                random.ints(shape.batch(), 0, shape.classes()).toArray());
    }

    static float[] gaussian(Random random, int rows, int columns) {
        float[] values = new float[rows * columns];
        double scale = 1.0 / Math.sqrt(columns);
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (scale * random.nextGaussian());
        }
        return values;
    }
}
