package org.lsoftmax.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.testing.TinyRuns;
import org.lsoftmax.train.Checkpoint;
import org.lsoftmax.train.CheckpointFiles;
import org.lsoftmax.train.CheckpointFormat;
import org.lsoftmax.train.MetricsCsv;
import org.lsoftmax.train.RunDirectory;
import org.lsoftmax.train.Trainer;

/**
 * Fuzzes the run folder: sequences of new runs (with and without --overwrite), resumes from last.ckpt or
 * previous.ckpt, branches into a second folder, a second writer while a run holds the folder, kills at
 * any moment of any file write ({@link TinyRuns#crashAt}), and damage to any run file (a flipped byte, a
 * truncation, an empty file, garbage, a deletion, a stale temporary file), on {@link TinyRuns}. After
 * every operation, whatever its outcome (done, refused with an {@link InvalidInputException}, or killed):
 * <ul>
 *   <li>there are never fewer valid checkpoints than before (unless the operation was told --overwrite,
 *       or was the fuzzer's own damage),</li>
 *   <li>every valid checkpoint is bit-identical to the uninterrupted run's state after its epoch,</li>
 *   <li>metrics.csv matches the newest valid checkpoint (unless the fuzzer damaged it since it was written),</li>
 *   <li>the folder's lock is free, and a finished operation leaves no temporary file and a last.ckpt of
 *       the epoch it was asked for.</li>
 * </ul>
 * Anything else (another exception, a broken invariant) is a finding.
 */
class RunFolderFuzzTest {

    private static final int MAX_EPOCHS = 8;
    private static Path root;
    private static long folders;

