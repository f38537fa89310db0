/**
 * The jvm pass: the three products on {@code linalg.Sgemm}, the margin on the target column only,
 * fused vectorised row sweeps ({@code RowOps}, {@code VectorExp}); float32 data, float64 per-sample
 * math, bit-identical for any thread count. Uses {@code head}, {@code linalg} and {@code math}.
 */
package org.lsoftmax.head.jvm;
