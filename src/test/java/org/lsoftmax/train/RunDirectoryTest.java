package org.lsoftmax.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.data.OutputFolders;
import org.lsoftmax.testing.TinyRuns;

/**
 * The run folder's guarantees (docs/TRAINING.md, "Reliability"), one test per way the folder lost a
 * result before {@link RunDirectory} (issue 14, findings 1-5 and 9), on {@link TinyRuns}.
 */
class RunDirectoryTest {

    @TempDir
    Path directory;

    private static List<EpochMetrics> train(Path out, int epochs) {
        try (Trainer trainer = Trainer.start(TinyRuns.config(epochs), TinyRuns.DATA, TinyRuns.OPTIONS, out)) {
            return trainer.showProgress(false).run();
        }
    }

    private static List<EpochMetrics> resume(Path checkpointFile, int epochs, Path out) {
        Checkpoint checkpoint = CheckpointFormat.read(checkpointFile);
        try (Trainer trainer = Trainer.resume(checkpoint, checkpointFile, epochs, TinyRuns.PASS, TinyRuns.DATA,
                TinyRuns.OPTIONS, out)) {
            return trainer.showProgress(false).run();
        }
    }

    /** Every file of the folder and its bytes. */
    private static Map<String, byte[]> contents(Path folder) throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (String name : TinyRuns.names(folder)) {
            if (!name.equals(RunDirectory.LOCK_FILE)) {
                files.put(name, Files.readAllBytes(folder.resolve(name)));
            }
        }
        return files;
    }

    private static void assertUnchanged(Map<String, byte[]> before, Path folder) throws IOException {
        Map<String, byte[]> after = contents(folder);
        assertEquals(before.keySet(), after.keySet(), "the files of " + folder);
        for (String name : before.keySet()) {
            assertArrayEquals(before.get(name), after.get(name), name + " changed");
        }
    }

    private static void assertBitIdenticalToTheUninterruptedRun(Checkpoint checkpoint) {
        assertEquals(TinyRuns.referenceDigests(6).get(checkpoint.epochsCompleted()), TinyRuns.digest(checkpoint),
                "the state after epoch " + checkpoint.epochsCompleted() + " differs from the uninterrupted run's");
    }

    /** Finding 1: train --out DIR on another run's folder replaced its metrics and rotated its checkpoints away. */
    @Test
    void aNewRunRefusesAFolderThatHoldsAnotherRunUnlessToldToReplaceIt() throws IOException {
        Path run = directory.resolve("run");
        train(run, 2);
        Files.writeString(run.resolve("notes.txt"), "the user's own file");
        Map<String, byte[]> before = contents(run);

        InvalidInputException refused = assertThrows(InvalidInputException.class, () -> train(run, 1));
        assertTrue(refused.getMessage().startsWith(run + " holds another run (run "), refused.getMessage());
        assertTrue(refused.getMessage().contains("last.ckpt at epoch 2, previous.ckpt at epoch 1"), refused.getMessage());
        assertTrue(refused.getMessage().endsWith("or replace it with --overwrite"), refused.getMessage());
        assertUnchanged(before, run);

        try (RunDirectory replace = RunDirectory.forNewRun(run, true);
                Trainer trainer = Trainer.startIn(TinyRuns.config(1), TinyRuns.DATA, TinyRuns.OPTIONS, replace)) {
            trainer.showProgress(false).run();
        }
        assertEquals(1, MetricsCsv.read(run.resolve(MetricsCsv.FILE_NAME)).size(), "the new run's history only");
        assertEquals(1, CheckpointFormat.read(run.resolve(CheckpointFiles.LAST_FILE)).epochsCompleted());
        assertFalse(Files.exists(run.resolve(CheckpointFiles.PREVIOUS_FILE)), "the old run's previous.ckpt is not the new run's");
        assertEquals("the user's own file", Files.readString(run.resolve("notes.txt")), "only run files are replaced");
    }

    /** A new run given no folder (train's default, runs/latest) never refuses and never replaces: it goes beside. */
    @Test
    void aNewRunWithoutAFolderGoesBesideTheRunsAlreadyThere() {
        Path latest = directory.resolve("latest");
        train(latest, 1);
        try (RunDirectory held = RunDirectory.forNewRun(directory.resolve("latest-2"), false);
                RunDirectory beside = RunDirectory.forNewRunBeside(latest)) {
            assertEquals(directory.resolve("latest-3"), beside.directory(), "latest holds a run, latest-2 is in use");
            assertNotNull(held.directory());
        }
        try (RunDirectory beside = RunDirectory.forNewRunBeside(latest)) {
            assertEquals(directory.resolve("latest-2"), beside.directory(), "latest-2 was only locked, it holds no run");
        }
        assertEquals(1, MetricsCsv.read(latest.resolve(MetricsCsv.FILE_NAME)).size());
    }

    /** Finding 2: two train processes on one folder alternated their checkpoints. */
    @Test
    void aSecondWriterIsRefusedWhileTheFolderIsHeld() {
        Path run = directory.resolve("run");
        try (RunDirectory first = RunDirectory.forNewRun(run, false)) {
            InvalidInputException refused = assertThrows(InvalidInputException.class, () -> train(run, 1));
            assertTrue(refused.getMessage().startsWith(run + " is in use by another train"), refused.getMessage());
            assertFalse(Files.exists(run.resolve(MetricsCsv.FILE_NAME)));
            assertNotNull(first.directory());
        }
        train(run, 1); // released: the folder is free again
        assertEquals(1, MetricsCsv.read(run.resolve(MetricsCsv.FILE_NAME)).size());
    }

    /** Finding 3: train --resume=A/last.ckpt --out B mixed B's history with A's and dropped B's previous.ckpt. */
    @Test
    void aResumeWritesIntoItsOwnFolderOrANewOneNeverIntoAnotherRuns() throws IOException {
        Path a = directory.resolve("a");
        Path b = directory.resolve("b");
        train(a, 2);
        List<EpochMetrics> historyOfA = MetricsCsv.read(a.resolve(MetricsCsv.FILE_NAME));
        train(b, 2);
        Map<String, byte[]> before = contents(b);

        InvalidInputException refused = assertThrows(InvalidInputException.class,
                () -> resume(a.resolve(CheckpointFiles.LAST_FILE), 3, b));
        assertTrue(refused.getMessage().startsWith(b + " holds another run"), refused.getMessage());
        assertTrue(refused.getMessage().contains("a resume writes into its own run's folder"), refused.getMessage());
        assertUnchanged(before, b);

        Path branch = directory.resolve("branch");
        List<EpochMetrics> history = resume(a.resolve(CheckpointFiles.LAST_FILE), 3, branch);
        assertEquals(3, history.size());
        assertEquals(historyOfA, history.subList(0, 2), "the branch continues A's history");
        List<EpochMetrics> written = MetricsCsv.read(branch.resolve(MetricsCsv.FILE_NAME));
        assertEquals(historyOfA, written.subList(0, 2));
        assertEquals(List.of(1, 2, 3), written.stream().map(EpochMetrics::epoch).toList());
        assertBitIdenticalToTheUninterruptedRun(CheckpointFormat.read(branch.resolve(CheckpointFiles.LAST_FILE)));
        String manifest = Files.readString(branch.resolve(RunDirectory.MANIFEST_FILE));
        assertTrue(manifest.contains("origin=branched from " + a.resolve(CheckpointFiles.LAST_FILE) + " (epoch 2 of run "), manifest);
        assertEquals(2, MetricsCsv.read(a.resolve(MetricsCsv.FILE_NAME)).size(), "A itself is untouched");
    }

    /** Finding 4: the documented recovery rotated the damaged last.ckpt over the good previous.ckpt. */
    @Test
    void recoveringFromPreviousAfterADamagedLastKeepsEveryGoodCheckpoint() throws IOException {
        Path run = directory.resolve("run");
        train(run, 3);
        Path last = run.resolve(CheckpointFiles.LAST_FILE);
        byte[] bytes = Files.readAllBytes(last);
        bytes[bytes.length / 2] ^= 0x10;
        Files.write(last, bytes);
        assertEquals(1, TinyRuns.validCheckpoints(run).size());

        resume(run.resolve(CheckpointFiles.PREVIOUS_FILE), 3, run);
        Checkpoint newLast = CheckpointFormat.read(last);
        Checkpoint previous = CheckpointFormat.read(run.resolve(CheckpointFiles.PREVIOUS_FILE));
        assertEquals(3, newLast.epochsCompleted());
        assertEquals(2, previous.epochsCompleted(), "the good previous.ckpt is kept, not replaced by the damaged file");
        assertBitIdenticalToTheUninterruptedRun(newLast);
        assertBitIdenticalToTheUninterruptedRun(previous);
    }

    /** Finding 5: metrics.csv was truncated and rewritten in place; a kill then left 0 bytes. */
    @Test
    void metricsCsvIsReplacedAtomicallyAndTheTemporaryFileOfAKillIsRemoved() throws IOException {
        Path run = directory.resolve("run");
        train(run, 1);
        Map<String, byte[]> before = contents(run);
        // epoch 2's save begins with metrics.csv: crash when its new rows are written but not yet in place
        assertTrue(TinyRuns.crashAt(1, () -> resume(run.resolve(CheckpointFiles.LAST_FILE), 2, run)));
        List<String> temporary = TinyRuns.names(run).stream().filter(name -> name.endsWith(".tmp")).toList();
        assertEquals(1, temporary.size(), "the kill leaves the temporary file: " + TinyRuns.names(run));
        assertTrue(temporary.get(0).startsWith("." + MetricsCsv.FILE_NAME), temporary.toString());
        Files.delete(run.resolve(temporary.get(0)));
        assertUnchanged(before, run); // metrics.csv holds its old row, not 0 bytes
        Files.write(run.resolve(temporary.get(0)), new byte[0]);

        List<EpochMetrics> history = resume(run.resolve(CheckpointFiles.LAST_FILE), 2, run);
        assertEquals(2, history.size());
        assertTrue(TinyRuns.names(run).stream().noneMatch(name -> name.endsWith(".tmp")), "cleaned up: " + TinyRuns.names(run));
    }

    /** Finding 5: a missing metrics.csv was silently accepted and the history lost its rows. */
    @Test
    void aResumeRefusesAMissingEmptyOrForeignHistoryWithOneLine() throws IOException {
        Path run = directory.resolve("run");
        train(run, 2);
        Path metrics = run.resolve(MetricsCsv.FILE_NAME);
        Path last = run.resolve(CheckpointFiles.LAST_FILE);
        List<String> rows = Files.readAllLines(metrics);

        Files.delete(metrics);
        InvalidInputException missing = assertThrows(InvalidInputException.class, () -> resume(last, 3, run));
        assertEquals(metrics + " is missing, but " + last + " is at epoch 2: the run's history is lost; to continue "
                + "without it, resume into a new folder (--out NEW)", missing.getMessage());

        Files.write(metrics, new byte[0]);
        InvalidInputException empty = assertThrows(InvalidInputException.class, () -> resume(last, 3, run));
        assertTrue(empty.getMessage().startsWith(metrics + ": is empty"), empty.getMessage());

        Files.write(metrics, rows.subList(0, 2)); // epoch 1 only
        InvalidInputException shorter = assertThrows(InvalidInputException.class, () -> resume(last, 3, run));
        assertEquals(metrics + " does not match " + last + ": it ends at epoch 1, the checkpoint is at epoch 2; the two "
                + "files are not of one run", shorter.getMessage());

        List<String> foreign = new ArrayList<>(rows);
        foreign.set(2, foreign.get(2).replaceFirst("^2,6,", "2,7,"));
        Files.write(metrics, foreign);
        InvalidInputException other = assertThrows(InvalidInputException.class, () -> resume(last, 3, run));
        assertTrue(other.getMessage().contains("its epoch 2 ended at iteration 7, the checkpoint's at iteration 6"),
                other.getMessage());

        Files.write(metrics, rows);
        assertEquals(3, resume(last, 3, run).size(), "with its own history the run continues");
        // a lone checkpoint (no metrics.csv beside it) may start a new folder, whose history starts after it
        Path lone = Files.copy(last, directory.resolve("lone.ckpt"));
        Path fresh = directory.resolve("fresh");
        assertEquals(List.of(4), resume(lone, 4, fresh).stream().map(EpochMetrics::epoch).toList());
        assertEquals(2, resume(fresh.resolve(CheckpointFiles.LAST_FILE), 5, fresh).size(), "epochs 4 and 5");
    }

    @Test
    void aResumeFromAnOlderCheckpointThanAnotherValidOneOfTheFolderIsRefused() throws IOException {
        Path run = directory.resolve("run");
        train(run, 3);
        Map<String, byte[]> before = contents(run);
        Path previous = run.resolve(CheckpointFiles.PREVIOUS_FILE);
        InvalidInputException refused = assertThrows(InvalidInputException.class, () -> resume(previous, 4, run));
        assertTrue(refused.getMessage().startsWith(run.resolve(CheckpointFiles.LAST_FILE) + " (epoch 3) is newer than "
                + previous + " (epoch 2)"), refused.getMessage());
        assertUnchanged(before, run);
        // --overwrite takes the run back to epoch 2 on purpose
        try (RunDirectory back = RunDirectory.forResume(run, previous, true);
                Trainer trainer = Trainer.resumeIn(back.checkpoint(), previous, 3, TinyRuns.PASS, TinyRuns.DATA,
                        TinyRuns.OPTIONS, back)) {
            trainer.showProgress(false).run();
        }
        assertBitIdenticalToTheUninterruptedRun(CheckpointFormat.read(run.resolve(CheckpointFiles.LAST_FILE)));
        assertEquals(3, MetricsCsv.read(run.resolve(MetricsCsv.FILE_NAME)).size());
    }

    /**
     * A kill at any moment of any file write of a run (the manifest, metrics.csv, the copy to
     * previous.ckpt, last.ckpt) leaves a folder with no fewer valid checkpoints than before, each
     * bit-identical to the uninterrupted run's, a history that matches the newest, and a resume that
     * ends bit-identical to the uninterrupted run.
     */
    @Test
    void aCrashAtAnyMomentOfAnyWriteLeavesAFolderThatResumesBitIdentically() throws IOException {
        Path fast = TinyRuns.fastFolder(directory, "crashes");
        try {
            crashAtEveryMoment(fast);
        } finally {
            TinyRuns.delete(fast);
        }
    }

    private static void crashAtEveryMoment(Path directory) throws IOException {
        Path template = directory.resolve("template");
        int steps = TinyRuns.stepsOf(() -> train(template, 3));
        // 3 moments per write: the manifest; epoch 1: metrics, last; epochs 2 and 3: metrics, previous, last
        assertEquals(3 + 6 + 9 + 9, steps);
        List<EpochMetrics> uninterrupted = MetricsCsv.read(template.resolve(MetricsCsv.FILE_NAME));
        for (int step = 0; step < steps; step++) {
            Path run = directory.resolve("crash-" + step);
            assertTrue(TinyRuns.crashAt(step, () -> train(run, 3)), "step " + step);
            List<Checkpoint> valid = TinyRuns.validCheckpoints(run);
            for (Checkpoint checkpoint : valid) {
                assertBitIdenticalToTheUninterruptedRun(checkpoint);
            }
            Checkpoint newest = TinyRuns.newestValid(run);
            if (newest == null) {
                // nothing was saved: no checkpoint file at all, and the run starts again (a folder that has
                // metrics.csv already holds a run's results, which only --overwrite replaces)
                assertFalse(Files.exists(run.resolve(CheckpointFiles.LAST_FILE)), "step " + step + ": " + TinyRuns.names(run));
                assertFalse(Files.exists(run.resolve(CheckpointFiles.PREVIOUS_FILE)), "step " + step);
                try (RunDirectory again = RunDirectory.forNewRun(run, Files.exists(run.resolve(MetricsCsv.FILE_NAME)));
                        Trainer trainer = Trainer.startIn(TinyRuns.config(3), TinyRuns.DATA, TinyRuns.OPTIONS, again)) {
                    trainer.showProgress(false).run();
                }
            } else {
                Checkpoint last = CheckpointFiles.readIfValid(run.resolve(CheckpointFiles.LAST_FILE));
                Path from = last != null && last.epochsCompleted() == newest.epochsCompleted()
                        ? run.resolve(CheckpointFiles.LAST_FILE) : run.resolve(CheckpointFiles.PREVIOUS_FILE);
                RunDirectory.consistentHistory(run, 0, newest, from); // the history matches the newest checkpoint
                resume(from, 3, run);
            }
            assertBitIdenticalToTheUninterruptedRun(CheckpointFormat.read(run.resolve(CheckpointFiles.LAST_FILE)));
            List<EpochMetrics> history = MetricsCsv.read(run.resolve(MetricsCsv.FILE_NAME));
            assertEquals(3, history.size(), "step " + step);
            for (int e = 0; e < 3; e++) {
                assertEquals(uninterrupted.get(e).testAccuracy(), history.get(e).testAccuracy(), "step " + step);
                assertEquals(uninterrupted.get(e).iteration(), history.get(e).iteration(), "step " + step);
            }
            try (Stream<Path> files = Files.list(run)) {
                assertTrue(files.noneMatch(file -> file.getFileName().toString().endsWith(".tmp")), "step " + step);
            }
        }
    }

    /** Finding 9: a full disk was found after a whole epoch, as a stack trace. */
    @Test
    void aFolderWithoutRoomForTheCheckpointsIsRefusedBeforeTheFirstEpoch() {
        Path run = directory.resolve("run");
        OutputFolders.overrideUsableSpaceForTests(folder -> 1000);
        try {
            InvalidInputException refused = assertThrows(InvalidInputException.class, () -> train(run, 1));
            assertTrue(refused.getMessage().startsWith("--out " + run + ": its file system has 1000 bytes free, the files "
                    + "to write need about "), refused.getMessage());
        } finally {
            OutputFolders.overrideUsableSpaceForTests(null);
        }
        assertFalse(Files.exists(run.resolve(MetricsCsv.FILE_NAME)));
        assertFalse(Files.exists(run.resolve(RunDirectory.MANIFEST_FILE)));
    }

    /** Finding 9: an output place that is a file was found after a whole epoch. */
    @Test
    void anOutputPlaceThatCannotBeAFolderIsRefusedAtOnce() throws IOException {
        Path file = Files.writeString(directory.resolve("a-file"), "x");
        InvalidInputException refused = assertThrows(InvalidInputException.class, () -> train(file, 1));
        assertEquals("--out " + file + ": is a file, not a folder", refused.getMessage());
        InvalidInputException under = assertThrows(InvalidInputException.class, () -> train(file.resolve("run"), 1));
        assertTrue(under.getMessage().startsWith("--out " + file.resolve("run") + ": cannot create the folder ("),
                under.getMessage());
    }
}
