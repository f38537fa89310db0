package org.lsoftmax.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.data.IdxReader;

/**
 * Fuzzes the IDX reader (MNIST / Fashion-MNIST files) with raw bytes, read both as an images file
 * and as a labels file: either a consistent result or the documented {@link InvalidInputException}.
 */
class IdxFuzzTest {

    @FuzzTest(maxDuration = "30s")
    void raw(byte[] bytes) {
        readBoth(FuzzFiles.write("raw.idx", bytes));
    }

    static void readBoth(Path file) {
        try {
            IdxReader.Images images = IdxReader.readImages(file);
            assertEquals((long) images.count() * images.rows() * images.columns(), images.pixels().length);
        } catch (InvalidInputException expected) {
            // documented rejection
        }
        try {
            int[] labels = IdxReader.readLabels(file);
            for (int label : labels) {
                assertTrue(label >= 0 && label < 256);
            }
        } catch (InvalidInputException expected) {
            // documented rejection
        }
    }
}
