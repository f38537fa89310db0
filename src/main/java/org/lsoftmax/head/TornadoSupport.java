package org.lsoftmax.head;

import java.util.List;

/**
 * Finds the TornadoVM side of the project, once per JVM, through one reflective entry point: the class
 * {@value #BACKEND} (compiled from {@code src/main/tornado} by the {@code tornado} Maven profile), and
 * checks that the TornadoVM runtime is present in this JVM ({@code java @$TORNADOVM_HOME/tornado-argfile
 * ...}, the {@code tornado} launcher or {@code bin/lsoftmax}). Nothing here decides a fallback:
 * {@code head.select.PassFactory} does.
 */
public final class TornadoSupport {

    /** The implementation of {@link TornadoBackend} in src/main/tornado. */
    static final String BACKEND = "org.lsoftmax.head.tornado.TornadoBackendImpl";
    /** The implementation of {@link TornadoDiagnostics} in src/main/tornado. */
    static final String DIAGNOSTICS = "org.lsoftmax.head.tornado.TornadoDiagnosticsImpl";

    private TornadoSupport() {
    }

    /** Loaded once per JVM: the backend, or why there is none. */
    private static final class Holder {
        static final TornadoBackend BACKEND_INSTANCE;
        static final String PROBLEM;

        static {
            TornadoBackend backend = null;
            String problem;
            try {
                backend = (TornadoBackend) Class.forName(BACKEND).getDeclaredConstructor().newInstance();
                problem = backend.runtimeProblem();
            } catch (ClassNotFoundException e) {
                problem = "this build has no TornadoVM pass (built without -Ptornado: run ci/test.sh or bin/lsoftmax with a TornadoVM SDK)";
            } catch (LinkageError e) {
                problem = "no TornadoVM runtime in this JVM (start it with java @$TORNADOVM_HOME/tornado-argfile, the tornado launcher or bin/lsoftmax): "
                        + e;
            } catch (ReflectiveOperationException | RuntimeException e) {
                problem = "the TornadoVM runtime failed to start: " + e;
            }
            PROBLEM = problem;
            BACKEND_INSTANCE = problem == null ? backend : null;
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
     * The backend.
     *
     * @throws IllegalStateException with {@link #unavailableReason()} when there is no TornadoVM runtime
     */
    public static TornadoBackend backend() {
        if (!isAvailable()) {
            throw new IllegalStateException(Holder.PROBLEM);
        }
        return Holder.BACKEND_INSTANCE;
    }

    /**
     * The devices TornadoVM sees.
     *
     * @throws IllegalStateException with {@link #unavailableReason()} when there is no TornadoVM runtime
     */
    public static List<TornadoDeviceInfo> listDevices() {
        return backend().listDevices();
    }

    /**
     * The test and benchmark hooks of the TornadoVM side.
     *
     * @throws IllegalStateException with {@link #unavailableReason()} when there is no TornadoVM runtime
     */
    public static TornadoDiagnostics diagnostics() {
        backend();
        try {
            return (TornadoDiagnostics) Class.forName(DIAGNOSTICS).getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("the TornadoVM side has no diagnostics (" + e + ")", e);
        }
    }

    /**
     * {@code BACKEND:DEVICE} as two indices >= 0.
     *
     * @throws org.lsoftmax.InvalidInputException when it is not of that form
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
        throw new org.lsoftmax.InvalidInputException("--device must be BACKEND:DEVICE with two indices >= 0 (e.g. 0:0, see `lsoftmax devices`), got '"
                + device + "'");
    }
}
