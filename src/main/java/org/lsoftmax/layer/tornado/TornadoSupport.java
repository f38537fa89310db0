package org.lsoftmax.layer.tornado;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.lsoftmax.layer.InvalidInputException;
import org.lsoftmax.layer.LSoftmaxPass;
import org.lsoftmax.layer.LayerShape;
import org.lsoftmax.layer.PassFactory;
import org.lsoftmax.layer.PassOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The seam between the project and TornadoVM: loads {@value #IMPLEMENTATION} (compiled from
 * {@code src/main/tornado} by the {@code tornado} Maven profile) by reflection and checks that the
 * TornadoVM runtime is present in this JVM ({@code java @$TORNADOVM_HOME/tornado-argfile ...} or the
 * {@code tornado} launcher). Without either, {@link #createPass} logs one warning saying why and
 * returns the JVM pass, so {@code --pass tornado} always works.
 */
public final class TornadoSupport {

    private static final Logger LOG = LoggerFactory.getLogger(TornadoSupport.class);

    /** The implementation class in src/main/tornado. */
    static final String IMPLEMENTATION = "org.lsoftmax.layer.tornado.TornadoBackendImpl";

    /** The pass that runs when TornadoVM cannot. */
    public static final String FALLBACK_PASS = "jvm";

    private static final AtomicBoolean WARNED = new AtomicBoolean();
    private static final AtomicLong FALLBACK_WARNINGS = new AtomicLong();

    private TornadoSupport() {
    }

    /** Loaded once per JVM: the provider, or why there is none. */
    private static final class Holder {
        static final TornadoProvider PROVIDER;
        static final String PROBLEM;

        static {
            TornadoProvider provider = null;
            String problem;
            try {
                Class<?> type = Class.forName(IMPLEMENTATION);
                provider = (TornadoProvider) type.getDeclaredConstructor().newInstance();
                problem = provider.runtimeProblem();
            } catch (ClassNotFoundException e) {
                problem = "this build has no TornadoVM pass (built without -Ptornado: run ci/test.sh or bin/lsoftmax with a TornadoVM SDK)";
            } catch (LinkageError e) {
                problem = "no TornadoVM runtime in this JVM (start it with java @$TORNADOVM_HOME/tornado-argfile, the tornado launcher or bin/lsoftmax): "
                        + e;
            } catch (ReflectiveOperationException | RuntimeException e) {
                problem = "the TornadoVM runtime failed to start: " + e;
            }
            PROBLEM = problem;
            PROVIDER = problem == null ? provider : null;
        }
    }

    /** Whether the TornadoVM pass can run in this JVM. */
    public static boolean isAvailable() {
        return Holder.PROBLEM == null;
    }

    /** Why the TornadoVM pass cannot run here, or null when it can. */
    public static String unavailableReason() {
        return Holder.PROBLEM;
    }

    /**
     * The tornado pass on {@code options.device()}; without a TornadoVM runtime, the {@value #FALLBACK_PASS}
     * pass (one warning per JVM says why).
     */
    public static LSoftmaxPass createPass(LayerShape shape, int margin, PassOptions options) {
        if (options.device() != null) {
            parseDevice(options.device()); // a malformed --device is bad input, runtime or not
        }
        if (!isAvailable()) {
            if (WARNED.compareAndSet(false, true)) {
                countFallbackWarning();
                LOG.warn("tornado pass: {}; device {} not used, running the {} pass instead", Holder.PROBLEM,
                        options.device() == null ? "(default)" : options.device(), FALLBACK_PASS);
            }
            return createFallbackPass(shape, margin, options);
        }
        return Holder.PROVIDER.createPass(shape, margin, options);
    }

    /**
     * {@code BACKEND:DEVICE} as two indices >= 0.
     *
     * @throws InvalidInputException when it is not of that form
     */
    public static int[] parseDevice(String device) {
        String[] parts = device.trim().split(":");
        if (parts.length == 2) {
            try {
                int backend = Integer.parseInt(parts[0].trim());
                int index = Integer.parseInt(parts[1].trim());
                if (backend >= 0 && index >= 0) {
                    return new int[] {backend, index};
                }
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        throw new InvalidInputException("--device must be BACKEND:DEVICE with two indices >= 0 (e.g. 0:0, see `lsoftmax devices`), got '"
                + device + "'");
    }

    /** The pass the tornado pass falls back to. */
    public static LSoftmaxPass createFallbackPass(LayerShape shape, int margin, PassOptions options) {
        return PassFactory.create(FALLBACK_PASS, shape, margin, options);
    }

    /**
     * The devices TornadoVM sees.
     *
     * @throws IllegalStateException with {@link #unavailableReason()} when there is no TornadoVM runtime
     */
    public static List<TornadoDeviceInfo> listDevices() {
        if (!isAvailable()) {
            throw new IllegalStateException(Holder.PROBLEM);
        }
        return Holder.PROVIDER.listDevices();
    }

    /**
     * Device layers and device bytes the tornado pass holds now (layers in use and idle ones kept for
     * reuse); {@link TornadoResources#NONE} without a TornadoVM runtime.
     */
    public static TornadoResources resources() {
        return isAvailable() ? Holder.PROVIDER.resources() : TornadoResources.NONE;
    }

    /**
     * Closes the device layers that closed passes left for reuse, freeing their device memory (passes
     * still open keep theirs). Call when done with TornadoVM for a while; a later pass builds anew.
     */
    public static void releaseIdleLayers() {
        if (isAvailable()) {
            Holder.PROVIDER.releaseIdleLayers();
        }
    }

    /** Warnings "running the jvm pass instead" logged so far in this JVM (one per pass that fell back). */
    public static long fallbackWarnings() {
        return FALLBACK_WARNINGS.get();
    }

    /** Counts one such warning; called where it is logged. */
    static void countFallbackWarning() {
        FALLBACK_WARNINGS.incrementAndGet();
    }

    /**
     * The three matrix products of a tornado step at {@code shape} alone, with the pass's kernel but
     * every operand packed once and resident on TornadoVM's default device: the ceiling a step is
     * measured against.
     *
     * @throws IllegalStateException with {@link #unavailableReason()} when there is no TornadoVM runtime
     */
    public static TornadoProducts productCeiling(LayerShape shape) {
        if (!isAvailable()) {
            throw new IllegalStateException(Holder.PROBLEM);
        }
        return Holder.PROVIDER.productCeiling(shape);
    }
}
