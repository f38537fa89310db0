package org.lsoftmax.head;

/**
 * The exchanges of the class-sharded head between its K shards ("ranks"), in the SPMD form of MPI: every
 * rank calls the same operations in the same order with arrays of the same length, and each call
 * returns when the exchange is done. Per training step {@link ShardedHead} uses (docs/SCALING.md):
 * <pre>
 *   broadcast(X, 0)               N*D floats     the features, from the rank that ran the trunk
 *   broadcast(labels, 0)          N ints
 *   allReduce(max, MAX)           N doubles      the row maxima
 *   allReduce(sums, SUM)          2N doubles     the rescaled sums of exp and the owned target logits
 *   reduceSum(dX part, 0)         N*D floats     the shards' parts of dL/dX, summed on rank 0
 * </pre>
 * and, for the predictions, two more N-double all-reduces (MAX of the values, MIN of the class index).
 * W, its gradient and its momentum never cross. The operations are those of MPI ({@code MPI_Bcast},
 * {@code MPI_Allreduce} with {@code MPI_MAX}/{@code MPI_MIN}/{@code MPI_SUM}, {@code MPI_Reduce}), so a
 * multi-process implementation over Open MPI (reached through java.lang.foreign) can stand in for
 * {@link LocalCollective}, the in-process one; reductions combine the ranks in rank order, so results do
 * not depend on timing.
 */
public interface Collective {

    /** The element-wise operations of {@link #allReduce}. */
    enum Reduction { MAX, MIN, SUM }

    /** This rank, in [0, size). */
    int rank();

    /** K, the number of ranks. */
    int size();

    /** Copies {@code root}'s values into every other rank's array (in place). */
    void broadcast(float[] values, int root);

    /** Copies {@code root}'s values into every other rank's array (in place). */
    void broadcast(int[] values, int root);

    /** Element-wise reduction over every rank's array, in rank order; every rank receives the result (in place). */
    void allReduce(double[] values, Reduction reduction);

    /** Element-wise sum over every rank's array (in rank order, in double) into {@code root}'s array; the others keep theirs. */
    void reduceSum(float[] values, int root);

    /**
     * Every rank's first {@code counts[r]} values of {@code part}, one after another in rank order, into
     * every rank's {@code whole} (at least {@code sum(counts)} long): the data-parallel trunk's features,
     * gathered for the head ({@link DistributedHead}). {@code counts} is the same on every rank.
     */
    void allGather(float[] part, float[] whole, int[] counts);

    /** As {@link #allGather(float[], float[], int[])}, for labels. */
    void allGather(int[] part, int[] whole, int[] counts);

    /**
     * The element-wise sum over every rank's {@code whole} (rank order, in double, rounded once), of which
     * rank r keeps the {@code counts[r]} values that follow those of the ranks before it, in {@code part}:
     * dL/dX of a data-parallel trunk, each rank receiving its own rows.
     */
    void reduceScatterSum(float[] whole, float[] part, int[] counts);

    /** The element-wise float sum over every rank's {@code values}, into every rank's (in place): the trunk's gradients. */
    void allReduceSum(float[] values);

    /** Rank r's first {@code counts[r]} values of {@code part}, one after another in rank order, into root's {@code whole}. */
    void gather(float[] part, float[] whole, int[] counts, int root);

    /** Returns when every rank has called it. */
    void barrier();

    /** Payload bytes this rank has passed to the collective's operations so far (its own arrays' sizes). */
    long payloadBytes();

    /** Bytes this rank has sent to the other ranks so far, as the transport counts them; -1 where nothing is sent (one process). */
    default long bytesSent() {
        return -1;
    }

    /** Bytes this rank has received from the other ranks so far; -1 where nothing is received (one process). */
    default long bytesReceived() {
        return -1;
    }
}
