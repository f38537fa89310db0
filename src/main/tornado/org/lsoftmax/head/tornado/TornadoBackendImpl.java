package org.lsoftmax.head.tornado;

import java.util.ArrayList;
import java.util.List;
import org.lsoftmax.head.DeviceFallback;
import org.lsoftmax.head.DeviceUnavailableException;
import org.lsoftmax.head.HeadPass;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.MarginLoss;
import org.lsoftmax.head.PassOptions;
import org.lsoftmax.head.TornadoDeviceInfo;
import org.lsoftmax.head.TornadoSupport;
import org.lsoftmax.head.tornado.GridSizes.MatmulVariant;
import uk.ac.manchester.tornado.api.TornadoRuntime;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.TornadoDeviceType;
import uk.ac.manchester.tornado.api.runtime.TornadoRuntimeProvider;

/**
 * The TornadoVM side of the seam ({@link org.lsoftmax.head.TornadoBackend}, loaded by {@link org.lsoftmax.head.TornadoSupport}
 * by reflection): device lookup, device listing and creation of {@link TornadoPass}.
 */
public final class TornadoBackendImpl implements org.lsoftmax.head.TornadoBackend {

    /**
     * TornadoVM compiles Math.sqrt, cos and sin to OpenCL's {@code native_*} functions unless told
     * otherwise (accuracy left to the device: ~1e-7 relative on PoCL). The per-sample margin math is
     * double precision on purpose (near cos theta = 1 an additive angular margin's slope amplifies the
     * error of a norm ~1e7 times), so the full-precision built-ins are the default here; an explicit
     * {@code -Dtornado.enable.nativeFunctions=True} still wins. Set before the TornadoVM runtime reads its
     * options, which happens when this class first asks for it.
     */
    static final String NATIVE_FUNCTIONS = "tornado.enable.nativeFunctions";

    static {
        if (System.getProperty(NATIVE_FUNCTIONS) == null) {
            System.setProperty(NATIVE_FUNCTIONS, "False");
        }
    }

    @Override
    public String runtimeProblem() {
        TornadoRuntime runtime = TornadoRuntimeProvider.getTornadoRuntime();
        if (runtime == null) {
            return "the TornadoVM runtime did not load (is this JVM started with the SDK's tornado-argfile?)";
        }
        for (int b = 0; b < runtime.getNumBackends(); b++) {
            if (runtime.getBackend(b).getNumDevices() > 0) {
                return null;
            }
        }
        return "TornadoVM sees no device (no OpenCL/PTX/SPIR-V driver with a device on this machine)";
    }

    @Override
    public HeadPass createPass(HeadShape shape, MarginLoss loss, PassOptions options, DeviceFallback fallback) {
        return create(shape, loss, options, fallback, false);
    }

    /** A pass whose first plan has the shard stages' graphs (the single-pass plan is opened only if ever asked for). */
    @Override
    public HeadPass createShardPass(HeadShape shape, MarginLoss loss, PassOptions options, DeviceFallback fallback) {
        return create(shape, loss, options, fallback, true);
    }

    private HeadPass create(HeadShape shape, MarginLoss loss, PassOptions options, DeviceFallback fallback, boolean shardStages) {
        TornadoOptions tornadoOptions = TornadoOptions.fromSystemProperties();
        String requested = options.device();
        TornadoRuntime runtime = TornadoRuntimeProvider.getTornadoRuntime();
        int[] index = requested == null ? defaultDeviceIndex(runtime) : TornadoSupport.parseDevice(requested);
        String id = index[0] + ":" + index[1];
        if (index[0] >= runtime.getNumBackends() || index[1] >= runtime.getBackend(index[0]).getNumDevices()) {
            throw new DeviceUnavailableException(id, "no TornadoVM device " + id + " (devices: " + deviceIds(runtime) + ")");
        }
        TornadoDevice device = runtime.getBackend(index[0]).getDevice(index[1]);
        MatmulVariant variant = switch (tornadoOptions.matmul()) {
            case "panels" -> MatmulVariant.PANELS;
            case "tiled" -> MatmulVariant.TILED;
            default -> device.getDeviceType() == TornadoDeviceType.CPU ? MatmulVariant.PANELS : MatmulVariant.TILED;
        };
        String label = id + " " + device.getPhysicalDevice().getDeviceName() + " (" + runtime.getBackendType(index[0]) + ", "
                + variant.name().toLowerCase(java.util.Locale.ROOT) + " products)";
        TornadoPass.PlanSource source = new TornadoPass.PlanSource() {
            @Override
            public DevicePlan open(boolean shard) {
                DevicePlan plan = DevicePlanPool.take(shape, id, variant, tornadoOptions, shard);
                if (plan == null) {
                    String tooLarge = memoryProblem(shape, variant, device, id, tornadoOptions, shard);
                    if (tooLarge != null) {
                        throw new DeviceUnavailableException(label, tooLarge);
                    }
                    try {
                        plan = new DevicePlan(shape, device, variant, tornadoOptions, shard);
                    } catch (RuntimeException | LinkageError e) {
                        throw new DeviceUnavailableException(label, "setting up the task graphs failed: " + e);
                    }
                }
                plan.arm(tornadoOptions.fault());
                return plan;
            }

            @Override
            public void giveBack(DevicePlan plan) {
                DevicePlanPool.give(shape, id, variant, tornadoOptions, plan);
            }
        };
        return new TornadoPass(shape, loss, label, source.open(shardStages), source, fallback);
    }

