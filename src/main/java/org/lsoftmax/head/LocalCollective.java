package org.lsoftmax.head;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;

/**
 * The in-process {@link Collective}: K ranks that are K threads of one JVM, exchanging their arrays
 * through shared slots and a barrier. Every operation is two barriers: all ranks put their array in
 * their slot; each reads what it needs (combining the ranks in rank order: the result does not depend on
 * which thread came first); then all write their own results. When one rank fails, {@link Group#abort}
 * breaks the barrier, so the others stop waiting with a {@link AbortedException} instead of hanging;
 * {@link Group#reset} makes the group usable again once every rank has returned.
 */
public final class LocalCollective implements Collective {

    /** The shared part of a group of ranks. */
    public static final class Group {
        private final int size;
        private final Object[] slots;
        private final CyclicBarrier barrier;
        private volatile boolean aborted;

        private Group(int size) {
            this.size = size;
            this.slots = new Object[size];
            this.barrier = new CyclicBarrier(size);
        }

        /** Breaks the barrier: every rank waiting in (or entering) an operation gets an {@link AbortedException}. */
        public void abort() {
            aborted = true;
            barrier.reset();
        }

        /** After an abort, once no rank is inside an operation: the group works again. */
        public void reset() {
            aborted = false;
            barrier.reset();
            java.util.Arrays.fill(slots, null);
        }

        public int size() {
            return size;
        }

        private void await() {
            if (aborted) {
                throw new AbortedException();
            }
            try {
                barrier.await();
            } catch (BrokenBarrierException e) {
                throw new AbortedException();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                abort();
                throw new AbortedException();
            }
        }
    }

    /** A rank stopped waiting because another rank of its group failed. */
    public static final class AbortedException extends RuntimeException {
        AbortedException() {
            super("another shard of the head failed", null, false, false);
        }
    }

    private final Group group;
    private final int rank;
    private double[] doubleScratch = new double[0];
    private float[] floatScratch = new float[0];
    private long payloadBytes;

    private LocalCollective(Group group, int rank) {
        this.group = group;
        this.rank = rank;
    }

    /** The K ranks of a new group, rank k at index k. */
    public static List<LocalCollective> create(int size) {
        if (size < 1) {
            throw new IllegalArgumentException("a group needs at least one rank, got " + size);
        }
        Group group = new Group(size);
        List<LocalCollective> ranks = new ArrayList<>(size);
        for (int rank = 0; rank < size; rank++) {
            ranks.add(new LocalCollective(group, rank));
        }
        return ranks;
    }

    public Group group() {
        return group;
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return group.size;
    }

    @Override
    public long payloadBytes() {
        return payloadBytes;
    }

    @Override
    public void broadcast(float[] values, int root) {
        broadcastArray(values, values.length, root);
    }

    @Override
    public void broadcast(int[] values, int root) {
        broadcastArray(values, values.length, root);
    }

    @Override
    public void allReduce(double[] values, Reduction reduction) {
        payloadBytes += 8L * values.length;
        if (group.size == 1) {
            return;
        }
        group.slots[rank] = values;
        group.await();
        if (doubleScratch.length < values.length) {
            doubleScratch = new double[values.length];
        }
        double[] result = doubleScratch;
        double[] first = (double[]) group.slots[0];
        checkLength(first.length, values.length);
        System.arraycopy(first, 0, result, 0, values.length);
        for (int k = 1; k < group.size; k++) {
            double[] other = (double[]) group.slots[k];
            checkLength(other.length, values.length);
            switch (reduction) {
                case MAX -> {
                    for (int i = 0; i < values.length; i++) {
                        result[i] = Math.max(result[i], other[i]);
                    }
                }
                case MIN -> {
                    for (int i = 0; i < values.length; i++) {
                        result[i] = Math.min(result[i], other[i]);
                    }
                }
                case SUM -> {
                    for (int i = 0; i < values.length; i++) {
                        result[i] += other[i];
                    }
                }
            }
        }
        group.await();
        System.arraycopy(result, 0, values, 0, values.length);
    }

