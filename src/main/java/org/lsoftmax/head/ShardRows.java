package org.lsoftmax.head;

/**
 * What one shard's forward ({@link HeadPass#forwardShard}) hands to the combine step, per sample i of the
 * batch: {@code max_j f_ij} and {@code sum_j exp(f_ij - max)} over the shard's columns, and, where the
 * shard owns the sample's class, the target's margin logit {@code f_iy} and its plain logit (0 where it
 * does not: the three vectors are summed or maximised over the shards as they are, docs/SCALING.md).
 * Buffers of a fixed batch size, reused every step.
 */
public final class ShardRows {

    private final double[] max;
    private final double[] sumExp;
    private final double[] target;
    private final float[] plainTarget;

    public ShardRows(int batch) {
        this.max = new double[batch];
        this.sumExp = new double[batch];
        this.target = new double[batch];
        this.plainTarget = new float[batch];
    }

    public int batch() {
        return max.length;
    }

    /** {@code max_j f_ij} over the shard's columns. */
    public double[] max() {
        return max;
    }

    /** {@code sum_j exp(f_ij - max_i)} over the shard's columns. */
    public double[] sumExp() {
        return sumExp;
    }

    /** The target's margin logit where the shard owns the sample's class, else 0. */
    public double[] target() {
        return target;
    }

    /** The target's plain logit (no margin: for predictions) where the shard owns the class, else 0. */
    public float[] plainTarget() {
        return plainTarget;
    }

    /** Checks that these rows are for a batch of {@code shape}. */
    void checkFor(HeadShape shape) {
        if (max.length != shape.batch()) {
            throw new IllegalArgumentException("shard rows for a batch of " + max.length + ", the pass's shape " + shape
                    + " has " + shape.batch());
        }
    }

    /** {@link #checkFor} for the passes' packages. */
    public static void check(ShardRows rows, HeadShape shape) {
        if (rows == null) {
            throw new IllegalArgumentException("shard rows must not be null");
        }
        rows.checkFor(shape);
    }
}
