package org.lsoftmax.cli;

import org.lsoftmax.InvalidInputException;
import picocli.CommandLine.Option;

/** {@code --collective}: one process, or one rank of an MPI job (docs/SCALING.md, "Training across processes"). */
final class JobSelection {

    @Option(names = "--collective", defaultValue = "local", paramLabel = "local|mpi",
            description = "local: one process (with --shards K, the shards are in this process); mpi: this process is one rank of an "
                    + "MPI job started by mpirun (bin/lsoftmax-mpi -np K ...): each rank the trunk on its rows of every batch and one "
                    + "block of the classes, as Partial FC trains (default: ${DEFAULT-VALUE}).")
    String collective;

    /** Whether this command runs as one rank of an MPI job. */
    boolean mpi() {
        return switch (collective) {
            case "local" -> false;
            case "mpi" -> true;
            default -> throw new InvalidInputException("--collective must be local or mpi, got '" + collective + "'");
        };
    }
}
