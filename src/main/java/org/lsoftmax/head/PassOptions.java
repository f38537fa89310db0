package org.lsoftmax.head;

import org.lsoftmax.InvalidInputException;
import org.lsoftmax.linalg.WorkerPool;

/**
 * Options a pass may use: worker threads for the jvm pass (0 = one per core) and the TornadoVM
 * device as {@code BACKEND:DEVICE} indices (null = TornadoVM's default device).
 */
public record PassOptions(int threads, String device) {

    /** More workers than this only adds contention (and a typo like 10000 would start that many threads). */
    public static final int MAX_THREADS = WorkerPool.MAX_THREADS;

    public static final PassOptions DEFAULTS = new PassOptions(0, null);

    public PassOptions {
        if (threads < 0 || threads > MAX_THREADS) {
            throw new InvalidInputException("threads must be in [0, " + MAX_THREADS + "] (0 = one per core), got " + threads);
        }
    }

    /** The worker count to use: the requested one, or one per available core. */
    public int resolvedThreads() {
        return WorkerPool.resolveThreads(threads);
    }
}
