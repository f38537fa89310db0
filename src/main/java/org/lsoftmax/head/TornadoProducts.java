package org.lsoftmax.head;

/**
 * The three matrix products of a tornado step alone, operands resident on the device (a ceiling for
 * benchmarks, see {@link TornadoDiagnostics#productCeiling}).
 */
public interface TornadoProducts extends AutoCloseable {

    /** X W^T, G W and G^T X once (6 N D C flops); the first call JIT-compiles. */
    void run();

    /** One of them: 0 = X W^T (N x C), 1 = G W (N x D), 2 = G^T X (C x D); 2 N D C flops each. */
    void runProduct(int product);

    @Override
    void close();
}
