/**
 * The scalar math of the margins: static, allocation-free functions on primitives ({@code LSoftmaxMath}:
 * k, cos(m theta), psi and their derivatives, docs/DERIVATION.md), so that the same code runs on the JVM
 * and inside TornadoVM kernels; and {@code SplitMix64}, the one random generator of every run. Uses
 * nothing of the project.
 */
package org.lsoftmax.math;
