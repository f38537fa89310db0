package org.lsoftmax.cli;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.head.Collective;
import org.lsoftmax.train.DataParallel;

/**
 * This process's membership of a job of several processes ({@code --collective mpi}): the MPI
 * {@link Collective} of the {@code head.mpi} module (Open MPI through java.lang.foreign, built on
 * JDK >= 22 only, so it is looked up by name), joined once per command and finalised when the command
 * ends. While a job is open, an error on this rank ends the whole job ({@link #abortIfOpen}): the
 * other ranks would otherwise wait for it in their next exchange forever. So a command closes its job
 * only when it ends normally; after an error the job is left open for {@link #abortIfOpen}.
 */
final class Job implements AutoCloseable {

    /** The binding's class, in src/main/mpi (absent from a build on JDK 21). */
    static final String MPI_COLLECTIVE = "org.lsoftmax.head.mpi.MpiCollective";

    private static volatile Job open;

    private final Collective collective;
    private final DataParallel dataParallel;

    private Job(Collective collective) {
        this.collective = collective;
        this.dataParallel = new DataParallel(collective);
    }

    /** Joins the MPI job this process was started in by mpirun; one clear line when it cannot. */
    static Job joinMpi() {
        if (System.getenv("OMPI_COMM_WORLD_SIZE") == null && System.getenv("PMIX_RANK") == null) {
            throw new InvalidInputException("--collective mpi: this process was not started by mpirun; start the job as "
                    + "`mpirun -np K bin/lsoftmax ... --collective mpi` or `bin/lsoftmax-mpi -np K ...` (docs/SCALING.md)");
        }
        Class<?> type;
        try {
            type = Class.forName(MPI_COLLECTIVE);
        } catch (ClassNotFoundException e) {
            throw new InvalidInputException("--collective mpi: this build has no MPI binding (it is compiled on JDK >= 22, and this "
                    + "jar was built on JDK " + Runtime.version().feature() + "): rebuild with a JDK >= 22 (bin/lsoftmax picks one)", e);
        }
        try {
            Collective collective = (Collective) type.getMethod("join").invoke(null);
            Job job = new Job(collective);
            open = job;
            return job;
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException("joining the MPI job failed: " + e.getCause(), e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("the MPI binding " + MPI_COLLECTIVE + " cannot be called: " + e, e);
        }
    }

    Collective collective() {
        return collective;
    }

    DataParallel dataParallel() {
        return dataParallel;
    }

    boolean isLeader() {
        return collective.rank() == 0;
    }

    /** Rank 0's text on every rank (e.g. the run folder rank 0 chose). */
    String broadcast(String text) {
        byte[] bytes = isLeader() ? text.getBytes(StandardCharsets.UTF_8) : new byte[0];
        int[] length = {bytes.length};
        collective.broadcast(length, 0);
        int[] values = new int[length[0]];
        for (int i = 0; i < bytes.length; i++) {
            values[i] = bytes[i];
        }
        collective.broadcast(values, 0);
        byte[] received = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            received[i] = (byte) values[i];
        }
        return new String(received, StandardCharsets.UTF_8);
    }

    /**
     * After this rank's error line: ends every rank of the open job with {@code exitCode}
     * ({@code MPI_Abort}); nothing when no job is open.
     */
    static void abortIfOpen(int exitCode) {
        Job job = open;
        if (job == null) {
            return;
        }
        try {
            job.collective.getClass().getMethod("abort", int.class).invoke(job.collective, exitCode);
        } catch (ReflectiveOperationException | RuntimeException e) {
            Runtime.getRuntime().halt(exitCode); // the job must not hang on this rank
        }
    }

    /** Leaves the job (MPI_Finalize: every rank does, at the end of its command). */
    @Override
    public void close() {
        open = null;
        if (collective instanceof AutoCloseable closeable) {
            try {
                closeable.close();
            } catch (Exception e) {
                throw new IllegalStateException("leaving the MPI job failed: " + e.getMessage(), e);
            }
        }
    }
}
