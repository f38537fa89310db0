package org.lsoftmax.plot;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.head.MarginLoss;
import org.lsoftmax.train.Checkpoint;
import org.lsoftmax.train.CheckpointFiles;
import org.lsoftmax.train.CheckpointFormat;
import org.lsoftmax.train.EpochMetrics;
import org.lsoftmax.train.FeaturesCsv;
import org.lsoftmax.train.MetricsCsv;
import org.lsoftmax.train.ShardSets;

/** What {@code plot} reads from a training run's output folder: metrics.csv, last.ckpt (or a job's newest checkpoint set) and features.csv. */
public record RunFolder(Path directory, List<EpochMetrics> metrics, Checkpoint checkpoint, int[] featureLabels,
        float[] features) {

    public static RunFolder read(Path directory) {
        if (!Files.isDirectory(directory)) {
            throw new InvalidInputException(directory + ": not a run folder (no such directory)");
        }
        Path metricsFile = directory.resolve(MetricsCsv.FILE_NAME);
        Path checkpointFile = directory.resolve(CheckpointFiles.LAST_FILE);
        if (!Files.isRegularFile(checkpointFile) && Files.isRegularFile(directory.resolve(ShardSets.LAST_SET_FILE))) {
            checkpointFile = directory.resolve(ShardSets.LAST_SET_FILE); // a job of several processes: its newest checkpoint set
        }
        if (!Files.isRegularFile(metricsFile) || !Files.isRegularFile(checkpointFile)) {
            throw new InvalidInputException(directory + ": not a run folder (needs " + MetricsCsv.FILE_NAME + " and "
                    + CheckpointFiles.LAST_FILE + " or " + ShardSets.LAST_SET_FILE + ", written by train --out)");
        }
        List<EpochMetrics> metrics = MetricsCsv.read(metricsFile);
        Path featuresFile = directory.resolve(FeaturesCsv.FILE_NAME);
        // a job's set: only the 2-D feature picture needs W (small); otherwise rank 0's part says what the run was
        Checkpoint checkpoint = ShardSets.isSet(checkpointFile) && !Files.isRegularFile(featuresFile)
                ? ShardSets.rankZeroPart(checkpointFile) : CheckpointFormat.read(checkpointFile);
        int[] labels = null;
        float[] features = null;
        if (Files.isRegularFile(featuresFile)) {
            FeaturesCsv.Points points = FeaturesCsv.read(featuresFile);
            labels = points.labels();
            features = points.points();
            if (checkpoint.config().featureDimension() != 2) {
                throw new InvalidInputException(featuresFile + ": 2-D features beside " + checkpointFile + " of "
                        + checkpoint.config().featureDimension() + "-D features: the two files are not of one run");
            }
            for (int i = 0; i < labels.length; i++) {
                if (labels[i] >= checkpoint.classes()) {
                    throw new InvalidInputException(featuresFile + ": line " + (i + 2) + ": label " + labels[i]
                            + " is outside the " + checkpoint.classes() + " classes of " + checkpointFile);
                }
            }
        }
        return new RunFolder(directory, metrics, checkpoint, labels, features);
    }

    public MarginLoss loss() {
        return checkpoint.config().loss();
    }

    /**
     * The run's loss for legends: "m=1 (softmax)" and "m=3" for L-Softmax (as before the family), else
     * the loss itself, e.g. "arcface(s=16, m2=0.5)".
     */
    public String marginLabel() {
        MarginLoss loss = loss();
        if (loss.kind() == MarginLoss.Kind.LSOFTMAX) {
            return loss.margin() == 1 ? "m=1 (softmax)" : "m=" + loss.margin();
        }
        return loss.toString();
    }

    /** Panel title: margin, feature dimension and final test accuracy. */
    public String title() {
        String accuracy = metrics.isEmpty() ? ""
                : String.format(Locale.ROOT, ", test acc %.2f%%", 100 * metrics.get(metrics.size() - 1).testAccuracy());
        return marginLabel() + ", D=" + checkpoint.config().featureDimension() + accuracy;
    }

    public boolean hasFeatures() {
        return features != null;
    }

    /** Class weights W (C x D) of the last checkpoint. */
    public float[] classWeights() {
        return checkpoint.classWeightMatrix();
    }
}