    private static synchronized Path freshFolder(String name) {
        try {
            if (root == null) {
                // fsync costs nothing on a tmpfs: thousands of atomic writes a second. One root for every run
                // of the target (Jazzer may end the JVM before any exit hook); each execution deletes its folders
                Path shm = Path.of("/dev/shm");
                Path base = Files.isDirectory(shm) && Files.isWritable(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir"));
                root = Files.createDirectories(base.resolve("lsoftmax-run-fuzz"));
            }
            return root.resolve(name + "-" + ProcessHandle.current().pid() + "-" + folders++);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What the invariants know of one folder. */
    private static final class Folder {
        final Path path;
        /** False from the fuzzer's damage to metrics.csv or run.properties until an operation rewrites them. */
        boolean historyTrusted = true;

        Folder(Path path) {
            this.path = path;
        }
    }

    private enum Outcome { DONE, REFUSED, CRASHED }

    @FuzzTest(maxDuration = "30s")
    void operations(FuzzedDataProvider data) throws IOException {
        Folder run = new Folder(freshFolder("run"));
        Folder branch = new Folder(freshFolder("branch"));
        TinyRuns.referenceDigests(MAX_EPOCHS);
        try {
            int operations = data.consumeInt(1, 10);
            for (int i = 0; i < operations && data.remainingBytes() > 0; i++) {
                int kind = data.consumeInt(0, 6);
                Folder target = kind >= 3 && data.consumeBoolean() ? branch : run;
                int validBefore = TinyRuns.validCheckpoints(target.path).size();
                boolean overwrite = false;
                boolean damage = false;
                Outcome outcome;
                int asked = -1;
                int done = 0;
                switch (kind) {
                    case 0 -> {
                        overwrite = data.consumeBoolean();
                        asked = data.consumeInt(1, 3);
                        boolean replace = overwrite;
                        int epochs = asked;
                        outcome = attempt(data, () -> {
                            try (RunDirectory folder = RunDirectory.forNewRun(run.path, replace);
                                    Trainer trainer = Trainer.startIn(TinyRuns.config(epochs), TinyRuns.DATA, TinyRuns.OPTIONS, folder)) {
                                trainer.showProgress(false).run();
                            }
                        });
                    }
                    case 1, 2 -> {
                        overwrite = kind == 2 && data.consumeBoolean();
                        Path from = run.path.resolve(data.consumeBoolean() ? CheckpointFiles.LAST_FILE : CheckpointFiles.PREVIOUS_FILE);
                        Checkpoint checkpoint = CheckpointFiles.readIfValid(from);
                        done = checkpoint == null ? 0 : checkpoint.epochsCompleted();
                        asked = Math.min(MAX_EPOCHS, done + data.consumeInt(0, 2));
                        outcome = resume(data, from, asked, run.path, overwrite);
                    }
                    case 3 -> {
                        Path from = run.path.resolve(CheckpointFiles.LAST_FILE);
                        Checkpoint checkpoint = CheckpointFiles.readIfValid(from);
                        done = checkpoint == null ? 0 : checkpoint.epochsCompleted();
                        asked = Math.min(MAX_EPOCHS, done + data.consumeInt(0, 2));
                        overwrite = data.consumeBoolean();
                        outcome = resume(data, from, asked, target.path, overwrite);
                    }
                    case 4 -> {
                        damage = true;
                        damage(data, target);
                        outcome = Outcome.DONE;
                    }
                    case 5 -> {
                        // a second writer while the folder is held: refused, and nothing in the folder changes
                        try (RunDirectory holder = RunDirectory.forNewRun(target.path, true)) {
                            java.util.Map<String, String> before = contents(target.path);
                            InvalidInputException refused = org.junit.jupiter.api.Assertions.assertThrows(
                                    InvalidInputException.class, () -> Trainer.start(TinyRuns.config(1), TinyRuns.DATA,
                                            TinyRuns.OPTIONS, target.path).close());
                            assertTrue(refused.getMessage().contains("is in use by another train"), refused.getMessage());
                            assertEquals(before, contents(target.path), "a refused second writer changed the folder");
                            assertNotNull(holder.directory());
                        }
                        outcome = Outcome.REFUSED;
                    }
                    default -> {
                        damage = true;
                        Files.createDirectories(target.path);
                        String name = data.pickValue(RunDirectory.RUN_FILES);
                        Files.write(target.path.resolve("." + name + data.consumeInt(0, 99999) + ".tmp"),
                                data.consumeBytes(data.consumeInt(0, 64)));
                        outcome = Outcome.DONE;
                    }
                }
                boolean trained = !damage && outcome == Outcome.DONE && asked > done;
                if (trained) {
                    target.historyTrusted = true; // its metrics.csv was rewritten and checked
                }
                check(target, validBefore, overwrite || damage, outcome, trained ? asked : -1, trained ? asked - done : 0);
                if (target != run) {
                    check(run, TinyRuns.validCheckpoints(run.path).size(), true, Outcome.REFUSED, -1, 0);
                }
            }
        } finally {
            delete(run.path);
            delete(branch.path);
        }
    }

    private static Outcome resume(FuzzedDataProvider data, Path from, int epochs, Path out, boolean overwrite) {
        return attempt(data, () -> {
            try (RunDirectory folder = RunDirectory.forResume(out, from, overwrite);
                    Trainer trainer = Trainer.resumeIn(folder.checkpoint(), from, Math.max(epochs,
                            folder.checkpoint().epochsCompleted()), TinyRuns.PASS, TinyRuns.DATA, TinyRuns.OPTIONS, folder)) {
                trainer.showProgress(false).run();
            }
        });
    }

    /** Runs the work, killed at a moment the fuzzer picks (or not at all). */
    private static Outcome attempt(FuzzedDataProvider data, Runnable work) {
        int crashAt = data.consumeBoolean() ? data.consumeInt(0, 40) : Integer.MAX_VALUE;
        try {
            return TinyRuns.crashAt(crashAt, work) ? Outcome.CRASHED : Outcome.DONE;
        } catch (InvalidInputException refused) {
            return Outcome.REFUSED;
        }
    }

    private static void damage(FuzzedDataProvider data, Folder folder) throws IOException {
        String name = data.pickValue(List.of(CheckpointFiles.LAST_FILE, CheckpointFiles.PREVIOUS_FILE, MetricsCsv.FILE_NAME,
                RunDirectory.MANIFEST_FILE));
        Path file = folder.path.resolve(name);
        if (!Files.isRegularFile(file)) {
            return;
        }
        if (name.equals(MetricsCsv.FILE_NAME) || name.equals(RunDirectory.MANIFEST_FILE)) {
            folder.historyTrusted = false;
        }
        byte[] bytes = Files.readAllBytes(file);
        switch (data.consumeInt(0, 4)) {
            case 0 -> {
                if (bytes.length > 0) {
                    bytes[data.consumeInt(0, bytes.length - 1)] ^= (byte) data.consumeInt(1, 255);
                }
                Files.write(file, bytes);
            }
            case 1 -> Files.write(file, java.util.Arrays.copyOf(bytes, data.consumeInt(0, bytes.length)));
            case 2 -> Files.write(file, new byte[0]);
            case 3 -> Files.write(file, data.consumeBytes(data.consumeInt(0, 200)));
            default -> Files.delete(file);
        }
    }

    /**
     * @param trainedEpochs epochs a finished operation trained: each save keeps the valid checkpoint it
     *                      rotates, so the folder then holds min(2, before + trained) valid checkpoints
     */
    private static void check(Folder folder, int validBefore, boolean mayLoseCheckpoints, Outcome outcome, int asked,
            int trainedEpochs) throws IOException {
        if (!Files.isDirectory(folder.path)) {
            return;
        }
        List<Checkpoint> valid = TinyRuns.validCheckpoints(folder.path);
        if (!mayLoseCheckpoints) {
            int least = outcome == Outcome.DONE ? Math.min(2, validBefore + trainedEpochs) : validBefore;
            assertTrue(valid.size() >= least, outcome + " after " + trainedEpochs + " epochs: " + valid.size()
                    + " valid checkpoints, " + validBefore + " before: " + TinyRuns.names(folder.path));
        }
        List<Long> reference = TinyRuns.referenceDigests(MAX_EPOCHS);
        for (Checkpoint checkpoint : valid) {
            assertEquals(reference.get(checkpoint.epochsCompleted()), TinyRuns.digest(checkpoint),
                    "a valid checkpoint of epoch " + checkpoint.epochsCompleted() + " differs from the uninterrupted run's");
        }
        Checkpoint newest = TinyRuns.newestValid(folder.path);
        if (newest != null && folder.historyTrusted) {
            Path newestFile = folder.path.resolve(CheckpointFiles.LAST_FILE);
            RunDirectory.checkedHistory(folder.path, newest, newestFile); // throws when metrics.csv does not match
        }
        // the lock is free: nothing of this process holds it
        Path lock = folder.path.resolve(RunDirectory.LOCK_FILE);
        if (Files.exists(lock)) {
            try (FileChannel channel = FileChannel.open(lock, StandardOpenOption.WRITE); FileLock free = channel.tryLock()) {
                assertNotNull(free, "the lock of " + folder.path + " is still held");
            }
        }
        if (outcome == Outcome.DONE && asked > 0) {
            assertTrue(TinyRuns.names(folder.path).stream().noneMatch(name -> name.endsWith(".tmp")),
                    "a finished run left temporary files: " + TinyRuns.names(folder.path));
            assertEquals(asked, CheckpointFormat.read(folder.path.resolve(CheckpointFiles.LAST_FILE)).epochsCompleted());
        }
    }

    /** The folder's files (but its lock) and a digest of each. */
    private static java.util.Map<String, String> contents(Path folder) throws IOException {
        java.util.Map<String, String> files = new java.util.TreeMap<>();
        for (String name : TinyRuns.names(folder)) {
            if (!name.equals(RunDirectory.LOCK_FILE)) {
                java.util.zip.CRC32 crc = new java.util.zip.CRC32();
                byte[] bytes = Files.readAllBytes(folder.resolve(name));
                crc.update(bytes);
                files.put(name, bytes.length + ":" + Long.toHexString(crc.getValue()));
            }
        }
        return files;
    }

    private static void delete(Path folder) throws IOException {
        if (!Files.exists(folder)) {
            return;
        }
        try (Stream<Path> files = Files.walk(folder)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(file);
            }
        }
    }
}
