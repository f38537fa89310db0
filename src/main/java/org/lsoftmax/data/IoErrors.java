package org.lsoftmax.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * An I/O failure as the one line a user reads: the file it concerns and why, e.g.
 * {@code runs/m4/metrics.csv: No space left on device}, instead of the exception's class name and trace.
 */
public final class IoErrors {

    private IoErrors() {
    }

    /** The file (when the exception names one) and the reason. */
    public static String describe(IOException e) {
        if (e instanceof FileSystemException fs) {
            String file = fs.getFile() == null ? "" : fs.getFile() + (fs.getOtherFile() == null ? "" : " -> " + fs.getOtherFile());
            String reason;
            if (e instanceof NoSuchFileException) {
                reason = "no such file or folder";
            } else if (e instanceof AccessDeniedException) {
                reason = "permission denied";
            } else if (e instanceof FileAlreadyExistsException) {
                reason = "already exists";
            } else if (e instanceof NotDirectoryException) {
                reason = "not a folder";
            } else if (e instanceof DirectoryNotEmptyException) {
                reason = "a folder that is not empty";
            } else {
                reason = fs.getReason() != null ? fs.getReason() : e.getClass().getSimpleName();
            }
            return file.isEmpty() ? reason : file + ": " + reason;
        }
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
    }

    /** {@code "cannot write X: No space left on device"}: the wrapper's message, then its cause. */
    public static String describe(UncheckedIOException e) {
        IOException cause = e.getCause();
        String message = e.getMessage();
        if (message == null || message.equals(String.valueOf(cause))) {
            return describe(cause);
        }
        String reason = describe(cause);
        // a FileSystemException names the file again; say it once
        if (cause instanceof FileSystemException fs && fs.getFile() != null && message.contains(fs.getFile())
                && reason.startsWith(fs.getFile() + ": ")) {
            reason = reason.substring(fs.getFile().length() + 2);
        }
        return message + ": " + reason;
    }
}
