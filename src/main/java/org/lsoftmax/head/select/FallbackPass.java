package org.lsoftmax.head.select;

import org.lsoftmax.head.HeadPass;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.MarginLoss;
import org.lsoftmax.head.ShardRows;
import org.lsoftmax.head.TornadoRunInfo;

/**
 * The tornado pass when TornadoVM cannot take it from the start (no runtime, no such device, not enough
 * device memory): the {@value PassFactory#FALLBACK_PASS} pass under the tornado pass's name, saying why
 * in {@link #deviceDescription()} and {@link #fallbackReason()}.
 */
final class FallbackPass implements HeadPass, TornadoRunInfo {

    private final HeadPass delegate;
    private final String reason;

    FallbackPass(HeadPass delegate, String reason) {
        this.delegate = delegate;
        this.reason = reason;
    }

    @Override
    public String name() {
        return "tornado";
    }

    @Override
    public String deviceDescription() {
        return delegate.name() + " (fallback: " + reason + ")";
    }

    @Override
    public HeadShape shape() {
        return delegate.shape();
    }

    @Override
    public MarginLoss loss() {
        return delegate.loss();
    }

    @Override
    public void setLoss(MarginLoss loss) {
        delegate.setLoss(loss);
    }

    @Override
    public double forward(float[] x, float[] w, int[] labels, double beta, float[] logits) {
        return delegate.forward(x, w, labels, beta, logits);
    }

    @Override
    public void backward(float[] dx, float[] dw) {
        delegate.backward(dx, dw);
    }

    @Override
    public void forwardShard(float[] x, float[] w, int[] localLabels, double beta, float[] logits, ShardRows rows) {
        delegate.forwardShard(x, w, localLabels, beta, logits, rows);
    }

    @Override
    public void backwardShard(double[] logSumExp, float[] dx, float[] dw) {
        delegate.backwardShard(logSumExp, dx, dw);
    }

    @Override
    public void predict(int[] predictions) {
        delegate.predict(predictions);
    }

    @Override
    public boolean runsOnDevice() {
        return false;
    }

    @Override
    public String fallbackReason() {
        return reason;
    }

    @Override
    public long lastDeviceKernelNanos() {
        return 0;
    }

    @Override
    public long graphExecutions() {
        return 0;
    }

    @Override
    public long compileNanos() {
        return 0;
    }

    @Override
    public void close() {
        delegate.close();
    }
}
