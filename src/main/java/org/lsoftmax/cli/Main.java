package org.lsoftmax.cli;

import java.io.PrintWriter;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.train.TrainingDivergedException;
import picocli.CommandLine.Command;
import picocli.CommandLine;

/**
 * The {@code lsoftmax} command line. Bad input (an {@link InvalidInputException} or a picocli usage
 * error) ends in one line on stderr and exit code 2; a training run that diverged beyond its retries
 * ({@link TrainingDivergedException}) in one line and exit code 3; other failures in exit code 1.
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

    public static final int EXIT_BAD_INPUT = 2;
    /** Training stopped on divergence; the last good checkpoint named in the message is intact. */
    public static final int EXIT_TRAINING_DIVERGED = 3;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line on stdout/stderr and returns its exit code. */
    public static int run(String... args) {
        return run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    /** Runs the command line with the given output streams and returns its exit code (used by tests). */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine commandLine = new CommandLine(new Main()).setOut(out).setErr(err);
        commandLine.setExecutionExceptionHandler((exception, cmd, parseResult) -> {
            if (exception instanceof InvalidInputException) {
                cmd.getErr().println("error: " + exception.getMessage());
                return EXIT_BAD_INPUT;
            }
            if (exception instanceof TrainingDivergedException) {
                cmd.getErr().println("error: " + exception.getMessage());
                return EXIT_TRAINING_DIVERGED;
            }
            throw exception;
        });
        commandLine.setParameterExceptionHandler((exception, parsedArgs) -> {
            exception.getCommandLine().getErr().println("error: " + exception.getMessage());
            return EXIT_BAD_INPUT;
        });
        int exitCode = commandLine.execute(args);
        out.flush();
        err.flush();
        return exitCode;
    }
}
