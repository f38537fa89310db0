package org.lsoftmax.head.mpi;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.lsoftmax.head.Collective;

/**
 * The {@link Collective} of a job of K processes, one shard each, over Open MPI ({@link Mpi}). Every
 * operation copies the caller's array into an off-heap segment this collective keeps (grown only when a
 * larger array comes: a training step allocates nothing), calls MPI, and copies the result back.
 *
 * <p>Results are those of {@link org.lsoftmax.head.LocalCollective} bit for bit: MAX and MIN are exact in
 * any order, so they are {@code MPI_Allreduce}; a SUM of doubles is an {@code MPI_Allgather} of every
 * rank's array followed by the sum in rank order on every rank (MPI does not promise one order, nor the
 * same result on every rank), and {@link #reduceSum} an {@code MPI_Gather} to the root summed there in
 * rank order in double. The arrays summed so are the head's per-sample vectors and dX, small beside W.
 */
public final class MpiCollective implements Collective, AutoCloseable {

    private final Mpi mpi;
    private final int rank;
    private final int size;
    private final Arena arena = Arena.ofShared();
    private MemorySegment send = MemorySegment.NULL;
    private MemorySegment receive = MemorySegment.NULL;
    private final MemorySegment counts;
    private final MemorySegment offsets;
    private final MemorySegment receiveCounts;
    private final MemorySegment receiveOffsets;
    private double[] gatheredDoubles = new double[0];
    private long payloadBytes;
    private boolean closed;

    private MpiCollective(Mpi mpi) {
        this.mpi = mpi;
        this.rank = mpi.rank();
        this.size = mpi.size();
        this.counts = arena.allocate(ValueLayout.JAVA_INT, size);
        this.offsets = arena.allocate(ValueLayout.JAVA_INT, size);
        this.receiveCounts = arena.allocate(ValueLayout.JAVA_INT, size);
        this.receiveOffsets = arena.allocate(ValueLayout.JAVA_INT, size);
    }

    /** Initialises MPI in this process (it must have been started by mpirun) and joins MPI_COMM_WORLD. */
    public static MpiCollective join() {
        return new MpiCollective(Mpi.init());
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return size;
    }

    /** What this rank handed to MPI for the other ranks (a collective's own part counts once per receiver: see {@link Mpi#bytesSent}). */
    @Override
    public long bytesSent() {
        return mpi.bytesSent();
    }

    @Override
    public long bytesReceived() {
        return mpi.bytesReceived();
    }

    /** The session underneath (its byte counters: what MPI was handed and gave back). */
    public Mpi mpi() {
        return mpi;
    }

    @Override
    public long payloadBytes() {
        return payloadBytes;
    }

    @Override
    public void broadcast(float[] values, int root) {
        payloadBytes += 4L * values.length;
        MemorySegment buffer = sendBuffer(4L * values.length);
        if (rank == root) {
            MemorySegment.copy(values, 0, buffer, ValueLayout.JAVA_FLOAT, 0, values.length);
        }
        mpi.broadcast(buffer, Mpi.Type.FLOAT, values.length, root);
        if (rank != root) {
            MemorySegment.copy(buffer, ValueLayout.JAVA_FLOAT, 0, values, 0, values.length);
        }
    }

    @Override
    public void broadcast(int[] values, int root) {
        payloadBytes += 4L * values.length;
        MemorySegment buffer = sendBuffer(4L * values.length);
        if (rank == root) {
            MemorySegment.copy(values, 0, buffer, ValueLayout.JAVA_INT, 0, values.length);
        }
        mpi.broadcast(buffer, Mpi.Type.INT, values.length, root);
        if (rank != root) {
            MemorySegment.copy(buffer, ValueLayout.JAVA_INT, 0, values, 0, values.length);
        }
    }

