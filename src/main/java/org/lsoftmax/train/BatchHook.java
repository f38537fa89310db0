package org.lsoftmax.train;

/**
 * Test-only fault injection: called with each training batch just before its step, it may change the
 * inputs (e.g. to NaN or 1e30) to provoke a divergence, and may look at the network. Package-private
 * on purpose: nothing outside the tests installs one.
 */
@FunctionalInterface
interface BatchHook {

    /**
     * @param epoch      1-based epoch
     * @param iteration  the step's iteration number
     * @param batch      0-based batch of the epoch
     * @param input      the batch's normalised inputs, batchSize x dimension, which the step will use
     * @param labels     the batch's labels
     */
    void beforeStep(int epoch, long iteration, int batch, float[] input, int[] labels);
}
