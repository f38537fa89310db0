package org.lsoftmax.head;

/**
 * What tests and benchmarks look at on the TornadoVM side and production code does not: the device
 * memory held, the idle plans kept for reuse, the products-only ceiling of a step. Kept apart from
 * {@link TornadoBackend} so that the production seam stays small; loaded by {@link TornadoSupport#diagnostics()}.
 */
public interface TornadoDiagnostics {

    /** Device plans and bytes held now. */
    TornadoResources resources();

    /** Closes the device plans kept idle for reuse (their execution plans and device buffers). */
    void releaseIdlePlans();

    /** The step's three products alone on TornadoVM's default device, operands resident. */
    TornadoProducts productCeiling(HeadShape shape);
}
