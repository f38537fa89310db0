package org.lsoftmax.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;
import org.lsoftmax.data.AtomicFiles;
import org.lsoftmax.data.SyntheticDataset;
import org.lsoftmax.data.TrainTestData;
import org.lsoftmax.head.PassOptions;
import org.lsoftmax.train.BetaSchedule;
import org.lsoftmax.train.Checkpoint;
import org.lsoftmax.train.CheckpointFiles;
import org.lsoftmax.train.TrainConfig;
import org.lsoftmax.train.Trainer;

/**
 * Training runs small enough to run hundreds of times in a test or a fuzz target: 96 samples of 6
 * features in 3 classes, a 6 -> 8 -> 3 network, batches of 32 (3 steps an epoch), the reference pass on
 * one thread. Every run of {@link #config} draws the same numbers for an epoch, whatever its total.
 */
public final class TinyRuns {

    public static final TrainTestData DATA = SyntheticDataset.create(7, 3, 6, 96, 30, 0.3);
    public static final PassOptions OPTIONS = new PassOptions(1, null);
    public static final String PASS = "reference";

    private static List<Long> referenceDigests;

    private TinyRuns() {
    }

    public static TrainConfig config(int epochs) {
        return new TrainConfig(2, List.of(8), 3, 32, 0.05, List.of(), 0.9, 5e-4, epochs, 5,
                new BetaSchedule.Geometric(100, 0.9, 2), PASS);
    }

    /**
     * The digest ({@link #digest}) of the uninterrupted run's state after each epoch: index e is epoch e
     * (index 0, the initial weights).
     */
    public static synchronized List<Long> referenceDigests(int epochs) {
        if (referenceDigests == null || referenceDigests.size() <= epochs) {
            List<Long> digests = new ArrayList<>();
            try (Trainer trainer = Trainer.start(config(epochs), DATA, OPTIONS, null)) {
                trainer.showProgress(false);
                digests.add(digest(trainer.checkpoint()));
                for (int e = 1; e <= epochs; e++) {
                    trainer.trainEpoch();
                    digests.add(digest(trainer.checkpoint()));
                }
            }
            referenceDigests = List.copyOf(digests);
        }
        return referenceDigests;
    }

    /** CRC-32 of every parameter's and momentum's bits, the iteration and the epoch: equal for bit-identical states. */
    public static long digest(Checkpoint checkpoint) {
        CRC32 crc = new CRC32();
        for (Checkpoint.Tensor tensor : checkpoint.tensors()) {
            for (float[] values : new float[][] {tensor.values(), tensor.momentum()}) {
                for (float value : values) {
                    int bits = Float.floatToRawIntBits(value);
                    crc.update(new byte[] {(byte) (bits >> 24), (byte) (bits >> 16), (byte) (bits >> 8), (byte) bits});
                }
            }
        }
        crc.update(Long.toString(checkpoint.iteration()).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        crc.update(checkpoint.epochsCompleted());
        return crc.getValue();
    }

    /** The valid checkpoints (last.ckpt, previous.ckpt) of a folder. */
    public static List<Checkpoint> validCheckpoints(Path folder) {
        List<Checkpoint> valid = new ArrayList<>();
        for (String name : List.of(CheckpointFiles.LAST_FILE, CheckpointFiles.PREVIOUS_FILE)) {
            Checkpoint checkpoint = CheckpointFiles.readIfValid(folder.resolve(name));
            if (checkpoint != null) {
                valid.add(checkpoint);
            }
        }
        return valid;
    }

    /** The newest valid checkpoint of a folder, or null. */
    public static Checkpoint newestValid(Path folder) {
        Checkpoint newest = null;
        for (Checkpoint checkpoint : validCheckpoints(folder)) {
            if (newest == null || checkpoint.epochsCompleted() > newest.epochsCompleted()) {
                newest = checkpoint;
            }
        }
        return newest;
    }

    /** A kill at one moment of a file write, as far as the files can tell: nothing after it happens. */
    public static final class SimulatedCrash extends Error {
        private static final long serialVersionUID = 1L;

        public SimulatedCrash(String where) {
            super("simulated crash " + where, null, false, false);
        }
    }

    /**
     * Runs {@code work} with a crash at the {@code step}-th moment (0-based) of its atomic file writes
     * ({@link AtomicFiles.Step}); returns whether it crashed. With a step past the last one it runs to
     * the end; {@link #stepsOf} counts them.
     */
    public static boolean crashAt(int step, Runnable work) {
        int[] seen = {0};
        AtomicFiles.observeForTests((moment, target) -> {
            if (seen[0]++ == step) {
                throw new SimulatedCrash(moment + " of " + target.getFileName());
            }
        });
        try {
            work.run();
            return false;
        } catch (SimulatedCrash crash) {
            return true;
        } finally {
            AtomicFiles.observeForTests(null);
        }
    }

    /** The moments of atomic writes {@code work} goes through. */
    public static int stepsOf(Runnable work) {
        int[] seen = {0};
        AtomicFiles.observeForTests((moment, target) -> seen[0]++);
        try {
            work.run();
        } finally {
            AtomicFiles.observeForTests(null);
        }
        return seen[0];
    }

    /**
     * A new folder on a tmpfs ({@code /dev/shm}), where fsync costs nothing, for tests that write
     * thousands of files; under {@code fallback} where there is none. The caller deletes it ({@link #delete}).
     */
    public static Path fastFolder(Path fallback, String name) {
        try {
            Path shm = Path.of("/dev/shm");
            return Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, name)
                    : Files.createDirectories(fallback.resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Deletes a folder and everything in it. */
    public static void delete(Path folder) {
        if (!Files.exists(folder)) {
            return;
        }
        try (var files = Files.walk(folder)) {
            for (Path file : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every regular file of a folder, by name. */
    public static List<String> names(Path folder) {
        try (var files = Files.list(folder)) {
            return files.map(path -> path.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
