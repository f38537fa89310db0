package org.lsoftmax.head;

import java.util.List;

/**
 * The one seam between the project and TornadoVM: what the TornadoVM side (compiled from
 * {@code src/main/tornado} by the {@code tornado} Maven profile) offers to the rest of the code.
 * {@link TornadoSupport} loads its implementation by reflection, once per JVM, so nothing outside
 * {@code src/main/tornado} depends on the TornadoVM API, and {@code head} never imports the TornadoVM
 * side (it depends on {@code head}, not the other way round).
 *
 * <p>Fallbacks are not decided here: a device that is missing or too small makes {@link #createPass}
 * throw {@link DeviceUnavailableException}, and a device that fails later asks the
 * {@link DeviceFallback} it was handed for its replacement; {@code head.select.PassFactory} decides and logs both.
 */
public interface TornadoBackend {

    /**
     * Checks that the TornadoVM runtime is usable in this JVM (the API on the module path, the runtime
     * loaded, at least one device).
     *
     * @return null when it is, else why not, in one line
     */
    String runtimeProblem();

    /**
     * A pass on the device {@code options.device()} ({@code BACKEND:DEVICE}, null = TornadoVM's default).
     *
     * @param fallback where the pass gets its replacement when the device fails to compile or run a kernel
     * @throws DeviceUnavailableException when the device does not exist, cannot hold the head's buffers
     *                                    or cannot set up the task graphs
     */
    HeadPass createPass(HeadShape shape, MarginLoss loss, PassOptions options, DeviceFallback fallback);

    /**
     * A pass for the shard stages ({@link HeadPass#forwardShard}, {@link HeadPass#backwardShard}) of the
     * class-sharded head, on {@code options.device()}: its device plan has the shard stages' task graphs
     * (the single-pass graphs are set up only if the pass is ever asked for them).
     *
     * @throws DeviceUnavailableException as {@link #createPass}
     */
    HeadPass createShardPass(HeadShape shape, MarginLoss loss, PassOptions options, DeviceFallback fallback);

    /**
     * Device bytes a pass of this shape allocates on {@code options.device()} for the single-pass or the
     * shard stages, before anything is allocated (what a head that does not fit is refused with).
     */
    long deviceBytes(HeadShape shape, PassOptions options, boolean shardStages);

    /** Every device TornadoVM sees, backend by backend. */
    List<TornadoDeviceInfo> listDevices();
}
