package org.lsoftmax.head;

import java.util.List;
import org.lsoftmax.model.Parameter;

/**
 * The head of the network: the class weights W (C x D, a {@link Parameter} of the model) and the pass
 * that computes the margin loss on them. The training loop only calls {@link #forward},
 * {@link #backward} and {@link #correct}; what the pass computed for one (the logits, the predictions)
 * serves the others, so nothing is recomputed on the host.
 *
 * <p>One step: {@code loss = forward(F, y, beta)}; {@code dF = backward()} (which also adds dL/dW into
 * {@code W.gradient()}); {@code correct()} counts the samples whose plain-logit prediction is their label.
 * The forward runs the pass's whole {@link HeadPass#trainingStep} (forward and backward: on the tornado
 * pass one graph execution, the logits left on the device); backward hands out what it computed.
 */
public final class MarginHead implements Head {

    private final Parameter classWeights;
    private final HeadPass pass;
    private final float[] logits;
    private final float[] featureGradient;
    private final float[] weightGradient;
    private final int[] predictions;
    private int[] labels;

    /** @param pass a pass for the shape (batch N, D = W's columns, C = W's rows); the head closes it */
    public MarginHead(Parameter classWeights, HeadPass pass) {
        HeadShape shape = pass.shape();
        if (classWeights.size() != shape.wSize()) {
            throw new IllegalArgumentException("class weights " + classWeights.name() + " hold " + classWeights.size()
                    + " values, the pass's shape " + shape + " needs " + shape.wSize());
        }
        this.classWeights = classWeights;
        this.pass = pass;
        this.logits = pass.logitsOptional() ? null : new float[shape.logitsSize()];
        this.featureGradient = new float[shape.xSize()];
        this.weightGradient = new float[shape.wSize()];
        this.predictions = new int[shape.batch()];
    }

    /**
     * The margin loss of a batch and, in the same call, its gradients ({@link HeadPass#trainingStep}), which
     * {@link #backward} hands out.
     *
     * @param features N x D, the trunk's output
     * @param labels   N labels (kept for {@link #correct}; the caller must not change them before)
     */
    @Override
    public double forward(float[] features, int[] labels, double beta) {
        this.labels = labels;
        return pass.trainingStep(features, classWeights.value(), labels, beta, logits, featureGradient, weightGradient);
    }

    /**
     * Gradients of the most recent forward: returns dL/dF (N x D, the head's own buffer) and adds dL/dW
     * into {@code classWeights.gradient()} (as every layer adds into its parameters' gradients).
     */
    @Override
    public float[] backward() {
        if (labels == null) {
            throw new IllegalStateException("backward called before forward");
        }
        float[] gradient = classWeights.gradient();
        for (int i = 0; i < gradient.length; i++) {
            gradient[i] += weightGradient[i];
        }
        return featureGradient;
    }

    /** Samples of the most recent forward whose plain-logit prediction (no margin) is their label. */
    @Override
    public int correct() {
        if (labels == null) {
            throw new IllegalStateException("correct called before forward");
        }
        pass.predict(predictions);
        int count = 0;
        for (int i = 0; i < predictions.length; i++) {
            if (predictions[i] == labels[i]) {
                count++;
            }
        }
        return count;
    }

    /** Changes the loss's real parameters before the next step (warm-ups, {@link HeadPass#setLoss}). */
    @Override
    public void setLoss(MarginLoss loss) {
        if (!loss.equals(pass.loss())) {
            pass.setLoss(loss);
        }
    }

    /**
     * The margin logits of the most recent forward (N x C); null for a pass that keeps them on its device
     * ({@link HeadPass#logitsOptional}: tornado).
     */
    public float[] logits() {
        return logits;
    }

    @Override
    public HeadShape shape() {
        return pass.shape();
    }

    @Override
    public MarginLoss loss() {
        return pass.loss();
    }

    @Override
    public String description() {
        return pass.deviceDescription();
    }

    @Override
    public List<Parameter> weightParameters() {
        return List.of(classWeights);
    }

    public HeadPass pass() {
        return pass;
    }

    public Parameter classWeights() {
        return classWeights;
    }

    @Override
    public void close() {
        pass.close();
    }
}
