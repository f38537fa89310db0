package org.lsoftmax.train;

import java.nio.file.Path;

/**
 * Training stopped because too many steps in a row diverged (see {@link DivergencePolicy}). Nothing
 * of the diverged steps was applied; the last good checkpoint on disk, if any, is intact and named in
 * the message, which the command line prints as its one error line.
 */
public final class TrainingDivergedException extends RuntimeException {

    private final int epoch;
    private final long iteration;
    private final OffendingValue offendingValue;
    private final Path lastGoodCheckpoint;
    private final int lastGoodEpoch;

    /**
     * @param lastGoodCheckpoint the newest checkpoint file written or resumed from, null when there is none
     * @param lastGoodEpoch      epochs completed in that checkpoint (ignored when there is none)
     */
    TrainingDivergedException(int epoch, long iteration, OffendingValue offendingValue, Path lastGoodCheckpoint,
            int lastGoodEpoch) {
        super("training diverged at epoch " + epoch + " iteration " + iteration + ": " + offendingValue.summary()
                + "; last good checkpoint: " + (lastGoodCheckpoint == null ? "none (no epoch was saved)"
                        : lastGoodCheckpoint + " (epoch " + lastGoodEpoch + ")"));
        this.epoch = epoch;
        this.iteration = iteration;
        this.offendingValue = offendingValue;
        this.lastGoodCheckpoint = lastGoodCheckpoint;
        this.lastGoodEpoch = lastGoodEpoch;
    }

    public int epoch() {
        return epoch;
    }

    public long iteration() {
        return iteration;
    }

    public OffendingValue offendingValue() {
        return offendingValue;
    }

    /** The newest intact checkpoint file, or null when no epoch was saved (or no output directory was given). */
    public Path lastGoodCheckpoint() {
        return lastGoodCheckpoint;
    }

    public int lastGoodEpoch() {
        return lastGoodEpoch;
    }
}
