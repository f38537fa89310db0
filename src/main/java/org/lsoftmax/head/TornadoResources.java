package org.lsoftmax.head;

/**
 * What the tornado pass holds on its devices now (see {@link TornadoDiagnostics#resources()}).
 *
 * @param livePlans    device plans with an open execution plan (in use by a pass, or idle for reuse)
 * @param idlePlans    of those, the ones kept idle for reuse by the next pass of their shape
 * @param deviceBytes  bytes of the device buffers of the live plans
 * @param plansCreated device plans built so far in this JVM
 * @param plansClosed  device plans closed (execution plan closed, device memory freed) so far in this JVM
 */
public record TornadoResources(int livePlans, int idlePlans, long deviceBytes, long plansCreated, long plansClosed) {

    /** Nothing held: no TornadoVM runtime, or nothing created yet. */
    public static final TornadoResources NONE = new TornadoResources(0, 0, 0, 0, 0);
}