    /** Device bytes a head of this shape needs on this backend's device for the given stages, before anything is allocated. */
    @Override
    public long deviceBytes(HeadShape shape, PassOptions options, boolean shardStages) {
        TornadoOptions tornadoOptions = TornadoOptions.fromSystemProperties();
        TornadoRuntime runtime = TornadoRuntimeProvider.getTornadoRuntime();
        int[] index = options.device() == null ? defaultDeviceIndex(runtime) : TornadoSupport.parseDevice(options.device());
        MatmulVariant variant = MatmulVariant.PANELS;
        if (index[0] < runtime.getNumBackends() && index[1] < runtime.getBackend(index[0]).getNumDevices()) {
            TornadoDevice device = runtime.getBackend(index[0]).getDevice(index[1]);
            variant = switch (tornadoOptions.matmul()) {
                case "panels" -> MatmulVariant.PANELS;
                case "tiled" -> MatmulVariant.TILED;
                default -> device.getDeviceType() == TornadoDeviceType.CPU ? MatmulVariant.PANELS : MatmulVariant.TILED;
            };
        }
        return DevicePlan.deviceBytes(shape, variant, shardStages);
    }

    /** Why a head of this shape cannot have its buffers on the device (before allocating anything), or null. */
    private static String memoryProblem(HeadShape shape, MatmulVariant variant, TornadoDevice device, String id, TornadoOptions options,
            boolean shardStages) {
        long[] needed = DevicePlan.deviceBytesAndLargest(shape, variant, shardStages);
        long global = device.getMaxGlobalMemory();
        long limit = Math.min(global > 0 ? global : Long.MAX_VALUE, options.deviceMemoryLimit());
        if (needed[0] > limit) {
            return String.format(java.util.Locale.ROOT,
                    "head %s needs %.1f MiB (%d bytes) of device memory, device %s has %.1f MiB (%d bytes) of global memory%s",
                    shape, needed[0] / MIB, needed[0], id, global / MIB, global,
                    limit < global ? " and -Dlsoftmax.tornado.deviceMemoryLimit=" + limit : "");
        }
        long maxAlloc = device.getMaxAllocMemory();
        if (maxAlloc > 0 && needed[1] > maxAlloc) {
            return String.format(java.util.Locale.ROOT,
                    "head %s needs a device buffer of %.1f MiB (%d bytes), device %s allocates at most %.1f MiB (%d bytes) at once",
                    shape, needed[1] / MIB, needed[1], id, maxAlloc / MIB, maxAlloc);
        }
        return null;
    }

    private static final double MIB = 1024.0 * 1024.0;

    @Override
    public List<TornadoDeviceInfo> listDevices() {
        TornadoRuntime runtime = TornadoRuntimeProvider.getTornadoRuntime();
        int[] defaultIndex = defaultDeviceIndex(runtime);
        List<TornadoDeviceInfo> devices = new ArrayList<>();
        for (int b = 0; b < runtime.getNumBackends(); b++) {
            uk.ac.manchester.tornado.api.TornadoBackend backend = runtime.getBackend(b);
            for (int d = 0; d < backend.getNumDevices(); d++) {
                TornadoDevice device = backend.getDevice(d);
                devices.add(new TornadoDeviceInfo(b + ":" + d, String.valueOf(runtime.getBackendType(b)),
                        device.getPhysicalDevice().getDeviceName(), String.valueOf(device.getDeviceType()),
                        device.getPhysicalDevice().getDeviceGlobalMemorySize(), b == defaultIndex[0] && d == defaultIndex[1]));
            }
        }
        return devices;
    }

    /** Indices of TornadoVM's default device (backend 0's default device unless it is found elsewhere). */
    private static int[] defaultDeviceIndex(TornadoRuntime runtime) {
        TornadoDevice defaultDevice = runtime.getDefaultDevice();
        for (int b = 0; b < runtime.getNumBackends(); b++) {
            uk.ac.manchester.tornado.api.TornadoBackend backend = runtime.getBackend(b);
            for (int d = 0; d < backend.getNumDevices(); d++) {
                if (backend.getDevice(d) == defaultDevice) {
                    return new int[] {b, d};
                }
            }
        }
        return new int[] {0, 0};
    }

    private static String deviceIds(TornadoRuntime runtime) {
        List<String> ids = new ArrayList<>();
        for (int b = 0; b < runtime.getNumBackends(); b++) {
            for (int d = 0; d < runtime.getBackend(b).getNumDevices(); d++) {
                ids.add(b + ":" + d);
            }
        }
        return String.join(", ", ids);
    }
}
