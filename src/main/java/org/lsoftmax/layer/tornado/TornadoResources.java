package org.lsoftmax.layer.tornado;

/**
 * What the tornado pass holds on its devices now (see {@link TornadoSupport#resources()}).
 *
 * @param liveLayers    device layers with an open execution plan (in use by a pass, or idle for reuse)
 * @param idleLayers    of those, the ones kept idle for reuse by the next pass of their shape
 * @param deviceBytes   bytes of the device buffers of the live layers
 * @param layersCreated device layers built so far in this JVM
 * @param layersClosed  device layers closed (plan closed, device memory freed) so far in this JVM
 */
public record TornadoResources(int liveLayers, int idleLayers, long deviceBytes, long layersCreated, long layersClosed) {

    /** Nothing held: no TornadoVM runtime, or nothing created yet. */
    public static final TornadoResources NONE = new TornadoResources(0, 0, 0, 0, 0);
}
