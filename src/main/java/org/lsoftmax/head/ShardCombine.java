package org.lsoftmax.head;

/**
 * The combine step of the class-sharded head (docs/SCALING.md), one definition for every caller: the
 * in-process and, later, multi-process {@link ShardedHead} and the float64 sharded reference. Per sample
 * i, from the shards' {@link ShardRows}:
 * <pre>
 *   M_i   = max_k max_ki                                   (all-reduce MAX)
 *   S_i   = sum_k sumExp_ki exp(max_ki - M_i)              (all-reduce SUM, after M)
 *   t_i   = sum_k target_ki                                (the owner's margin logit; the others add 0)
 *   lse_i = M_i + log S_i,   loss = mean_i (lse_i - t_i)
 * </pre>
 * which is the unsharded head's (L5) with the sum over classes split at the shard boundaries.
 */
public final class ShardCombine {

    private ShardCombine() {
    }

    /** A shard's {@code sumExp_ki} rescaled to the global maximum: {@code sumExp exp(max - globalMax)}. */
    public static double rescaledSum(double sumExp, double max, double globalMax) {
        return sumExp * Math.exp(max - globalMax);
    }

    /** {@code lse_i = M_i + log S_i}. */
    public static double logSumExp(double globalMax, double globalSum) {
        return globalMax + Math.log(globalSum);
    }

    /** {@code mean_i (lse_i - t_i)}, summed in sample order. */
    public static double meanLoss(double[] logSumExp, double[] target) {
        double sum = 0.0;
        for (int i = 0; i < logSumExp.length; i++) {
            sum += logSumExp[i] - target[i];
        }
        return sum / logSumExp.length;
    }

    /**
     * The whole combine of K shards held in one place (the float64 reference; tests): writes lse_i and
     * t_i and returns the loss. Shards are taken in order 0..K-1, as the in-process collective does.
     */
    public static double combine(ShardRowsDouble[] shards, double[] logSumExp, double[] target) {
        int n = logSumExp.length;
        for (int i = 0; i < n; i++) {
            double globalMax = Double.NEGATIVE_INFINITY;
            for (ShardRowsDouble shard : shards) {
                globalMax = Math.max(globalMax, shard.max()[i]);
            }
            double sum = 0.0;
            double t = 0.0;
            for (ShardRowsDouble shard : shards) {
                sum += rescaledSum(shard.sumExp()[i], shard.max()[i], globalMax);
                t += shard.target()[i];
            }
            logSumExp[i] = logSumExp(globalMax, sum);
            target[i] = t;
        }
        return meanLoss(logSumExp, target);
    }

    /** Per-sample shard values as plain arrays (the reference's double shard stage writes these). */
    public record ShardRowsDouble(double[] max, double[] sumExp, double[] target) {
        public static ShardRowsDouble of(int batch) {
            return new ShardRowsDouble(new double[batch], new double[batch], new double[batch]);
        }

        public static ShardRowsDouble of(ShardRows rows) {
            return new ShardRowsDouble(rows.max(), rows.sumExp(), rows.target());
        }
    }
}
