package org.lsoftmax.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.data.AtomicFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checkpoint files on disk. Writing is atomic: a temporary file in the same directory is written,
 * forced to disk and renamed over the target with {@code ATOMIC_MOVE}, so a crash leaves the old or the
 * new file, never a mix.
 * {@link #saveRotating} keeps the previous checkpoint as {@code previous.ckpt} beside {@code last.ckpt},
 * only when it is valid, and refuses a checkpoint with a non-finite value, so the files on disk always
 * hold a usable state and a good file is never replaced by a damaged one.
 */
public final class CheckpointFiles {

    private static final Logger LOG = LoggerFactory.getLogger(CheckpointFiles.class);

    public static final String LAST_FILE = "last.ckpt";
    public static final String PREVIOUS_FILE = "previous.ckpt";

    private CheckpointFiles() {
    }

    /** Writes the file atomically: temporary file in the same directory, fsync, atomic rename ({@link AtomicFiles}). */
    public static void writeAtomically(Checkpoint checkpoint, Path file) {
        try {
            AtomicFiles.write(file, CheckpointFormat.toBytes(checkpoint));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + file, e);
        }
    }

    /**
     * Saves as {@code directory/last.ckpt}. The current last.ckpt is first kept as previous.ckpt (itself
     * replaced atomically), but only when it is a valid checkpoint (it passes every check of
     * {@link CheckpointFormat#read}) of an earlier epoch: a damaged last.ckpt is never copied over a good
     * previous.ckpt, and a last.ckpt of a later epoch (a run taken back with {@code --overwrite}) does not
     * push the older previous.ckpt out. So at every moment both files are complete, and the number of
     * valid checkpoints in the folder never goes down.
     */
    public static void saveRotating(Checkpoint checkpoint, Path directory) {
        OffendingValue nonFinite = checkpoint.firstNonFinite();
        if (nonFinite != null) {
            // the trainer checks before saving; this keeps any other caller from rotating a good file away
            throw new IllegalStateException("refusing to save a checkpoint whose " + nonFinite.summary()
                    + " (index " + nonFinite.index() + ") over " + directory.resolve(LAST_FILE));
        }
        Path last = directory.resolve(LAST_FILE);
        Path previous = directory.resolve(PREVIOUS_FILE);
        if (Files.isRegularFile(last)) {
            byte[] lastBytes;
            try {
                lastBytes = Files.readAllBytes(last);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + last + " to keep it as " + previous, e);
            }
            Checkpoint current = null;
            try {
                current = CheckpointFormat.fromBytes(lastBytes, last);
            } catch (InvalidInputException damaged) {
                LOG.warn("{} is not a valid checkpoint ({}); it is replaced, and {} is kept as it is", last,
                        damaged.getMessage(), previous);
            }
            if (current != null && current.epochsCompleted() < checkpoint.epochsCompleted()) {
                try {
                    AtomicFiles.write(previous, lastBytes);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot keep " + last + " as " + previous, e);
                }
            }
        }
        writeAtomically(checkpoint, last);
    }

    /** The checkpoint in {@code file} when it is valid, else null (missing, damaged, anything {@link CheckpointFormat#read} refuses). */
    public static Checkpoint readIfValid(Path file) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            return CheckpointFormat.read(file);
        } catch (InvalidInputException invalid) {
            return null;
        }
    }
}
