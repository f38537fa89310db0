package org.lsoftmax.head.mpi;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Starts a Java main class as an MPI job ({@code mpirun -np K java ... Main args}) with this test JVM's
 * class path, and returns what it printed. Tests that need one call {@link #assumeMpirun()} first: where
 * Open MPI is not installed they are reported skipped with that reason (ci/test.sh installs it when it
 * can).
 */
public final class MpiJob {

    /** Output and exit status of a finished job. */
    public record Result(int exitCode, String output, double seconds) {
    }

    private MpiJob() {
    }

    /** The mpirun on the PATH, or null. */
    public static Path mpirun() {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(File.pathSeparator)) {
            Path candidate = Path.of(dir, "mpirun");
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    public static void assumeMpirun() {
        assumeTrue(mpirun() != null,
                "Open MPI is not installed (no mpirun on the PATH): apt-get install openmpi-bin libopenmpi-dev");
    }

    /** The job's command line. */
    public static List<String> command(int ranks, List<String> jvmFlags, String mainClass, List<String> args) {
        List<String> command = new ArrayList<>();
        command.add(mpirun().toString());
        if ("root".equals(System.getProperty("user.name"))) {
            command.add("--allow-run-as-root");
        }
        command.add("--oversubscribe");
        command.add("-np");
        command.add(Integer.toString(ranks));
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--enable-native-access=ALL-UNNAMED");
        command.add("--add-modules");
        command.add("jdk.incubator.vector");
        command.add("-Xmx1g");
        command.addAll(jvmFlags);
        command.add("-cp");
        command.add(classPath());
        command.add(mainClass);
        command.addAll(args);
        return command;
    }

    /** Runs the job to its end (at most {@code timeoutSeconds}, then it is killed and the result says 137). */
    public static Result run(int ranks, List<String> jvmFlags, String mainClass, List<String> args, long timeoutSeconds)
            throws IOException, InterruptedException {
        Path log = Files.createTempFile("mpi-job", ".log");
        try {
            ProcessBuilder builder = new ProcessBuilder(command(ranks, jvmFlags, mainClass, args))
                    .redirectErrorStream(true).redirectOutput(log.toFile());
            long start = System.nanoTime();
            Process process = builder.start();
            int code;
            if (process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                code = process.exitValue();
            } else {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly().waitFor();
                code = 137;
            }
            return new Result(code, Files.readString(log, StandardCharsets.UTF_8), (System.nanoTime() - start) / 1e9);
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /** The class path of this test JVM (surefire's, not its booter jar's). */
    public static String classPath() {
        String surefire = System.getProperty("surefire.test.class.path");
        return surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
    }
}
