package org.lsoftmax.head.tornado;

import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.TornadoDiagnostics;
import org.lsoftmax.head.TornadoProducts;
import org.lsoftmax.head.TornadoResources;
import uk.ac.manchester.tornado.api.runtime.TornadoRuntimeProvider;

/** The test and benchmark hooks of the TornadoVM side ({@link TornadoDiagnostics}), loaded by reflection. */
public final class TornadoDiagnosticsImpl implements TornadoDiagnostics {

    @Override
    public TornadoResources resources() {
        return DevicePlanPool.resources();
    }

    @Override
    public void releaseIdlePlans() {
        DevicePlanPool.clear();
    }

    @Override
    public TornadoProducts productCeiling(HeadShape shape) {
        return new ProductCeiling(shape, TornadoRuntimeProvider.getTornadoRuntime().getDefaultDevice());
    }
}
