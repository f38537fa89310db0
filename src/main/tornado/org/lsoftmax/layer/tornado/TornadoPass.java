package org.lsoftmax.layer.tornado;

import org.lsoftmax.layer.LSoftmaxPass;
import org.lsoftmax.layer.LayerChecks;
import org.lsoftmax.layer.LayerShape;
import org.lsoftmax.layer.PassOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tornado pass: runs the layer on a TornadoVM device ({@link TornadoLayer}) and, when the device
 * cannot (missing device, a kernel that does not compile, a bailout or an error on execution), switches
 * once and for good to the {@value TornadoSupport#FALLBACK_PASS} pass, logging the device and the
 * reason once. Results keep their meaning either way; {@link #deviceDescription()} says where it ran.
 */
final class TornadoPass implements LSoftmaxPass, TornadoRunInfo {

    private static final Logger LOG = LoggerFactory.getLogger(TornadoPass.class);

    private final LayerShape shape;
    private final int margin;
    private final PassOptions options;
    private final String deviceLabel;
    private final PoolKey poolKey;
    private TornadoLayer layer;
    private LSoftmaxPass fallback;
    private String fallbackReason;
    private boolean fallbackHasForward;

    // the most recent forward's inputs, to replay it on the fallback when backward fails on the device
    private float[] lastX;
    private float[] lastW;
    private int[] lastLabels;
    private double lastBeta;

    /** How a healthy layer goes back to the {@link LayerPool} on close (null: it is closed). */
    record PoolKey(String device, GridSizes.MatmulVariant variant, TornadoOptions options) {
    }

    /** A pass on the device; {@code layer} null with a reason means: fall back from the start. */
    TornadoPass(LayerShape shape, int margin, PassOptions options, String deviceLabel, TornadoLayer layer, String reason,
            PoolKey poolKey) {
        this.shape = shape;
        this.margin = LayerChecks.checkMargin(margin);
        this.options = options;
        this.deviceLabel = deviceLabel;
        this.layer = layer;
        this.poolKey = poolKey;
        if (layer == null) {
            switchToFallback(reason);
        }
    }

    @Override
    public String name() {
        return "tornado";
    }

    @Override
    public String deviceDescription() {
        return layer != null ? "tornado " + deviceLabel
                : fallback.name() + " (fallback: " + fallbackReason + ")";
    }

    @Override
    public LayerShape shape() {
        return shape;
    }

    @Override
    public int margin() {
        return margin;
    }

    @Override
    public double forward(float[] x, float[] w, int[] labels, double beta, float[] logits) {
        LayerChecks.checkForwardInputs(shape, x, w, labels, beta);
        LayerChecks.checkOutput("logits", logits, shape.batch(), shape.classes());
        lastX = x;
        lastW = w;
        lastLabels = labels;
        lastBeta = beta;
        if (layer != null) {
            try {
                fallbackHasForward = false;
                return layer.forward(margin, x, w, labels, beta, logits);
            } catch (RuntimeException | Error e) {
                rethrowIfFatal(e);
                switchToFallback("forward failed on the device: " + e);
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
        LayerChecks.checkOutput("dX", dx, shape.batch(), shape.features());
        LayerChecks.checkOutput("dW", dw, shape.classes(), shape.features());
        if (layer != null) {
            try {
                layer.backward(dx, dw);
                return;
            } catch (RuntimeException | Error e) {
                rethrowIfFatal(e);
                switchToFallback("backward failed on the device: " + e);
            }
        }
        if (!fallbackHasForward) {
            fallback.forward(lastX, lastW, lastLabels, lastBeta, new float[shape.logitsSize()]);
            fallbackHasForward = true;
        }
        fallback.backward(dx, dw);
    }

    @Override
    public void plainLogits(float[] x, float[] w, float[] logits) {
        LayerChecks.checkLength("X", x == null ? -1 : x.length, shape.batch(), shape.features());
        LayerChecks.checkLength("W", w == null ? -1 : w.length, shape.classes(), shape.features());
        LayerChecks.checkOutput("logits", logits, shape.batch(), shape.classes());
        if (layer != null) {
            try {
                layer.plainLogits(x, w, logits);
                return;
            } catch (RuntimeException | Error e) {
                rethrowIfFatal(e);
                switchToFallback("plain logits failed on the device: " + e);
            }
        }
        fallback.plainLogits(x, w, logits);
    }

    private void switchToFallback(String reason) {
        fallbackReason = reason;
        TornadoSupport.countFallbackWarning();
        LOG.warn("tornado pass on device {}: {}; running the {} pass instead", deviceLabel, reason, TornadoSupport.FALLBACK_PASS);
        if (layer != null) {
            try {
                layer.close();
            } catch (RuntimeException | Error e) {
                rethrowIfFatal(e);
                LOG.debug("closing the failed device layer", e);
            }
            layer = null;
        }
        fallback = TornadoSupport.createFallbackPass(shape, margin, options);
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
        return layer != null;
    }

    @Override
    public String fallbackReason() {
        return fallbackReason;
    }

    @Override
    public long lastDeviceKernelNanos() {
        return layer != null ? layer.lastKernelNanos() : 0;
    }

    @Override
    public long compileNanos() {
        return layer != null ? layer.compileNanos() : 0;
    }

    @Override
    public void close() {
        if (layer != null) {
            if (poolKey != null) {
                LayerPool.give(shape, poolKey.device(), poolKey.variant(), poolKey.options(), layer);
            } else {
                layer.close();
            }
            layer = null;
        }
        if (fallback != null) {
            fallback.close();
        }
    }
}
