package org.lsoftmax.layer.tornado;

import java.util.ArrayList;
import java.util.List;
import org.lsoftmax.layer.LSoftmaxPass;
import org.lsoftmax.layer.LayerShape;
import org.lsoftmax.layer.PassOptions;
import org.lsoftmax.layer.tornado.GridSizes.MatmulVariant;
import uk.ac.manchester.tornado.api.TornadoBackend;
import uk.ac.manchester.tornado.api.TornadoRuntime;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.TornadoDeviceType;
import uk.ac.manchester.tornado.api.runtime.TornadoRuntimeProvider;

/**
 * The TornadoVM implementation behind {@link TornadoSupport} (loaded by reflection): device lookup,
 * device listing and creation of {@link TornadoPass}.
 */
public final class TornadoBackendImpl implements TornadoProvider {

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
    public LSoftmaxPass createPass(LayerShape shape, int margin, PassOptions options) {
        TornadoOptions tornadoOptions = TornadoOptions.fromSystemProperties();
        String requested = options.device();
        TornadoRuntime runtime = TornadoRuntimeProvider.getTornadoRuntime();
        int[] index = requested == null ? defaultDeviceIndex(runtime) : TornadoSupport.parseDevice(requested);
        String id = index[0] + ":" + index[1];
        if (index[0] >= runtime.getNumBackends() || index[1] >= runtime.getBackend(index[0]).getNumDevices()) {
            return new TornadoPass(shape, margin, options, id, null,
                    "no TornadoVM device " + id + " (devices: " + deviceIds(runtime) + ")", null);
        }
        TornadoDevice device = runtime.getBackend(index[0]).getDevice(index[1]);
        MatmulVariant variant = switch (tornadoOptions.matmul()) {
            case "panels" -> MatmulVariant.PANELS;
            case "tiled" -> MatmulVariant.TILED;
            default -> device.getDeviceType() == TornadoDeviceType.CPU ? MatmulVariant.PANELS : MatmulVariant.TILED;
        };
        String label = id + " " + device.getPhysicalDevice().getDeviceName() + " (" + runtime.getBackendType(index[0]) + ", "
                + variant.name().toLowerCase(java.util.Locale.ROOT) + " products)";
        TornadoPass.PoolKey poolKey = new TornadoPass.PoolKey(id, variant, tornadoOptions);
        TornadoLayer layer = LayerPool.take(shape, id, variant, tornadoOptions);
        if (layer == null) {
            String tooLarge = memoryProblem(shape, variant, device, id, tornadoOptions);
            if (tooLarge != null) {
                return new TornadoPass(shape, margin, options, label, null, tooLarge, null);
            }
            try {
                layer = new TornadoLayer(shape, device, variant, tornadoOptions);
            } catch (RuntimeException | LinkageError e) {
                return new TornadoPass(shape, margin, options, label, null, "setting up the task graphs failed: " + e, null);
            }
        }
        layer.arm(tornadoOptions.fault());
        return new TornadoPass(shape, margin, options, label, layer, null, poolKey);
    }

    /** Why a layer of this shape cannot have its buffers on the device (before allocating anything), or null. */
    private static String memoryProblem(LayerShape shape, MatmulVariant variant, TornadoDevice device, String id, TornadoOptions options) {
        long[] needed = TornadoLayer.deviceBytesAndLargest(shape, variant);
        long global = device.getMaxGlobalMemory();
        long limit = Math.min(global > 0 ? global : Long.MAX_VALUE, options.deviceMemoryLimit());
        if (needed[0] > limit) {
            return String.format(java.util.Locale.ROOT,
                    "layer %s needs %.1f MiB (%d bytes) of device memory, device %s has %.1f MiB (%d bytes) of global memory%s",
                    shape, needed[0] / MIB, needed[0], id, global / MIB, global,
                    limit < global ? " and -Dlsoftmax.tornado.deviceMemoryLimit=" + limit : "");
        }
        long maxAlloc = device.getMaxAllocMemory();
        if (maxAlloc > 0 && needed[1] > maxAlloc) {
            return String.format(java.util.Locale.ROOT,
                    "layer %s needs a device buffer of %.1f MiB (%d bytes), device %s allocates at most %.1f MiB (%d bytes) at once",
                    shape, needed[1] / MIB, needed[1], id, maxAlloc / MIB, maxAlloc);
        }
        return null;
    }

    private static final double MIB = 1024.0 * 1024.0;

    @Override
    public TornadoResources resources() {
        return LayerPool.resources();
    }

    @Override
    public TornadoProducts productCeiling(LayerShape shape) {
        return new ProductCeiling(shape, TornadoRuntimeProvider.getTornadoRuntime().getDefaultDevice());
    }

    @Override
    public void releaseIdleLayers() {
        LayerPool.clear();
    }

    @Override
    public List<TornadoDeviceInfo> listDevices() {
        TornadoRuntime runtime = TornadoRuntimeProvider.getTornadoRuntime();
        int[] defaultIndex = defaultDeviceIndex(runtime);
        List<TornadoDeviceInfo> devices = new ArrayList<>();
        for (int b = 0; b < runtime.getNumBackends(); b++) {
            TornadoBackend backend = runtime.getBackend(b);
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
            TornadoBackend backend = runtime.getBackend(b);
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
