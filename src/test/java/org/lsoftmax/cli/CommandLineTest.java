package org.lsoftmax.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lsoftmax.train.CheckpointFiles;
import org.lsoftmax.train.CheckpointFormat;
import org.lsoftmax.train.MetricsCsv;

class CommandLineTest {

    @TempDir
    Path directory;

    /** Runs the command line, returning the exit code; stdout and stderr are captured into {@code output}. */
    private static int run(StringBuilder output, String... args) {
        PrintStream originalOut = System.out;
        PrintStream originalErr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream capture = new PrintStream(captured, true, StandardCharsets.UTF_8);
        System.setOut(capture);
        System.setErr(capture);
        try {
            return Main.run(args);
        } finally {
            System.setOut(originalOut);
            System.setErr(originalErr);
            output.append(captured.toString(StandardCharsets.UTF_8));
        }
    }

    @Test
    void trainResumeTestAndPlotWorkTogether() {
        Path runFolder = directory.resolve("run");
        StringBuilder output = new StringBuilder();
        String[] common = {"--synthetic", "--hidden", "16", "--feature-dim", "2", "--batch", "128", "--margin", "2",
            "--out", runFolder.toString(), "--quiet", "--seed", "9"};
        assertEquals(0, run(output, concat(new String[] {"train", "--epochs", "1"}, common)), output::toString);
        assertEquals(0, run(output, concat(new String[] {"train", "--epochs", "2", "--resume"}, common)), output::toString);
        assertEquals(2, MetricsCsv.read(runFolder.resolve(MetricsCsv.FILE_NAME)).size());
        assertEquals(2, CheckpointFormat.read(runFolder.resolve(CheckpointFiles.LAST_FILE)).epochsCompleted());

        StringBuilder testOutput = new StringBuilder();
        assertEquals(0, run(testOutput, "test", "--checkpoint", runFolder.resolve(CheckpointFiles.LAST_FILE).toString(),
                "--synthetic"), testOutput::toString);
        assertTrue(testOutput.toString().contains("accuracy"), testOutput::toString);
        assertTrue(testOutput.toString().contains("mean angle to own class"), testOutput::toString);

        Path plots = directory.resolve("plots");
        assertEquals(0, run(output, "plot", runFolder.toString(), "--out", plots.toString(), "--panel-size", "200",
                "--points", "300"), output::toString);
        assertTrue(Files.isRegularFile(runFolder.resolve("curves.png")));
        assertTrue(Files.isRegularFile(runFolder.resolve("features.png")));
        assertTrue(Files.isRegularFile(plots.resolve("features-grid.png")));
    }

    @Test
    void badInputEndsInOneLineAndExitCodeTwo() throws Exception {
        StringBuilder output = new StringBuilder();
        Path missing = directory.resolve("no-data-here");
        assertEquals(Main.EXIT_BAD_INPUT, run(output, "train", "--data", missing.toString(), "--out",
                directory.resolve("r").toString()));
        assertTrue(output.toString().startsWith("error: " + missing), output::toString);

        Path corrupt = Files.write(directory.resolve("bad.ckpt"), new byte[] {1, 2, 3});
        StringBuilder testOutput = new StringBuilder();
        assertEquals(Main.EXIT_BAD_INPUT, run(testOutput, "test", "--checkpoint", corrupt.toString(), "--synthetic"));
        assertTrue(testOutput.toString().contains(corrupt.toString()), testOutput::toString);

        StringBuilder resumeOutput = new StringBuilder();
        assertEquals(Main.EXIT_BAD_INPUT, run(resumeOutput, "train", "--synthetic", "--resume", "--out",
                directory.resolve("empty-run").toString()));
        assertTrue(resumeOutput.toString().contains("no checkpoint to resume from"), resumeOutput::toString);
    }

    private static String[] concat(String[] first, String[] second) {
        String[] all = java.util.Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, all, first.length, second.length);
        return all;
    }
}
