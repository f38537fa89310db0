package org.lsoftmax.testing;

import java.util.ArrayList;
import java.util.List;

/**
 * Seeds of the random tests. A test draws its seeds here instead of from the clock, and
 * {@link SeedReporter} (registered for every test) names them in the failure message, with the
 * property that replays them: {@code -Dlsoftmax.test.seed=S} makes {@link #draw()} return S.
 */
public final class Seeds {

    /** System property that fixes every drawn seed, to replay a failure. */
    public static final String PROPERTY = "lsoftmax.test.seed";

    private static final ThreadLocal<List<Long>> DRAWN = ThreadLocal.withInitial(ArrayList::new);
    private static long counter = System.nanoTime();

    private Seeds() {
    }

    /** A fresh seed (or the fixed one), remembered for the failure message of the running test. */
    public static synchronized long draw() {
        String fixed = System.getProperty(PROPERTY);
        long seed;
        if (fixed != null && !fixed.isBlank()) {
            seed = Long.parseLong(fixed.trim());
        } else {
            counter += 0x9E3779B97F4A7C15L;
            seed = mix(counter);
        }
        DRAWN.get().add(seed);
        return seed;
    }

    static List<Long> drawn() {
        return List.copyOf(DRAWN.get());
    }

    static void clear() {
        DRAWN.get().clear();
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
