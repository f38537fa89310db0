package org.lsoftmax.head.tornado;

import org.lsoftmax.head.DeviceFallback;
import org.lsoftmax.head.DeviceUnavailableException;
import org.lsoftmax.head.HeadChecks;
import org.lsoftmax.head.HeadOverflowException;
import org.lsoftmax.head.HeadPass;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.MarginLoss;
import org.lsoftmax.head.ShardRows;
import org.lsoftmax.head.TornadoRunInfo;

/**
 * The tornado pass: runs the head on a TornadoVM device ({@link DevicePlan}) and, when the device fails
 * (a kernel that does not compile, a bailout or an error on execution), switches once and for good to
 * the pass its {@link DeviceFallback} hands it (the jvm pass; {@code PassFactory} logs why). Results keep
 * their meaning either way; {@link #deviceDescription()} says where it ran.
 *
 * <p>The single-pass stages ({@link #forward}, {@link #backward}, {@link #trainingStep}) and the shard
 * stages ({@link #forwardShard}, {@link #backwardShard}) run on two device plans with their own task
 * graphs; a pass is created with the plan of the stages it is meant for, and opens the other one only
 * if it is ever asked for it. The single-pass plan runs forward and backward of a batch in one graph
 * execution, at the forward ({@link DevicePlan#step}): {@link #backward} only copies the gradients out,
 * so a training step is one launch on the device.
 */
final class TornadoPass implements HeadPass, TornadoRunInfo {

    private final HeadShape shape;
    private MarginLoss loss;
    private final String deviceLabel;
    private final PlanSource planSource;
    private final DeviceFallback fallbackSource;
    private DevicePlan singlePlan;
    private DevicePlan shardPlan;
    private HeadPass fallback;
    private String fallbackReason;
    private boolean fallbackHasForward;
    private float[] fallbackLogits;
    private long graphExecutions; // of the plans this pass has closed

    // the most recent forward's inputs, to replay it on the fallback when backward fails on the device
    private float[] lastX;
    private float[] lastW;
    private int[] lastLabels;
    private double lastBeta;
    private boolean lastWasShard;

    /** Where a pass gets the device plan of the stages it has none for yet, and where its healthy plans go on close. */
    interface PlanSource {
        /** A plan with the single-pass or the shard stages' graphs, from the pool or new. */
        DevicePlan open(boolean shardStages);

        /** A healthy plan back to the {@link DevicePlanPool}. */
        void giveBack(DevicePlan plan);
    }

    TornadoPass(HeadShape shape, MarginLoss loss, String deviceLabel, DevicePlan plan, PlanSource planSource, DeviceFallback fallbackSource) {
        this.shape = shape;
        this.loss = loss;
        this.deviceLabel = deviceLabel;
        this.planSource = planSource;
        this.fallbackSource = fallbackSource;
        if (plan.shardStages()) {
            this.shardPlan = plan;
        } else {
            this.singlePlan = plan;
        }
    }

    @Override
    public String name() {
        return "tornado";
    }

    @Override
    public String deviceDescription() {
        return fallback == null ? "tornado " + deviceLabel : fallback.name() + " (fallback: " + fallbackReason + ")";
    }

    @Override
    public HeadShape shape() {
        return shape;
    }

    @Override
    public MarginLoss loss() {
        return loss;
    }

    @Override
    public void setLoss(MarginLoss newLoss) {
        this.loss = HeadChecks.checkSameKind(loss, newLoss);
        if (fallback != null) {
            fallback.setLoss(newLoss);
        }
    }

    /** The plan of the requested stages, opened now if the pass has none yet; null once the pass has fallen back. */
    private DevicePlan plan(boolean shardStages) {
        if (fallback != null) {
            return null;
        }
        DevicePlan plan = shardStages ? shardPlan : singlePlan;
        if (plan == null) {
            try {
                plan = planSource.open(shardStages);
            } catch (DeviceUnavailableException e) {
                switchToFallback(e.getMessage());
                return null;
            }
            if (shardStages) {
                shardPlan = plan;
            } else {
                singlePlan = plan;
            }
        }
        return plan;
    }

