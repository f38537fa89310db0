/**
 * Outside input and output: NumPy {@code .npy} files, MNIST-style IDX files (raw or gzipped), data sets
 * (Fashion-MNIST or the built-in synthetic one; {@code SyntheticClasses}, the large-class task generated
 * on the fly), input normalisation, and atomic file writes. May use
 * the root package and {@code math}.
 */
package org.lsoftmax.data;
