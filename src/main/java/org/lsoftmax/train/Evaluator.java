package org.lsoftmax.train;

import org.lsoftmax.data.Dataset;
import org.lsoftmax.head.MarginLoss;
import org.lsoftmax.linalg.MatrixProducts;
import org.lsoftmax.model.Network;

/**
 * Computes accuracy, plain cross-entropy and angular statistics of a network on a data set, in
 * batches of the network's maximum rows; the last batch may be shorter (no sample is dropped).
 * The logits are the loss's plain logits without a margin (docs/DERIVATION.md (F1)): the product
 * {@code F W^T} of the features and the class weights, for the normalising losses with its rows
 * scaled by {@code s / |f_i|} and its columns by {@code 1 / |w_j|}.
 */
public final class Evaluator {

    private Evaluator() {
    }

    /** With L-Softmax's plain logits {@code F W^T}. */
    public static Evaluation evaluate(Network network, Dataset data, MatrixProducts products, boolean keepFeatures) {
        return evaluate(network, data, products, keepFeatures, MarginLoss.lsoftmax(1));
    }

    public static Evaluation evaluate(Network network, Dataset data, MatrixProducts products, boolean keepFeatures, MarginLoss loss) {
        int dimension = data.dimension();
        int featureDimension = network.architecture().featureDimension();
        int classes = network.architecture().classes();
        int batchRows = network.maxRows();
        float[] classWeights = network.classWeightMatrix();
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
            scaleToPlainLogits(loss, features, classWeights, logits, rows, classes, featureDimension);
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

    /** (F1): P_ij = a_i b_j (f_i . w_j), a_i = s / |f_i| and b_j = 1 / |w_j| for the losses that normalise them (0 for zero vectors). */
    static void scaleToPlainLogits(MarginLoss loss, float[] features, float[] classWeights, float[] logits, int rows, int classes,
            int featureDimension) {
        if (loss.kind().normalisesWeights()) {
            for (int j = 0; j < classes; j++) {
                double norm = norm(classWeights, j * featureDimension, featureDimension);
                float factor = norm > 0.0 ? (float) (1.0 / norm) : 0.0f;
                for (int i = 0; i < rows; i++) {
                    logits[i * classes + j] *= factor;
                }
            }
        }
        if (loss.kind().normalisesFeatures()) {
            for (int i = 0; i < rows; i++) {
                double norm = norm(features, i * featureDimension, featureDimension);
                float factor = norm > 0.0 ? (float) (loss.scale() / norm) : 0.0f;
                for (int j = 0; j < classes; j++) {
                    logits[i * classes + j] *= factor;
                }
            }
        }
    }

    private static double norm(float[] values, int offset, int length) {
        double sum = 0.0;
        for (int col = 0; col < length; col++) {
            sum += (double) values[offset + col] * values[offset + col];
        }
        return Math.sqrt(sum);
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
