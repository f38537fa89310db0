package org.lsoftmax.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.lsoftmax.head.Collective;
import org.lsoftmax.head.DistributedHead;
import org.lsoftmax.model.Parameter;

/**
 * What the training loop of one process of a data-parallel job needs from its {@link Collective}
 * besides the head's exchanges (docs/SCALING.md, "Training across processes"): which rows of each
 * batch are this rank's, one verdict for a step that may have diverged on any rank, the sum of the
 * trunk replicas' gradients, and a check that the replicas are still equal.
 *
 * <p>Every rank must call the same methods in the same order: a rank that stopped calling would leave
 * the others waiting, so a local problem (a NaN in this rank's features) is never acted on alone but
 * passed through {@link #agree} first.
 */
public final class DataParallel {

    private final Collective collective;
    /** The trunk's gradients packed for one all-reduce; sized on first use, reused every step. */
    private float[] packedGradients = new float[0];
    private final double[] verdict = new double[1];
    private final double[] offendingValue = new double[5];

    public DataParallel(Collective collective) {
        this.collective = collective;
    }

    public Collective collective() {
        return collective;
    }

    public int rank() {
        return collective.rank();
    }

    public int size() {
        return collective.size();
    }

    /** Rank 0: the one that writes the run folder's shared files and logs for the job. */
    public boolean isLeader() {
        return collective.rank() == 0;
    }

    /** This rank's first row of a batch (or an evaluation chunk) of {@code rows}: floor(rows r / K). */
    public int rowStart(int rows) {
        return DistributedHead.rowStart(rows, size(), rank());
    }

    /** This rank's number of rows of a batch of {@code rows}. */
    public int ownRows(int rows) {
        return DistributedHead.rowStart(rows, size(), rank() + 1) - rowStart(rows);
    }

    /** Every rank's number of rows of a batch of {@code rows}, in rank order. */
    public int[] rowCounts(int rows) {
        return DistributedHead.rowCounts(rows, size());
    }

    /**
     * One verdict for the whole job from each rank's own check: null when no rank found a problem,
     * else the problem of the lowest rank that found one, the same on every rank. The ranks that did not
     * find it receive its value and position under {@code what} (the check's name, the same on every
     * rank), with the rank named; a row is a row of the whole batch ({@code rowOffset} is this rank's
     * first row, added to the row of a problem found here).
     */
    public OffendingValue agree(OffendingValue local, String what, int rowOffset) {
        verdict[0] = local == null ? size() : rank();
        collective.allReduce(verdict, Collective.Reduction.MIN);
        int offender = (int) verdict[0];
        if (offender == size()) {
            return null;
        }
        boolean mine = offender == rank();
        offendingValue[0] = mine ? local.value() : 0.0;
        offendingValue[1] = mine ? local.limit() : 0.0;
        offendingValue[2] = mine ? local.index() : 0.0;
        offendingValue[3] = mine ? (local.row() >= 0 ? local.row() + rowOffset : -1) : 0.0;
        offendingValue[4] = mine ? local.column() : 0.0;
        collective.allReduce(offendingValue, Collective.Reduction.SUM);
        // every rank builds the same value from the sums (the offender alone knows the tensor's own name)
        return new OffendingValue((mine ? local.tensor() : what) + " (on rank " + offender + ")", (int) offendingValue[2],
                offendingValue[0], offendingValue[1], (int) offendingValue[3], (int) offendingValue[4]);
    }

    /**
     * Sums the gradients of {@code trunk} (the parameters every rank holds a replica of) over the ranks,
     * in place: each replica's gradient covers only its rows of the batch, the loss is the whole batch's.
     */
    public void sumGradients(List<Parameter> trunk) {
        int total = 0;
        for (Parameter parameter : trunk) {
            total += parameter.size();
        }
        if (packedGradients.length != total) {
            packedGradients = new float[total];
        }
        int offset = 0;
        for (Parameter parameter : trunk) {
            System.arraycopy(parameter.gradient(), 0, packedGradients, offset, parameter.size());
            offset += parameter.size();
        }
        collective.allReduceSum(packedGradients);
        offset = 0;
        for (Parameter parameter : trunk) {
            System.arraycopy(packedGradients, offset, parameter.gradient(), 0, parameter.size());
            offset += parameter.size();
        }
    }

    /**
     * Checks that every rank's replica of {@code trunk} holds the same values (they receive the same
     * summed gradients and apply the same update, so they must): a digest of the values' bits compared
     * by an all-reduce of its minimum and maximum.
     *
     * @throws IllegalStateException naming the ranks' digests when they differ
     */
    public void checkReplicasEqual(List<Parameter> trunk) {
        long digest = 1125899906842597L;
        for (Parameter parameter : trunk) {
            for (float value : parameter.value()) {
                digest = 31 * digest + Float.floatToRawIntBits(value);
            }
        }
        // a 52-bit digest travels exactly in a double
        double mine = (double) (digest & ((1L << 52) - 1));
        double[] range = {mine, -mine};
        collective.allReduce(range, Collective.Reduction.MAX);
        if (range[0] != mine || -range[1] != mine) {
            throw new IllegalStateException(String.format(Locale.ROOT,
                    "the trunk replicas differ between ranks (digest on rank %d %.0f, range [%.0f, %.0f]): the MPI sum of "
                            + "their gradients did not give every rank the same bits", rank(), mine, -range[1], range[0]));
        }
    }

    /** This rank's counters so far: payload bytes, bytes sent, bytes received (-1: not counted). */
    long[] exchanged() {
        return new long[] {collective.payloadBytes(), collective.bytesSent(), collective.bytesReceived()};
    }

    /** "payload 263.0 KiB, sent 140.2 KiB, received 260.1 KiB" per step, from two readings of {@link #exchanged}. */
    static String exchangeText(long[] before, long[] after, int steps) {
        StringBuilder text = new StringBuilder(String.format(Locale.ROOT, "payload %.1f KiB", (after[0] - before[0]) / 1024.0 / steps));
        if (after[1] >= 0) {
            text.append(String.format(Locale.ROOT, ", sent %.1f KiB, received %.1f KiB", (after[1] - before[1]) / 1024.0 / steps,
                    (after[2] - before[2]) / 1024.0 / steps));
        }
        return text.toString();
    }

    /** The parameters of {@code all} that are not the head's class weights: the trunk's. */
    static List<Parameter> trunkOf(List<Parameter> all, List<Parameter> classWeights) {
        List<Parameter> trunk = new ArrayList<>();
        for (Parameter parameter : all) {
            if (!classWeights.contains(parameter)) {
                trunk.add(parameter);
            }
        }
        return trunk;
    }
}
