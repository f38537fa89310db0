package org.lsoftmax.train;

/**
 * Angles between features and class weight vectors, the quantity the L-Softmax margin acts on: for
 * each sample, the angle theta_y between its feature x and its own class weight w_y, and the smallest
 * angle to any other class weight. A margin m asks for {@code m * theta_y < theta_j} (paper, eq. 5),
 * so a larger m should shrink the first and widen the gap to the second.
 */
public final class AngularStatistics {

    private double ownAngleSum;
    private double nearestOtherAngleSum;
    private long count;

    /** Adds one sample (x of length D at offset; W is C x D) whose label is {@code label}. */
    public void add(float[] features, int offset, float[] classWeights, int dimension, int classes, int label) {
        double featureNorm = norm(features, offset, dimension);
        if (featureNorm == 0.0) {
            return; // no direction, no angle (docs/DERIVATION.md, "Edges"); such samples are skipped
        }
        double own = Double.NaN;
        double nearestOther = Double.POSITIVE_INFINITY;
        for (int j = 0; j < classes; j++) {
            double angle = angle(features, offset, featureNorm, classWeights, j, dimension);
            if (Double.isNaN(angle)) {
                continue;
            }
            if (j == label) {
                own = angle;
            } else {
                nearestOther = Math.min(nearestOther, angle);
            }
        }
        if (Double.isNaN(own) || Double.isInfinite(nearestOther)) {
            return;
        }
        ownAngleSum += own;
        nearestOtherAngleSum += nearestOther;
        count++;
    }

    /**
     * The angle in degrees between feature {@code f} (norm {@code featureNorm}) and class weight row j
     * of W, or NaN when that row is zero (no direction).
     */
    static double angle(float[] features, int offset, double featureNorm, float[] classWeights, int row, int dimension) {
        double weightNorm = norm(classWeights, row * dimension, dimension);
        if (weightNorm == 0.0) {
            return Double.NaN;
        }
        double dot = 0.0;
        for (int col = 0; col < dimension; col++) {
            dot += (double) features[offset + col] * classWeights[row * dimension + col];
        }
        return Math.toDegrees(Math.acos(Math.max(-1.0, Math.min(1.0, dot / (featureNorm * weightNorm)))));
    }

    /**
     * Adds one sample from its two angles, found elsewhere (the shards of a data-parallel job combine
     * theirs): skipped, as {@link #add} skips it, when either is missing (NaN own, infinite nearest).
     */
    void addAngles(double own, double nearestOther) {
        if (Double.isNaN(own) || Double.isInfinite(nearestOther) || Double.isNaN(nearestOther)) {
            return;
        }
        ownAngleSum += own;
        nearestOtherAngleSum += nearestOther;
        count++;
    }

    static double featureNorm(float[] features, int offset, int dimension) {
        return norm(features, offset, dimension);
    }

    /** Mean angle in degrees between a feature and its own class weight. */
    public double meanOwnAngle() {
        return count == 0 ? Double.NaN : ownAngleSum / count;
    }

    /** Mean over samples of the smallest angle in degrees between a feature and another class's weight. */
    public double meanNearestOtherAngle() {
        return count == 0 ? Double.NaN : nearestOtherAngleSum / count;
    }

    public long count() {
        return count;
    }

    private static double norm(float[] values, int offset, int length) {
        double sum = 0.0;
        for (int col = 0; col < length; col++) {
            sum += (double) values[offset + col] * values[offset + col];
        }
        return Math.sqrt(sum);
    }
}
