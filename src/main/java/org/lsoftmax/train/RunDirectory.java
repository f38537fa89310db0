package org.lsoftmax.train;

import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.data.AtomicFiles;
import org.lsoftmax.data.IoErrors;
import org.lsoftmax.data.OutputFolders;
import org.lsoftmax.data.TextFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The output folder of a training run, owned by that one run while it trains. What it guarantees
 * (docs/TRAINING.md, "Reliability"):
 * <ul>
 *   <li><b>One writer.</b> Opening takes a lock on {@value #LOCK_FILE} in the folder
 *       ({@link FileChannel#tryLock}), held until {@link #close} and released by the operating system
 *       when the process dies; a second {@code train} on the folder is refused with one line.</li>
 *   <li><b>One run per folder.</b> {@value #MANIFEST_FILE} names the run (an id, when and how it started).
 *       A new run refuses a folder that holds another run's results unless told to replace them
 *       ({@code --overwrite}, which deletes only the run files, and only when the run starts). A resume
 *       writes into the folder of the checkpoint it continues, or into a folder without results (a
 *       branch, whose history is copied from the checkpoint's folder); never into another run's.</li>
 *   <li><b>A history that matches.</b> A resume checks metrics.csv against the checkpoint (one row per
 *       epoch up to the checkpoint's, the last one at its iteration) and refuses a mismatch or a
 *       missing file; it refuses to resume from a checkpoint older than another valid one of the folder
 *       (that would replace it) unless told {@code --overwrite}.</li>
 *   <li><b>Atomic files, rotation that keeps a valid checkpoint.</b> Every file is written through
 *       {@link AtomicFiles}; temporary files a killed run left behind are removed when the folder is
 *       opened; {@link CheckpointFiles#saveRotating} never rotates a damaged last.ckpt over a good
 *       previous.ckpt.</li>
 * </ul>
 * Every check is made when the folder is opened or the run begins ({@link #begin}), before the first
 * epoch: the folder can be created and written, and has room for the checkpoints.
 */
public final class RunDirectory implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RunDirectory.class);

    /** The run's identity: {@code run}, {@code created}, {@code origin}, {@code historyStartsAfterEpoch}. */
    public static final String MANIFEST_FILE = "run.properties";
    /** The lock file; it stays in the folder (deleting a lock file races with the next locker). */
    public static final String LOCK_FILE = ".lock";
    /** Every file a run writes into its folder (the two pictures are drawn by plot.RunPictures). */
    public static final List<String> RUN_FILES = List.of(MANIFEST_FILE, MetricsCsv.FILE_NAME, CheckpointFiles.LAST_FILE,
            CheckpointFiles.PREVIOUS_FILE, FeaturesCsv.FILE_NAME, "curves.png", "features.png", ShardSets.LAST_SET_FILE, ShardSets.FOLDER);
    /** The run files that hold results: a folder with any of them holds a run (a manifest alone is a start that saved nothing). */
    private static final List<String> RESULT_FILES = RUN_FILES.subList(1, RUN_FILES.size());
    /** The probe file of {@link OutputFolders#prepare}, left behind only by a kill. */
    private static final String PROBE_FILE = "write-test";
    /** Folders locked by this JVM: a second channel on a locked file must not even be opened (closing it would drop the lock). */
    private static final Set<Path> LOCKED_HERE = new HashSet<>();
    private static final long MIB = 1L << 20;

    private final Path directory;
    private final Path lockKey;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private Manifest manifestToWrite;
    private List<Path> filesToReplace = List.of();
    private Checkpoint checkpoint;
    private Path checkpointFile;
    private Path historyFolder;
    private int historyStart;
    private boolean begun;
    private boolean closed;

    private RunDirectory(Path directory, Path lockKey, FileChannel lockChannel, FileLock lock) {
        this.directory = directory;
        this.lockKey = lockKey;
        this.lockChannel = lockChannel;
        this.lock = lock;
    }

    /**
     * The folder for a new run: refused when it holds another run's results, unless {@code overwrite}
     * (then {@link #begin} deletes them).
     */
    public static RunDirectory forNewRun(Path directory, boolean overwrite) {
        RunDirectory run = lock(directory);
        try {
            List<Path> results = run.resultFiles();
            if (!results.isEmpty()) {
                if (!overwrite) {
                    throw new InvalidInputException(directory + " holds another run (" + run.describeRun()
                            + "): choose another --out, continue that run with --resume, or replace it with --overwrite");
                }
                run.filesToReplace = results;
            }
            run.manifestToWrite = Manifest.create("new run", 0);
            return run;
        } catch (RuntimeException | Error e) {
            run.close();
            throw e;
        }
    }

    /**
     * The folder for a new run that was given no folder: {@code preferred} when it holds no run and is
     * not in use, else the first of {@code preferred-2}, {@code preferred-3}, ... that does not; the log
     * says which. Never replaces anything.
     */
    public static RunDirectory forNewRunBeside(Path preferred) {
        for (int n = 1; n <= 1000; n++) {
            Path candidate = n == 1 ? preferred : preferred.resolveSibling(preferred.getFileName() + "-" + n);
            RunDirectory run;
            try {
                run = lock(candidate);
            } catch (FolderInUseException inUse) {
                continue;
            }
            if (!run.resultFiles().isEmpty()) {
                run.close();
                continue;
            }
            if (n > 1) {
                LOG.info("{} holds another run: this run goes into {} (give --out to choose the folder)", preferred, candidate);
            }
            run.manifestToWrite = Manifest.create("new run", 0);
            return run;
        }
        throw new InvalidInputException(preferred + " and " + preferred + "-2 .. -1000 all hold runs: give --out");
    }

    /**
     * The folder to continue {@code checkpointFile} in: the checkpoint's own folder, or a folder without
     * results (then the run branches: its history is copied from the checkpoint's folder). The
     * checkpoint is read once the folder is locked ({@link #checkpoint()}), so no other run can write it
     * in between.
     *
     * @param overwrite also replace the results of a folder that is not the checkpoint's, or go back to a
     *                  checkpoint older than another valid one of its own folder
     */
    public static RunDirectory forResume(Path directory, Path checkpointFile, boolean overwrite) {
        RunDirectory run = lock(directory);
        try {
            Checkpoint checkpoint = CheckpointFormat.read(checkpointFile);
            Path source = ShardSets.isSet(checkpointFile) ? ShardSets.runFolderOf(checkpointFile) : checkpointFile.toAbsolutePath().getParent();
            run.checkpoint = checkpoint;
            run.checkpointFile = checkpointFile;
            if (sameFile(source, directory) && ShardSets.isSet(checkpointFile)) {
                throw new InvalidInputException(checkpointFile + " is a checkpoint set of a job of several processes: it continues as a "
                        + "job in its folder (bin/lsoftmax-mpi -np K train --resume --out " + directory + "), or in one process "
                        + "in a new folder (--out NEW)");
            }
            if (sameFile(source, directory)) {
                run.checkNothingNewerIsReplaced(overwrite);
                Manifest manifest = Manifest.read(directory);
                run.historyFolder = directory;
                run.historyStart = manifest == null ? 0 : manifest.historyStartsAfterEpoch();
                run.history(checkpoint); // refuses a metrics.csv of another history now, before any work
                if (manifest == null) {
                    run.manifestToWrite = Manifest.create("resumed from " + checkpointFile + " (epoch "
                            + checkpoint.epochsCompleted() + ") in a folder without " + MANIFEST_FILE, 0);
                }
            } else {
                List<Path> results = run.resultFiles();
                if (!results.isEmpty()) {
                    if (!overwrite) {
                        throw new InvalidInputException(directory + " holds another run (" + run.describeRun() + "): a resume "
                                + "writes into its own run's folder (" + source + ") or into a folder without results; "
                                + "choose another --out, or replace that run with --overwrite");
                    }
                    run.filesToReplace = results;
                }
                Manifest sourceManifest = Manifest.read(source);
                String origin = "branched from " + checkpointFile + " (epoch " + checkpoint.epochsCompleted()
                        + (sourceManifest == null ? "" : " of run " + sourceManifest.runId()) + ")";
                if (Files.exists(source.resolve(MetricsCsv.FILE_NAME))) {
                    run.historyFolder = source;
                    run.historyStart = sourceManifest == null ? 0 : sourceManifest.historyStartsAfterEpoch();
                    run.history(checkpoint);
                } else {
                    // a lone checkpoint: the branch's history starts after it
                    run.historyFolder = null;
                    run.historyStart = checkpoint.epochsCompleted();
                    LOG.info("{} has no {} beside it: the history in {} starts after epoch {}", checkpointFile,
                            MetricsCsv.FILE_NAME, directory, checkpoint.epochsCompleted());
                }
                run.manifestToWrite = Manifest.create(origin, run.historyStart);
            }
            return run;
        } catch (RuntimeException | Error e) {
            run.close();
            throw e;
        }
    }

    /**
     * Rank 0's folder of a data-parallel job's resume ({@link ShardSets}): locked now, before the ranks
     * look at their checkpoint sets; {@link #continueSet} then checks the set they restored.
     */
    public static RunDirectory forSetResume(Path directory) {
        return lock(directory);
    }

    /**
     * Continues the checkpoint set {@code manifest} of this folder, which the job restored ({@code part} is
     * rank 0's part): checks the history against it, and refuses to go back to a set older than another
     * whole one of the folder (which it would replace) unless {@code overwrite}.
     */
    public void continueSet(Checkpoint part, Path manifest, boolean overwrite) {
        requireOpen();
        checkpoint = part;
        checkpointFile = manifest;
        for (int epoch : ShardSets.setEpochs(directory)) {
            if (epoch > part.epochsCompleted() && Files.exists(ShardSets.setFolder(directory, epoch).resolve(ShardSets.SET_FILE))
                    && !overwrite) {
                throw new InvalidInputException(ShardSets.setFolder(directory, epoch) + " (epoch " + epoch + ") is newer than " + manifest
                        + " (epoch " + part.epochsCompleted() + "), and resuming from the older set would replace it: resume from the "
                        + "newest (--resume without a file), or take the run back with --overwrite");
            }
        }
        Manifest runManifest = Manifest.read(directory);
        historyFolder = directory;
        historyStart = runManifest == null ? 0 : runManifest.historyStartsAfterEpoch();
        history(part);
        if (runManifest == null) {
            manifestToWrite = Manifest.create("resumed from " + manifest + " (epoch " + part.epochsCompleted() + ") in a folder without "
                    + MANIFEST_FILE, 0);
        }
    }

    /** The end of an epoch of a data-parallel job (rank 0): metrics.csv alone, atomically; the checkpoints are {@link ShardSets}'. */
    public void saveMetrics(List<EpochMetrics> history) {
        requireOpen();
        if (!begun) {
            throw new IllegalStateException("saveMetrics before begin");
        }
        MetricsCsv.write(directory.resolve(MetricsCsv.FILE_NAME), history);
    }

    /** The folder. */
    public Path directory() {
        return directory;
    }

    /** The checkpoint a resume continues, read under the lock; null for a new run. */
    public Checkpoint checkpoint() {
        return checkpoint;
    }

    /** The checkpoint file a resume continues; null for a new run. */
    public Path checkpointFile() {
        return checkpointFile;
    }

    /** Where the newest checkpoint of the run is written. */
    public Path lastCheckpointFile() {
        return directory.resolve(CheckpointFiles.LAST_FILE);
    }

    /**
     * The history a resume from {@code resumed} continues: the metrics rows of its epochs, checked
     * against it (rows for every epoch of the history up to the checkpoint's, the last one ending at
     * the checkpoint's iteration). Empty for a new run.
     */
    public List<EpochMetrics> history(Checkpoint resumed) {
        if (checkpoint == null) {
            return List.of();
        }
        if (historyFolder == null) {
            return List.of();
        }
        return consistentHistory(historyFolder, historyStart, resumed, checkpointFile);
    }

    /**
     * Starts writing, once everything else was checked: refuses a file system without room for the
     * checkpoints ({@code checkpointBytes} each: last, previous and the temporary file of a rotation, plus
     * a MiB for metrics and pictures), then deletes the results an {@code --overwrite} replaces and
     * writes the manifest.
     */
    public void begin(long checkpointBytes) {
        requireOpen();
        if (begun) {
            return;
        }
        // the bytes already there that count toward the need: checkpoints that will be replaced in place,
        // and what --overwrite deletes
        long reusable = 0;
        for (Path file : filesToReplace) {
            reusable += sizeOf(file);
        }
        for (String name : List.of(CheckpointFiles.LAST_FILE, CheckpointFiles.PREVIOUS_FILE)) {
            Path file = directory.resolve(name);
            if (!filesToReplace.contains(file)) {
                reusable += sizeOf(file);
            }
        }
        OutputFolders.requireRoom(directory, "--out", Math.max(0, 3 * checkpointBytes + MIB - reusable));
        if (!filesToReplace.isEmpty()) {
            String description = describeRun();
            for (Path file : filesToReplace) {
                try {
                    deleteTree(file);
                } catch (IOException e) {
                    throw new UncheckedIOException("--overwrite: cannot delete " + file, e);
                }
            }
            LOG.info("--overwrite: removed the run that was in {} ({})", directory, description);
        }
        if (manifestToWrite != null) {
            try {
                AtomicFiles.write(directory.resolve(MANIFEST_FILE), manifestToWrite.toBytes());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + directory.resolve(MANIFEST_FILE), e);
            }
        }
        begun = true;
    }

    /** The end of an epoch: metrics.csv first (atomically), then the checkpoint with its rotation. */
    public void saveEpoch(List<EpochMetrics> history, Checkpoint state) {
        requireOpen();
        if (!begun) {
            throw new IllegalStateException("saveEpoch before begin");
        }
        MetricsCsv.write(directory.resolve(MetricsCsv.FILE_NAME), history);
        CheckpointFiles.saveRotating(state, directory);
    }

    /** The run's id from its manifest, null when the folder has none. */
    public String runId() {
        Manifest manifest = manifestToWrite != null ? manifestToWrite : Manifest.read(directory);
        return manifest == null ? null : manifest.runId();
    }

    /** Releases the lock. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            lock.release();
        } catch (IOException ignored) {
            // closing the channel releases it as well
        }
        try {
            lockChannel.close();
        } catch (IOException ignored) {
            // nothing more to release
        }
        synchronized (LOCKED_HERE) {
            LOCKED_HERE.remove(lockKey);
        }
    }

    // ---- opening ---------------------------------------------------------------------------------------

    private static RunDirectory lock(Path directory) {
        OutputFolders.prepare(directory, "--out", 0);
        Path key;
        try {
            key = directory.toRealPath();
        } catch (IOException e) {
            throw new InvalidInputException("--out " + directory + ": " + IoErrors.describe(e), e);
        }
        synchronized (LOCKED_HERE) {
            if (LOCKED_HERE.contains(key)) {
                throw inUse(directory, " (by another run of this process)");
            }
            Path lockFile = directory.resolve(LOCK_FILE);
            FileChannel channel;
            try {
                channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.READ,
                        StandardOpenOption.WRITE);
            } catch (IOException e) {
                throw new InvalidInputException("--out " + directory + ": cannot create the lock file " + lockFile + " ("
                        + IoErrors.describe(e) + ")", e);
            }
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (IOException | OverlappingFileLockException e) {
                closeQuietly(channel);
                throw new InvalidInputException("--out " + directory + ": cannot lock " + lockFile + " (" + e + ")", e);
            }
            if (lock == null) {
                String holder = holder(channel);
                closeQuietly(channel);
                throw inUse(directory, holder);
            }
            try {
                byte[] text = ("pid=" + ProcessHandle.current().pid() + "\nsince=" + Instant.now().truncatedTo(ChronoUnit.SECONDS)
                        + "\n").getBytes(StandardCharsets.UTF_8);
                channel.truncate(0);
                channel.write(ByteBuffer.wrap(text), 0);
            } catch (IOException e) {
                closeQuietly(channel);
                throw new InvalidInputException("--out " + directory + ": cannot write " + lockFile + " ("
                        + IoErrors.describe(e) + ")", e);
            }
            LOCKED_HERE.add(key);
            RunDirectory run = new RunDirectory(directory, key, channel, lock);
            try {
                run.removeTemporaryFiles();
            } catch (RuntimeException e) {
                run.close();
                throw e;
            }
            return run;
        }
    }

    private static InvalidInputException inUse(Path directory, String holder) {
        return new FolderInUseException(directory + " is in use by another train" + holder
                + ": one run writes a run folder at a time; wait for it to end, or choose another --out");
    }

    /** The folder is locked by another run. */
    private static final class FolderInUseException extends InvalidInputException {
        private static final long serialVersionUID = 1L;

        FolderInUseException(String message) {
            super(message);
        }
    }

    /** " (pid 1234, since ...)" from the lock file, read through the channel that failed to lock it. */
    private static String holder(FileChannel channel) {
        try {
            ByteBuffer buffer = ByteBuffer.allocate(256);
            channel.read(buffer, 0);
            Properties properties = new Properties();
            properties.load(new StringReader(new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8)));
            String pid = properties.getProperty("pid");
            String since = properties.getProperty("since");
            return pid == null ? "" : " (pid " + pid + (since == null ? "" : ", since " + since) + ")";
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    /** Removes the temporary files of atomic writes that a killed run left (no other writer can be at work: the folder is locked). */
    private void removeTemporaryFiles() {
        List<String> removed = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory, ".*.tmp")) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                boolean ours = AtomicFiles.isTemporaryOf(name, PROBE_FILE);
                for (String runFile : RUN_FILES) {
                    ours |= AtomicFiles.isTemporaryOf(name, runFile);
                }
                if (ours && Files.isRegularFile(entry)) {
                    Files.deleteIfExists(entry);
                    removed.add(name);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clean up " + directory, e);
        }
        if (!removed.isEmpty()) {
            LOG.info("{}: removed {} temporary file(s) left by an interrupted run: {}", directory, removed.size(),
                    String.join(", ", removed));
        }
    }

    private void checkNothingNewerIsReplaced(boolean overwrite) {
        for (String name : List.of(CheckpointFiles.LAST_FILE, CheckpointFiles.PREVIOUS_FILE)) {
            Path other = directory.resolve(name);
            if (!Files.isRegularFile(other) || sameFile(other, checkpointFile)) {
                continue;
            }
            Checkpoint newer = CheckpointFiles.readIfValid(other);
            if (newer != null && newer.epochsCompleted() > checkpoint.epochsCompleted() && !overwrite) {
                throw new InvalidInputException(other + " (epoch " + newer.epochsCompleted() + ") is newer than "
                        + checkpointFile + " (epoch " + checkpoint.epochsCompleted() + "), and resuming from the older "
                        + "one would replace it: resume from " + other + ", take the run back with --overwrite, or "
                        + "branch into a new folder with --out NEW");
            }
        }
    }

    // ---- history ---------------------------------------------------------------------------------------

    /**
     * The rows of {@code folder}'s metrics.csv up to {@code checkpoint}'s epoch, checked as a resume checks
     * them (the history starts where the folder's manifest says); an {@link InvalidInputException} when
     * they do not match.
     */
    public static List<EpochMetrics> checkedHistory(Path folder, Checkpoint checkpoint, Path checkpointFile) {
        Manifest manifest = Manifest.read(folder);
        return consistentHistory(folder, manifest == null ? 0 : manifest.historyStartsAfterEpoch(), checkpoint,
                checkpointFile);
    }

    static List<EpochMetrics> consistentHistory(Path folder, int historyStart, Checkpoint checkpoint, Path checkpointFile) {
        int epochs = checkpoint.epochsCompleted();
        Path metricsFile = folder.resolve(MetricsCsv.FILE_NAME);
        if (epochs < historyStart) {
            throw new InvalidInputException(checkpointFile + " is at epoch " + epochs + ", but the history of " + folder
                    + " starts after epoch " + historyStart + ": the checkpoint is not of this run");
        }
        if (!Files.exists(metricsFile)) {
            if (epochs == historyStart) {
                return List.of();
            }
            throw new InvalidInputException(metricsFile + " is missing, but " + checkpointFile + " is at epoch " + epochs
                    + ": the run's history is lost; to continue without it, resume into a new folder (--out NEW)");
        }
        List<EpochMetrics> rows = MetricsCsv.read(metricsFile);
        for (int i = 0; i < rows.size(); i++) {
            int expected = historyStart + 1 + i;
            if (rows.get(i).epoch() != expected) {
                throw mismatch(metricsFile, checkpointFile, "its row " + (i + 1) + " is epoch " + rows.get(i).epoch()
                        + " where epoch " + expected + " belongs");
            }
        }
        int needed = epochs - historyStart;
        if (rows.size() < needed) {
            throw mismatch(metricsFile, checkpointFile, "it ends at epoch " + (historyStart + rows.size())
                    + ", the checkpoint is at epoch " + epochs);
        }
        List<EpochMetrics> kept = rows.subList(0, needed);
        if (needed > 0 && kept.get(needed - 1).iteration() != checkpoint.iteration()) {
            throw mismatch(metricsFile, checkpointFile, "its epoch " + epochs + " ended at iteration "
                    + kept.get(needed - 1).iteration() + ", the checkpoint's at iteration " + checkpoint.iteration());
        }
        return List.copyOf(kept);
    }

    private static InvalidInputException mismatch(Path metricsFile, Path checkpointFile, String detail) {
        return new InvalidInputException(metricsFile + " does not match " + checkpointFile + ": " + detail
                + "; the two files are not of one run");
    }

    // ---- what is in the folder -------------------------------------------------------------------------

    private List<Path> resultFiles() {
        List<Path> present = new ArrayList<>();
        for (String name : RESULT_FILES) {
            Path file = directory.resolve(name);
            if (Files.exists(file)) {
                present.add(file);
            }
        }
        return present;
    }

    /** "run 20261201T090244Z-3f2a, metrics.csv with 3 epochs, last.ckpt at epoch 3", for messages. */
    private String describeRun() {
        List<String> parts = new ArrayList<>();
        try {
            Manifest manifest = Manifest.read(directory);
            if (manifest != null) {
                parts.add("run " + manifest.runId());
            }
        } catch (RuntimeException e) {
            parts.add(MANIFEST_FILE + " unreadable");
        }
        Path metrics = directory.resolve(MetricsCsv.FILE_NAME);
        if (Files.exists(metrics)) {
            try {
                parts.add(MetricsCsv.FILE_NAME + " with " + MetricsCsv.read(metrics).size() + " epoch(s)");
            } catch (RuntimeException e) {
                parts.add(MetricsCsv.FILE_NAME + " unreadable");
            }
        }
        for (String name : List.of(CheckpointFiles.LAST_FILE, CheckpointFiles.PREVIOUS_FILE)) {
            Path file = directory.resolve(name);
            if (Files.exists(file)) {
                Checkpoint valid = CheckpointFiles.readIfValid(file);
                parts.add(name + (valid == null ? " damaged" : " at epoch " + valid.epochsCompleted()));
            }
        }
        if (parts.isEmpty()) {
            for (Path file : resultFiles()) {
                parts.add(file.getFileName().toString());
            }
        }
        return String.join(", ", parts);
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException(directory + " was closed");
        }
    }

    private static boolean sameFile(Path a, Path b) {
        try {
            return Files.exists(a) && Files.exists(b) && Files.isSameFile(a, b);
        } catch (IOException e) {
            return a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize());
        }
    }

    /** Deletes a run file, or the folder of the checkpoint sets with what is in it. */
    private static void deleteTree(Path file) throws IOException {
        if (Files.isDirectory(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(file)) {
                for (Path entry : entries) {
                    deleteTree(entry);
                }
            }
        }
        Files.deleteIfExists(file);
    }

    private static long sizeOf(Path file) {
        try {
            return Files.isRegularFile(file) ? Files.size(file) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing to release
        }
    }

    /** The contents of {@value #MANIFEST_FILE}. */
    record Manifest(String runId, String created, String origin, int historyStartsAfterEpoch) {

        private static final SecureRandom RANDOM = new SecureRandom();

        static Manifest create(String origin, int historyStartsAfterEpoch) {
            Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
            String id = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'", Locale.ROOT).withZone(ZoneOffset.UTC).format(now)
                    + "-" + String.format(Locale.ROOT, "%08x", RANDOM.nextInt());
            return new Manifest(id, now.toString(), origin, historyStartsAfterEpoch);
        }

        /** The folder's manifest, null when it has none. */
        static Manifest read(Path folder) {
            Path file = folder.resolve(MANIFEST_FILE);
            if (!Files.exists(file)) {
                return null;
            }
            Properties properties = new Properties();
            try {
                properties.load(new StringReader(String.join("\n", TextFiles.readLines(file))));
                String id = properties.getProperty("run");
                if (id == null || id.isBlank()) {
                    throw new InvalidInputException(file + ": not a run manifest (no run=ID line)");
                }
                int start = Integer.parseInt(properties.getProperty("historyStartsAfterEpoch", "0").trim());
                if (start < 0) {
                    throw new NumberFormatException("historyStartsAfterEpoch=" + start);
                }
                return new Manifest(id.trim(), properties.getProperty("created", ""), properties.getProperty("origin", ""),
                        start);
            } catch (IOException | IllegalArgumentException e) {
                if (e instanceof InvalidInputException invalid) {
                    throw invalid;
                }
                throw new InvalidInputException(file + ": unreadable run manifest (" + e.getMessage() + ")", e);
            }
        }

        byte[] toBytes() {
            return ("# lsoftmax run folder: written by train, one run per folder (docs/TRAINING.md, \"Reliability\")\n"
                    + "run=" + runId + "\n"
                    + "created=" + created + "\n"
                    + "origin=" + origin.replace("\\", "\\\\").replace("\n", " ") + "\n"
                    + "historyStartsAfterEpoch=" + historyStartsAfterEpoch + "\n").getBytes(StandardCharsets.UTF_8);
        }
    }
}
