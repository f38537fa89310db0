package org.lsoftmax.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.ToLongFunction;
import org.lsoftmax.InvalidInputException;

/**
 * The check every command makes of the folder it will write, before any work: the folder exists or
 * can be created, files can be created in it, and its file system has room for what will be written.
 * A problem is an {@link InvalidInputException} naming the option and the folder, found in
 * milliseconds instead of after an epoch of training.
 */
public final class OutputFolders {

    private static volatile ToLongFunction<Path> usableSpace = OutputFolders::fileStoreUsableSpace;

    private OutputFolders() {
    }

    /**
     * Creates {@code folder} if needed and checks that it can take {@code bytesNeeded} more bytes.
     *
     * @param option how the user named the folder, e.g. {@code --out}
     * @return the folder
     */
    public static Path prepare(Path folder, String option, long bytesNeeded) {
        if (folder.toString().isEmpty()) {
            throw new InvalidInputException(option + " is empty: name a folder (e.g. " + option + " .)");
        }
        if (Files.exists(folder) && !Files.isDirectory(folder)) {
            throw new InvalidInputException(option + " " + folder + ": is a file, not a folder");
        }
        try {
            Files.createDirectories(folder);
        } catch (IOException e) {
            throw new InvalidInputException(option + " " + folder + ": cannot create the folder (" + IoErrors.describe(e) + ")", e);
        }
        try {
            Path probe = Files.createTempFile(folder, ".write-test", ".tmp");
            Files.delete(probe);
        } catch (IOException e) {
            throw new InvalidInputException(option + " " + folder + ": cannot write in this folder (" + IoErrors.describe(e) + ")", e);
        }
        requireRoom(folder, option, bytesNeeded);
        return folder;
    }

    /** Refuses when the folder's file system has less than {@code bytesNeeded} usable bytes. */
    public static void requireRoom(Path folder, String option, long bytesNeeded) {
        long usable = usableSpace.applyAsLong(folder);
        if (usable >= 0 && usable < bytesNeeded) {
            throw new InvalidInputException(String.format(Locale.ROOT,
                    "%s %s: its file system has %s free, the files to write need about %s: free some space or choose another %s",
                    option, folder, bytes(usable), bytes(bytesNeeded), option));
        }
    }

    /** "1.5 MiB" and the like. */
    public static String bytes(long count) {
        if (count < 1024) {
            return count + " bytes";
        }
        double value = count;
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        int unit = -1;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }

    /**
     * Test hook: what {@link #requireRoom} believes is free (a full disk cannot be made on demand);
     * null restores the file system's own answer.
     */
    public static void overrideUsableSpaceForTests(ToLongFunction<Path> space) {
        usableSpace = space == null ? OutputFolders::fileStoreUsableSpace : space;
    }

    private static long fileStoreUsableSpace(Path folder) {
        try {
            return Files.getFileStore(folder).getUsableSpace();
        } catch (IOException e) {
            return -1; // unknown: the writes themselves will tell
        }
    }
}
