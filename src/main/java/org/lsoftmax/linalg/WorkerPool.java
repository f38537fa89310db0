package org.lsoftmax.linalg;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A fixed set of persistent worker threads that run one job at a time, fork-join style. A job is a
 * number of independent chunks. Each thread (the caller is thread 0) has a home range of them, the
 * t-th of {@link #size()} equal contiguous ranges, which it claims front to back; a thread whose range
 * is done steals from the back of the others'. The call returns as soon as every chunk is done,
 * without waiting for a worker that never got going. A worker the scheduler has not run yet (the
 * machine is busy) therefore costs the call nothing: the others take its chunks. And when every
 * thread runs, each does its own range, so work cut the same way from one job to the next (the rows
 * of a batch through the layers, the rows of a weight matrix through packing, dW and the update)
 * stays on one core: on the 2-vCPU development machine reading a cache line the other core wrote
 * is several times slower than reading one's own. Which thread computes a chunk must
 * not change its result (it does not for the products here: each output element is the same chain of
 * operations wherever it is computed), so results stay independent of the thread count and of timing.
 * <ul>
 *   <li>{@link #runChunks(ChunkTask, int)}: chunks {@code 0..chunks-1}, each told the index of the
 *       thread running it (0 = the caller), for per-thread scratch;</li>
 *   <li>{@link #run(Task)}: the {@link #size()} shares of a job ({@code worker} of {@code workers}),
 *       claimed the same way: the caller usually runs share 0, but it runs any share a worker has not
 *       started, so a task must treat {@code worker} as the share's index (its part of the data and its
 *       per-share scratch), never as the identity of a thread.</li>
 * </ul>
 * No thread is created and nothing is allocated per call. Idle workers spin a few tens of
 * microseconds (back-to-back calls are common) and then park, so an idle pool costs no CPU.
 *
 * <p>Publication: a job's fields are written between two increments of {@code generation} (odd while
 * they are written, even when published), and a worker only acts on fields it read between two equal
 * even readings, so a worker that wakes up late never mixes two jobs. A chunk is claimed by a CAS on a
 * range word tagged with the job's generation, so a late worker cannot claim a chunk of a newer job
 * through an old one.
 *
 * <p>Shared: {@link Sgemm} instances of the same thread count use one pool ({@link #acquire},
 * {@link #release}; the trunk's products and the jvm head's are two instances), so that the idle
 * workers of one do not spin on the cores the other needs. A job started while another thread's job
 * runs (in-process shards of the class-sharded head, each its own thread with its own passes) goes to a
 * second pool of the same size, made on first need (and so on), rather than waiting: concurrent users
 * keep their parallelism, sequential ones share the threads. A job started from inside a job of the
 * same pool runs on the calling thread.
 */
public final class WorkerPool implements AutoCloseable {

    /** One share of a job: share {@code worker} of {@code workers}. */
    @FunctionalInterface
    public interface Task {
        void run(int worker, int workers);
    }

    /** One chunk of a job, run by thread {@code worker} (0 = the caller; for per-thread scratch). */
    @FunctionalInterface
    public interface ChunkTask {
        void run(int chunk, int worker);
    }

    /** More workers than this only adds contention (and a typo like 10000 would start that many threads). */
    public static final int MAX_THREADS = 256;

    /**
     * How long an idle thread spins before it parks. Spinning bridges the gaps between the jobs of a
     * step (waking a parked thread costs microseconds, or a time slice on a busy machine), but a
     * spinning thread holds a core its own caller may be waiting for when the machine is shared: the
     * training loop on 2 threads at load 4-5 ran 12% faster with 10 us than with 50 us (2 us: the same as 10).
     */
    private static final long SPIN_NANOS = 10_000;

    /** The shared pools by size. */
    private static final Map<Integer, WorkerPool> SHARED = new HashMap<>();

    private final int size;
    private final String namePrefix;
    private final Thread[] workers;
    /** The pool for jobs that find this one busy with another thread's job (made on first need). */
    private WorkerPool overflow; // guarded by this
    private final ReentrantLock jobLock = new ReentrantLock();
    /** Odd while the caller writes a job's fields, even once they are published; the job's id. */
    private final AtomicInteger generation = new AtomicInteger();
    /** Per thread t at index {@code t * PAD}: (generation << 32) | (front << 16) | back of its home range. */
    private final AtomicLongArray ranges;
    /** Longs between two threads' range words (a cache line: no false sharing). */
    private static final int PAD = 8;
    /** Most chunks of a job (front and back are 16-bit fields). */
    public static final int MAX_CHUNKS = 0xFFFF;
    /** Chunks of the job in progress that are done. */
    private final AtomicInteger completed = new AtomicInteger();
    /** The share job in progress, run through {@link #shares}. */
    private volatile Task shareTask;
    private final ChunkTask shares = (share, worker) -> shareTask.run(share, size());
    // the job (written only while generation is odd)
    private volatile ChunkTask chunkTask;
    private volatile int chunks;
    private volatile Thread caller;
    private volatile Throwable failure;
    private volatile boolean closed;
    private int users; // guarded by SHARED

    /** The worker count for a request: {@code requested} itself, or one per available core for 0. */
    public static int resolveThreads(int requested) {
        return requested > 0 ? requested : Runtime.getRuntime().availableProcessors();
    }

    /** The shared pool of {@code size} threads (started by the first user); give it back with {@link #release}. */
    static WorkerPool acquire(int size) {
        synchronized (SHARED) {
            WorkerPool pool = SHARED.get(size);
            if (pool == null) {
                pool = new WorkerPool(size, "sgemm");
                SHARED.put(size, pool);
            }
            pool.users++;
            return pool;
        }
    }

    /** Gives back one hold from {@link #acquire}; the last one stops the threads. */
    void release() {
        synchronized (SHARED) {
            if (users <= 0) {
                return;
            }
            users--;
            if (users > 0) {
                return;
            }
            SHARED.remove(size, this);
        }
        close();
    }

    /** A pool of its own (not shared); {@link #close} stops it. @param size total parallelism including the calling thread (>= 1) */
    WorkerPool(int size, String namePrefix) {
        if (size < 1) {
            throw new IllegalArgumentException("worker pool needs at least 1 thread, got " + size);
        }
        this.size = size;
        this.namePrefix = namePrefix;
        this.ranges = new AtomicLongArray(size * PAD);
        this.workers = new Thread[size - 1];
        for (int i = 0; i < workers.length; i++) {
            int index = i + 1;
            Thread thread = new Thread(() -> workerLoop(index), namePrefix + "-" + index);
            thread.setDaemon(true);
            workers[i] = thread;
            thread.start();
        }
    }

    public int size() {
        return size;
    }

    /** Runs the {@link #size()} shares of {@code job}, each once, and waits for all of them (see the class comment). */
    public void run(Task job) {
        checkOpen();
        int self = nestedIndex();
        if (size == 1 || self >= 0) {
            for (int share = 0; share < size; share++) {
                job.run(share, size);
            }
            return;
        }
        if (!jobLock.tryLock()) {
            overflow().run(job);
            return;
        }
        try {
            shareTask = job;
            runLocked(shares, size);
        } finally {
            shareTask = null;
            jobLock.unlock();
        }
    }

    /**
     * Runs chunks {@code 0..chunks-1} of {@code job}, each exactly once, on whichever threads claim them
     * (the caller too), and returns when all are done. With one thread, or one chunk, the caller runs
     * them in order.
     */
    public void runChunks(ChunkTask job, int chunks) {
        checkOpen();
        if (chunks <= 0) {
            return;
        }
        if (chunks > MAX_CHUNKS) {
            throw new IllegalArgumentException("at most " + MAX_CHUNKS + " chunks per job, got " + chunks);
        }
        int self = nestedIndex();
        if (size == 1 || chunks == 1 || self >= 0) {
            for (int chunk = 0; chunk < chunks; chunk++) {
                job.run(chunk, Math.max(self, 0));
            }
            return;
        }
        if (!jobLock.tryLock()) {
            overflow().runChunks(job, chunks);
            return;
        }
        try {
            runLocked(job, chunks);
        } finally {
            jobLock.unlock();
        }
    }

    /** The pool index of the current thread when it is already inside a job of this pool (0: its caller), else -1. */
    private int nestedIndex() {
        if (jobLock.isHeldByCurrentThread()) {
            return 0;
        }
        Thread current = Thread.currentThread();
        for (int i = 0; i < workers.length; i++) {
            if (workers[i] == current) {
                return i + 1;
            }
        }
        return -1;
    }

    private void runLocked(ChunkTask job, int chunkCount) {
        completed.set(0);
        int id = publish(job, chunkCount);
        claimChunks(id, job, chunkCount, 0);
        long waitStart = 0;
        for (int spins = 0; completed.get() != chunkCount; spins++) {
            waitStart = pause(spins, waitStart);
        }
        chunkTask = null;
        rethrow(failure);
    }

    /** The pool a job goes to when another thread's job holds this one (same size; closed with this one). */
    private synchronized WorkerPool overflow() {
        checkOpen();
        if (overflow == null) {
            overflow = new WorkerPool(size, namePrefix + "-overflow");
        }
        return overflow;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("worker pool is closed");
        }
    }

    /** Writes a job's fields under an odd generation, publishes it under the next even one, wakes the workers. */
    private int publish(ChunkTask job, int chunkCount) {
        int writing = generation.incrementAndGet(); // odd: fields in flux
        int id = writing + 1;
        failure = null;
        caller = Thread.currentThread();
        chunkTask = job;
        chunks = chunkCount;
        for (int thread = 0; thread < size; thread++) {
            long front = (long) chunkCount * thread / size;
            long back = (long) chunkCount * (thread + 1) / size;
            ranges.set(thread * PAD, ((long) id << 32) | (front << 16) | back);
        }
        generation.set(id); // even: published
        for (Thread worker : workers) {
            LockSupport.unpark(worker);
        }
        return id;
    }

    /** Claims and runs chunks of job {@code id} until none is left (or another job replaced it). */
    private void claimChunks(int id, ChunkTask job, int chunkCount, int worker) {
        while (true) {
            int chunk = claim(id, worker);
            if (chunk < 0) {
                return;
            }
            try {
                job.run(chunk, worker);
            } catch (Throwable t) {
                failure = t;
            }
            if (completed.incrementAndGet() == chunkCount && worker != 0) {
                LockSupport.unpark(caller);
            }
        }
    }

    /** The next chunk of job {@code id} for thread {@code worker}: the front of its own range, else the back of another's; -1 when none is left. */
    private int claim(int id, int worker) {
        while (true) {
            long state = ranges.get(worker * PAD);
            int front = (int) (state >>> 16) & 0xFFFF;
            int back = (int) state & 0xFFFF;
            if ((int) (state >>> 32) != id || front >= back) {
                break;
            }
            if (ranges.compareAndSet(worker * PAD, state, state + (1L << 16))) {
                return front;
            }
        }
        for (int step = 1; step < size; step++) {
            int victim = (worker + step) % size;
            while (true) {
                long state = ranges.get(victim * PAD);
                int front = (int) (state >>> 16) & 0xFFFF;
                int back = (int) state & 0xFFFF;
                if ((int) (state >>> 32) != id || front >= back) {
                    break;
                }
                if (ranges.compareAndSet(victim * PAD, state, state - 1)) {
                    return back - 1;
                }
            }
        }
        return -1;
    }

    private static void rethrow(Throwable error) {
        if (error instanceof RuntimeException runtime) {
            throw runtime;
        }
        if (error instanceof Error fatal) {
            throw fatal;
        }
        if (error != null) {
            throw new IllegalStateException(error);
        }
    }

    /**
     * One pause of a wait loop that rechecks its condition after each: spin (onSpinWait) until
     * SPIN_NANOS have passed since the 64th pause, then park (an unpark ends a park early).
     *
     * @param spins     pauses so far in this wait
     * @param waitStart nanoTime of the 64th pause, 0 before
     * @return the new waitStart
     */
    private long pause(int spins, long waitStart) {
        if (spins < 64) {
            Thread.onSpinWait();
            return waitStart;
        }
        if (waitStart == 0) {
            return System.nanoTime();
        }
        if (System.nanoTime() - waitStart < SPIN_NANOS) {
            Thread.onSpinWait();
        } else {
            LockSupport.park(this);
        }
        return waitStart;
    }

    private void workerLoop(int index) {
        int seen = 0;
        while (true) {
            int current;
            long waitStart = 0;
            for (int spins = 0; ((current = generation.get()) == seen || (current & 1) != 0) && !closed; spins++) {
                waitStart = pause(spins, waitStart);
            }
            if (closed) {
                return;
            }
            ChunkTask job = chunkTask;
            int chunkCount = chunks;
            if (generation.get() != current) {
                continue; // a newer job is being written: read again
            }
            seen = current;
            if (job != null) {
                claimChunks(current, job, chunkCount, index);
            }
        }
    }

    /** Stops the threads of a pool of its own (a shared pool stops with its last {@link #release}). */
    @Override
    public void close() {
        WorkerPool second;
        synchronized (this) {
            closed = true;
            second = overflow;
        }
        if (second != null) {
            second.close();
        }
        for (Thread worker : workers) {
            LockSupport.unpark(worker);
        }
        for (Thread worker : workers) {
            try {
                worker.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
