/**
 * Dense float32 matrix products: {@code MatrixProducts} (the three forms a fully connected layer needs),
 * {@code Sgemm} (packed, cache-blocked, vectorised with {@code jdk.incubator.vector}, all cores, results
 * bit-identical for any thread count) with its parts ({@code MicroKernel}, {@code Packing},
 * {@code WorkerPool}), and {@code SimpleMatrixProducts} (small, obviously correct). Uses nothing of the
 * project; the trunk and the jvm pass use it.
 */
package org.lsoftmax.linalg;
