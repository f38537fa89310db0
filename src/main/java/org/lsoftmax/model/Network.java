package org.lsoftmax.model;

import java.util.ArrayList;
import java.util.List;
import org.lsoftmax.linalg.MatrixProducts;
import org.lsoftmax.math.SplitMix64;

/**
 * The trained model: an MLP feature extractor
 * {@code input -> [Dense -> PReLU] x hidden -> Dense -> D-dim feature}, and the class weights W (C x D)
 * of the L-Softmax head. The feature has no activation, so features can point anywhere on the sphere
 * (as the paper's 2-D MNIST features in Figure 2). The head itself (margin logits, loss, gradients)
 * is computed by an {@code HeadPass}; this class only holds its weights.
 */
public final class Network {

    private final Architecture architecture;
    private final int maxRows;
    private final List<Layer> layers = new ArrayList<>();
    private final Parameter classWeights;
    private final List<Parameter> parameters = new ArrayList<>();

    /** Builds the network for batches of up to {@code maxRows} samples, with zero weights (see {@link #initialise}). */
    public Network(Architecture architecture, int maxRows, MatrixProducts products) {
        this.architecture = architecture;
        this.maxRows = maxRows;
        int width = architecture.inputSize();
        int index = 1;
        for (int hiddenWidth : architecture.hidden()) {
            layers.add(new Dense("dense" + index, width, hiddenWidth, maxRows, index > 1, products));
            layers.add(new PRelu("prelu" + index, hiddenWidth, maxRows));
            width = hiddenWidth;
            index++;
        }
        layers.add(new Dense("dense" + index, width, architecture.featureDimension(), maxRows, index > 1, products));
        this.classWeights = Parameter.zeros("lsoftmax.weight", architecture.classes() * architecture.featureDimension(), true);
        for (Layer layer : layers) {
            parameters.addAll(layer.parameters());
        }
        parameters.add(classWeights);
    }

    /** He init of every dense layer (from one random stream, in layer order), and the class weights. */
    public void initialise(SplitMix64 random) {
        for (int i = 0; i < layers.size(); i++) {
            if (layers.get(i) instanceof Dense dense) {
                boolean beforePrelu = i + 1 < layers.size() && layers.get(i + 1) instanceof PRelu;
                double slope = PRelu.INITIAL_SLOPE;
                dense.initialise(random, beforePrelu ? 2.0 / (1.0 + slope * slope) : 1.0);
            }
        }
        // class weights ~ N(0, 1/D): |w_j| about 1, directions uniformly random
        float[] w = classWeights.value();
        double std = Math.sqrt(1.0 / architecture.featureDimension());
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (std * random.nextGaussian());
        }
    }

    /** Features (rows x D) of {@code rows} input samples; the returned array is the last layer's buffer. */
    public float[] features(float[] input, int rows) {
        checkRows(rows);
        float[] activations = input;
        for (Layer layer : layers) {
            activations = layer.forward(activations, rows);
        }
        return activations;
    }

    /** Back-propagates dL/d features of the most recent {@link #features} call, adding into the gradients. */
    public void backward(float[] featureGradient, int rows) {
        checkRows(rows);
        float[] gradient = featureGradient;
        for (int i = layers.size() - 1; i >= 0; i--) {
            gradient = layers.get(i).backward(gradient, rows);
        }
    }

    public void zeroGradients() {
        for (Parameter parameter : parameters) {
            java.util.Arrays.fill(parameter.gradient(), 0f);
        }
    }

    public Architecture architecture() {
        return architecture;
    }

    public int maxRows() {
        return maxRows;
    }

    /** Class weights W of the L-Softmax head, C x D row-major. */
    public Parameter classWeights() {
        return classWeights;
    }

    /** All parameters in a fixed order (layers first, class weights last): the checkpoint order. */
    public List<Parameter> parameters() {
        return List.copyOf(parameters);
    }

    public List<Layer> layers() {
        return List.copyOf(layers);
    }

    private void checkRows(int rows) {
        if (rows < 1 || rows > maxRows) {
            throw new IllegalArgumentException("rows must be in [1, " + maxRows + "], got " + rows);
        }
    }
}
