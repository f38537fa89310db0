package org.lsoftmax.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Writes a file so that readers see either the old content or the whole new one, never half of it:
 * the bytes go to a temporary file in the same folder ({@code .NAME<random>.tmp}), are forced to disk,
 * the temporary file is renamed over the target, and the folder is forced too, so that the rename
 * survives a power cut. A failed write (an I/O error) removes its temporary file; a process killed in
 * the middle leaves it behind, and {@link #isTemporaryOf} recognises it for cleaning up.
 */
public final class AtomicFiles {

    /** The moments of a write, for {@link #observeForTests}. */
    public enum Step {
        /** The temporary file exists, empty. */
        TEMPORARY_CREATED,
        /** The temporary file holds the whole content, forced to disk; the target is unchanged. */
        TEMPORARY_WRITTEN,
        /** The target holds the new content. */
        RENAMED
    }

    /** Sees each step of the atomic writes of its thread; a test throws from it to simulate a crash there. */
    @FunctionalInterface
    public interface Observer {
        void reached(Step step, Path target);
    }

    private static final ThreadLocal<Observer> OBSERVER = new ThreadLocal<>();

    private AtomicFiles() {
    }

    private static final java.util.Set<PosixFilePermission> NEW_FILE_PERMISSIONS = PosixFilePermissions.fromString("rw-r--r--");

    public static void write(Path target, byte[] content) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path folder = absolute.getParent();
        Files.createDirectories(folder);
        Path temporary = Files.createTempFile(folder, "." + absolute.getFileName(), ".tmp");
        try {
            reached(Step.TEMPORARY_CREATED, absolute);
            // createTempFile makes an owner-only file; give the result the permissions a plain write would
            copyPermissions(absolute, temporary);
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buffer = ByteBuffer.wrap(content);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                channel.force(true);
            }
            reached(Step.TEMPORARY_WRITTEN, absolute);
            try {
                Files.move(temporary, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, absolute, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException | RuntimeException e) {
            // an Error (a simulated crash, out of memory) leaves the temporary file, as a kill would
            Files.deleteIfExists(temporary);
            throw e;
        }
        syncFolder(folder);
        reached(Step.RENAMED, absolute);
    }

    /** Whether {@code name} is a temporary file that {@link #write} makes for {@code targetName}. */
    public static boolean isTemporaryOf(String name, String targetName) {
        return name.startsWith("." + targetName) && name.endsWith(".tmp") && name.length() > targetName.length() + 5;
    }

    /** Test hook: {@code observer} sees every step of this thread's writes (null removes it). */
    public static void observeForTests(Observer observer) {
        if (observer == null) {
            OBSERVER.remove();
        } else {
            OBSERVER.set(observer);
        }
    }

    private static void reached(Step step, Path target) {
        Observer observer = OBSERVER.get();
        if (observer != null) {
            observer.reached(step, target);
        }
    }

    /** Makes a rename durable; not every platform can open a folder, which is then skipped. */
    private static void syncFolder(Path folder) {
        try (FileChannel channel = FileChannel.open(folder, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // e.g. Windows: folders cannot be opened; the rename is still atomic
        }
    }

    private static void copyPermissions(Path target, Path temporary) throws IOException {
        if (!Files.getFileStore(temporary).supportsFileAttributeView(PosixFileAttributeView.class)) {
            return;
        }
        Files.setPosixFilePermissions(temporary,
                Files.exists(target) ? Files.getPosixFilePermissions(target) : NEW_FILE_PERMISSIONS);
    }
}