    @Override
    public void allReduce(double[] values, Reduction reduction) {
        payloadBytes += 8L * values.length;
        int n = values.length;
        if (reduction != Reduction.SUM) {
            MemorySegment buffer = sendBuffer(8L * n);
            MemorySegment.copy(values, 0, buffer, ValueLayout.JAVA_DOUBLE, 0, n);
            mpi.allreduce(buffer, Mpi.Type.DOUBLE, n, reduction == Reduction.MAX ? Mpi.Op.MAX : Mpi.Op.MIN);
            MemorySegment.copy(buffer, ValueLayout.JAVA_DOUBLE, 0, values, 0, n);
            return;
        }
        MemorySegment own = sendBuffer(8L * n);
        MemorySegment all = receiveBuffer(8L * n * size);
        MemorySegment.copy(values, 0, own, ValueLayout.JAVA_DOUBLE, 0, n);
        mpi.allgather(own, all, Mpi.Type.DOUBLE, n);
        if (gatheredDoubles.length < n * size) {
            gatheredDoubles = new double[n * size];
        }
        MemorySegment.copy(all, ValueLayout.JAVA_DOUBLE, 0, gatheredDoubles, 0, n * size);
        // rank order, as LocalCollective: rank 0's value, then + rank 1's, ...
        System.arraycopy(gatheredDoubles, 0, values, 0, n);
        for (int k = 1; k < size; k++) {
            int from = k * n;
            for (int i = 0; i < n; i++) {
                values[i] += gatheredDoubles[from + i];
            }
        }
    }

    @Override
    public void reduceSum(float[] values, int root) {
        payloadBytes += 4L * values.length;
        int n = values.length;
        MemorySegment own = sendBuffer(4L * n);
        MemorySegment all = receiveBuffer(rank == root ? 4L * n * size : 0);
        MemorySegment.copy(values, 0, own, ValueLayout.JAVA_FLOAT, 0, n);
        mpi.gather(own, all, Mpi.Type.FLOAT, n, root);
        if (rank == root) {
            for (int i = 0; i < n; i++) {
                double sum = 0.0;
                for (int k = 0; k < size; k++) {
                    sum += all.getAtIndex(ValueLayout.JAVA_FLOAT, (long) k * n + i);
                }
                values[i] = (float) sum;
            }
        }
    }

    @Override
    public void allGather(float[] part, float[] whole, int[] counts) {
        int total = layout(counts, part.length, whole.length);
        payloadBytes += 4L * counts[rank];
        MemorySegment own = sendBuffer(4L * counts[rank]);
        MemorySegment all = receiveBuffer(4L * total);
        MemorySegment.copy(part, 0, own, ValueLayout.JAVA_FLOAT, 0, counts[rank]);
        mpi.allgatherv(own, counts[rank], all, this.counts, offsets, Mpi.Type.FLOAT);
        MemorySegment.copy(all, ValueLayout.JAVA_FLOAT, 0, whole, 0, total);
    }

    @Override
    public void allGather(int[] part, int[] whole, int[] counts) {
        int total = layout(counts, part.length, whole.length);
        payloadBytes += 4L * counts[rank];
        MemorySegment own = sendBuffer(4L * counts[rank]);
        MemorySegment all = receiveBuffer(4L * total);
        MemorySegment.copy(part, 0, own, ValueLayout.JAVA_INT, 0, counts[rank]);
        mpi.allgatherv(own, counts[rank], all, this.counts, offsets, Mpi.Type.INT);
        MemorySegment.copy(all, ValueLayout.JAVA_INT, 0, whole, 0, total);
    }

