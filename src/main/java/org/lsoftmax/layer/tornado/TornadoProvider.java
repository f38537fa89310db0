package org.lsoftmax.layer.tornado;

import java.util.List;
import org.lsoftmax.layer.LSoftmaxPass;
import org.lsoftmax.layer.LayerShape;
import org.lsoftmax.layer.PassOptions;

/**
 * What the TornadoVM side of the project (compiled from {@code src/main/tornado} by the {@code tornado}
 * Maven profile) offers to the rest of the code. {@link TornadoSupport} loads the implementation by
 * reflection, so nothing outside {@code src/main/tornado} depends on the TornadoVM API.
 */
public interface TornadoProvider {

    /**
     * Checks that the TornadoVM runtime is usable in this JVM (the API on the module path, the runtime
     * loaded, at least one device).
     *
     * @return null when it is, else why not, in one line
     */
    String runtimeProblem();

    /**
     * A pass on the device {@code options.device()} ({@code BACKEND:DEVICE}, null = TornadoVM's
     * default). Never fails because of the device: a device that is missing or cannot compile or run
     * the kernels makes the pass fall back to the jvm pass (see {@link TornadoRunInfo}).
     */
    LSoftmaxPass createPass(LayerShape shape, int margin, PassOptions options);

    /** Every device TornadoVM sees, backend by backend. */
    List<TornadoDeviceInfo> listDevices();

    /** Device layers and bytes held now. */
    TornadoResources resources();

    /** The step's three products alone on TornadoVM's default device, for benchmarks. */
    TornadoProducts productCeiling(LayerShape shape);

    /** Closes the device layers kept idle for reuse (their plans and device buffers). */
    void releaseIdleLayers();
}
