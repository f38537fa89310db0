package org.lsoftmax.train;

import java.util.Arrays;
import org.lsoftmax.data.Dataset;
import org.lsoftmax.head.Collective;
import org.lsoftmax.head.MarginLoss;
import org.lsoftmax.linalg.MatrixProducts;
import org.lsoftmax.model.Network;

/**
 * {@link Evaluator} for one process of a data-parallel job: the same accuracy, plain cross-entropy and
 * angles, computed by every rank together, each with its replica of the trunk and its block of W
 * ({@link Network#forShard}). The test set goes in chunks of {@code chunkRows}; per chunk:
 * <pre>
 *   F_r        = trunk(X rows floor(n r/K) .. floor(n (r+1)/K))   this rank's rows
 *   F          = allGather(F_r)                                     n x D on every rank
 *   P_r        = plain logits (F1) of F against this rank's block   n x C_r
 *   max_i      = allReduce MAX of each rank's row maximum
 *   sum_i      = allReduce SUM of sum_j exp(P_ij - max_i)           with the target logit and the own angle
 *   predicted  = allReduce MIN of the class index of the ranks whose row maximum is max_i   (the first on ties)
 *   nearest    = allReduce MIN of the angle to the nearest other class of each block
 * </pre>
 * so loss_i = max_i + log sum_i - P_i,y, as {@link Evaluator#crossEntropy} computes it, only summed in
 * another order (within float rounding of the single-process values). Every rank returns the same
 * {@link Evaluation}, including the features of every sample when asked.
 */
public final class DistributedEvaluator {

    private DistributedEvaluator() {
    }

    /**
     * @param network   this rank's network: the trunk and block {@code collective.rank()} of W
     * @param chunkRows rows of the test set per chunk, over every rank (the training batch: the trunk
     *                  holds ceil(chunkRows / K) rows)
     */
    public static Evaluation evaluate(Network network, Dataset data, MatrixProducts products, boolean keepFeatures, MarginLoss loss,
            DataParallel job, int chunkRows) {
        Collective collective = job.collective();
        int dimension = data.dimension();
        int featureDimension = network.architecture().featureDimension();
        int classes = network.architecture().classes();
        int shards = network.classShards();
        if (shards != job.size() || network.ownedShard() != job.rank()) {
            throw new IllegalArgumentException("rank " + job.rank() + " of " + job.size() + " holds block " + network.ownedShard() + " of "
                    + shards + " blocks of W");
        }
        int classStart = Network.shardStart(classes, shards, job.rank());
        int blockClasses = Network.shardStart(classes, shards, job.rank() + 1) - classStart;
        float[] block = network.classWeightShards().get(0).value();
        float[] input = new float[network.maxRows() * dimension];
        float[] features = new float[chunkRows * featureDimension];
        float[] logits = new float[chunkRows * blockClasses];
        int[] labels = data.labels();
        double[] rowMax = new double[chunkRows];
        double[] localMax = new double[chunkRows]; // this rank's row maxima, before the all-reduce
        double[] sums = new double[3 * chunkRows]; // sum of exp, target logit, own angle
        double[] minima = new double[2 * chunkRows]; // predicted class, nearest other angle
        float[] allFeatures = keepFeatures ? new float[data.size() * featureDimension] : null;
        AngularStatistics angles = new AngularStatistics();
        long correct = 0;
        double lossSum = 0.0;
        for (int start = 0; start < data.size(); start += chunkRows) {
            int rows = Math.min(chunkRows, data.size() - start);
            int[] counts = job.rowCounts(rows);
            int own = counts[job.rank()];
            int ownStart = start + job.rowStart(rows);
            System.arraycopy(data.features(), ownStart * dimension, input, 0, own * dimension);
            float[] ownFeatures = own == 0 ? new float[0] : network.features(input, own);
            for (int k = 0; k < counts.length; k++) {
                counts[k] *= featureDimension;
            }
            collective.allGather(ownFeatures, features, counts);
            products.multiplyABt(features, block, logits, rows, blockClasses, featureDimension, false);
            Evaluator.scaleToPlainLogits(loss, features, block, logits, rows, blockClasses, featureDimension);

            for (int i = 0; i < rows; i++) {
                rowMax[i] = max(logits, i * blockClasses, blockClasses);
            }
            Arrays.fill(rowMax, rows, chunkRows, 0.0);
            System.arraycopy(rowMax, 0, localMax, 0, rows);
            collective.allReduce(rowMax, Collective.Reduction.MAX);

            Arrays.fill(sums, 0.0);
            Arrays.fill(minima, 0.0);
            for (int i = 0; i < rows; i++) {
                int offset = i * blockClasses;
                double sum = 0.0;
                for (int j = 0; j < blockClasses; j++) {
                    sum += Math.exp(logits[offset + j] - rowMax[i]);
                }
                int label = labels[start + i];
                int ownClass = label - classStart;
                boolean ownsTarget = ownClass >= 0 && ownClass < blockClasses;
                double featureNorm = AngularStatistics.featureNorm(features, i * featureDimension, featureDimension);
                // the angle to the target (NaN for a zero target row: the sample is then skipped, as Evaluator skips it)
                // on the rank that owns it, and the nearest other class of this block
                double ownAngle = ownsTarget && featureNorm != 0.0
                        ? AngularStatistics.angle(features, i * featureDimension, featureNorm, block, ownClass, featureDimension) : 0.0;
                double nearest = Double.POSITIVE_INFINITY;
                for (int j = 0; j < blockClasses && featureNorm != 0.0; j++) {
                    if (j != ownClass) {
                        double angle = AngularStatistics.angle(features, i * featureDimension, featureNorm, block, j, featureDimension);
                        if (!Double.isNaN(angle)) {
                            nearest = Math.min(nearest, angle);
                        }
                    }
                }
                sums[3 * i] = sum;
                sums[3 * i + 1] = ownsTarget ? logits[offset + ownClass] : 0.0;
                sums[3 * i + 2] = ownsTarget ? ownAngle : 0.0;
                minima[2 * i] = localMax[i] == rowMax[i] ? classStart + firstIndexOf(logits, offset, blockClasses, localMax[i])
                        : Double.POSITIVE_INFINITY;
                minima[2 * i + 1] = nearest;
            }
            collective.allReduce(sums, Collective.Reduction.SUM);
            collective.allReduce(minima, Collective.Reduction.MIN);

            for (int i = 0; i < rows; i++) {
                int label = labels[start + i];
                if ((int) minima[2 * i] == label) {
                    correct++;
                }
                lossSum += rowMax[i] + Math.log(sums[3 * i]) - sums[3 * i + 1];
                if (AngularStatistics.featureNorm(features, i * featureDimension, featureDimension) != 0.0) {
                    angles.addAngles(sums[3 * i + 2], minima[2 * i + 1]);
                }
            }
            if (allFeatures != null) {
                System.arraycopy(features, 0, allFeatures, start * featureDimension, rows * featureDimension);
            }
        }
        return new Evaluation(data.size(), (double) correct / data.size(), lossSum / data.size(), angles.meanOwnAngle(),
                angles.meanNearestOtherAngle(), allFeatures);
    }

    private static double max(float[] values, int offset, int length) {
        float best = values[offset];
        for (int j = 1; j < length; j++) {
            best = Math.max(best, values[offset + j]);
        }
        return best;
    }

    private static int firstIndexOf(float[] values, int offset, int length, double value) {
        for (int j = 0; j < length; j++) {
            if (values[offset + j] == value) {
                return j;
            }
        }
        throw new IllegalStateException("the row maximum is not in its row");
    }
}
