package org.lsoftmax.linalg;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed set of persistent worker threads that run one {@link Task} at a time, fork-join style:
 * {@link #run} hands the task to every worker, runs share 0 on the calling thread, and returns when
 * all shares are done. No thread is created and nothing is allocated per call. Idle workers spin a
 * few microseconds (back-to-back calls are common) and then park, so an idle pool costs no CPU.
 *
 * <p>Not re-entrant and meant for one caller at a time (the owner serialises its calls).
 */
public final class WorkerPool implements AutoCloseable {

    /** One parallel job: share {@code worker} of {@code workers}. */
    @FunctionalInterface
    public interface Task {
        void run(int worker, int workers);
    }

    /** Spin iterations before parking (each is one Thread.onSpinWait, a few tens of nanoseconds). */
    private static final int SPIN_LIMIT = 1 << 10;

    private final int size;
    private final Thread[] workers;
    private final AtomicInteger generation = new AtomicInteger();
    private final AtomicInteger pending = new AtomicInteger();
    private volatile Task task;
    private volatile Thread caller;
    private volatile Throwable failure;
    private volatile boolean closed;

    /** More workers than this only adds contention (and a typo like 10000 would start that many threads). */
    public static final int MAX_THREADS = 256;

    /** The worker count for a request: {@code requested} itself, or one per available core for 0. */
    public static int resolveThreads(int requested) {
        return requested > 0 ? requested : Runtime.getRuntime().availableProcessors();
    }

    /** @param size total parallelism including the calling thread (>= 1) */
    WorkerPool(int size, String namePrefix) {
        if (size < 1) {
            throw new IllegalArgumentException("worker pool needs at least 1 thread, got " + size);
        }
        this.size = size;
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

    /** Runs {@code job} on all {@link #size()} threads (share 0 on the caller) and waits for all of them. */
    public void run(Task job) {
        if (closed) {
            throw new IllegalStateException("worker pool is closed");
        }
        if (size == 1) {
            job.run(0, 1);
            return;
        }
        failure = null;
        caller = Thread.currentThread();
        task = job;
        pending.set(size - 1);
        generation.incrementAndGet(); // publishes task and pending to the workers
        for (Thread worker : workers) {
            LockSupport.unpark(worker);
        }
        Throwable own = null;
        try {
            job.run(0, size);
        } catch (Throwable t) {
            own = t;
        }
        int spins = 0;
        while (pending.get() != 0) {
            if (spins++ < SPIN_LIMIT) {
                Thread.onSpinWait();
            } else {
                LockSupport.park(this);
            }
        }
        task = null;
        Throwable error = own != null ? own : failure;
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

    private void workerLoop(int index) {
        int seen = 0;
        while (true) {
            int spins = 0;
            int current;
            while ((current = generation.get()) == seen && !closed) {
                if (spins++ < SPIN_LIMIT) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            if (closed) {
                return;
            }
            seen = current;
            try {
                task.run(index, size);
            } catch (Throwable t) {
                failure = t;
            }
            if (pending.decrementAndGet() == 0) {
                LockSupport.unpark(caller);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
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
