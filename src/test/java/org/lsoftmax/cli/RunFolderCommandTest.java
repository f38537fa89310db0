package org.lsoftmax.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lsoftmax.data.OutputFolders;
import org.lsoftmax.train.CheckpointFiles;
import org.lsoftmax.train.CheckpointFormat;
import org.lsoftmax.train.MetricsCsv;
import org.lsoftmax.train.RunDirectory;

/**
 * The run folder from the command line, as the commands used it (issue 14, findings 1, 3, 4, 5,
 * 6 and 9; the lock across processes and kills: KillCommandTest).
 */
class RunFolderCommandTest {

    /** 8 steps an epoch on the built-in data. */
    private static final String[] SMALL = {"--synthetic", "--hidden", "8", "--feature-dim", "4", "--batch", "500",
        "--quiet", "--pass", "jvm", "--threads", "1"};

    @TempDir
    Path folder;

    private static CliRunner train(Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("train"));
        args.addAll(Arrays.asList(SMALL));
        args.addAll(Arrays.asList(extra));
        args.addAll(List.of("--out", out.toString()));
        return CliRunner.run(args.toArray(String[]::new));
    }

    private static void assertOk(CliRunner result) {
        assertEquals(0, result.exitCode(), result.err());
    }

    private static void assertOneLine(CliRunner result, int exitCode, String start) {
        assertEquals(exitCode, result.exitCode(), result.out() + result.err());
        String line = result.err().strip();
        assertEquals(1, line.lines().count(), "one line: " + line);
        assertTrue(line.startsWith(start), line);
    }

    private static int epochOf(Path checkpoint) {
        return CheckpointFormat.read(checkpoint).epochsCompleted();
    }

    /** Finding 1: train --out DIR on another run: exit 0, its history replaced, its checkpoints rotated away. */
    @Test
    void aNewRunOnAnotherRunsFolderIsRefusedUnlessOverwriteIsGiven() throws IOException {
        Path run = folder.resolve("run");
        assertOk(train(run, "--epochs", "2", "--seed", "1"));
        byte[] last = Files.readAllBytes(run.resolve(CheckpointFiles.LAST_FILE));
        assertOneLine(train(run, "--epochs", "1", "--seed", "2"), Main.EXIT_BAD_INPUT, "error: " + run + " holds another run (run ");
        assertArrayEquals(last, Files.readAllBytes(run.resolve(CheckpointFiles.LAST_FILE)));
        assertEquals(2, MetricsCsv.read(run.resolve(MetricsCsv.FILE_NAME)).size());

        assertOk(train(run, "--epochs", "1", "--seed", "2", "--overwrite"));
        assertEquals(1, MetricsCsv.read(run.resolve(MetricsCsv.FILE_NAME)).size());
        assertFalse(Files.exists(run.resolve(CheckpointFiles.PREVIOUS_FILE)));
    }

    /** Finding 3: --resume=A/last.ckpt --out B (another run) mixed the histories and lost B's previous.ckpt. */
    @Test
    void aResumeIntoAnotherRunsFolderIsRefusedAndIntoANewOneBranches() throws IOException {
        Path a = folder.resolve("a");
        Path b = folder.resolve("b");
        assertOk(train(a, "--epochs", "2"));
        assertOk(train(b, "--epochs", "2", "--seed", "7"));
        byte[] previousOfB = Files.readAllBytes(b.resolve(CheckpointFiles.PREVIOUS_FILE));
        assertOneLine(train(b, "--resume=" + a.resolve(CheckpointFiles.LAST_FILE), "--epochs", "3"), Main.EXIT_BAD_INPUT,
                "error: " + b + " holds another run");
        assertArrayEquals(previousOfB, Files.readAllBytes(b.resolve(CheckpointFiles.PREVIOUS_FILE)));
        assertEquals(2, MetricsCsv.read(b.resolve(MetricsCsv.FILE_NAME)).size());

        Path branch = folder.resolve("branch");
        assertOk(train(branch, "--resume=" + a.resolve(CheckpointFiles.LAST_FILE), "--epochs", "3"));
        assertEquals(3, MetricsCsv.read(branch.resolve(MetricsCsv.FILE_NAME)).size());
        assertEquals(3, epochOf(branch.resolve(CheckpointFiles.LAST_FILE)));
    }

    /** Finding 4: the documented recovery rotated the corrupt last.ckpt over the good previous.ckpt. */
    @Test
    void theDocumentedRecoveryLeavesTwoGoodCheckpoints() throws IOException {
        Path run = folder.resolve("run");
        assertOk(train(run, "--epochs", "3"));
        Path last = run.resolve(CheckpointFiles.LAST_FILE);
        byte[] bytes = Files.readAllBytes(last);
        bytes[bytes.length - 10] ^= 0x40;
        Files.write(last, bytes);
        CliRunner refused = train(run, "--resume");
        assertOneLine(refused, Main.EXIT_BAD_INPUT, "error: " + last + ": corrupt checkpoint: CRC-32 checksum mismatch");
        assertTrue(refused.err().strip().endsWith(run.resolve(CheckpointFiles.PREVIOUS_FILE) + " (epoch 2) is intact: resume with --resume="
                + run.resolve(CheckpointFiles.PREVIOUS_FILE)), refused.err());

        assertOk(train(run, "--resume=" + run.resolve(CheckpointFiles.PREVIOUS_FILE)));
        assertEquals(3, epochOf(last));
        assertEquals(2, epochOf(run.resolve(CheckpointFiles.PREVIOUS_FILE)));
    }

    /** Finding 5: a missing metrics.csv was accepted silently and the history lost its rows. */
    @Test
    void aResumeWithoutItsHistoryIsRefused() throws IOException {
        Path run = folder.resolve("run");
        assertOk(train(run, "--epochs", "2"));
        Files.delete(run.resolve(MetricsCsv.FILE_NAME));
        assertOneLine(train(run, "--resume", "--epochs", "3"), Main.EXIT_BAD_INPUT,
                "error: " + run.resolve(MetricsCsv.FILE_NAME) + " is missing, but " + run.resolve(CheckpointFiles.LAST_FILE)
                        + " is at epoch 2");
    }

    /** Finding 6: --resume without --epochs trained to the default 10; --epochs 1 on an epoch-3 checkpoint did nothing, exit 0. */
    @Test
    void aResumeContinuesToTheStoredTotalAndRefusesFewerEpochsThanDone() {
        Path run = folder.resolve("run");
        assertOk(train(run, "--epochs", "4"));
        // previous.ckpt is epoch 3 of a run of 4: a resume from it without --epochs trains epoch 4, not to 10
        Path branch = folder.resolve("branch");
        assertOk(train(branch, "--resume=" + run.resolve(CheckpointFiles.PREVIOUS_FILE)));
        assertEquals(4, epochOf(branch.resolve(CheckpointFiles.LAST_FILE)), "the stored total, not the default 10");
        assertEquals(4, MetricsCsv.read(branch.resolve(MetricsCsv.FILE_NAME)).size());

        assertOneLine(train(branch, "--resume", "--epochs", "1"), Main.EXIT_BAD_INPUT,
                "error: --epochs 1 is fewer than the 4 epochs " + branch.resolve(CheckpointFiles.LAST_FILE) + " has done");
        CliRunner done = train(branch, "--resume");
        assertOk(done);
        assertTrue(done.out().contains("has done all 4 epochs of its run: nothing to train (give --epochs N > 4"), done.out());
        assertOk(train(branch, "--resume", "--epochs", "5"));
        assertEquals(5, epochOf(branch.resolve(CheckpointFiles.LAST_FILE)));
    }

    /** Finding 9: an unusable output place was found after a whole epoch, as a stack trace. */
    @Test
    void anUnusableOutputPlaceIsRefusedBeforeAnyWork() throws IOException {
        Path file = Files.writeString(folder.resolve("a-file"), "x");
        assertOneLine(train(file, "--epochs", "1"), Main.EXIT_BAD_INPUT, "error: --out " + file + ": is a file, not a folder");
        assertOneLine(CliRunner.run("train", "--synthetic", "--out", ""), Main.EXIT_BAD_INPUT, "error: --out is empty");

        Path x = folder.resolve("x.npy");
        org.lsoftmax.data.Npy.writeFloat32(x, new int[] {2, 2}, new float[] {1, 2, 3, 4});
        org.lsoftmax.data.Npy.writeInt32(folder.resolve("y.npy"), new int[] {2}, new int[] {0, 1});
        assertOneLine(CliRunner.run("eval", "--x", x.toString(), "--w", x.toString(), "--y", folder.resolve("y.npy").toString(),
                "--out", file.toString()), Main.EXIT_BAD_INPUT, "error: --out " + file + ": is a file, not a folder");

        Path run = folder.resolve("run");
        assertOk(train(run, "--epochs", "1"));
        assertOneLine(CliRunner.run("plot", run.toString(), "--out", file.toString()), Main.EXIT_BAD_INPUT,
                "error: --out " + file + ": is a file, not a folder");

        OutputFolders.overrideUsableSpaceForTests(place -> 4096);
        try {
            assertOneLine(train(folder.resolve("full"), "--epochs", "1"), Main.EXIT_BAD_INPUT,
                    "error: --out " + folder.resolve("full") + ": its file system has 4.0 KiB free");
        } finally {
            OutputFolders.overrideUsableSpaceForTests(null);
        }
        assertFalse(Files.exists(folder.resolve("full").resolve(MetricsCsv.FILE_NAME)));
    }

    /** An I/O error in the middle of the work (here: a picture's place taken by a folder) is one line, exit code 4. */
    @Test
    void anIoErrorDuringTheWorkIsOneLineNamingTheFile() throws IOException {
        Path run = folder.resolve("run");
        assertOk(train(run, "--epochs", "1"));
        Files.delete(run.resolve("curves.png"));
        Files.createDirectories(run.resolve("curves.png").resolve("inside"));
        assertOneLine(CliRunner.run("plot", run.toString()), Main.EXIT_IO_ERROR, "error: cannot write " + run.resolve("curves.png") + ": ");
    }

    /** "Unclear": --lr 10 diverged 20 times, never 4 in a row, and ended with exit 0 and nothing said. */
    @Test
    void theSummaryLineSaysWhenDivergedStepsWeakenedTheMargin() {
        Path run = folder.resolve("run");
        CliRunner result = train(run, "--epochs", "2", "--lr", "10", "--max-divergence-retries", "1000");
        assertOk(result);
        String summary = result.out().strip();
        assertTrue(summary.startsWith("test accuracy "), summary);
        assertTrue(summary.contains("diverged and were skipped"), summary);
        assertTrue(summary.contains("the margin was weakened or off"), summary);
        assertTrue(Files.exists(run.resolve(RunDirectory.MANIFEST_FILE)));
    }
}
