package org.lsoftmax.head;

import org.lsoftmax.InvalidInputException;

/**
 * The split of C classes into K contiguous shards: shard k owns the classes
 * {@code [floor(C k / K), floor(C (k + 1) / K))}, so the sizes differ by at most one and C need not be a
 * multiple of K. Every shard holds at least two classes (a head of one class has no softmax).
 */
public record ShardLayout(int classes, int shards) {

    /** More shards than this is a typo (one thread or device per shard). */
    public static final int MAX_SHARDS = 256;

    public ShardLayout {
        if (shards < 1 || shards > MAX_SHARDS) {
            throw new InvalidInputException("--shards must be in [1, " + MAX_SHARDS + "], got " + shards);
        }
        if (classes < 2L * shards) {
            throw new InvalidInputException(classes + " classes cannot be split into " + shards + " shards of at least 2 classes each");
        }
    }

    /** The first class of shard k. */
    public int start(int shard) {
        return (int) ((long) classes * shard / shards);
    }

    /** One past the last class of shard k. */
    public int end(int shard) {
        return start(shard + 1);
    }

    /** C_k, the classes of shard k. */
    public int size(int shard) {
        return end(shard) - start(shard);
    }

    /** The shard that owns {@code classIndex} in [0, C). */
    public int shardOf(int classIndex) {
        int shard = (int) (((long) classIndex * shards + shards - 1) / classes);
        // floor(C k / K) <= classIndex for the owner; correct the estimate by at most one either way
        while (shard > 0 && start(shard) > classIndex) {
            shard--;
        }
        while (shard + 1 < shards && start(shard + 1) <= classIndex) {
            shard++;
        }
        return shard;
    }

    /**
     * The classes a shard's pass computes each step: all C_k, or with sampled negatives (rate r < 1)
     * {@code max(ceil(r C_k), min(N, C_k))}, so that the batch's positives (at most N distinct) always fit
     * and the pass keeps one shape (no allocation or recompilation per step).
     */
    public int sampleSize(int shard, double sampleRate, int batch) {
        int local = size(shard);
        if (sampleRate >= 1.0) {
            return local;
        }
        int sampled = (int) Math.min(local, Math.ceil(sampleRate * local));
        return Math.max(Math.max(sampled, Math.min(batch, local)), 2);
    }

    @Override
    public String toString() {
        return shards + " shard" + (shards == 1 ? "" : "s") + " of " + classes + " classes";
    }
}
