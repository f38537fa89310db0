/**
 * The TornadoVM side of the head (compiled only with an SDK, the {@code tornado} Maven profile): the
 * kernels ({@code LSoftmaxKernels}, {@code MatrixKernels}, the generated {@code PanelMatmulKernel}),
 * the task graphs of one head on one device ({@code DevicePlan}: a training step in one graph execution;
 * grid sizes in {@code GridSizes}), the pass ({@code TornadoPass}) and the {@code TornadoBackend} the
 * seam loads ({@code TornadoBackendImpl}).
 * What was measured about writing kernels for PoCL is in docs/TORNADOVM-NOTES.md. Uses {@code head}
 * and {@code math}.
 */
package org.lsoftmax.head.tornado;
