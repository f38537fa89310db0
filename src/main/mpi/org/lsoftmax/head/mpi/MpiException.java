package org.lsoftmax.head.mpi;

/**
 * An MPI call that failed, or an MPI that cannot be used here, in one line: the call, the rank and what
 * Open MPI said ({@code MPI_Error_string}). Calls return their error codes (the binding sets
 * {@code MPI_ERRORS_RETURN} on {@code MPI_COMM_WORLD}) instead of Open MPI's default of aborting the job
 * with its own report, so the caller decides what a failure ends.
 */
public final class MpiException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public MpiException(String message) {
        super(message);
    }
}
