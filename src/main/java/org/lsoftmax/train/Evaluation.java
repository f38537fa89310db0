package org.lsoftmax.train;

/**
 * Result of evaluating a network on a data set with plain logits {@code x W^T} (prediction never
 * uses the margin: mx-lsoftmax and the paper apply it in training only).
 *
 * @param loss                  mean plain softmax cross-entropy
 * @param meanOwnAngle          degrees, see {@link AngularStatistics}
 * @param meanNearestOtherAngle degrees
 * @param features              the features of every sample (size x D) when requested, else null
 */
public record Evaluation(int size, double accuracy, double loss, double meanOwnAngle, double meanNearestOtherAngle,
        float[] features) {
}
