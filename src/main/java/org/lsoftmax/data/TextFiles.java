package org.lsoftmax.data;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.MemoryBudget;

/** Reading the small text files of a run folder: a regular file only (never a FIFO or a device), within the heap. */
public final class TextFiles {

    private TextFiles() {
    }

    /** The lines of a UTF-8 text file; any problem is an {@link InvalidInputException} naming the file. */
    public static List<String> readLines(Path file) {
        if (!Files.exists(file)) {
            throw new InvalidInputException(file + ": no such file");
        }
        if (!Files.isRegularFile(file)) {
            throw new InvalidInputException(file + ": not a regular file");
        }
        try {
            // a line of text becomes a String of two bytes per character, plus the list around it
            MemoryBudget.requireHeap("reading " + file, 4 * Files.size(file));
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new InvalidInputException(file + ": no such file", e);
        } catch (CharacterCodingException e) {
            throw new InvalidInputException(file + ": not a UTF-8 text file", e);
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot be read (" + IoErrors.describe(e) + ")", e);
        }
    }
}
