package org.lsoftmax.head.mpi;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * Run as an MPI job by {@link MpiTest}: every collective of {@link Mpi} on values that depend on the rank,
 * checked against what they must give, and every refused call checked for its message. Prints one line per
 * rank, {@code rank r of K: n checks passed}, or {@code rank r: FAILED ...} and exits 1.
 */
public final class MpiSelfCheck {

    private final Mpi mpi;
    private final Arena arena;
    private final List<String> failures = new ArrayList<>();
    private int checks;

    private MpiSelfCheck(Mpi mpi, Arena arena) {
        this.mpi = mpi;
        this.arena = arena;
    }

    public static void main(String[] args) {
        Mpi mpi = Mpi.init();
        try (Arena arena = Arena.ofConfined()) {
            MpiSelfCheck check = new MpiSelfCheck(mpi, arena);
            check.run();
            mpi.barrier();
            if (!check.failures.isEmpty()) {
                System.out.println("rank " + mpi.rank() + ": FAILED " + check.failures);
                System.out.flush();
                mpi.close();
                System.exit(1);
            }
            System.out.println("rank " + mpi.rank() + " of " + mpi.size() + ": " + check.checks + " checks passed");
        }
        mpi.close();
    }

    private void run() {
        int rank = mpi.rank();
        int size = mpi.size();
        long sentBefore = mpi.bytesSent();
        long receivedBefore = mpi.bytesReceived();
        long expectSent = 0;
        long expectReceived = 0;

        // all-reduce, sum of floats: element i is rank + i on each rank
        MemorySegment floats = arena.allocate(ValueLayout.JAVA_FLOAT, 5);
        for (int i = 0; i < 5; i++) {
            floats.setAtIndex(ValueLayout.JAVA_FLOAT, i, rank + i);
        }
        mpi.allreduce(floats, Mpi.Type.FLOAT, 5, Mpi.Op.SUM);
        for (int i = 0; i < 5; i++) {
            same("allreduce float sum [" + i + "]", size * i + size * (size - 1) / 2.0,
                    floats.getAtIndex(ValueLayout.JAVA_FLOAT, i));
        }
        expectSent += 20;
        expectReceived += 20;

        // all-reduce, max of doubles: the largest rank wins, negated for the min
        MemorySegment doubles = arena.allocate(ValueLayout.JAVA_DOUBLE, 2);
        doubles.setAtIndex(ValueLayout.JAVA_DOUBLE, 0, rank * 1.5);
        doubles.setAtIndex(ValueLayout.JAVA_DOUBLE, 1, -rank * 1.5);
        mpi.allreduce(doubles, Mpi.Type.DOUBLE, 2, Mpi.Op.MAX);
        same("allreduce double max", (size - 1) * 1.5, doubles.getAtIndex(ValueLayout.JAVA_DOUBLE, 0));
        same("allreduce double max of negatives", 0.0, doubles.getAtIndex(ValueLayout.JAVA_DOUBLE, 1));
        doubles.setAtIndex(ValueLayout.JAVA_DOUBLE, 0, rank * 1.5);
        mpi.allreduce(doubles, Mpi.Type.DOUBLE, 1, Mpi.Op.MIN);
        same("allreduce double min", 0.0, doubles.getAtIndex(ValueLayout.JAVA_DOUBLE, 0));
        expectSent += 24;
        expectReceived += 24;

        // all-reduce, sum of longs beyond int range
        MemorySegment longs = arena.allocate(ValueLayout.JAVA_LONG, 1);
        longs.set(ValueLayout.JAVA_LONG, 0, (1L << 40) + rank);
        mpi.allreduce(longs, Mpi.Type.LONG, 1, Mpi.Op.SUM);
        same("allreduce long sum", size * (double) (1L << 40) + size * (size - 1) / 2.0, longs.get(ValueLayout.JAVA_LONG, 0));
        expectSent += 8;
        expectReceived += 8;

        // all-gather: rank r sends 10 r + j, j < 3
        MemorySegment send = arena.allocate(ValueLayout.JAVA_FLOAT, 3);
        MemorySegment gathered = arena.allocate(ValueLayout.JAVA_FLOAT, 3L * size);
        for (int j = 0; j < 3; j++) {
            send.setAtIndex(ValueLayout.JAVA_FLOAT, j, 10 * rank + j);
        }
        mpi.allgather(send, gathered, Mpi.Type.FLOAT, 3);
        for (int r = 0; r < size; r++) {
            for (int j = 0; j < 3; j++) {
                same("allgather [" + r + "][" + j + "]", 10 * r + j, gathered.getAtIndex(ValueLayout.JAVA_FLOAT, 3L * r + j));
            }
        }
        expectSent += 12;
        expectReceived += 12L * (size - 1);

        // gather to rank 0 only
        MemorySegment atRoot = arena.allocate(ValueLayout.JAVA_FLOAT, 3L * size);
        atRoot.fill((byte) 0);
        mpi.gather(send, atRoot, Mpi.Type.FLOAT, 3, 0);
        for (int r = 0; r < size; r++) {
            for (int j = 0; j < 3; j++) {
                same("gather [" + r + "][" + j + "]", rank == 0 ? 10 * r + j : 0, atRoot.getAtIndex(ValueLayout.JAVA_FLOAT, 3L * r + j));
            }
        }
        if (rank == 0) {
            expectReceived += 12L * (size - 1);
        } else {
            expectSent += 12;
        }

        // all-gather of unequal parts: rank r sends r + 1 ints, all equal to r, placed one after another
        MemorySegment counts = arena.allocate(ValueLayout.JAVA_INT, size);
        MemorySegment offsets = arena.allocate(ValueLayout.JAVA_INT, size);
        int total = 0;
        for (int r = 0; r < size; r++) {
            counts.setAtIndex(ValueLayout.JAVA_INT, r, r + 1);
            offsets.setAtIndex(ValueLayout.JAVA_INT, r, total);
            total += r + 1;
        }
        MemorySegment mine = arena.allocate(ValueLayout.JAVA_INT, rank + 1);
        for (int j = 0; j <= rank; j++) {
            mine.setAtIndex(ValueLayout.JAVA_INT, j, rank);
        }
        MemorySegment all = arena.allocate(ValueLayout.JAVA_INT, total);
        mpi.allgatherv(mine, rank + 1, all, counts, offsets, Mpi.Type.INT);
        int at = 0;
        for (int r = 0; r < size; r++) {
            for (int j = 0; j <= r; j++) {
                same("allgatherv [" + at + "]", r, all.getAtIndex(ValueLayout.JAVA_INT, at++));
            }
        }
        expectSent += 4L * (rank + 1);
        expectReceived += 4L * (total - rank - 1);

        // gatherv to the last rank: the same unequal parts
        MemorySegment allAtRoot = arena.allocate(ValueLayout.JAVA_INT, total);
        allAtRoot.fill((byte) -1);
        mpi.gatherv(mine, rank + 1, allAtRoot, counts, offsets, Mpi.Type.INT, size - 1);
        at = 0;
        for (int r = 0; r < size; r++) {
            for (int j = 0; j <= r; j++) {
                same("gatherv [" + at + "]", rank == size - 1 ? r : -1, allAtRoot.getAtIndex(ValueLayout.JAVA_INT, at++));
            }
        }
        if (rank == size - 1) {
            expectReceived += 4L * (total - rank - 1);
        } else {
            expectSent += 4L * (rank + 1);
        }

        // all-to-all: rank r sends s + 1 floats of value 100 r + s to rank s
        MemorySegment sendCounts = arena.allocate(ValueLayout.JAVA_INT, size);
        MemorySegment sendOffsets = arena.allocate(ValueLayout.JAVA_INT, size);
        MemorySegment receiveCounts = arena.allocate(ValueLayout.JAVA_INT, size);
        MemorySegment receiveOffsets = arena.allocate(ValueLayout.JAVA_INT, size);
        int sendTotal = 0;
        for (int s = 0; s < size; s++) {
            sendCounts.setAtIndex(ValueLayout.JAVA_INT, s, s + 1);
            sendOffsets.setAtIndex(ValueLayout.JAVA_INT, s, sendTotal);
            receiveCounts.setAtIndex(ValueLayout.JAVA_INT, s, rank + 1);
            receiveOffsets.setAtIndex(ValueLayout.JAVA_INT, s, s * (rank + 1));
            sendTotal += s + 1;
        }
        MemorySegment outgoing = arena.allocate(ValueLayout.JAVA_FLOAT, sendTotal);
        for (int s = 0, e = 0; s < size; s++) {
            for (int j = 0; j <= s; j++) {
                outgoing.setAtIndex(ValueLayout.JAVA_FLOAT, e++, 100 * rank + s);
            }
        }
        MemorySegment incoming = arena.allocate(ValueLayout.JAVA_FLOAT, (long) size * (rank + 1));
        mpi.alltoallv(outgoing, sendCounts, sendOffsets, incoming, receiveCounts, receiveOffsets, Mpi.Type.FLOAT);
        for (int s = 0; s < size; s++) {
            for (int j = 0; j <= rank; j++) {
                same("alltoallv from " + s + " [" + j + "]", 100 * s + rank,
                        incoming.getAtIndex(ValueLayout.JAVA_FLOAT, (long) s * (rank + 1) + j));
            }
        }
        expectSent += 4L * (sendTotal - rank - 1);
        expectReceived += 4L * (size - 1) * (rank + 1);

        // reduce to the last rank: sums of 2 r + i
        int root = size - 1;
        MemorySegment parts = arena.allocate(ValueLayout.JAVA_FLOAT, 4);
        MemorySegment reduced = arena.allocate(ValueLayout.JAVA_FLOAT, 4);
        for (int i = 0; i < 4; i++) {
            parts.setAtIndex(ValueLayout.JAVA_FLOAT, i, 2 * rank + i);
            reduced.setAtIndex(ValueLayout.JAVA_FLOAT, i, -1);
        }
        mpi.reduce(parts, reduced, Mpi.Type.FLOAT, 4, Mpi.Op.SUM, root);
        for (int i = 0; i < 4; i++) {
            double expected = rank == root ? size * (size - 1) + size * i : -1;
            same("reduce [" + i + "] on " + (rank == root ? "the root" : "a non-root (untouched)"), expected,
                    reduced.getAtIndex(ValueLayout.JAVA_FLOAT, i));
        }
        if (rank == root) {
            expectReceived += 16L * (size - 1);
        } else {
            expectSent += 16;
        }

        // reduce-scatter: rank r keeps r + 2 elements of the sum; element e of every rank's vector is e + rank
        MemorySegment scatterCounts = arena.allocate(ValueLayout.JAVA_INT, size);
        int scatterTotal = 0;
        int myStart = 0;
        for (int r = 0; r < size; r++) {
            scatterCounts.setAtIndex(ValueLayout.JAVA_INT, r, r + 2);
            if (r < rank) {
                myStart += r + 2;
            }
            scatterTotal += r + 2;
        }
        MemorySegment full = arena.allocate(ValueLayout.JAVA_DOUBLE, scatterTotal);
        for (int e = 0; e < scatterTotal; e++) {
            full.setAtIndex(ValueLayout.JAVA_DOUBLE, e, e + rank);
        }
        MemorySegment myPart = arena.allocate(ValueLayout.JAVA_DOUBLE, rank + 2);
        mpi.reduceScatter(full, myPart, scatterCounts, Mpi.Type.DOUBLE, Mpi.Op.SUM);
        for (int j = 0; j < rank + 2; j++) {
            same("reduce-scatter [" + j + "]", size * (double) (myStart + j) + size * (size - 1) / 2.0,
                    myPart.getAtIndex(ValueLayout.JAVA_DOUBLE, j));
        }
        expectSent += 8L * (scatterTotal - rank - 2);
        expectReceived += 8L * (rank + 2) * (size - 1);

        // broadcast from the last rank
        MemorySegment bytes = arena.allocate(7);
        for (int i = 0; i < 7; i++) {
            bytes.set(ValueLayout.JAVA_BYTE, i, (byte) (rank == root ? 40 + i : 0));
        }
        mpi.broadcast(bytes, Mpi.Type.BYTE, 7, root);
        for (int i = 0; i < 7; i++) {
            same("broadcast [" + i + "]", 40 + i, bytes.get(ValueLayout.JAVA_BYTE, i));
        }
        if (rank == root) {
            expectSent += 7;
        } else {
            expectReceived += 7;
        }

        same("bytes sent", expectSent, mpi.bytesSent() - sentBefore);
        same("bytes received", expectReceived, mpi.bytesReceived() - receivedBefore);

        // refused before C sees them: every rank refuses alike, so no rank is left waiting
        refused("a buffer too small", () -> mpi.allreduce(floats, Mpi.Type.FLOAT, 6, Mpi.Op.SUM),
                "buffer holds 20 bytes, 6 FLOAT need 24");
        refused("a count beyond int", () -> mpi.allreduce(floats, Mpi.Type.FLOAT, 1L << 31, Mpi.Op.SUM),
                "do not fit MPI's int count");
        refused("a root that is no rank", () -> mpi.broadcast(bytes, Mpi.Type.BYTE, 1, size), "root " + size + " is not a rank");
        refused("a heap segment", () -> mpi.allreduce(MemorySegment.ofArray(new float[4]), Mpi.Type.FLOAT, 4, Mpi.Op.SUM),
                "heap segment");
        refused("a receive buffer too small for the layout",
                () -> mpi.allgatherv(mine, rank + 1, arena.allocate(ValueLayout.JAVA_INT, 1), counts, offsets, Mpi.Type.INT),
                size == 1 ? "no refusal expected" : "receive (rank");
        refused("a send count that is not counts[rank]",
                () -> mpi.allgatherv(mine, rank, all, counts, offsets, Mpi.Type.INT), "but counts[" + rank + "] is");
        refused("a gather whose receive buffer cannot hold every rank's part",
                () -> mpi.allgather(send, arena.allocate(ValueLayout.JAVA_FLOAT, 3L * size - 1), Mpi.Type.FLOAT, 3),
                "receive holds");
        mpi.barrier();
        checks++;
        double before = mpi.wtime();
        same("MPI_Wtime advances", 1, mpi.wtime() >= before ? 1 : 0);
        same("version names Open MPI", 1, mpi.libraryVersion().startsWith("Open MPI") ? 1 : 0);
    }

    private void same(String what, double expected, double actual) {
        checks++;
        if (expected != actual) {
            failures.add(what + ": expected " + expected + ", got " + actual);
        }
    }

    private void refused(String what, Runnable call, String messagePart) {
        checks++;
        try {
            call.run();
            if (!messagePart.equals("no refusal expected")) {
                failures.add(what + ": was not refused");
            }
        } catch (MpiException e) {
            if (!e.getMessage().contains(messagePart) || !e.getMessage().contains("rank " + mpi.rank())) {
                failures.add(what + ": message \"" + e.getMessage() + "\" lacks \"" + messagePart + "\" or the rank");
            }
        }
    }
}
