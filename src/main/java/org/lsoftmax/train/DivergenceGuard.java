package org.lsoftmax.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the training loop does with a step that diverged: the back-off state of the epoch in progress,
 * the {@link DivergencePolicy}, the log lines and the record of every event.
 *
 * <p>Every step is checked <em>before</em> anything is applied (the loop's {@code computeStep}): the
 * features F, the loss, dL/dF and dL/dW of the head, the gradient of every layer's parameters, and the
 * update SGD would make (new momentum and weight finite, and no parameter moved by more than
 * {@link DivergencePolicy#maxWeightChange()}). The first offending value makes the step "diverged": no
 * weight and no momentum changes, a WARN line names the epoch, iteration, batch (its positions in the
 * epoch's shuffled order, and the training sample when the value sits in a sample's row), the tensor
 * and the value. Then the policy applies (defaults in brackets):
 * <ol>
 *   <li>first diverged step in a row: the step is skipped; the state from before it is intact;</li>
 *   <li>another diverged step right after: the weights themselves may be the trouble, so the last
 *       good in-memory snapshot (taken at the end of the previous epoch, or at the start or resume of
 *       the run) is restored, weights and momentum;</li>
 *   <li>after every diverged step the learning rate of the rest of the epoch is multiplied by the
 *       back-off factor [0.5] and beta is raised [x10, capped at 1000, never below the schedule]:
 *       nearer plain softmax, the easier problem the schedule started from;</li>
 *   <li>more than {@link DivergencePolicy#maxRetries()} [3] diverged steps in a row end training
 *       with a {@link TrainingDivergedException} naming the epoch, iteration, tensor, value and the
 *       last good checkpoint on disk.</li>
 * </ol>
 * Skipped steps still advance the iteration count, so the beta schedule and the checkpoints keep
 * their meaning. The back-off lasts until the end of the epoch: the next epoch starts from the
 * configured learning rate and schedule again, so a run resumed from a checkpoint (always an epoch
 * boundary) continues exactly as the uninterrupted run.
 */
final class DivergenceGuard {

    private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);

    private DivergencePolicy policy = DivergencePolicy.DEFAULTS;
    private final List<DivergenceEvent> events = new ArrayList<>();
    // back-off state of the epoch in progress (reset at each epoch start)
    private int consecutiveDivergedSteps;
    private double learningRateScale = 1.0;
    private double betaBoost = 1.0;

    void policy(DivergencePolicy newPolicy) {
        this.policy = Objects.requireNonNull(newPolicy, "policy");
    }

    DivergencePolicy policy() {
        return policy;
    }

    /** The back-off lasts one epoch, so a run resumed at an epoch boundary continues exactly. */
    void startEpoch() {
        consecutiveDivergedSteps = 0;
        learningRateScale = 1.0;
        betaBoost = 1.0;
    }

    /** The learning rate of the next step: the schedule's, lowered while the epoch is backing off. */
    double learningRate(double scheduled) {
        return scheduled * learningRateScale;
    }

    /** Beta of an iteration: the schedule's, raised while the epoch is backing off (capped, never lowered). */
    double betaAt(BetaSchedule schedule, long step) {
        double scheduled = schedule.betaAt(step);
        if (betaBoost == 1.0) {
            return scheduled;
        }
        // max(beta, 1): a schedule at beta 0 (pure margin) must be raised too
        double raised = Math.min(policy.betaCap(), Math.max(scheduled, 1.0) * betaBoost);
        return Math.max(scheduled, raised);
    }

    /** A step was applied: the run of diverged steps, if any, is over. */
    void stepApplied() {
        consecutiveDivergedSteps = 0;
    }

    /** What the loop must do after a diverged step. */
    enum Verdict { SKIP, RESTORE_SNAPSHOT, STOP }

    /**
     * Applies the policy to a step that was not applied (see the class comment), logs it and records it.
     *
     * @param where        the batch, its positions and the sample, for the log line
     * @param snapshotText what a restore would bring back ("the state after epoch 3")
     */
    Verdict diverged(int epoch, long iteration, int batch, String where, OffendingValue problem, BetaSchedule schedule,
            double scheduledLearningRate, String snapshotText) {
        consecutiveDivergedSteps++;
        if (consecutiveDivergedSteps > policy.maxRetries()) {
            events.add(new DivergenceEvent(epoch, iteration, batch, problem, DivergenceEvent.Action.STOPPED,
                    scheduledLearningRate * learningRateScale, betaBoost));
            LOG.warn("Diverged step at epoch {} iteration {}, {}: {} (index {}); diverged steps in a row: {}, "
                    + "retries allowed: {}; stopping", epoch, iteration, where, problem.summary(), problem.index(),
                    consecutiveDivergedSteps, policy.maxRetries());
            return Verdict.STOP;
        }
        Verdict verdict = consecutiveDivergedSteps == 1
                ? Verdict.SKIP              // nothing was applied: the state from before the step is intact
                : Verdict.RESTORE_SNAPSHOT; // repeated trouble: the weights may be the cause
        learningRateScale *= policy.learningRateFactor();
        betaBoost *= policy.betaFactor();
        double nextLearningRate = scheduledLearningRate * learningRateScale;
        DivergenceEvent.Action action = verdict == Verdict.SKIP ? DivergenceEvent.Action.SKIPPED
                : DivergenceEvent.Action.RESTORED_SNAPSHOT;
        events.add(new DivergenceEvent(epoch, iteration, batch, problem, action, nextLearningRate, betaBoost));
        LOG.warn("Diverged step at epoch {} iteration {}, {}: {} (index {}); {}; rest of the epoch with learning "
                + "rate {} and beta {} instead of {} (retry {} of {} in a row)", epoch, iteration, where,
                problem.summary(), problem.index(),
                verdict == Verdict.SKIP ? "step skipped, weights unchanged" : "step skipped and " + snapshotText + " restored",
                String.format(Locale.ROOT, "%.3g", nextLearningRate),
                String.format(Locale.ROOT, "%.3g", betaAt(schedule, iteration + 1)),
                String.format(Locale.ROOT, "%.3g", schedule.betaAt(iteration + 1)),
                consecutiveDivergedSteps, policy.maxRetries());
        return verdict;
    }

    /** The end-of-epoch state failed its check: recorded as a stop (the loop restores and throws). */
    void badEpochEnd(int epoch, long iteration, OffendingValue problem, double scheduledLearningRate, String snapshotText) {
        LOG.warn("Epoch {} ends in a state that will not be saved: {} (index {}); restoring {} and stopping",
                epoch, problem.summary(), problem.index(), snapshotText);
        events.add(new DivergenceEvent(epoch, iteration, -1, problem, DivergenceEvent.Action.STOPPED,
                scheduledLearningRate * learningRateScale, betaBoost));
    }

    List<DivergenceEvent> events() {
        return List.copyOf(events);
    }
}