    @Override
    public double forward(float[] x, float[] w, int[] labels, double beta, float[] logits) {
        HeadChecks.checkForwardInputs(shape, x, w, labels, beta);
        HeadChecks.checkOutput("logits", logits, shape.batch(), shape.classes());
        return stepOnDevice(x, w, labels, beta, logits);
    }

    /** Forward and backward in one graph execution on the device ({@link DevicePlan#step}); the logits only when given an array. */
    @Override
    public double trainingStep(float[] x, float[] w, int[] labels, double beta, float[] logits, float[] dx, float[] dw) {
        HeadChecks.checkForwardInputs(shape, x, w, labels, beta);
        if (logits != null) {
            HeadChecks.checkOutput("logits", logits, shape.batch(), shape.classes());
        }
        HeadChecks.checkOutput("dX", dx, shape.batch(), shape.features());
        HeadChecks.checkOutput("dW", dw, shape.classes(), shape.features());
        double lossValue = stepOnDevice(x, w, labels, beta, logits);
        backward(dx, dw);
        return lossValue;
    }

    @Override
    public boolean logitsOptional() {
        return true;
    }

    /**
     * The whole step (forward and backward) on the device, its gradients kept for {@link #backward}; on
     * the fallback, its forward (into {@code logits}, or a buffer of the pass's own when null).
     */
    private double stepOnDevice(float[] x, float[] w, int[] labels, double beta, float[] logits) {
        remember(x, w, labels, beta, false);
        DevicePlan plan = plan(false);
        if (plan != null) {
            double lossValue = Double.NaN;
            boolean ran = false;
            try {
                fallbackHasForward = false;
                lossValue = plan.step(loss, x, w, labels, beta, logits);
                ran = true;
            } catch (RuntimeException | Error e) {
                rethrowIfFatal(e);
                switchToFallback("step failed on the device: " + e);
            }
            if (ran) {
                if (!Double.isFinite(lossValue)) {
                    // the host's sum of the device's row losses: finite inputs, so a logit or the loss overflowed
                    throw HeadOverflowException.ofLoss(lossValue, x, w, shape.features());
                }
                return lossValue;
            }
        }
        fallbackHasForward = true;
        return fallback.forward(x, w, labels, beta, logits != null ? logits : fallbackLogits());
    }

    /** The logits buffer the fallback writes when the caller asked for none. */
    private float[] fallbackLogits() {
        if (fallbackLogits == null) {
            fallbackLogits = new float[shape.logitsSize()];
        }
        return fallbackLogits;
    }

    @Override
    public void backward(float[] dx, float[] dw) {
        if (lastX == null) {
            throw new IllegalStateException("backward called before forward");
        }
        requireStage(false);
        HeadChecks.checkOutput("dX", dx, shape.batch(), shape.features());
        HeadChecks.checkOutput("dW", dw, shape.classes(), shape.features());
        if (fallback == null) {
            // the step's execution computed them with the forward
            singlePlan.gradients(dx, dw);
            return;
        }
        replayForwardOnFallback();
        fallback.backward(dx, dw);
    }

    @Override
    public void forwardShard(float[] x, float[] w, int[] localLabels, double beta, float[] logits, ShardRows rows) {
        HeadChecks.checkShardInputs(shape, x, w, localLabels, beta);
        HeadChecks.checkOutput("logits", logits, shape.batch(), shape.classes());
        ShardRows.check(rows, shape);
        remember(x, w, localLabels, beta, true);
        DevicePlan plan = plan(true);
        if (plan != null) {
            try {
                fallbackHasForward = false;
                plan.forwardShard(loss, x, w, localLabels, beta, logits, rows);
                return;
            } catch (RuntimeException | Error e) {
                rethrowIfFatal(e);
                switchToFallback("shard forward failed on the device: " + e);
            }
        }
        fallbackHasForward = true;
        fallback.forwardShard(x, w, localLabels, beta, logits, rows);
    }