    @Override
    public void reduceSum(float[] values, int root) {
        payloadBytes += 4L * values.length;
        if (group.size == 1) {
            return;
        }
        group.slots[rank] = values;
        group.await();
        if (rank == root) {
            if (floatScratch.length < values.length) {
                floatScratch = new float[values.length];
            }
            for (int k = 0; k < group.size; k++) {
                checkLength(((float[]) group.slots[k]).length, values.length);
            }
            for (int i = 0; i < values.length; i++) {
                double sum = 0.0;
                for (int k = 0; k < group.size; k++) {
                    sum += ((float[]) group.slots[k])[i];
                }
                floatScratch[i] = (float) sum;
            }
        }
        group.await();
        if (rank == root) {
            System.arraycopy(floatScratch, 0, values, 0, values.length);
        }
    }

    @Override
    public void allGather(float[] part, float[] whole, int[] counts) {
        gatherArrays(part, part.length, whole, whole.length, counts, true);
    }

    @Override
    public void allGather(int[] part, int[] whole, int[] counts) {
        gatherArrays(part, part.length, whole, whole.length, counts, true);
    }

    @Override
    public void reduceScatterSum(float[] whole, float[] part, int[] counts) {
        int total = checkCounts(counts, part.length, whole.length);
        payloadBytes += 4L * total;
        group.slots[rank] = whole;
        group.await();
        int offset = 0;
        for (int k = 0; k < rank; k++) {
            offset += counts[k];
        }
        for (int i = 0; i < counts[rank]; i++) {
            double sum = 0.0;
            for (int k = 0; k < group.size; k++) {
                sum += ((float[]) group.slots[k])[offset + i];
            }
            part[i] = (float) sum;
        }
        group.await();
    }

    @Override
    public void allReduceSum(float[] values) {
        payloadBytes += 4L * values.length;
        if (group.size == 1) {
            return;
        }
        group.slots[rank] = values;
        group.await();
        if (floatScratch.length < values.length) {
            floatScratch = new float[values.length];
        }
        float[] result = floatScratch;
        System.arraycopy((float[]) group.slots[0], 0, result, 0, values.length);
        for (int k = 1; k < group.size; k++) {
            float[] other = (float[]) group.slots[k];
            checkLength(other.length, values.length);
            for (int i = 0; i < values.length; i++) {
                result[i] += other[i];
            }
        }
        group.await();
        System.arraycopy(result, 0, values, 0, values.length);
    }

    @Override
    public void gather(float[] part, float[] whole, int[] counts, int root) {
        gatherArrays(part, part.length, whole, rank == root ? whole.length : Integer.MAX_VALUE, counts, rank == root);
    }

    @Override
    public void barrier() {
        if (group.size > 1) {
            group.await();
        }
    }

    /** Checks a layout of per-rank counts against this rank's part and whole; returns sum(counts). */
    /** Broadcast of a float[] or int[] (4-byte elements; System.arraycopy takes either). */
    private void broadcastArray(Object values, int length, int root) {
        payloadBytes += 4L * length;
        if (group.size == 1) {
            return;
        }
        group.slots[rank] = values;
        group.await();
        if (rank != root) {
            Object source = group.slots[root];
            checkLength(java.lang.reflect.Array.getLength(source), length);
            System.arraycopy(source, 0, values, 0, length);
        }
        group.await();
    }

    /** Every rank's first counts[k] values of its part, in rank order, into {@code whole} where {@code receives}; float[] or int[]. */
    private void gatherArrays(Object part, int partLength, Object whole, int wholeLength, int[] counts, boolean receives) {
        checkCounts(counts, partLength, wholeLength);
        payloadBytes += 4L * counts[rank];
        group.slots[rank] = part;
        group.await();
        if (receives) {
            int offset = 0;
            for (int k = 0; k < group.size; k++) {
                System.arraycopy(group.slots[k], 0, whole, offset, counts[k]);
                offset += counts[k];
            }
        }
        group.await();
    }

    private int checkCounts(int[] counts, int partLength, int wholeLength) {
        if (counts.length != group.size) {
            throw new IllegalArgumentException(counts.length + " counts for " + group.size + " ranks");
        }
        long total = 0;
        for (int count : counts) {
            if (count < 0) {
                throw new IllegalArgumentException("a negative count: " + java.util.Arrays.toString(counts));
            }
            total += count;
        }
        if (counts[rank] > partLength || total > wholeLength) {
            throw new IllegalArgumentException("counts " + java.util.Arrays.toString(counts) + " do not fit a part of " + partLength
                    + " and a whole of " + wholeLength + " values on rank " + rank);
        }
        return (int) total;
    }

    private static void checkLength(int other, int own) {
        if (other != own) {
            throw new IllegalStateException("ranks passed arrays of " + other + " and " + own + " values to one operation");
        }
    }
}
