package org.lsoftmax.data;

import org.lsoftmax.MemoryBudget;

/**
 * Input standardisation {@code x' = (x - mean) / std} with one mean and one standard deviation over
 * all values of the training split (a per-pixel std would be 0 on MNIST's always-black border). The
 * same two numbers are applied to the test split and stored in checkpoints, so {@code test} sees the
 * inputs exactly as training did.
 */
public record Normalization(float mean, float std) {

    public static final Normalization IDENTITY = new Normalization(0f, 1f);

    /** Mean and std of every value of the data set, accumulated in double. */
    public static Normalization fit(Dataset data) {
        double sum = 0.0;
        double sumSquares = 0.0;
        for (float value : data.features()) {
            sum += value;
            sumSquares += (double) value * value;
        }
        double count = data.features().length;
        double mean = sum / count;
        double variance = Math.max(0.0, sumSquares / count - mean * mean);
        double std = variance > 1e-12 ? Math.sqrt(variance) : 1.0; // a constant input stays constant, not NaN
        return new Normalization((float) mean, (float) std);
    }

    /** A normalised copy; the input is not modified. */
    public Dataset apply(Dataset data) {
        float[] source = data.features();
        MemoryBudget.requireHeap("normalising " + data.description(), 4L * source.length);
        float[] normalised = new float[source.length];
        float inverseStd = 1f / std;
        for (int i = 0; i < source.length; i++) {
            normalised[i] = (source[i] - mean) * inverseStd;
        }
        return data.withFeatures(normalised);
    }
}