    /**
     * An all-to-all: rank r sends block s of its {@code whole} to rank s, and sums the K blocks it receives
     * in rank order in double (as {@link org.lsoftmax.head.LocalCollective}); each rank sends and receives
     * {@code (K-1)/K} of the vector, as a reduce-scatter does.
     */
    @Override
    public void reduceScatterSum(float[] whole, float[] part, int[] counts) {
        int total = layout(counts, part.length, whole.length);
        payloadBytes += 4L * total;
        int mine = counts[rank];
        MemorySegment own = sendBuffer(4L * total);
        MemorySegment blocks = receiveBuffer(4L * mine * size);
        MemorySegment.copy(whole, 0, own, ValueLayout.JAVA_FLOAT, 0, total);
        for (int k = 0; k < size; k++) {
            receiveCounts.setAtIndex(ValueLayout.JAVA_INT, k, mine);
            receiveOffsets.setAtIndex(ValueLayout.JAVA_INT, k, k * mine);
        }
        mpi.alltoallv(own, this.counts, offsets, blocks, receiveCounts, receiveOffsets, Mpi.Type.FLOAT);
        for (int i = 0; i < mine; i++) {
            double sum = 0.0;
            for (int k = 0; k < size; k++) {
                sum += blocks.getAtIndex(ValueLayout.JAVA_FLOAT, (long) k * mine + i);
            }
            part[i] = (float) sum;
        }
    }

    /** {@code MPI_Allreduce} in float: with two ranks a + b on both (the order of MPI's combination does not matter). */
    @Override
    public void allReduceSum(float[] values) {
        payloadBytes += 4L * values.length;
        MemorySegment buffer = sendBuffer(4L * values.length);
        MemorySegment.copy(values, 0, buffer, ValueLayout.JAVA_FLOAT, 0, values.length);
        mpi.allreduce(buffer, Mpi.Type.FLOAT, values.length, Mpi.Op.SUM);
        MemorySegment.copy(buffer, ValueLayout.JAVA_FLOAT, 0, values, 0, values.length);
    }

    @Override
    public void gather(float[] part, float[] whole, int[] counts, int root) {
        int total = layout(counts, part.length, rank == root ? whole.length : Integer.MAX_VALUE);
        payloadBytes += 4L * counts[rank];
        MemorySegment own = sendBuffer(4L * counts[rank]);
        MemorySegment all = receiveBuffer(rank == root ? 4L * total : 0);
        MemorySegment.copy(part, 0, own, ValueLayout.JAVA_FLOAT, 0, counts[rank]);
        mpi.gatherv(own, counts[rank], all, this.counts, offsets, Mpi.Type.FLOAT, root);
        if (rank == root) {
            MemorySegment.copy(all, ValueLayout.JAVA_FLOAT, 0, whole, 0, total);
        }
    }

    @Override
    public void barrier() {
        mpi.barrier();
    }

    /** Ends the whole job with {@code exitCode} ({@code MPI_Abort}): every rank stops. */
    public void abort(int exitCode) {
        mpi.abort(exitCode);
    }

    /** Copies a per-rank layout into the off-heap counts and offsets; returns the total, checked against the arrays. */
    private int layout(int[] perRank, int partLength, int wholeLength) {
        if (perRank.length != size) {
            throw new IllegalArgumentException(perRank.length + " counts for " + size + " ranks");
        }
        long total = 0;
        for (int k = 0; k < size; k++) {
            if (perRank[k] < 0) {
                throw new IllegalArgumentException("a negative count: " + java.util.Arrays.toString(perRank));
            }
            counts.setAtIndex(ValueLayout.JAVA_INT, k, perRank[k]);
            offsets.setAtIndex(ValueLayout.JAVA_INT, k, (int) total);
            total += perRank[k];
        }
        if (perRank[rank] > partLength || total > wholeLength || total > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("counts " + java.util.Arrays.toString(perRank) + " do not fit a part of " + partLength
                    + " and a whole of " + wholeLength + " values on rank " + rank);
        }
        return (int) total;
    }

    /** Ends MPI in this process (every rank must). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        mpi.close();
        arena.close();
    }

    private MemorySegment sendBuffer(long bytes) {
        if (send.byteSize() < bytes) {
            send = arena.allocate(Math.max(bytes, 2 * send.byteSize()), 64);
        }
        return send;
    }

    private MemorySegment receiveBuffer(long bytes) {
        if (receive.byteSize() < bytes) {
            receive = arena.allocate(Math.max(bytes, 2 * receive.byteSize()), 64);
        }
        return receive;
    }
}
