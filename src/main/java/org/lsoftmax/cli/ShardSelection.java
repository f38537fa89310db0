package org.lsoftmax.cli;

import java.util.List;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.head.ShardOptions;
import picocli.CommandLine.Option;

/** The options that split the head into class shards (docs/SCALING.md), shared by eval and train. */
final class ShardSelection {

    @Option(names = "--shards", paramLabel = "K",
            description = "Split the classes into K contiguous shards, each with its own W block, momentum and pass (a jvm "
                    + "worker group, or a TornadoVM device: see --devices). Default 1 (one pass on the whole W); train "
                    + "--resume: as the checkpoint's W is split.")
    Integer shards;

    @Option(names = "--devices", split = ",", paramLabel = "B:D",
            description = "TornadoVM devices of the shards, shard k on device k mod the list's length (default: every device "
                    + "TornadoVM lists, in turn; `lsoftmax devices` says how to get several PoCL devices on one CPU).")
    List<String> devices;

    @Option(names = "--sample-rate", paramLabel = "R",
            description = "Partial FC's sampled negatives: per shard and step every positive class of the batch plus random "
                    + "negatives up to ceil(R C_k) classes; only those rows' gradients and momentum change (default: 1, "
                    + "every class).")
    Double sampleRate;

    /** Whether any of the options was given. */
    boolean given() {
        return shards != null || devices != null || sampleRate != null;
    }

    /** With --collective mpi: each of the job's {@code ranks} processes holds one block, so --shards, when given, must be K. */
    void requireJobOf(int ranks) {
        if (shards != null && shards != ranks) {
            throw new InvalidInputException("--shards " + shards + " in a job of " + ranks + " processes: with --collective mpi each "
                    + "process holds one block of the classes (leave --shards out, or start the job with mpirun -np " + shards + ")");
        }
    }

    /** The options, with {@code defaultShards} where --shards is not given (the sampler's seed is set by the caller). */
    ShardOptions options(int defaultShards, long seed) {
        return new ShardOptions(shards != null ? shards : defaultShards, devices, sampleRate != null ? sampleRate : 1.0, seed);
    }
}
