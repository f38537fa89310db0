package org.lsoftmax.train;

/**
 * One diverged training step, as logged: where it happened, what went wrong, and what the trainer did.
 *
 * @param epoch         1-based epoch
 * @param iteration     the step's iteration number (0-based, as the beta schedule sees it)
 * @param batch         0-based batch of the epoch; it covered positions
 *                      {@code [batch * batchSize, (batch + 1) * batchSize)} of the epoch's shuffled order;
 *                      -1 when the state at the end of the epoch failed its check before saving
 * @param offendingValue the first bad value found
 * @param action        what was done
 * @param learningRate  the learning rate for the following steps of the epoch (after the back-off)
 * @param betaBoost     the factor on the schedule's beta for the following steps of the epoch
 */
public record DivergenceEvent(int epoch, long iteration, int batch, OffendingValue offendingValue, Action action,
        double learningRate, double betaBoost) {

    public enum Action {
        /** The step was dropped; the state from before it was kept (first failure in a row). */
        SKIPPED,
        /** The step was dropped and the last good in-memory snapshot restored (a repeated failure). */
        RESTORED_SNAPSHOT,
        /** Retries were exhausted: training stopped with a {@link TrainingDivergedException}. */
        STOPPED
    }
}
