package org.lsoftmax.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Locale;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.data.IoErrors;
import org.lsoftmax.train.TrainingDivergedException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine;

/**
 * The {@code lsoftmax} command line. Every run ends in at most one error line on stderr and one of
 * these exit codes (README, "Exit codes"):
 * <pre>
 * 0   done
 * 1   gradcheck: a gradient is off by more than the tolerance
 * 2   bad input: an option, an input file, an output place that cannot be used, a run folder that
 *     belongs to another run or process, inputs that overflow the pass ({@link InvalidInputException},
 *     a picocli usage error)
 * 3   training diverged beyond its retries ({@link TrainingDivergedException}); the last good checkpoint is intact
 * 4   an I/O error while reading or writing, e.g. a disk that filled up during the run
 * 5   out of Java heap memory
 * 70  an internal error (a bug): the line names the exception; --debug prints its trace
 * </pre>
 * {@code --debug} (any command) adds the stack trace after the line.
 */
@Command(name = "lsoftmax", mixinStandardHelpOptions = true, version = "lsoftmax-tornado 0.1.0",
        description = "Large-Margin Softmax (L-Softmax) loss layer: reference, JVM and TornadoVM passes.",
        subcommands = {
            EvalCommand.class,
            GradCheckCommand.class,
            TrainCommand.class,
            TestCommand.class,
            RetrievalCommand.class,
            PlotCommand.class,
            DevicesCommand.class,
        })
public final class Main {

    /** gradcheck found an error above its tolerance. */
    public static final int EXIT_CHECK_FAILED = 1;
    public static final int EXIT_BAD_INPUT = 2;
    /** Training stopped on divergence; the last good checkpoint named in the message is intact. */
    public static final int EXIT_TRAINING_DIVERGED = 3;
    /** Reading or writing a file failed (the line names it): a full disk, a vanished folder, permissions. */
    public static final int EXIT_IO_ERROR = 4;
    public static final int EXIT_OUT_OF_MEMORY = 5;
    /** A bug: an exception nobody expected. */
    public static final int EXIT_INTERNAL_ERROR = 70;

    @Option(names = "--debug", scope = ScopeType.INHERIT,
            description = "On an error, print the stack trace after the one error line.")
    boolean debug;

    public static void main(String[] args) {
        nameRank();
        System.exit(run(args));
    }

    /**
     * Under mpirun: log lines name the rank (the thread name slf4j-simple prints), and ranks other than
     * 0 log warnings and errors only (rank 0 reports for the job). Before the first logger exists.
     */
    private static void nameRank() {
        String rank = System.getenv("OMPI_COMM_WORLD_RANK");
        if (rank == null) {
            return;
        }
        Thread.currentThread().setName("rank " + rank);
        if (!rank.equals("0") && System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
    }

    /** Runs the command line on stdout/stderr and returns its exit code. */
    public static int run(String... args) {
        return run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    /** Runs the command line with the given output streams and returns its exit code (used by tests). */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        boolean debug = Arrays.asList(args).contains("--debug");
        int exitCode;
        try {
            CommandLine commandLine = new CommandLine(new Main()).setOut(out).setErr(err);
            commandLine.setExecutionExceptionHandler((exception, cmd, parseResult) -> report(exception, cmd.getErr(), debug));
            commandLine.setParameterExceptionHandler((exception, parsedArgs) -> {
                exception.getCommandLine().getErr().println("error: " + oneLine(exception.getMessage()));
                return EXIT_BAD_INPUT;
            });
            exitCode = commandLine.execute(args);
        } catch (Throwable failure) {
            // errors (out of memory, a stack overflow) pass picocli's exception handler by
            exitCode = report(failure, err, debug);
        }
        out.flush();
        err.flush();
        return exitCode;
    }

    /** Prints the one error line of {@code failure} (and its trace with --debug); returns its exit code. */
    static int report(Throwable failure, PrintWriter err, boolean debug) {
        int exitCode = exitCode(failure);
        String line = describe(failure, exitCode);
        if (exitCode == EXIT_INTERNAL_ERROR && !debug) {
            line += " (run with --debug for the trace)";
        }
        String rank = System.getenv("OMPI_COMM_WORLD_RANK");
        // a job stops on divergence on every rank together, with the same line: rank 0 says it for the job
        boolean saidByRankZero = rank != null && !rank.equals("0") && failure instanceof TrainingDivergedException;
        if (!saidByRankZero) {
            err.println("error: " + (rank != null ? "rank " + rank + ": " : "") + oneLine(line));
        }
        if (debug) {
            failure.printStackTrace(err);
        }
        err.flush();
        Job.abortIfOpen(exitCode); // the other ranks of a job would wait for this one forever
        return exitCode;
    }

    static int exitCode(Throwable failure) {
        if (failure instanceof InvalidInputException) {
            return EXIT_BAD_INPUT;
        }
        if (failure instanceof TrainingDivergedException) {
            return EXIT_TRAINING_DIVERGED;
        }
        if (failure instanceof IOException || failure instanceof UncheckedIOException) {
            return EXIT_IO_ERROR;
        }
        if (failure instanceof OutOfMemoryError) {
            return EXIT_OUT_OF_MEMORY;
        }
        return EXIT_INTERNAL_ERROR;
    }

    private static String describe(Throwable failure, int exitCode) {
        switch (exitCode) {
            case EXIT_BAD_INPUT, EXIT_TRAINING_DIVERGED -> {
                return String.valueOf(failure.getMessage());
            }
            case EXIT_IO_ERROR -> {
                return failure instanceof UncheckedIOException unchecked ? IoErrors.describe(unchecked)
                        : IoErrors.describe((IOException) failure);
            }
            case EXIT_OUT_OF_MEMORY -> {
                long maxMiB = Runtime.getRuntime().maxMemory() >> 20;
                return String.format(Locale.ROOT, "out of Java heap memory (%s; the heap's maximum is %d MiB): use smaller "
                        + "shapes or batches, or raise the heap, e.g. LSOFTMAX_JAVA_OPTS=-Xmx16g bin/lsoftmax ...",
                        failure.getMessage() == null ? "OutOfMemoryError" : failure.getMessage(), maxMiB);
            }
            default -> {
                StackTraceElement[] trace = failure.getStackTrace();
                String where = trace.length == 0 ? "" : " at " + trace[0].getClassName().replaceAll(".*\\.", "") + "."
                        + trace[0].getMethodName() + "(" + trace[0].getFileName() + ":" + trace[0].getLineNumber() + ")";
                return "internal error: " + failure.getClass().getName()
                        + (failure.getMessage() == null ? "" : ": " + failure.getMessage()) + where;
            }
        }
    }

    /** Newlines of a message would make a second line. */
    private static String oneLine(String text) {
        return text == null ? "null" : text.strip().replaceAll("\\s*\\R\\s*", " ");
    }
}
