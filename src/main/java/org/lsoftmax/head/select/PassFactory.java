package org.lsoftmax.head.select;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.MemoryBudget;
import org.lsoftmax.head.DeviceFallback;
import org.lsoftmax.head.DeviceUnavailableException;
import org.lsoftmax.head.HeadPass;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.MarginLoss;
import org.lsoftmax.head.PassOptions;
import org.lsoftmax.head.TornadoDeviceInfo;
import org.lsoftmax.head.TornadoSupport;
import org.lsoftmax.head.jvm.JvmPass;
import org.lsoftmax.head.reference.ReferencePass;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates a pass by its command-line name, and is the one place that decides a fallback: the tornado
 * pass runs the {@value #FALLBACK_PASS} pass instead when there is no TornadoVM runtime (one warning per
 * JVM), when its device cannot take the head (one warning), or when the device fails in the middle of a
 * run (one warning; the device pass asks the {@link DeviceFallback} it was handed here).
 */
public final class PassFactory {

    private static final Logger LOG = LoggerFactory.getLogger(PassFactory.class);

    /** Names accepted by {@link #create}. */
    public static final List<String> PASS_NAMES = List.of("reference", "jvm", "tornado");

    /** The name that stands for the fastest pass available here ({@link #resolve}). */
    public static final String AUTO = "auto";

    /** The pass that runs when TornadoVM cannot. */
    public static final String FALLBACK_PASS = "jvm";

    private static final AtomicBoolean WARNED_NO_RUNTIME = new AtomicBoolean();
    private static final AtomicLong FALLBACK_WARNINGS = new AtomicLong();

    private PassFactory() {
    }

    /** A pass name and why it was chosen. */
    public record Choice(String pass, String reason) {
    }

    /**
     * What {@code passName} means here: itself, or for {@value #AUTO} the fastest pass available: tornado
     * when TornadoVM sees a device that is not a CPU (a GPU or an accelerator), else jvm (on a CPU the jvm
     * pass is faster than TornadoVM's OpenCL CPU device, benchmarks/RESULTS.md).
     */
    public static Choice resolve(String passName) {
        if (!passName.equals(AUTO)) {
            checkName(passName);
            return new Choice(passName, "asked for");
        }
        if (!TornadoSupport.isAvailable()) {
            return new Choice("jvm", "no TornadoVM runtime: " + TornadoSupport.unavailableReason());
        }
        for (TornadoDeviceInfo device : TornadoSupport.listDevices()) {
            if (!device.type().toUpperCase(Locale.ROOT).contains("CPU")) {
                return new Choice("tornado", "TornadoVM device " + device.id() + " " + device.name() + " is a "
                        + device.type());
            }
        }
        return new Choice("jvm", "TornadoVM sees CPU devices only, where the jvm pass is faster");
    }

    /** The L-Softmax head with integer margin m on the named pass. */
    public static HeadPass create(String passName, HeadShape shape, int margin, PassOptions options) {
        return create(passName, shape, MarginLoss.lsoftmax(margin), options);
    }

    /** A pass computing {@code loss} for heads of {@code shape}. */
    public static HeadPass create(String passName, HeadShape shape, MarginLoss loss, PassOptions options) {
        checkName(passName);
        MemoryBudget.requireHeap("the " + passName + " pass for the head " + shape, estimatedHeapBytes(passName, shape, loss));
        return switch (passName) {
            case "reference" -> new ReferencePass(shape, loss);
            case "jvm" -> new JvmPass(shape, loss, options.resolvedThreads());
            case "tornado" -> createTornado(shape, loss, options, false);
            default -> throw new IllegalStateException(passName);
        };
    }

    /**
     * A pass for the shard stages of the class-sharded head ({@link HeadPass#forwardShard},
     * {@link HeadPass#backwardShard}) on one shard's block of classes: as {@link #create}, and for the
     * tornado pass a device plan with the shard stages' task graphs.
     */
    public static HeadPass createShardPass(String passName, HeadShape shape, MarginLoss loss, PassOptions options) {
        if (!passName.equals("tornado")) {
            return create(passName, shape, loss, options);
        }
        MemoryBudget.requireHeap("the tornado pass for the head shard " + shape, estimatedHeapBytes(passName, shape, loss));
        return createTornado(shape, loss, options, true);
    }

