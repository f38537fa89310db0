package org.lsoftmax.head;

import java.util.List;
import org.lsoftmax.InvalidInputException;

/**
 * How the head is split (docs/SCALING.md): K class shards ({@code --shards}), the TornadoVM device of
 * each ({@code --devices}, shard k on device k mod the list's length; empty: every device TornadoVM sees,
 * in turn), and Partial FC's sampled negatives ({@code --sample-rate r}: every positive class of the batch
 * and random negatives up to r C_k per shard; 1 = every class). {@link #NONE} is today's head: one pass on
 * the whole W.
 *
 * @param seed the sampler's seed (the training run's seed)
 */
public record ShardOptions(int shards, List<String> devices, double sampleRate, long seed) {

    public static final ShardOptions NONE = new ShardOptions(1, List.of(), 1.0, 0);

    public ShardOptions {
        devices = List.copyOf(devices == null ? List.of() : devices);
        if (shards < 1 || shards > ShardLayout.MAX_SHARDS) {
            throw new InvalidInputException("--shards must be in [1, " + ShardLayout.MAX_SHARDS + "], got " + shards);
        }
        if (!(sampleRate > 0.0 && sampleRate <= 1.0)) {
            throw new InvalidInputException("--sample-rate must be in (0, 1], got " + sampleRate);
        }
        for (String device : devices) {
            TornadoSupport.parseDevice(device);
        }
    }

    /** Whether this is one pass on the whole W (no shards, no sampling): a {@link MarginHead}. */
    public boolean isSingle() {
        return shards == 1 && sampleRate >= 1.0;
    }

    public boolean samples() {
        return sampleRate < 1.0;
    }

    public ShardOptions withSeed(long newSeed) {
        return new ShardOptions(shards, devices, sampleRate, newSeed);
    }

    public ShardOptions withShards(int newShards) {
        return new ShardOptions(newShards, devices, sampleRate, seed);
    }
}
