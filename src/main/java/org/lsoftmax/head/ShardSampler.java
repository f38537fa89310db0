package org.lsoftmax.head;

import org.lsoftmax.math.SplitMix64;

/**
 * Partial FC's sampled negatives for one shard (An et al., "Partial FC", 2021; InsightFace's
 * {@code PartialFC.sample}): each step it keeps every class of its block that is a label of the batch
 * (the positives) and adds classes drawn uniformly without replacement from the rest until the sample
 * holds {@link #sampleSize()} classes; the sample is sorted by class index and the batch's labels are
 * remapped into it. The draw is a function of (seed, iteration, shard) only ({@link SplitMix64} stream),
 * so a run, or a resumed run, draws the same sample every time; nothing is allocated per step.
 */
public final class ShardSampler {

    /** Stream indices of the samplers start here, clear of the trainer's (0 = init, e = epoch e's shuffle). */
    static final long STREAM_BASE = 0x5A4D_0000_0000_0000L;

    private final int localClasses;
    private final int sampleSize;
    private final long seed;
    private final int shard;
    /** A permutation of the block's classes, the identity between steps (a draw's swaps are undone). */
    private final int[] permutation;
    private final int[] swapTargets;
    /** The position of each class in the sample, -1 outside it (reset after each step for the sampled only). */
    private final int[] positionOf;
    private final boolean[] chosen;
    private final int[] selected;

    public ShardSampler(int localClasses, int sampleSize, long seed, int shard) {
        if (sampleSize < 1 || sampleSize > localClasses) {
            throw new IllegalArgumentException("sample of " + sampleSize + " classes out of " + localClasses);
        }
        this.localClasses = localClasses;
        this.sampleSize = sampleSize;
        this.seed = seed;
        this.shard = shard;
        this.permutation = new int[localClasses];
        for (int j = 0; j < localClasses; j++) {
            permutation[j] = j;
        }
        this.swapTargets = new int[localClasses];
        this.positionOf = new int[localClasses];
        java.util.Arrays.fill(positionOf, -1);
        this.chosen = new boolean[localClasses];
        this.selected = new int[sampleSize];
    }

    public int sampleSize() {
        return sampleSize;
    }

    /** The stream of one step's draw: independent for every (iteration, shard). */
    static long streamIndex(long iteration, int shard) {
        return STREAM_BASE + iteration * ShardLayout.MAX_SHARDS + shard;
    }

    /**
     * Draws the sample of one step.
     *
     * @param localLabels  N labels local to the block, -1 for samples of other shards
     * @param sampleLabels output: each label remapped to its index in the sample (-1 stays -1)
     * @throws IllegalArgumentException when the batch has more distinct positives than the sample holds
     */
    public void sample(long iteration, int[] localLabels, int[] sampleLabels) {
        int positives = 0;
        for (int label : localLabels) {
            if (label >= 0 && !chosen[label]) {
                chosen[label] = true;
                positives++;
            }
        }
        if (positives > sampleSize) {
            clearChosen(localLabels);
            throw new IllegalArgumentException(positives + " positive classes in a sample of " + sampleSize);
        }
        // negatives: a partial Fisher-Yates shuffle of the block's classes, skipping positives
        SplitMix64 random = SplitMix64.forStream(seed, streamIndex(iteration, shard));
        int needed = sampleSize - positives;
        int swaps = 0;
        for (int position = 0; needed > 0; position++) {
            int pick = position + random.nextInt(localClasses - position);
            swapTargets[swaps++] = pick;
            int swap = permutation[position];
            permutation[position] = permutation[pick];
            permutation[pick] = swap;
            int candidate = permutation[position];
            if (!chosen[candidate]) {
                chosen[candidate] = true;
                needed--;
            }
        }
        // undo the swaps, last first: the permutation is the identity again
        for (int position = swaps - 1; position >= 0; position--) {
            int pick = swapTargets[position];
            int swap = permutation[position];
            permutation[position] = permutation[pick];
            permutation[pick] = swap;
        }
        // the sample in class order: positives and negatives are both marked in `chosen`
        // (one O(C_k) scan of the marks: cheaper than sorting the sample, and it leaves it ascending)
        int count = 0;
        for (int j = 0; j < localClasses && count < sampleSize; j++) {
            if (chosen[j]) {
                positionOf[j] = count;
                selected[count++] = j;
            }
        }
        for (int i = 0; i < localLabels.length; i++) {
            sampleLabels[i] = localLabels[i] >= 0 ? positionOf[localLabels[i]] : -1;
        }
        for (int k = 0; k < count; k++) {
            chosen[selected[k]] = false;
            positionOf[selected[k]] = -1;
        }
    }

    private void clearChosen(int[] localLabels) {
        for (int label : localLabels) {
            if (label >= 0) {
                chosen[label] = false;
            }
        }
    }

    /** The classes (indices in the block, ascending) of the most recent sample: {@link #sampleSize()} of them. */
    public int[] selected() {
        return selected;
    }
}
