package org.lsoftmax.train;

import org.lsoftmax.InvalidInputException;

/**
 * What the {@link Trainer} does when a step diverges (see the Trainer's class comment for the whole
 * policy): how many diverged steps in a row it survives, and how it backs off.
 *
 * @param maxRetries          diverged steps in a row that are survived; one more ends training with a
 *                            {@link TrainingDivergedException} (0: the first diverged step ends it)
 * @param learningRateFactor  the learning rate of the rest of the epoch is multiplied by this after each
 *                            diverged step (0 < factor <= 1)
 * @param betaFactor          beta of the rest of the epoch is raised by this factor after each diverged
 *                            step (>= 1): a larger beta weighs the plain logit more and the margin less,
 *                            the easier problem the schedule started from
 * @param betaCap             the raised beta never exceeds this (unless the schedule's own beta does)
 * @param maxWeightChange     an update that would move any parameter (or its momentum) by more than this
 *                            in one step counts as diverged too: such a step is not part of a healthy run,
 *                            and left alone it overflows float32 a few steps later, out of reach of the
 *                            "nothing applied" guarantee
 */
public record DivergencePolicy(int maxRetries, double learningRateFactor, double betaFactor, double betaCap,
        double maxWeightChange) {

    /** Three retries, halve the learning rate, beta x10 up to 1000, updates above 1e6 diverge. */
    public static final DivergencePolicy DEFAULTS = new DivergencePolicy(3, 0.5, 10.0, 1000.0, 1e6);

    /** More retries than this means the run is not converging; stopping is kinder than spinning. */
    public static final int MAX_RETRIES_LIMIT = 1000;

    public DivergencePolicy {
        if (maxRetries < 0 || maxRetries > MAX_RETRIES_LIMIT) {
            throw new InvalidInputException("divergence retries must be in [0, " + MAX_RETRIES_LIMIT + "], got "
                    + maxRetries);
        }
        if (!(learningRateFactor > 0.0 && learningRateFactor <= 1.0)) {
            throw new InvalidInputException("learning-rate back-off factor must be in (0, 1], got " + learningRateFactor);
        }
        if (!(betaFactor >= 1.0) || Double.isInfinite(betaFactor)) {
            throw new InvalidInputException("beta back-off factor must be a finite number >= 1, got " + betaFactor);
        }
        if (!(betaCap >= 0.0) || Double.isInfinite(betaCap)) {
            throw new InvalidInputException("beta cap must be a finite number >= 0, got " + betaCap);
        }
        if (!(maxWeightChange > 0.0)) {
            throw new InvalidInputException("largest weight change per step must be > 0, got " + maxWeightChange);
        }
    }

    public DivergencePolicy withMaxRetries(int retries) {
        return new DivergencePolicy(retries, learningRateFactor, betaFactor, betaCap, maxWeightChange);
    }
}
