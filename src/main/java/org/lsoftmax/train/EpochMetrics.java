package org.lsoftmax.train;

import java.util.Locale;

/**
 * One row of {@code metrics.csv}: what an epoch did and where it ended.
 *
 * @param epoch                 1-based
 * @param iteration             optimizer steps done after this epoch
 * @param beta                  annealing weight of the epoch's last step
 * @param trainLoss             mean margin loss (with the epoch's betas) over the epoch's batches
 * @param trainAccuracy         accuracy of the plain logits on the training batches, during the epoch
 * @param testLoss              plain cross-entropy on the test split after the epoch
 * @param meanOwnAngle          degrees, test split
 * @param meanNearestOtherAngle degrees, test split
 * @param seconds               wall time of the training part of the epoch (without evaluation)
 * @param samplesPerSecond      training samples per second of the epoch
 */
public record EpochMetrics(int epoch, long iteration, double learningRate, double beta, double trainLoss,
        double trainAccuracy, double testLoss, double testAccuracy, double meanOwnAngle, double meanNearestOtherAngle,
        double seconds, double samplesPerSecond) {

    public static final String CSV_HEADER = "epoch,iteration,learning_rate,beta,train_loss,train_accuracy,test_loss,"
            + "test_accuracy,mean_angle_own_deg,mean_angle_nearest_other_deg,epoch_seconds,samples_per_second";

    public String toCsvRow() {
        return String.format(Locale.ROOT, "%d,%d,%.6g,%.6g,%.6f,%.6f,%.6f,%.6f,%.4f,%.4f,%.3f,%.1f", epoch, iteration,
                learningRate, beta, trainLoss, trainAccuracy, testLoss, testAccuracy, meanOwnAngle,
                meanNearestOtherAngle, seconds, samplesPerSecond);
    }

    public static EpochMetrics fromCsvRow(String row) {
        String[] f = row.split(",");
        if (f.length != 12) {
            throw new IllegalArgumentException("expected 12 columns, got " + f.length + ": " + row);
        }
        return new EpochMetrics(Integer.parseInt(f[0]), Long.parseLong(f[1]), Double.parseDouble(f[2]),
                Double.parseDouble(f[3]), Double.parseDouble(f[4]), Double.parseDouble(f[5]), Double.parseDouble(f[6]),
                Double.parseDouble(f[7]), Double.parseDouble(f[8]), Double.parseDouble(f[9]), Double.parseDouble(f[10]),
                Double.parseDouble(f[11]));
    }
}
