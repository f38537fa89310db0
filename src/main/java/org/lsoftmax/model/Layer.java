package org.lsoftmax.model;

import java.util.List;

/**
 * A layer of the feature extractor as a forward/backward pair (llm.c style). A layer owns its output
 * and input-gradient buffers, sized for {@code maxRows} samples; a call may use fewer rows (the
 * tail batch of an evaluation). Backward uses what the most recent forward saw, and <em>adds</em>
 * the parameter gradients into {@link Parameter#gradient()} (the trainer zeroes them per step, through {@code Network.zeroGradients}: lazily for the dense weights).
 */
public interface Layer {

    int inputSize();

    int outputSize();

    /** Computes the output for {@code rows} samples of {@code input}; returns the layer's own buffer. */
    float[] forward(float[] input, int rows);

    /**
     * Back-propagates {@code outputGradient} (rows x outputSize) of the most recent forward.
     *
     * @return dL/d input (rows x inputSize), or null for a layer built without an input gradient
     */
    float[] backward(float[] outputGradient, int rows);

    List<Parameter> parameters();
}
