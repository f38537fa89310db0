package org.lsoftmax.data;

import org.lsoftmax.math.SplitMix64;

/**
 * A small generated stand-in for Fashion-MNIST, so that {@code train} and the tests run on a machine
 * without the real data: "angular clusters". Each class c has a random unit direction u_c; a sample
 * is {@code x = r * (u_c + noise * g) / |u_c + noise * g|} with g standard normal and the radius r
 * uniform in [0.5, 2]. The class is carried by the direction only — exactly what L-Softmax's angular
 * margin acts on — and the noise makes neighbouring classes overlap a little, so accuracy is high but
 * not 100%.
 */
public final class SyntheticDataset {

    public static final int DEFAULT_CLASSES = 10;
    public static final int DEFAULT_DIMENSION = 32;
    public static final int DEFAULT_TRAIN_SIZE = 4000;
    public static final int DEFAULT_TEST_SIZE = 1000;
    public static final double DEFAULT_NOISE = 0.3;
    public static final long DEFAULT_SEED = 20160619L;

    private SyntheticDataset() {
    }

    /** The default synthetic train/test pair (the same for every run: its own fixed seed). */
    public static TrainTestData createDefault() {
        return create(DEFAULT_SEED, DEFAULT_CLASSES, DEFAULT_DIMENSION, DEFAULT_TRAIN_SIZE, DEFAULT_TEST_SIZE, DEFAULT_NOISE);
    }

    public static TrainTestData create(long seed, int classes, int dimension, int trainSize, int testSize, double noise) {
        SplitMix64 random = new SplitMix64(seed);
        double[][] directions = new double[classes][];
        for (int c = 0; c < classes; c++) {
            directions[c] = unit(gaussianVector(random, dimension, 1.0));
        }
        String description = "synthetic angular clusters (" + classes + " classes, " + dimension + " dims, seed " + seed + ")";
        Dataset train = sample(random, directions, trainSize, noise, description + " train");
        Dataset test = sample(random, directions, testSize, noise, description + " test");
        return new TrainTestData(train, test);
    }

    private static Dataset sample(SplitMix64 random, double[][] directions, int size, double noise, String description) {
        int classes = directions.length;
        int dimension = directions[0].length;
        float[] features = new float[size * dimension];
        int[] labels = new int[size];
        for (int i = 0; i < size; i++) {
            int label = i % classes; // balanced classes; the trainer shuffles anyway
            double[] point = gaussianVector(random, dimension, noise);
            for (int col = 0; col < dimension; col++) {
                point[col] += directions[label][col];
            }
            point = unit(point);
            double radius = 0.5 + 1.5 * random.nextDouble();
            for (int col = 0; col < dimension; col++) {
                features[i * dimension + col] = (float) (radius * point[col]);
            }
            labels[i] = label;
        }
        return new Dataset(description, size, dimension, classes, features, labels);
    }

    private static double[] gaussianVector(SplitMix64 random, int dimension, double scale) {
        double[] vector = new double[dimension];
        for (int col = 0; col < dimension; col++) {
            vector[col] = scale * random.nextGaussian();
        }
        return vector;
    }

    private static double[] unit(double[] vector) {
        double sumSquares = 0.0;
        for (double value : vector) {
            sumSquares += value * value;
        }
        double inverseNorm = 1.0 / Math.sqrt(sumSquares);
        for (int col = 0; col < vector.length; col++) {
            vector[col] *= inverseNorm;
        }
        return vector;
    }
}