    @Override
    public void backwardShard(double[] logSumExp, float[] dx, float[] dw) {
        if (lastX == null) {
            throw new IllegalStateException("backward called before forward");
        }
        requireStage(true);
        HeadChecks.checkLogSumExp(logSumExp, shape);
        HeadChecks.checkOutput("dX", dx, shape.batch(), shape.features());
        HeadChecks.checkOutput("dW", dw, shape.classes(), shape.features());
        if (fallback == null) {
            try {
                shardPlan.backwardShard(logSumExp, dx, dw);
                return;
            } catch (RuntimeException | Error e) {
                rethrowIfFatal(e);
                switchToFallback("shard backward failed on the device: " + e);
            }
        }
        replayForwardOnFallback();
        fallback.backwardShard(logSumExp, dx, dw);
    }

    @Override
    public void predict(int[] predictions) {
        if (lastX == null) {
            throw new IllegalStateException("predict called before forward");
        }
        HeadChecks.checkLength("predictions", predictions == null ? -1 : predictions.length, shape.batch(), 1);
        if (fallback == null) {
            (lastWasShard ? shardPlan : singlePlan).predict(lastLabels, predictions);
            return;
        }
        replayForwardOnFallback();
        fallback.predict(predictions);
    }

    private void remember(float[] x, float[] w, int[] labels, double beta, boolean shard) {
        lastX = x;
        lastW = w;
        lastLabels = labels;
        lastBeta = beta;
        lastWasShard = shard;
    }

    private void requireStage(boolean shard) {
        if (lastWasShard != shard) {
            throw new IllegalStateException(shard ? "backwardShard needs a forwardShard before it" : "backward needs a forward before it");
        }
    }

    /** The fallback took over after the device ran forward: it computes that forward itself first. */
    private void replayForwardOnFallback() {
        if (!fallbackHasForward) {
            float[] logits = new float[shape.logitsSize()];
            if (lastWasShard) {
                fallback.forwardShard(lastX, lastW, lastLabels, lastBeta, logits, new ShardRows(shape.batch()));
            } else {
                fallback.forward(lastX, lastW, lastLabels, lastBeta, logits);
            }
            fallbackHasForward = true;
        }
    }

    private void switchToFallback(String reason) {
        fallbackReason = reason;
        closePlans(false); // a failed plan does not go back to the pool
        fallback = fallbackSource.replace(deviceLabel, reason);
        fallback.setLoss(loss);
        fallbackHasForward = false;
    }

    private void closePlans(boolean healthy) {
        for (DevicePlan plan : new DevicePlan[] {singlePlan, shardPlan}) {
            if (plan != null) {
                graphExecutions += plan.graphExecutions();
                if (healthy) {
                    planSource.giveBack(plan);
                } else {
                    plan.close();
                }
            }
        }
        singlePlan = null;
        shardPlan = null;
    }

    /** Out of memory and the like are not a device problem: they propagate. */
    private static void rethrowIfFatal(Throwable e) {
        if (e instanceof VirtualMachineError error) {
            throw error;
        }
    }

    @Override
    public boolean runsOnDevice() {
        return fallback == null;
    }

    @Override
    public String fallbackReason() {
        return fallbackReason;
    }

    @Override
    public long lastDeviceKernelNanos() {
        DevicePlan plan = lastWasShard ? shardPlan : singlePlan;
        return fallback == null && plan != null ? plan.lastKernelNanos() : 0;
    }

    @Override
    public long graphExecutions() {
        return graphExecutions + (singlePlan != null ? singlePlan.graphExecutions() : 0) + (shardPlan != null ? shardPlan.graphExecutions() : 0);
    }

    @Override
    public long compileNanos() {
        if (fallback != null) {
            return 0;
        }
        return (singlePlan != null ? singlePlan.compileNanos() : 0) + (shardPlan != null ? shardPlan.compileNanos() : 0);
    }

    @Override
    public void close() {
        closePlans(true);
        if (fallback != null) {
            fallback.close();
        }
    }
}
