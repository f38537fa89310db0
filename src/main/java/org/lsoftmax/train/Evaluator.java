package org.lsoftmax.train;

import org.lsoftmax.data.Dataset;
import org.lsoftmax.linalg.MatrixProducts;
import org.lsoftmax.model.Network;

/**
 * Computes accuracy, plain cross-entropy and angular statistics of a network on a data set, in
 * batches of the network's maximum rows; the last batch may be shorter (no sample is dropped).
 * The logits are a plain product {@code F W^T} of the features and the class weights.
 */
public final class Evaluator {

    private Evaluator() {
    }

    public static Evaluation evaluate(Network network, Dataset data, MatrixProducts products, boolean keepFeatures) {
        int dimension = data.dimension();
        int featureDimension = network.architecture().featureDimension();
        int classes = network.architecture().classes();
        int batchRows = network.maxRows();
        float[] classWeights = network.classWeights().value();
        float[] batchInput = new float[batchRows * dimension];
        float[] logits = new float[batchRows * classes];
        float[] allFeatures = keepFeatures ? new float[data.size() * featureDimension] : null;
        AngularStatistics angles = new AngularStatistics();
        long correct = 0;
        double lossSum = 0.0;
        for (int start = 0; start < data.size(); start += batchRows) {
            int rows = Math.min(batchRows, data.size() - start);
            System.arraycopy(data.features(), start * dimension, batchInput, 0, rows * dimension);
            float[] features = network.features(batchInput, rows);
            products.multiplyABt(features, classWeights, logits, rows, classes, featureDimension, false);
            for (int i = 0; i < rows; i++) {
                int label = data.labels()[start + i];
                int predicted = argmax(logits, i * classes, classes);
                if (predicted == label) {
                    correct++;
                }
                lossSum += crossEntropy(logits, i * classes, classes, label);
                angles.add(features, i * featureDimension, classWeights, featureDimension, classes, label);
            }
            if (allFeatures != null) {
                System.arraycopy(features, 0, allFeatures, start * featureDimension, rows * featureDimension);
            }
        }
        return new Evaluation(data.size(), (double) correct / data.size(), lossSum / data.size(),
                angles.meanOwnAngle(), angles.meanNearestOtherAngle(), allFeatures);
    }

    /** Index of the largest value; the first one on ties. */
    static int argmax(float[] values, int offset, int length) {
        int best = 0;
        for (int j = 1; j < length; j++) {
            if (values[offset + j] > values[offset + best]) {
                best = j;
            }
        }
        return best;
    }

    /** {@code log sum_j exp(f_j) - f_label}, with the maximum subtracted for stability. */
    static double crossEntropy(float[] logits, int offset, int classes, int label) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < classes; j++) {
            max = Math.max(max, logits[offset + j]);
        }
        double sum = 0.0;
        for (int j = 0; j < classes; j++) {
            sum += Math.exp(logits[offset + j] - max);
        }
        return max + Math.log(sum) - logits[offset + label];
    }
}
