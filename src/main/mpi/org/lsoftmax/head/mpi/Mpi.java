package org.lsoftmax.head.mpi;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * One process's MPI session over {@code MPI_COMM_WORLD}: the collectives the sharded head uses, on
 * off-heap segments (the callers allocate them once and reuse them every step, so a step allocates
 * nothing here), each call checked before it reaches C (a count or a buffer too small for it is refused
 * in Java, where a C library would read past the end) and each failure one {@link MpiException}.
 *
 * <p>MPI can be initialised once per process: {@link #init()} returns the one session, {@link #close()}
 * finalises it. Calls are serialised ({@code MPI_THREAD_SERIALIZED}): any thread may call, one at a time.
 *
 * <p>Every call adds what this rank hands to MPI and what it gets back to {@link #bytesSent()} and
 * {@link #bytesReceived()}: the payload of the collectives, which {@code docs/SCALING.md} compares with
 * the formula of a step. (What the transport moves depends on the algorithm Open MPI picks: a ring
 * all-reduce of n bytes sends about 2 (K-1)/K n from each rank.)
 */
public final class Mpi implements AutoCloseable {

    /** The element types the head exchanges. */
    public enum Type {
        FLOAT(4), DOUBLE(8), INT(4), LONG(8), BYTE(1);

        final int bytes;

        Type(int bytes) {
            this.bytes = bytes;
        }

        /** Bytes of one element. */
        public int bytes() {
            return bytes;
        }
    }

    /** The reduction operations. */
    public enum Op {
        SUM, MAX, MIN
    }

    private static Mpi session;

    private final MpiLibrary library;
    private final int rank;
    private final int size;
    private long bytesSent;
    private long bytesReceived;
    private boolean finalised;

    private Mpi(MpiLibrary library, int rank, int size) {
        this.library = library;
        this.rank = rank;
        this.size = size;
    }

    /**
     * Initialises MPI (once per process) and returns the session; later calls return the same session
     * until it is closed, after which MPI cannot be initialised again.
     *
     * @throws MpiException when there is no Open MPI library, or MPI_Init_thread fails
     */
    public static synchronized Mpi init() {
        if (session != null) {
            if (session.finalised) {
                throw new MpiException("MPI was finalised in this process and cannot be initialised again");
            }
            return session;
        }
        MpiLibrary library = MpiLibrary.open();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment flag = arena.allocate(ValueLayout.JAVA_INT);
            check(library, -1, "MPI_Initialized", (int) library.initialized.invokeExact(flag));
            if (flag.get(ValueLayout.JAVA_INT, 0) != 0) {
                throw new MpiException("MPI is already initialised in this process by someone else");
            }
            MemorySegment provided = arena.allocate(ValueLayout.JAVA_INT);
            check(library, -1, "MPI_Init_thread", (int) library.initThread.invokeExact(MemorySegment.NULL,
                    MemorySegment.NULL, MpiLibrary.THREAD_SERIALIZED, provided));
            if (provided.get(ValueLayout.JAVA_INT, 0) < MpiLibrary.THREAD_SERIALIZED) {
                throw new MpiException("this Open MPI provides thread level " + provided.get(ValueLayout.JAVA_INT, 0)
                        + ", below MPI_THREAD_SERIALIZED (2) which a JVM needs");
            }
            check(library, -1, "MPI_Comm_set_errhandler",
                    (int) library.commSetErrhandler.invokeExact(library.commWorld, library.errorsReturn));
            MemorySegment value = arena.allocate(ValueLayout.JAVA_INT);
            check(library, -1, "MPI_Comm_rank", (int) library.commRank.invokeExact(library.commWorld, value));
            int rank = value.get(ValueLayout.JAVA_INT, 0);
            check(library, rank, "MPI_Comm_size", (int) library.commSize.invokeExact(library.commWorld, value));
            session = new Mpi(library, rank, value.get(ValueLayout.JAVA_INT, 0));
            return session;
        } catch (MpiException e) {
            throw e;
        } catch (Throwable e) {
            throw new MpiException("MPI could not be initialised: " + e);
        }
    }

    /** This process's rank in MPI_COMM_WORLD. */
    public int rank() {
        return rank;
    }

    /** The number of ranks. */
    public int size() {
        return size;
    }

    /** Payload bytes this rank has handed to collectives so far. */
    public synchronized long bytesSent() {
        return bytesSent;
    }

    /** Payload bytes this rank has received from collectives so far. */
    public synchronized long bytesReceived() {
        return bytesReceived;
    }

    /** The library's own description ({@code MPI_Get_library_version}), first line. */
    public synchronized String libraryVersion() {
        live();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment text = arena.allocate(MpiLibrary.MAX_LIBRARY_VERSION_STRING + 1L);
            MemorySegment length = arena.allocate(ValueLayout.JAVA_INT);
            check("MPI_Get_library_version", (int) library.libraryVersion.invokeExact(text, length));
            String version = text.getString(0, StandardCharsets.US_ASCII);
            int newline = version.indexOf('\n');
            return (newline >= 0 ? version.substring(0, newline) : version).strip();
        } catch (MpiException e) {
            throw e;
        } catch (Throwable e) {
            throw failed("MPI_Get_library_version", e);
        }
    }

    /** Seconds on MPI's clock ({@code MPI_Wtime}). */
    public double wtime() {
        try {
            return (double) library.wtime.invokeExact();
        } catch (Throwable e) {
            throw failed("MPI_Wtime", e);
        }
    }

    /** Waits until every rank has called it. */
    public synchronized void barrier() {
        live();
        try {
            check("MPI_Barrier", (int) library.barrier.invokeExact(library.commWorld));
        } catch (MpiException e) {
            throw e;
        } catch (Throwable e) {
            throw failed("MPI_Barrier", e);
        }
    }

    /** Root's first {@code count} elements of {@code buffer} copied into every rank's. */
    public synchronized void broadcast(MemorySegment buffer, Type type, long count, int root) {
        live();
        int n = count("MPI_Bcast", count);
        fits("MPI_Bcast", "buffer", buffer, count, type);
        root("MPI_Bcast", root);
        try {
            check("MPI_Bcast", (int) library.bcast.invokeExact(buffer, n, handle(type), root, library.commWorld));
        } catch (MpiException e) {
            throw e;
        } catch (Throwable e) {
            throw failed("MPI_Bcast", e);
        }
        long bytes = count * type.bytes;
        if (rank == root) {
            bytesSent += bytes;
        } else {
            bytesReceived += bytes;
        }
    }

    /** The first {@code count} elements of {@code buffer} replaced, on every rank, by their reduction over ranks. */
    public synchronized void allreduce(MemorySegment buffer, Type type, long count, Op op) {
        live();
        int n = count("MPI_Allreduce", count);
        fits("MPI_Allreduce", "buffer", buffer, count, type);
        try {
            check("MPI_Allreduce", (int) library.allreduce.invokeExact(MpiLibrary.IN_PLACE, buffer, n, handle(type),
                    handle(op), library.commWorld));
        } catch (MpiException e) {
            throw e;
        } catch (Throwable e) {
            throw failed("MPI_Allreduce", e);
        }
        bytesSent += count * type.bytes;
        bytesReceived += count * type.bytes;
    }

    /**
     * Every rank's {@code countPerRank} elements of {@code send}, in rank order, into root's {@code receive}
     * ({@code size() * countPerRank} elements; not touched on the other ranks).
     */
    public synchronized void gather(MemorySegment send, MemorySegment receive, Type type, long countPerRank, int root) {
        live();
        int n = count("MPI_Gather", countPerRank);
        count("MPI_Gather", countPerRank * size);
        root("MPI_Gather", root);
        fits("MPI_Gather", "send", send, countPerRank, type);
        if (rank == root) {
            fits("MPI_Gather", "receive", receive, countPerRank * size, type);
        }
        MemorySegment typeHandle = handle(type);
        MemorySegment target = rank == root ? receive : MemorySegment.NULL;
        try {
            check("MPI_Gather", (int) library.gather.invokeExact(send, n, typeHandle, target, n, typeHandle, root,
                    library.commWorld));
        } catch (MpiException e) {
            throw e;
        } catch (Throwable e) {
            throw failed("MPI_Gather", e);
        }
        if (rank == root) {
            bytesReceived += countPerRank * (size - 1L) * type.bytes;
        } else {
            bytesSent += countPerRank * type.bytes;
        }
    }

    /**
     * Rank r's {@code counts[r]} elements of its {@code send}, placed at {@code offsets[r]} of root's
     * {@code receive} (the layout segments as {@link #allgatherv}'s; {@code receive} is not touched elsewhere).
     */
    public synchronized void gatherv(MemorySegment send, long sendCount, MemorySegment receive, MemorySegment counts,
            MemorySegment offsets, Type type, int root) {
        live();
        int n = count("MPI_Gatherv", sendCount);
        root("MPI_Gatherv", root);
        fits("MPI_Gatherv", "send", send, sendCount, type);
        long received = rank == root ? layout("MPI_Gatherv", counts, offsets, receive, type) : 0;
        ownCount("MPI_Gatherv", counts, sendCount);
        MemorySegment typeHandle = handle(type);
        MemorySegment target = rank == root ? receive : MemorySegment.NULL;
        try {
            check("MPI_Gatherv", (int) library.gatherv.invokeExact(send, n, typeHandle, target, counts, offsets, typeHandle,
                    root, library.commWorld));
        } catch (MpiException e) {
            throw e;
        } catch (Throwable e) {
            throw failed("MPI_Gatherv", e);
        }
        if (rank == root) {
            bytesReceived += (received - sendCount) * type.bytes;
        } else {
            bytesSent += sendCount * type.bytes;
        }
    }

    /**
     * Personalised exchange: this rank sends {@code sendCounts[s]} elements from {@code sendOffsets[s]} of
     * {@code send} to rank s, and receives {@code receiveCounts[s]} elements from rank s at
     * {@code receiveOffsets[s]} of {@code receive} (four int segments of {@code size()} entries).
     */
    public synchronized void alltoallv(MemorySegment send, MemorySegment sendCounts, MemorySegment sendOffsets,
            MemorySegment receive, MemorySegment receiveCounts, MemorySegment receiveOffsets, Type type) {
        live();
        long sent = layout("MPI_Alltoallv (send)", sendCounts, sendOffsets, send, type);
        long received = layout("MPI_Alltoallv (receive)", receiveCounts, receiveOffsets, receive, type);
        MemorySegment typeHandle = handle(type);
        try {
            check("MPI_Alltoallv", (int) library.alltoallv.invokeExact(send, sendCounts, sendOffsets, typeHandle, receive,
                    receiveCounts, receiveOffsets, typeHandle, library.commWorld));
        } catch (MpiException e) {
            throw e;
        } catch (Throwable e) {
            throw failed("MPI_Alltoallv", e);
        }
        long own = sendCounts.getAtIndex(ValueLayout.JAVA_INT, rank);
        bytesSent += (sent - own) * type.bytes;
        bytesReceived += (received - receiveCounts.getAtIndex(ValueLayout.JAVA_INT, rank)) * type.bytes;
    }

    /**
     * Every rank's {@code countPerRank} elements of {@code send}, in rank order, into every rank's
     * {@code receive} ({@code size() * countPerRank} elements).
     */
    public synchronized void allgather(MemorySegment send, MemorySegment receive, Type type, long countPerRank) {
        live();
        int n = count("MPI_Allgather", countPerRank);
        count("MPI_Allgather", countPerRank * size);
        fits("MPI_Allgather", "send", send, countPerRank, type);
        fits("MPI_Allgather", "receive", receive, countPerRank * size, type);
        MemorySegment typeHandle = handle(type);
        try {
            check("MPI_Allgather", (int) library.allgather.invokeExact(send, n, typeHandle, receive, n, typeHandle,
                    library.commWorld));
        } catch (MpiException e) {
            throw e;
        } catch (Throwable e) {
            throw failed("MPI_Allgather", e);
        }
        bytesSent += countPerRank * type.bytes;
        bytesReceived += countPerRank * (size - 1) * type.bytes;
    }

    /**
     * Rank r's {@code counts[r]} elements of its {@code send}, placed at {@code offsets[r]} of every rank's
     * {@code receive}. {@code counts} and {@code offsets} are {@code int} segments of {@code size()} entries,
     * the same on every rank (the caller keeps them: they are not copied per call).
     */
    public synchronized void allgatherv(MemorySegment send, long sendCount, MemorySegment receive,
            MemorySegment counts, MemorySegment offsets, Type type) {
        live();
        int n = count("MPI_Allgatherv", sendCount);
        fits("MPI_Allgatherv", "send", send, sendCount, type);
        long received = layout("MPI_Allgatherv", counts, offsets, receive, type);
        ownCount("MPI_Allgatherv", counts, sendCount);
        MemorySegment typeHandle = handle(type);
        try {
            check("MPI_Allgatherv", (int) library.allgatherv.invokeExact(send, n, typeHandle, receive, counts, offsets,
                    typeHandle, library.commWorld));
        } catch (MpiException e) {
            throw e;
        } catch (Throwable e) {
            throw failed("MPI_Allgatherv", e);
        }
        bytesSent += sendCount * type.bytes;
        bytesReceived += (received - sendCount) * type.bytes;
    }

    /** The reduction over ranks of every rank's {@code send} into root's {@code receive} (ignored elsewhere). */
    public synchronized void reduce(MemorySegment send, MemorySegment receive, Type type, long count, Op op, int root) {
        live();
        int n = count("MPI_Reduce", count);
        fits("MPI_Reduce", "send", send, count, type);
        root("MPI_Reduce", root);
        if (rank == root) {
            fits("MPI_Reduce", "receive", receive, count, type);
        }
        try {
            MemorySegment target = rank == root ? receive : MemorySegment.NULL;
            check("MPI_Reduce", (int) library.reduce.invokeExact(send, target, n,
                    handle(type), handle(op), root, library.commWorld));
        } catch (MpiException e) {
            throw e;
        } catch (Throwable e) {
            throw failed("MPI_Reduce", e);
        }
        if (rank == root) {
            bytesReceived += count * type.bytes * (size - 1L);
        } else {
            bytesSent += count * type.bytes;
        }
    }

    /**
     * The reduction over ranks of every rank's {@code send} ({@code sum(counts)} elements), scattered:
     * rank r receives the {@code counts[r]} elements that follow those of ranks before it.
     */
    public synchronized void reduceScatter(MemorySegment send, MemorySegment receive, MemorySegment counts, Type type,
            Op op) {
        live();
        if (counts.byteSize() < (long) size * Integer.BYTES) {
            throw new MpiException("MPI_Reduce_scatter on rank " + rank + ": counts holds "
                    + counts.byteSize() / Integer.BYTES + " entries, not one per rank (" + size + ")");
        }
        long total = 0;
        for (int r = 0; r < size; r++) {
            int c = counts.getAtIndex(ValueLayout.JAVA_INT, r);
            if (c < 0) {
                throw new MpiException("MPI_Reduce_scatter on rank " + rank + ": counts[" + r + "] = " + c + " < 0");
            }
            total += c;
        }
        count("MPI_Reduce_scatter", total);
        long mine = counts.getAtIndex(ValueLayout.JAVA_INT, rank);
        fits("MPI_Reduce_scatter", "send", send, total, type);
        fits("MPI_Reduce_scatter", "receive", receive, mine, type);
        try {
            check("MPI_Reduce_scatter", (int) library.reduceScatter.invokeExact(send, receive, counts, handle(type),
                    handle(op), library.commWorld));
        } catch (MpiException e) {
            throw e;
        } catch (Throwable e) {
            throw failed("MPI_Reduce_scatter", e);
        }
        bytesSent += (total - mine) * type.bytes;
        bytesReceived += mine * type.bytes * (size - 1L);
    }

    /**
     * Ends every rank of the job ({@code MPI_Abort}) with the exit code; does not return when MPI honours it.
     */
    public synchronized void abort(int exitCode) {
        if (finalised) {
            return;
        }
        try {
            int ignored = (int) library.abort.invokeExact(library.commWorld, exitCode);
        } catch (Throwable e) {
            throw failed("MPI_Abort", e);
        }
    }

    /** Finalises MPI; every rank must call it. Idempotent. */
    @Override
    public synchronized void close() {
        if (finalised) {
            return;
        }
        finalised = true;
        try {
            check("MPI_Finalize", (int) library.finalizeCall.invokeExact());
        } catch (MpiException e) {
            throw e;
        } catch (Throwable e) {
            throw failed("MPI_Finalize", e);
        }
    }

    private void live() {
        if (finalised) {
            throw new MpiException("MPI was finalised on rank " + rank + ": no more calls");
        }
    }

    private int count(String call, long count) {
        if (count < 0 || count > Integer.MAX_VALUE) {
            throw new MpiException(call + " on rank " + rank + ": " + count
                    + " elements do not fit MPI's int count (0 to " + Integer.MAX_VALUE + "): send it in parts");
        }
        return (int) count;
    }

    private void fits(String call, String name, MemorySegment segment, long count, Type type) {
        if (!segment.isNative()) {
            throw new MpiException(call + " on rank " + rank + ": " + name + " is a heap segment; MPI needs off-heap memory");
        }
        long needed = count * type.bytes;
        if (segment.byteSize() < needed) {
            throw new MpiException(call + " on rank " + rank + ": " + name + " holds " + segment.byteSize()
                    + " bytes, " + count + " " + type + " need " + needed);
        }
    }

    private void root(String call, int root) {
        if (root < 0 || root >= size) {
            throw new MpiException(call + " on rank " + rank + ": root " + root + " is not a rank (0 to " + (size - 1) + ")");
        }
    }

    /** Checks an allgatherv layout and returns the elements received in all. */
    private long layout(String call, MemorySegment counts, MemorySegment offsets, MemorySegment receive, Type type) {
        if (counts.byteSize() < (long) size * Integer.BYTES || offsets.byteSize() < (long) size * Integer.BYTES) {
            throw new MpiException(call + " on rank " + rank + ": counts and offsets need one int per rank (" + size + ")");
        }
        long total = 0;
        for (int r = 0; r < size; r++) {
            int c = counts.getAtIndex(ValueLayout.JAVA_INT, r);
            int o = offsets.getAtIndex(ValueLayout.JAVA_INT, r);
            if (c < 0 || o < 0) {
                throw new MpiException(call + " on rank " + rank + ": counts[" + r + "] = " + c + ", offsets[" + r
                        + "] = " + o + ": both must be >= 0");
            }
            fits(call, "receive (rank " + r + "'s part ends at element " + ((long) o + c) + ")", receive, (long) o + c,
                    type);
            total += c;
        }
        return total;
    }

    private void ownCount(String call, MemorySegment counts, long sendCount) {
        if (counts.byteSize() < (long) size * Integer.BYTES) {
            throw new MpiException(call + " on rank " + rank + ": counts needs one int per rank (" + size + ")");
        }
        if (counts.getAtIndex(ValueLayout.JAVA_INT, rank) != sendCount) {
            throw new MpiException(call + " on rank " + rank + ": this rank sends " + sendCount
                    + " elements but counts[" + rank + "] is " + counts.getAtIndex(ValueLayout.JAVA_INT, rank));
        }
    }

    private MemorySegment handle(Type type) {
        return switch (type) {
            case FLOAT -> library.typeFloat;
            case DOUBLE -> library.typeDouble;
            case INT -> library.typeInt;
            case LONG -> library.typeLong;
            case BYTE -> library.typeByte;
        };
    }

    private MemorySegment handle(Op op) {
        return switch (op) {
            case SUM -> library.opSum;
            case MAX -> library.opMax;
            case MIN -> library.opMin;
        };
    }

    private void check(String call, int code) {
        check(library, rank, call, code);
    }

    private static void check(MpiLibrary library, int rank, String call, int code) {
        if (code == MpiLibrary.SUCCESS) {
            return;
        }
        throw new MpiException(call + " failed" + (rank >= 0 ? " on rank " + rank : "") + ": "
                + errorString(library, code) + " (MPI error " + code + ")");
    }

    private MpiException failed(String call, Throwable e) {
        return new MpiException(call + " on rank " + rank + " could not be called: " + e);
    }

    private static String errorString(MpiLibrary library, int code) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment text = arena.allocate(MpiLibrary.MAX_ERROR_STRING + 1L);
            MemorySegment length = arena.allocate(ValueLayout.JAVA_INT);
            int result = (int) library.errorString.invokeExact(code, text, length);
            return result == MpiLibrary.SUCCESS ? text.getString(0, StandardCharsets.US_ASCII).strip() : "unknown error";
        } catch (Throwable e) {
            return "unknown error";
        }
    }
}
