package org.lsoftmax.layer;

/**
 * Options a pass may use: worker threads for the jvm pass (0 = one per core) and the TornadoVM
 * device as {@code BACKEND:DEVICE} indices (null = TornadoVM's default device).
 */
public record PassOptions(int threads, String device) {

    public static final PassOptions DEFAULTS = new PassOptions(0, null);

    public PassOptions {
        if (threads < 0) {
            throw new InvalidInputException("threads must be >= 0 (0 = one per core), got " + threads);
        }
    }

    /** The worker count to use: the requested one, or one per available core. */
    public int resolvedThreads() {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }
}
