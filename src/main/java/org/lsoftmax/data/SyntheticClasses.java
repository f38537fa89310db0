package org.lsoftmax.data;

import org.lsoftmax.InvalidInputException;
import org.lsoftmax.math.SplitMix64;

/**
 * A synthetic task with many classes, generated on the fly (nothing is stored, so 10^6 classes cost no
 * memory): class j has a centre u_j on the unit sphere of R^D (D Gaussians from its own stream, normalised);
 * a sample of class y is {@code x = (u_y + (noise / sqrt(D)) g) / |u_y + (noise / sqrt(D)) g|} with g
 * standard normal, so noise is the ratio of the noise's norm to the centre's (about tan of the angle
 * between x and u_y: 0.1 is 5.7 degrees). Labels are uniform over the classes. The training batches and
 * the held-out batches come from two separate streams of the seed, batch b from its own sub-stream, so
 * any batch can be drawn again (a resumed or repeated run sees the same data) and held-out samples are
 * never training samples. For the class-sharded head's large-class runs (docs/SCALING.md).
 */
public final class SyntheticClasses {

    /** Stream families of the seed: centres, training batches, held-out batches. */
    private static final long CENTRE_STREAMS = 0x43454E0000000000L;
    private static final long TRAIN_STREAMS = 0x5452410000000000L;
    private static final long HELD_OUT_STREAMS = 0x48454C0000000000L;

    private final long seed;
    private final int classes;
    private final int dimension;
    private final double noise;
    private final double[] centre;
    private final double[] point;

    public SyntheticClasses(long seed, int classes, int dimension, double noise) {
        if (classes < 2) {
            throw new InvalidInputException("--synthetic-classes must be >= 2, got " + classes);
        }
        if (dimension < 2) {
            throw new InvalidInputException("--synthetic-dim must be >= 2, got " + dimension);
        }
        if (!(noise >= 0.0) || Double.isInfinite(noise)) {
            throw new InvalidInputException("--synthetic-noise must be a finite number >= 0, got " + noise);
        }
        this.seed = seed;
        this.classes = classes;
        this.dimension = dimension;
        this.noise = noise;
        this.centre = new double[dimension];
        this.point = new double[dimension];
    }

    public int classes() {
        return classes;
    }

    public int dimension() {
        return dimension;
    }

    public double noise() {
        return noise;
    }

    /** u_j, the unit centre of class j. */
    public void centre(int classIndex, double[] out) {
        SplitMix64 random = SplitMix64.forStream(seed, CENTRE_STREAMS + classIndex);
        double sum = 0.0;
        for (int col = 0; col < dimension; col++) {
            out[col] = random.nextGaussian();
            sum += out[col] * out[col];
        }
        double inverse = 1.0 / Math.sqrt(sum);
        for (int col = 0; col < dimension; col++) {
            out[col] *= inverse;
        }
    }

    /** Training batch b: {@code labels.length} samples into {@code features} (rows of D). */
    public void trainBatch(long batch, float[] features, int[] labels) {
        fill(SplitMix64.forStream(seed, TRAIN_STREAMS + batch), features, labels);
    }

    /** Held-out batch b (a stream of its own: never a training sample). */
    public void heldOutBatch(long batch, float[] features, int[] labels) {
        fill(SplitMix64.forStream(seed, HELD_OUT_STREAMS + batch), features, labels);
    }

    private void fill(SplitMix64 random, float[] features, int[] labels) {
        double spread = noise / Math.sqrt(dimension);
        for (int i = 0; i < labels.length; i++) {
            int label = random.nextInt(classes);
            labels[i] = label;
            centre(label, centre);
            double sum = 0.0;
            for (int col = 0; col < dimension; col++) {
                point[col] = centre[col] + spread * random.nextGaussian();
                sum += point[col] * point[col];
            }
            double inverse = 1.0 / Math.sqrt(sum);
            for (int col = 0; col < dimension; col++) {
                features[i * dimension + col] = (float) (point[col] * inverse);
            }
        }
    }

    @Override
    public String toString() {
        return "synthetic classes (" + classes + " Gaussian centres on the sphere of R^" + dimension + ", noise " + noise + ", seed " + seed + ")";
    }
}
