package org.lsoftmax;

import org.lsoftmax.head.HeadShape;

/**
 * Refuses, before anything is allocated, a layer whose buffers would not fit in the Java heap, with a
 * message that states the bytes needed and the bytes free, instead of an OutOfMemoryError deep inside
 * a pass.
 */
public final class MemoryBudget {

    private static final double MIB = 1024.0 * 1024.0;

    private MemoryBudget() {
    }

    /**
     * Heap bytes one step of a pass needs: its own buffers plus the caller's N x C logits and N x D,
     * C x D gradient arrays. The reference keeps float64 copies of everything; the jvm pass keeps
     * float32 logit gradients and packed copies of the matrix operands.
     */
    public static long estimatedHeapBytes(String passName, HeadShape shape) {
        long logits = (long) shape.batch() * shape.classes();
        long x = (long) shape.batch() * shape.features();
        long w = (long) shape.classes() * shape.features();
        long callerBuffers = 4L * (logits + x + w);
        if (passName.equals("reference")) {
            return callerBuffers + 8L * (3 * logits + 3 * x + 3 * w); // probabilities, G, logits; x, w, dx, dw copies
        }
        return callerBuffers + 4L * (logits + x + w) + 8L * 8 * shape.batch(); // G, packed operands, per-sample scalars
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
                            + " lower the batch size or raise the heap (e.g. LSOFTMAX_JAVA_OPTS=-Xmx16g bin/lsoftmax ...)",
                    what, bytes / MIB, bytes, free / MIB, runtime.maxMemory() / MIB));
        }
    }
}
