package org.lsoftmax;

/**
 * Refuses, before anything is allocated, work whose buffers would not fit in the Java heap, with a
 * message that states the bytes needed and the bytes free, instead of an OutOfMemoryError deep inside
 * a computation.
 */
public final class MemoryBudget {

    private static final double MIB = 1024.0 * 1024.0;

    private MemoryBudget() {
    }

    /** Throws an {@link InvalidInputException} when {@code bytes} exceed the heap that is free now (after a GC hint). */
    public static void requireHeap(String what, long bytes) {
        Runtime runtime = Runtime.getRuntime();
        long free = runtime.maxMemory() - (runtime.totalMemory() - runtime.freeMemory());
        if (bytes > free) {
            System.gc();
            free = runtime.maxMemory() - (runtime.totalMemory() - runtime.freeMemory());
        }
        if (bytes > free) {
            throw new InvalidInputException(String.format(
                    "%s needs about %.0f MiB (%d bytes) of Java heap, but only %.0f MiB of the %.0f MiB maximum are free:"
                            + " use smaller inputs, shapes or batches, or raise the heap (e.g. LSOFTMAX_JAVA_OPTS=-Xmx16g bin/lsoftmax ...)",
                    what, bytes / MIB, bytes, free / MIB, runtime.maxMemory() / MIB));
        }
    }
}
