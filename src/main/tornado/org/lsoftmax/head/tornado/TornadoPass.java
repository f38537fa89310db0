package org.lsoftmax.head.tornado;

import org.lsoftmax.head.DeviceFallback;
import org.lsoftmax.head.HeadChecks;
import org.lsoftmax.head.HeadOverflowException;
import org.lsoftmax.head.HeadPass;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.MarginLoss;
import org.lsoftmax.head.TornadoRunInfo;

/**
 * The tornado pass: runs the head on a TornadoVM device ({@link DevicePlan}) and, when the device fails
 * (a kernel that does not compile, a bailout or an error on execution), switches once and for good to
 * the pass its {@link DeviceFallback} hands it (the jvm pass; {@code PassFactory} logs why). Results keep
 * their meaning either way; {@link #deviceDescription()} says where it ran.
 */
final class TornadoPass implements HeadPass, TornadoRunInfo {

    private final HeadShape shape;
    private MarginLoss loss;
    private final String deviceLabel;
    private final PoolKey poolKey;
    private final DeviceFallback fallbackSource;
    private DevicePlan plan;
    private HeadPass fallback;
    private String fallbackReason;
    private boolean fallbackHasForward;

    // the most recent forward's inputs, to replay it on the fallback when backward fails on the device
    private float[] lastX;
    private float[] lastW;
    private int[] lastLabels;
    private double lastBeta;

    /** How a healthy plan goes back to the {@link DevicePlanPool} on close. */
    record PoolKey(String device, GridSizes.MatmulVariant variant, TornadoOptions options) {
    }

    TornadoPass(HeadShape shape, MarginLoss loss, String deviceLabel, DevicePlan plan, PoolKey poolKey, DeviceFallback fallbackSource) {
        this.shape = shape;
        this.loss = loss;
        this.deviceLabel = deviceLabel;
        this.plan = plan;
        this.poolKey = poolKey;
        this.fallbackSource = fallbackSource;
    }

    @Override
    public String name() {
        return "tornado";
    }

    @Override
    public String deviceDescription() {
        return plan != null ? "tornado " + deviceLabel : fallback.name() + " (fallback: " + fallbackReason + ")";
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

    @Override
    public double forward(float[] x, float[] w, int[] labels, double beta, float[] logits) {
        HeadChecks.checkForwardInputs(shape, x, w, labels, beta);
        HeadChecks.checkOutput("logits", logits, shape.batch(), shape.classes());
        lastX = x;
        lastW = w;
        lastLabels = labels;
        lastBeta = beta;
        if (plan != null) {
            double lossValue = Double.NaN;
            boolean ran = false;
            try {
                fallbackHasForward = false;
                lossValue = plan.forward(loss, x, w, labels, beta, logits);
                ran = true;
            } catch (RuntimeException | Error e) {
                rethrowIfFatal(e);
                switchToFallback("forward failed on the device: " + e);
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
        return fallback.forward(x, w, labels, beta, logits);
    }

    @Override
    public void backward(float[] dx, float[] dw) {
        if (lastX == null) {
            throw new IllegalStateException("backward called before forward");
        }
        HeadChecks.checkOutput("dX", dx, shape.batch(), shape.features());
        HeadChecks.checkOutput("dW", dw, shape.classes(), shape.features());
        if (plan != null) {
            try {
                plan.backward(dx, dw);
                return;
            } catch (RuntimeException | Error e) {
                rethrowIfFatal(e);
                switchToFallback("backward failed on the device: " + e);
            }
        }
        replayForwardOnFallback();
        fallback.backward(dx, dw);
    }

    @Override
    public void predict(int[] predictions) {
        if (lastX == null) {
            throw new IllegalStateException("predict called before forward");
        }
        HeadChecks.checkLength("predictions", predictions == null ? -1 : predictions.length, shape.batch(), 1);
        if (plan != null) {
            plan.predict(lastLabels, predictions);
            return;
        }
        replayForwardOnFallback();
        fallback.predict(predictions);
    }

    /** The fallback took over after the device ran forward: it computes that forward itself first. */
    private void replayForwardOnFallback() {
        if (!fallbackHasForward) {
            fallback.forward(lastX, lastW, lastLabels, lastBeta, new float[shape.logitsSize()]);
            fallbackHasForward = true;
        }
    }

    private void switchToFallback(String reason) {
        fallbackReason = reason;
        if (plan != null) {
            plan.close(); // a failed plan does not go back to the pool
            plan = null;
        }
        fallback = fallbackSource.replace(deviceLabel, reason);
        fallbackHasForward = false;
    }

    /** Out of memory and the like are not a device problem: they propagate. */
    private static void rethrowIfFatal(Throwable e) {
        if (e instanceof VirtualMachineError error) {
            throw error;
        }
    }

    @Override
    public boolean runsOnDevice() {
        return plan != null;
    }

    @Override
    public String fallbackReason() {
        return fallbackReason;
    }

    @Override
    public long lastDeviceKernelNanos() {
        return plan != null ? plan.lastKernelNanos() : 0;
    }

    @Override
    public long compileNanos() {
        return plan != null ? plan.compileNanos() : 0;
    }

    @Override
    public void close() {
        if (plan != null) {
            DevicePlanPool.give(shape, poolKey.device(), poolKey.variant(), poolKey.options(), plan);
            plan = null;
        }
        if (fallback != null) {
            fallback.close();
        }
    }
}
