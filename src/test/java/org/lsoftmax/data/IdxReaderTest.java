package org.lsoftmax.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lsoftmax.InvalidInputException;

class IdxReaderTest {

    @TempDir
    Path directory;

    /** IDX images: magic, count, rows, cols, then pixel i = i mod 256. */
    static byte[] imagesFile(int count, int rows, int columns) {
        ByteBuffer buffer = ByteBuffer.allocate(16 + count * rows * columns);
        buffer.putInt(IdxReader.IMAGES_MAGIC).putInt(count).putInt(rows).putInt(columns);
        for (int i = 0; i < count * rows * columns; i++) {
            buffer.put((byte) i);
        }
        return buffer.array();
    }

    static byte[] labelsFile(int... labels) {
        ByteBuffer buffer = ByteBuffer.allocate(8 + labels.length);
        buffer.putInt(IdxReader.LABELS_MAGIC).putInt(labels.length);
        for (int label : labels) {
            buffer.put((byte) label);
        }
        return buffer.array();
    }

    static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
            gzip.write(raw);
        }
        return out.toByteArray();
    }

    private Path write(String name, byte[] bytes) throws IOException {
        return Files.write(directory.resolve(name), bytes);
    }

    private InvalidInputException assertRejected(Path file, Runnable read, String... fragments) {
        InvalidInputException error = assertThrows(InvalidInputException.class, read::run);
        assertTrue(error.getMessage().contains(file.toString()), () -> "message does not name the file: " + error.getMessage());
        for (String fragment : fragments) {
            assertTrue(error.getMessage().contains(fragment), () -> "message lacks '" + fragment + "': " + error.getMessage());
        }
        return error;
    }

    @Test
    void readsRawAndGzippedFilesAlike() throws IOException {
        Path raw = write("raw-images", imagesFile(3, 2, 2));
        Path gzipped = write("images.bin", gzip(imagesFile(3, 2, 2))); // gzip found by magic, not by name
        IdxReader.Images fromRaw = IdxReader.readImages(raw);
        IdxReader.Images fromGzip = IdxReader.readImages(gzipped);
        assertEquals(3, fromRaw.count());
        assertEquals(4, fromRaw.pixelsPerImage());
        assertArrayEquals(fromRaw.pixels(), fromGzip.pixels());
        assertArrayEquals(new int[] {0, 9, 255}, IdxReader.readLabels(write("labels.gz", gzip(labelsFile(0, 9, 255)))));
    }

    @Test
    void datasetScalesPixelsToUnitIntervalAndCountsClasses() throws IOException {
        Dataset data = IdxReader.readDataset(write("i", imagesFile(3, 10, 10)), write("l", labelsFile(0, 2, 1)));
        assertEquals(3, data.classes());
        assertEquals(100, data.dimension());
        assertEquals(255 / 255f, data.features()[255], 0f);
        assertEquals(1 / 255f, data.features()[1], 0f);
    }

    @Test
    void wrongMagicIsRejected() throws IOException {
        Path labelsGivenAsImages = write("labels-as-images", labelsFile(1, 2));
        assertRejected(labelsGivenAsImages, () -> IdxReader.readImages(labelsGivenAsImages), "wrong magic number",
                "0x00000801", "0x00000803");
        Path foreign = write("picture.png", new byte[] {(byte) 0x89, 'P', 'N', 'G', 0, 0, 0, 0, 0, 0, 0, 0});
        assertRejected(foreign, () -> IdxReader.readLabels(foreign), "wrong magic number", "not an IDX file");
    }

    @Test
    void truncatedDataIsRejected() throws IOException {
        byte[] full = imagesFile(4, 3, 3);
        Path truncated = write("truncated", Arrays.copyOf(full, full.length - 5));
        assertRejected(truncated, () -> IdxReader.readImages(truncated), "truncated", "36 bytes", "only 31");
        Path headerOnly = write("header-only", Arrays.copyOf(full, 10));
        assertRejected(headerOnly, () -> IdxReader.readImages(headerOnly), "truncated header");
    }

    @Test
    void trailingBytesAreRejected() throws IOException {
        byte[] labels = labelsFile(1, 2, 3);
        Path longer = write("longer", Arrays.copyOf(labels, labels.length + 2));
        assertRejected(longer, () -> IdxReader.readLabels(longer), "2 unexpected bytes");
    }

    @Test
    void imageAndLabelCountMismatchIsRejected() throws IOException {
        Path images = write("images", imagesFile(3, 2, 2));
        Path labels = write("labels", labelsFile(0, 1));
        InvalidInputException error = assertRejected(images, () -> IdxReader.readDataset(images, labels), "3 images",
                "2 labels", "do not belong together");
        assertTrue(error.getMessage().contains(labels.toString()), error.getMessage());
    }

    @Test
    void corruptGzipIsRejected() throws IOException {
        byte[] compressed = gzip(imagesFile(20, 8, 8));
        byte[] damaged = compressed.clone();
        for (int i = 12; i < 40; i++) {
            damaged[i] ^= (byte) 0x5A; // scramble the deflate stream behind the 10-byte gzip header
        }
        Path corrupt = write("corrupt.gz", damaged);
        assertRejected(corrupt, () -> IdxReader.readImages(corrupt), "gzip");
        Path cut = write("cut.gz", Arrays.copyOf(compressed, compressed.length / 2));
        assertRejected(cut, () -> IdxReader.readImages(cut), "gzip");
    }

    @Test
    void emptyFileIsRejected() throws IOException {
        Path empty = write("empty", new byte[0]);
        assertRejected(empty, () -> IdxReader.readLabels(empty), "empty");
    }

    @Test
    void missingFileIsRejected() {
        Path missing = directory.resolve("nowhere");
        assertRejected(missing, () -> IdxReader.readLabels(missing), "no such file");
    }

    @Test
    void loaderNamesTheMissingFileOfADirectory() throws IOException {
        write("train-images-idx3-ubyte", imagesFile(3, 2, 2));
        InvalidInputException error = assertThrows(InvalidInputException.class, () -> DatasetLoader.loadIdxDirectory(directory));
        assertTrue(error.getMessage().contains("train-labels-idx1-ubyte"), error.getMessage());
    }

    @Test
    void loaderReadsAnIdxDirectory() throws IOException {
        write("train-images-idx3-ubyte.gz", gzip(imagesFile(4, 2, 2)));
        write("train-labels-idx1-ubyte", labelsFile(0, 1, 1, 0));
        write("t10k-images-idx3-ubyte", imagesFile(2, 2, 2));
        write("t10k-labels-idx1-ubyte.gz", gzip(labelsFile(1, 0)));
        TrainTestData data = DatasetLoader.load(directory);
        assertEquals(4, data.train().size());
        assertEquals(2, data.test().size());
        assertEquals(2, data.classes());
    }

    /** Issue 14, finding 8: test images of 14 x 56 were accepted beside training images of 28 x 28 (both 784 pixels). */
    @Test
    void loaderRefusesSplitsOfDifferentImageShapes() throws IOException {
        write("train-images-idx3-ubyte", imagesFile(4, 28, 28));
        write("train-labels-idx1-ubyte", labelsFile(0, 1, 1, 0));
        write("t10k-images-idx3-ubyte.gz", gzip(imagesFile(2, 14, 56)));
        write("t10k-labels-idx1-ubyte", labelsFile(1, 0));
        InvalidInputException error = assertThrows(InvalidInputException.class, () -> DatasetLoader.load(directory));
        assertEquals(directory + ": the training images are 28 x 28 pixels (train-images-idx3-ubyte) but the test "
                + "images 14 x 56 (t10k-images-idx3-ubyte.gz): both splits must have one image shape", error.getMessage());
    }

    /** Issue 14, finding 8: a label 255 silently made a 256-class head. */
    @Test
    void labelsMustBeTheClassesZeroToCMinusOneEachPresent() throws IOException {
        Path images = write("images", imagesFile(5, 2, 2));
        Path labels = write("labels", labelsFile(0, 1, 2, 1, 255));
        InvalidInputException error = assertRejected(labels, () -> IdxReader.readDataset(images, labels));
        assertEquals(labels + ": labels must be the classes 0..255 with each one present, but 252 never occur (3-254) "
                + "beside the largest label 255: a damaged file, or labels of another data set?", error.getMessage());
        Path gaps = write("gaps", labelsFile(0, 2, 4, 4, 6));
        assertRejected(gaps, () -> IdxReader.readDataset(images, gaps), "3 never occur (1, 3, 5)");
        // the test split may lack classes, never hold others
        Path test = write("test-labels", labelsFile(1, 1, 1, 1, 3));
        assertEquals(3, IdxReader.readDataset(images, write("test-ok", labelsFile(1, 1, 0, 1, 2)), 3).classes());
        assertRejected(test, () -> IdxReader.readDataset(images, test, 3), "label 3 (number 4) is not one of the 3 classes 0..2");
    }

    /**
     * Issue 14, finding 10: a small gzip file that inflates to gigabytes was read whole before its header
     * was looked at. Now only what the header announces is held; the rest is counted, and refused.
     */
    @Test
    void aGzipFileIsReadNoFurtherThanItsHeaderAnnounces() throws IOException {
        byte[] header = imagesFile(3, 2, 2);
        java.io.ByteArrayOutputStream compressed = new java.io.ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(compressed)) {
            gzip.write(header);
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < 8; i++) {
                gzip.write(zeros);
            }
        }
        Path bomb = write("bomb.gz", compressed.toByteArray());
        assertTrue(Files.size(bomb) < 100_000, "compressed: " + Files.size(bomb));
        assertRejected(bomb, () -> IdxReader.readImages(bomb), "8388608 unexpected bytes after the 12 bytes of 3 images of 2 x 2 pixels");
        assertArrayEquals(new int[] {3, 2, 2}, IdxReader.readImageShape(bomb), "the header alone");
    }

    @Test
    void onlyRegularFilesAreRead() throws IOException {
        Path folder = Files.createDirectory(directory.resolve("a-folder"));
        assertRejected(folder, () -> IdxReader.readLabels(folder), "not a regular file");
    }
}
