package org.lsoftmax.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The command line in a JVM of its own, for what one process cannot show about itself: a {@code kill -9}
 * in the middle of a write, a lock held by another process, a heap too small for a lying input. It runs
 * on the test's class path, with the vector module, without TornadoVM (the passes fall back to the JVM).
 */
public final class ChildJvm {

    private ChildJvm() {
    }

    /** The result of a finished child. */
    public record Result(int exitCode, String out, String err) {
    }

    /** Starts {@code org.lsoftmax.cli.Main args} with extra JVM flags (e.g. {@code -Xmx64m}); output goes to the two files. */
    public static Process start(List<String> jvmFlags, Path stdout, Path stderr, String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--add-modules");
        command.add("jdk.incubator.vector");
        command.add("-XX:+UseSerialGC");
        command.add("-XX:TieredStopAtLevel=1");
        command.add("-Djava.awt.headless=true");
        command.add("-Dorg.slf4j.simpleLogger.showDateTime=false");
        command.addAll(jvmFlags);
        command.add("-cp");
        command.add(classPath());
        command.add("org.lsoftmax.cli.Main");
        command.addAll(List.of(args));
        try {
            return new ProcessBuilder(command).redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs to the end (at most {@code timeoutSeconds}, then it is killed and the test fails). */
    public static Result run(Path scratch, List<String> jvmFlags, long timeoutSeconds, String... args) {
        try {
            Path stdout = Files.createTempFile(scratch, "child", ".out");
            Path stderr = Files.createTempFile(scratch, "child", ".err");
            Process process = start(jvmFlags, stdout, stderr, args);
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
                throw new AssertionError("the child JVM ran past " + timeoutSeconds + " s: " + List.of(args) + "\n"
                        + Files.readString(stderr, StandardCharsets.UTF_8));
            }
            return new Result(process.exitValue(), Files.readString(stdout, StandardCharsets.UTF_8),
                    Files.readString(stderr, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Surefire's real test class path when it set one, else this JVM's. */
    private static String classPath() {
        String surefire = System.getProperty("surefire.test.class.path");
        String path = surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
        // TornadoVM's API jar comes from the SDK's module path in the tornado profile; the child runs without it
        List<String> kept = new ArrayList<>();
        for (String entry : path.split(File.pathSeparator)) {
            if (!entry.contains("tornado-api")) {
                kept.add(entry);
            }
        }
        return String.join(File.pathSeparator, kept);
    }
}