    /**
     * Device bytes a tornado pass of this shape would allocate on {@code options.device()} (its single-pass
     * or shard stages), or 0 without a TornadoVM runtime (the pass then runs on the JVM's heap).
     */
    public static long estimatedDeviceBytes(HeadShape shape, PassOptions options, boolean shardStages) {
        if (!TornadoSupport.isAvailable()) {
            return 0;
        }
        return TornadoSupport.backend().deviceBytes(shape, options, shardStages);
    }

    /**
     * Heap bytes one step of a pass needs: its own buffers plus the caller's N x C logits and N x D,
     * C x D gradient arrays. The reference keeps float64 copies of everything; the jvm pass keeps
     * float32 logit gradients and packed copies of the matrix operands.
     */
    public static long estimatedHeapBytes(String passName, HeadShape shape) {
        long logits = (long) shape.batch() * shape.classes();
        long x = (long) shape.batch() * shape.features();
        long w = (long) shape.classes() * shape.features();
        long callerBuffers = 4L * (logits + x + w);
        if (passName.equals("reference")) {
            return callerBuffers + 8L * (3 * logits + 3 * x + 3 * w); // probabilities, G, logits; x, w, dx, dw copies
        }
        return callerBuffers + 4L * (logits + x + w) + 8L * 8 * shape.batch(); // G, packed operands, per-sample scalars
    }

    /**
     * {@link #estimatedHeapBytes(String, HeadShape)} for {@code loss}: the jvm pass (and the tornado pass's
     * fallback) also keeps the normalised operands W' (C x D floats) and X' (N x D) of the losses that
     * normalise them (F1).
     */
    public static long estimatedHeapBytes(String passName, HeadShape shape, MarginLoss loss) {
        long bytes = estimatedHeapBytes(passName, shape);
        if (!passName.equals("reference")) {
            bytes += loss.kind().normalisesWeights() ? 4L * shape.classes() * shape.features() : 0;
            bytes += loss.kind().normalisesFeatures() ? 4L * shape.batch() * shape.features() : 0;
        }
        return bytes;
    }

    private static void checkName(String passName) {
        if (!PASS_NAMES.contains(passName)) {
            throw new InvalidInputException("unknown pass '" + passName + "', expected one of " + PASS_NAMES
                    + (passName.equals(AUTO) ? " (resolve '" + AUTO + "' first)" : ""));
        }
    }

    /** The tornado pass on {@code options.device()}, or the fallback pass with one warning saying why. */
    private static HeadPass createTornado(HeadShape shape, MarginLoss loss, PassOptions options, boolean shardStages) {
        String device = options.device() == null ? "(default)" : options.device();
        if (options.device() != null) {
            TornadoSupport.parseDevice(options.device()); // a malformed --device is bad input, runtime or not
        }
        if (!TornadoSupport.isAvailable()) {
            if (WARNED_NO_RUNTIME.compareAndSet(false, true)) {
                warnFallback(device, TornadoSupport.unavailableReason());
            }
            return new FallbackPass(createFallback(shape, loss, options), TornadoSupport.unavailableReason());
        }
        DeviceFallback fallback = (failedDevice, reason) -> {
            warnFallback(failedDevice, reason);
            return createFallback(shape, loss, options);
        };
        try {
            return shardStages ? TornadoSupport.backend().createShardPass(shape, loss, options, fallback)
                    : TornadoSupport.backend().createPass(shape, loss, options, fallback);
        } catch (DeviceUnavailableException e) {
            return new FallbackPass(fallback.replace(e.device(), e.getMessage()), e.getMessage());
        }
    }

    private static void warnFallback(String device, String reason) {
        FALLBACK_WARNINGS.incrementAndGet();
        LOG.warn("tornado pass on device {}: {}; running the {} pass instead", device, reason, FALLBACK_PASS);
    }

    private static HeadPass createFallback(HeadShape shape, MarginLoss loss, PassOptions options) {
        return create(FALLBACK_PASS, shape, loss, options);
    }

    /** Fallback warnings logged so far in this JVM: one per pass that fell back, the missing runtime once. */
    public static long fallbacks() {
        return FALLBACK_WARNINGS.get();
    }
}
