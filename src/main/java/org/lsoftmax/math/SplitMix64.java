package org.lsoftmax.math;

/**
 * A tiny, fully specified pseudo-random generator (SplitMix64, Steele, Lea and Flood 2014), used for
 * every random draw of a training run: weight init, synthetic data and the per-epoch shuffle. Its
 * whole state is one {@code long}, and its output is defined here rather than by a JDK version, so
 * a seed reproduces a run bit for bit on any JVM.
 */
public final class SplitMix64 {

    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    private long state;
    private double spareGaussian;
    private boolean hasSpareGaussian;

    public SplitMix64(long seed) {
        this.state = seed;
    }

    /** A generator for one named sub-stream of a seed, e.g. the shuffle of epoch e: independent of the others. */
    public static SplitMix64 forStream(long seed, long streamIndex) {
        return new SplitMix64(mix(seed ^ mix(streamIndex + GOLDEN_GAMMA)));
    }

    public long nextLong() {
        state += GOLDEN_GAMMA;
        return mix(state);
    }

    /** Uniform in [0, 1) with 53 random bits. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** Uniform in [0, bound), by rejection so that every value is equally likely. */
    public int nextInt(int bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound must be positive, got " + bound);
        }
        int bits;
        int value;
        do { // reject the top partial block of 2^31 so every value is equally likely (as java.util.Random)
            bits = (int) (nextLong() >>> 33);
            value = bits % bound;
        } while (bits - value + (bound - 1) < 0);
        return value;
    }

    /** Standard normal by the Marsaglia polar method (pure arithmetic, no JDK-version-dependent code). */
    public double nextGaussian() {
        if (hasSpareGaussian) {
            hasSpareGaussian = false;
            return spareGaussian;
        }
        double u;
        double v;
        double s;
        do {
            u = 2.0 * nextDouble() - 1.0;
            v = 2.0 * nextDouble() - 1.0;
            s = u * u + v * v;
        } while (s >= 1.0 || s == 0.0);
        double factor = Math.sqrt(-2.0 * StrictMath.log(s) / s);
        spareGaussian = v * factor;
        hasSpareGaussian = true;
        return u * factor;
    }

    /** Fisher-Yates shuffle of the whole array. */
    public void shuffle(int[] values) {
        for (int i = values.length - 1; i > 0; i--) {
            int j = nextInt(i + 1);
            int swap = values[i];
            values[i] = values[j];
            values[j] = swap;
        }
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
