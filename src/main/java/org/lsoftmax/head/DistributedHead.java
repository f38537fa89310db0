package org.lsoftmax.head;

import java.util.List;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.model.Parameter;
import org.lsoftmax.model.RowSelection;

/**
 * The head of one process of a data-parallel job of K processes, as Partial FC trains (docs/SCALING.md):
 * this process is rank r of the {@link Collective}, holds shard r of the classes (one {@link ShardRank}:
 * its W block, momentum and pass) and rows {@code [rowStart(r), rowStart(r + 1))} of every batch of N,
 * which its replica of the trunk computes. One step:
 * <ol>
 *   <li>{@link #forward}: this rank's features and labels are all-gathered into the whole batch; the shard
 *       computes its logits and per row max, sum of exp and owned target logit, all-reduced as in
 *       {@link ShardedHead}; the loss is the whole batch's mean, the same on every rank;</li>
 *   <li>{@link #backward}: the shard's dX parts are reduce-scattered, so each rank receives dL/dX of its own
 *       rows (summed over the shards); the block's dW stays here. The trunk's gradients are then all-reduced
 *       by the caller (each replica saw only its rows).</li>
 * </ol>
 * Row slices are split as the classes are: floor(N r / K). Every rank must call the same methods in the
 * same order.
 */
public final class DistributedHead implements Head {

    private final HeadShape shape;
    private final ShardRank rank;
    private final Collective collective;
    private final int[] rowCounts;
    private final int ownRows;
    private final float[] localDx;
    private final int[] predictions;
    private MarginLoss loss;
    private long iteration;
    private boolean forwarded;
    private boolean closed;

    /**
     * @param shape  the whole head: N (the whole batch, over every rank), D, C
     * @param rank   this process's shard, of shape {@code shape} over a collective of K ranks (its index is the collective's rank)
     */
    public DistributedHead(HeadShape shape, MarginLoss loss, ShardRank rank) {
        this.shape = shape;
        this.loss = loss;
        this.rank = rank;
        this.collective = rank.collective();
        int ranks = collective.size();
        if (shape.batch() < ranks) {
            throw new IllegalArgumentException("a batch of " + shape.batch() + " cannot give each of " + ranks + " ranks a row");
        }
        this.rowCounts = rowCounts(shape.batch(), ranks);
        this.ownRows = rowCounts[collective.rank()];
        this.localDx = new float[ownRows * shape.features()];
        this.predictions = new int[shape.batch()];
    }

    /** The first row of rank k's slice of a batch of N over K ranks: floor(N k / K). */
    public static int rowStart(int batch, int ranks, int k) {
        return (int) ((long) batch * k / ranks);
    }

    /** Every rank's number of rows of a batch of N over K ranks, in rank order. */
    public static int[] rowCounts(int batch, int ranks) {
        int[] counts = new int[ranks];
        for (int k = 0; k < ranks; k++) {
            counts[k] = rowStart(batch, ranks, k + 1) - rowStart(batch, ranks, k);
        }
        return counts;
    }

    /** The rows of the batch this rank's trunk computes. */
    public int ownRows() {
        return ownRows;
    }

    /** This rank's first row in the batch. */
    public int ownRowStart() {
        return rowStart(shape.batch(), collective.size(), collective.rank());
    }

    public void setIteration(long iteration) {
        this.iteration = iteration;
    }

    /**
     * The loss of the whole batch (the same on every rank).
     *
     * @param features this rank's rows of the batch, {@link #ownRows()} x D (its first values of a longer array)
     * @param labels   their labels
     */
    @Override
    public double forward(float[] features, int[] labels, double beta) {
        checkOpen();
        HeadChecks.checkBeta(beta);
        // at least: the trunk's output buffer may be longer than this batch's rows (its evaluation chunks)
        if (features == null || features.length < (long) ownRows * shape.features()) {
            throw new InvalidInputException("this rank's features must hold " + ownRows + " x " + shape.features() + " values, got "
                    + (features == null ? "null" : features.length + " values"));
        }
        if (labels == null || labels.length < ownRows) {
            throw new InvalidInputException("this rank's labels must hold " + ownRows + " values, got "
                    + (labels == null ? "null" : labels.length + " values"));
        }
        for (int i = 0; i < ownRows; i++) {
            if (labels[i] < 0 || labels[i] >= shape.classes()) {
                throw new IllegalArgumentException("label " + labels[i] + " at row " + i + " of rank " + collective.rank()
                        + " is outside [0, " + shape.classes() + ")");
            }
        }
        rank.forwardGathered(features, labels, rowCounts, beta, iteration++);
        forwarded = true;
        return rank.loss();
    }

    /** dL/dX of this rank's rows ({@link #ownRows()} x D, this head's buffer); dW added into the block's gradient. */
    @Override
    public float[] backward() {
        if (!forwarded) {
            throw new IllegalStateException("backward called before forward");
        }
        rank.backwardScattered(localDx, rowCounts);
        return localDx;
    }

    /** Samples of the whole batch (every rank's rows) whose plain-logit prediction is their label: the same on every rank. */
    @Override
    public int correct() {
        if (!forwarded) {
            throw new IllegalStateException("correct called before forward");
        }
        rank.predict(predictions);
        int[] labels = rank.batchLabels();
        int count = 0;
        for (int i = 0; i < predictions.length; i++) {
            if (predictions[i] == labels[i]) {
                count++;
            }
        }
        return count;
    }

    @Override
    public void setLoss(MarginLoss newLoss) {
        if (!newLoss.equals(loss)) {
            HeadChecks.checkSameKind(loss, newLoss);
            rank.pass().setLoss(newLoss);
            loss = newLoss;
        }
    }

    @Override
    public MarginLoss loss() {
        return loss;
    }

    @Override
    public HeadShape shape() {
        return shape;
    }

    @Override
    public String description() {
        return "rank " + collective.rank() + " of " + collective.size() + " (classes " + rank.classStart() + "-"
                + (rank.classStart() + rank.classCount() - 1) + ", rows " + ownRowStart() + "-" + (ownRowStart() + ownRows - 1)
                + " of each batch): " + rank.pass().deviceDescription();
    }

    /** This rank's W block only. */
    @Override
    public List<Parameter> weightParameters() {
        return List.of(rank.weights());
    }

    @Override
    public RowSelection touchedRows(Parameter parameter) {
        return parameter == rank.weights() ? rank.selection() : null;
    }

    public ShardRank shardRank() {
        return rank;
    }

    public Collective collective() {
        return collective;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            rank.pass().close();
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the head is closed");
        }
    }
}
