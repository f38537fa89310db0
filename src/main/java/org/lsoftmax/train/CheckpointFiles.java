package org.lsoftmax.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.lsoftmax.data.AtomicFiles;

/**
 * Checkpoint files on disk. Writing is atomic: a temporary file in the same directory is written,
 * forced to disk and renamed over the target with {@code ATOMIC_MOVE}, so a crash leaves the old or the
 * new file, never a mix.
 * {@link #saveRotating} keeps the previous checkpoint as {@code previous.ckpt} beside {@code last.ckpt},
 * and refuses a checkpoint with a non-finite value, so the files on disk always hold a usable state.
 */
public final class CheckpointFiles {

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
        syncDirectory(file.toAbsolutePath().getParent());
    }

    /**
     * Saves as {@code directory/last.ckpt}, first keeping the current last.ckpt as previous.ckpt (itself
     * replaced atomically), so at every moment both files are complete and one of them is at most one
     * epoch old.
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
            try {
                AtomicFiles.write(previous, Files.readAllBytes(last));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot keep " + last + " as " + previous, e);
            }
        }
        writeAtomically(checkpoint, last);
    }

    /** Makes the rename itself durable; not every platform can open a directory, which is then skipped. */
    private static void syncDirectory(Path directory) {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // e.g. Windows: directories cannot be opened; the rename is still atomic
        }
    }
}
