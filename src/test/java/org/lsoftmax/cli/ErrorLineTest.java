package org.lsoftmax.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lsoftmax.InvalidInputException;

/**
 * Every failure ends in one line and a documented exit code (issue 14, "Stack traces instead of one
 * line"; README, "Exit codes"); {@code --debug} adds the trace.
 */
class ErrorLineTest {

    @TempDir
    Path folder;

    private static String report(Throwable failure, boolean debug, int expectedExitCode) {
        StringWriter text = new StringWriter();
        assertEquals(expectedExitCode, Main.report(failure, new PrintWriter(text), debug));
        return text.toString();
    }

    private static void assertOneLine(String text, String expected) {
        assertEquals(expected, text.strip());
        assertEquals(1, text.strip().lines().count(), text);
    }

    @Test
    void eachKindOfFailureHasItsLineAndExitCode() {
        assertOneLine(report(new InvalidInputException("x.npy: not a .npy file"), false, Main.EXIT_BAD_INPUT),
                "error: x.npy: not a .npy file");
        assertOneLine(report(new UncheckedIOException("cannot write runs/m4/metrics.csv",
                new FileSystemException("runs/m4/.metrics.csv123.tmp", null, "No space left on device")), false,
                Main.EXIT_IO_ERROR), "error: cannot write runs/m4/metrics.csv: runs/m4/.metrics.csv123.tmp: No space left on device");
        assertOneLine(report(new IOException("Stale file handle"), false, Main.EXIT_IO_ERROR), "error: Stale file handle");
        String memory = report(new OutOfMemoryError("Java heap space"), false, Main.EXIT_OUT_OF_MEMORY);
        assertTrue(memory.startsWith("error: out of Java heap memory (Java heap space; the heap's maximum is "), memory);
        assertEquals(1, memory.strip().lines().count(), memory);
        String bug = report(new NullPointerException("boom"), false, Main.EXIT_INTERNAL_ERROR);
        assertTrue(bug.startsWith("error: internal error: java.lang.NullPointerException: boom at ErrorLineTest."), bug);
        assertTrue(bug.strip().endsWith(" (run with --debug for the trace)"), bug);
        assertEquals(1, bug.strip().lines().count(), bug);
        assertOneLine(report(new InvalidInputException("two\nlines"), false, Main.EXIT_BAD_INPUT), "error: two lines");
    }

    @Test
    void debugAddsTheTraceAfterTheLine() {
        String text = report(new IllegalStateException("unexpected"), true, Main.EXIT_INTERNAL_ERROR);
        assertTrue(text.startsWith("error: internal error: java.lang.IllegalStateException: unexpected at "), text);
        assertTrue(text.contains("\tat org.lsoftmax.cli.ErrorLineTest."), text);

        CliRunner plain = CliRunner.run("test", "--checkpoint", folder.resolve("none.ckpt").toString(), "--synthetic");
        assertEquals(Main.EXIT_BAD_INPUT, plain.exitCode());
        assertEquals("error: " + folder.resolve("none.ckpt") + ": no such checkpoint file", plain.err().strip());
        CliRunner debug = CliRunner.run("test", "--checkpoint", folder.resolve("none.ckpt").toString(), "--synthetic", "--debug");
        assertEquals(Main.EXIT_BAD_INPUT, debug.exitCode());
        assertTrue(debug.err().startsWith("error: " + folder.resolve("none.ckpt") + ": no such checkpoint file"), debug.err());
        assertTrue(debug.err().contains("org.lsoftmax.InvalidInputException"), debug.err());
    }
}
