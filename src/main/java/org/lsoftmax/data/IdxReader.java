package org.lsoftmax.data;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.MemoryBudget;

/**
 * Reader of the IDX files of MNIST and Fashion-MNIST, raw or gzip-compressed (detected by the gzip
 * magic bytes {@code 1f 8b}, not by the file name).
 *
 * <p>Format (big-endian): a 4-byte magic {@code 00 00 08 NDIM} (type 0x08 = unsigned byte), then
 * NDIM 4-byte dimension sizes, then the product of the sizes in bytes. Images are
 * {@code 0x00000803} (count, rows, columns), labels {@code 0x00000801} (count). Everything is checked
 * — magic, sizes, exact data length — and every problem is an {@link InvalidInputException} whose
 * message starts with the file name and says what is wrong.
 */
public final class IdxReader {

    public static final int IMAGES_MAGIC = 0x00000803;
    public static final int LABELS_MAGIC = 0x00000801;
    /** Larger images are surely not MNIST-like and would only exhaust memory. */
    private static final int MAX_SIDE = 4096;

    /** Images as unsigned bytes, {@code count x rows x columns} row-major. */
    public record Images(int count, int rows, int columns, byte[] pixels) {
        public int pixelsPerImage() {
            return rows * columns;
        }
    }

    private IdxReader() {
    }

    /** Reads an images file (magic 0x00000803). */
    public static Images readImages(Path file) {
        try (IdxInput in = IdxInput.open(file)) {
            int[] shape = readImagesHeader(file, in);
            int count = shape[0];
            int rows = shape[1];
            int columns = shape[2];
            long expected = (long) count * rows * columns;
            String what = count + " images of " + rows + " x " + columns + " pixels";
            checkAnnouncedLength(file, expected, what);
            MemoryBudget.requireHeap(file + ": " + what, expected);
            byte[] pixels = in.readPayload(expected, what);
            return new Images(count, rows, columns, pixels);
        }
    }

    /**
     * The image count, rows and columns an images file announces, from its 16-byte header only (so that
     * the two splits of a data set can be compared before either is read).
     */
    public static int[] readImageShape(Path file) {
        try (IdxInput in = IdxInput.open(file)) {
            return readImagesHeader(file, in);
        }
    }

    private static int[] readImagesHeader(Path file, IdxInput in) {
        checkMagic(file, in, IMAGES_MAGIC, "images");
        int count = readSize(file, in, "image count");
        int rows = readSize(file, in, "row count");
        int columns = readSize(file, in, "column count");
        if (rows > MAX_SIDE || columns > MAX_SIDE) {
            throw new InvalidInputException(file + ": images of " + rows + " x " + columns
                    + " pixels are implausible (at most " + MAX_SIDE + " per side)");
        }
        return new int[] {count, rows, columns};
    }

    /** Reads a labels file (magic 0x00000801); labels are unsigned bytes. */
    public static int[] readLabels(Path file) {
        try (IdxInput in = IdxInput.open(file)) {
            checkMagic(file, in, LABELS_MAGIC, "labels");
            int count = readSize(file, in, "label count");
            String what = count + " labels";
            checkAnnouncedLength(file, count, what);
            MemoryBudget.requireHeap(file + ": " + what, 5L * count);
            byte[] bytes = in.readPayload(count, what);
            int[] labels = new int[count];
            for (int i = 0; i < count; i++) {
                labels[i] = Byte.toUnsignedInt(bytes[i]);
            }
            return labels;
        }
    }

    /**
     * Reads an images file and its labels file into a data set with pixels scaled to [0, 1]; the
     * class count is the largest label + 1, and every class below it must occur (labels 0..C-1: a
     * label file whose largest label is 255 while 10..254 never occur is damaged or of another data set,
     * not a 256-class problem).
     */
    public static Dataset readDataset(Path imagesFile, Path labelsFile) {
        int[] labels = readLabels(labelsFile);
        int classes = 0;
        for (int label : labels) {
            classes = Math.max(classes, label + 1);
        }
        if (classes < 2) {
            throw new InvalidInputException(labelsFile + ": all labels are " + (classes - 1)
                    + ", need at least two classes");
        }
        boolean[] seen = new boolean[classes];
        for (int label : labels) {
            seen[label] = true;
        }
        List<String> missing = new ArrayList<>();
        int absent = 0;
        for (int label = 0; label < classes; label++) {
            if (!seen[label]) {
                int end = label;
                while (end + 1 < classes && !seen[end + 1]) {
                    end++;
                }
                missing.add(end == label ? Integer.toString(label) : label + "-" + end);
                absent += end - label + 1;
                label = end;
            }
        }
        if (!missing.isEmpty()) {
            throw new InvalidInputException(labelsFile + ": labels must be the classes 0.." + (classes - 1)
                    + " with each one present, but " + absent + " never occur" + (absent == 1 ? "s" : "") + " ("
                    + String.join(", ", missing.size() > 8 ? missing.subList(0, 8) : missing)
                    + (missing.size() > 8 ? ", ..." : "") + ") beside the largest label " + (classes - 1)
                    + ": a damaged file, or labels of another data set?");
        }
        return dataset(imagesFile, labelsFile, labels, classes);
    }

    /** Reads the split of a data set whose classes were set by another split: every label must be below {@code classes}. */
    public static Dataset readDataset(Path imagesFile, Path labelsFile, int classes) {
        int[] labels = readLabels(labelsFile);
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] >= classes) {
                throw new InvalidInputException(labelsFile + ": label " + labels[i] + " (number " + i
                        + ") is not one of the " + classes + " classes 0.." + (classes - 1) + " of the training split");
            }
        }
        return dataset(imagesFile, labelsFile, labels, classes);
    }

    private static Dataset dataset(Path imagesFile, Path labelsFile, int[] labels, int classes) {
        Images images = readImages(imagesFile);
        if (images.count() != labels.length) {
            throw new InvalidInputException(imagesFile + " holds " + images.count() + " images but " + labelsFile
                    + " holds " + labels.length + " labels: the two files do not belong together");
        }
        byte[] pixels = images.pixels();
        MemoryBudget.requireHeap(imagesFile + ": " + images.count() + " images as floats", 4L * pixels.length);
        float[] features = new float[pixels.length];
        for (int i = 0; i < pixels.length; i++) {
            features[i] = Byte.toUnsignedInt(pixels[i]) / 255f;
        }
        return new Dataset(imagesFile.getParent() + " (" + imagesFile.getFileName() + ")", images.count(),
                images.pixelsPerImage(), classes, features, labels);
    }

    /** The whole file, gunzipped when it starts with the gzip magic 1f 8b (tests). */
    static byte[] readMaybeGzipped(Path file) {
        try (IdxInput in = IdxInput.open(file)) {
            return in.readRest();
        }
    }

    /**
     * An IDX file as a stream, gunzipped on the fly when it starts with 1f 8b: only what the header
     * announces is ever held, so a small gzip file that inflates to gigabytes costs no memory. Every
     * read problem is an {@link InvalidInputException} naming the file.
     */
    private static final class IdxInput implements AutoCloseable {

        /** Trailing bytes are counted up to this many; more are reported as "more than". */
        private static final long TRAILING_COUNT_LIMIT = 1L << 26;

        private final Path file;
        private final InputStream in;

        private IdxInput(Path file, InputStream in) {
            this.file = file;
            this.in = in;
        }

        static IdxInput open(Path file) {
            if (!Files.exists(file)) {
                throw new InvalidInputException(file + ": no such file");
            }
            if (!Files.isRegularFile(file)) {
                throw new InvalidInputException(file + ": not a regular file, expected an IDX file");
            }
            InputStream raw;
            try {
                if (Files.size(file) == 0) {
                    throw new InvalidInputException(file + ": the file is empty, expected an IDX file");
                }
                raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
            } catch (NoSuchFileException e) {
                throw new InvalidInputException(file + ": no such file", e);
            } catch (IOException e) {
                throw new InvalidInputException(file + ": cannot be read: " + IoErrors.describe(e), e);
            }
            try {
                raw.mark(2);
                int first = raw.read();
                int second = raw.read();
                raw.reset();
                if (first == 0x1F && second == 0x8B) {
                    return new IdxInput(file, new GZIPInputStream(raw, 1 << 16));
                }
                return new IdxInput(file, raw);
            } catch (IOException e) {
                closeQuietly(raw);
                throw failure(file, e);
            }
        }

        /** Up to {@code count} bytes: fewer only at the end of the data. */
        byte[] read(int count) {
            try {
                return in.readNBytes(count);
            } catch (IOException e) {
                throw failure(file, e);
            }
        }

        /** Exactly the {@code expected} bytes of the data, and then the end of the file. */
        byte[] readPayload(long expected, String what) {
            byte[] payload = read((int) expected);
            if (payload.length < expected) {
                throw new InvalidInputException(file + ": truncated, header announces " + what + " = " + expected
                        + " bytes of data but only " + payload.length + " follow");
            }
            long trailing = 0;
            try {
                byte[] scratch = new byte[1 << 16];
                int got;
                while (trailing <= TRAILING_COUNT_LIMIT && (got = in.read(scratch)) > 0) {
                    trailing += got;
                }
            } catch (IOException e) {
                throw failure(file, e);
            }
            if (trailing > 0) {
                throw new InvalidInputException(file + ": " + (trailing > TRAILING_COUNT_LIMIT ? "more than " + TRAILING_COUNT_LIMIT
                        : trailing) + " unexpected bytes after the " + expected + " bytes of " + what);
            }
            return payload;
        }

        byte[] readRest() {
            try {
                return in.readAllBytes();
            } catch (IOException e) {
                throw failure(file, e);
            }
        }

        @Override
        public void close() {
            closeQuietly(in);
        }

        private static InvalidInputException failure(Path file, IOException e) {
            if (e instanceof ZipException) {
                return new InvalidInputException(file + ": corrupt gzip data (" + e.getMessage() + ")", e);
            }
            // EOFException: the compressed stream ends early
            return new InvalidInputException(file + ": truncated or corrupt gzip data ("
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()) + ")", e);
        }

        private static void closeQuietly(InputStream stream) {
            try {
                stream.close();
            } catch (IOException ignored) {
                // read-only: nothing is lost
            }
        }
    }

    private static void checkMagic(Path file, IdxInput in, int expectedMagic, String kind) {
        byte[] bytes = in.read(4);
        if (bytes.length < 4) {
            throw new InvalidInputException(file + ": truncated header, only " + bytes.length
                    + " bytes where the 4-byte IDX magic number should be");
        }
        int magic = ByteBuffer.wrap(bytes).getInt();
        if (magic == expectedMagic) {
            return;
        }
        String found = String.format("0x%08X", magic);
        String hint;
        if (magic == IMAGES_MAGIC) {
            hint = " (an images file, was a labels file expected?)";
        } else if (magic == LABELS_MAGIC) {
            hint = " (a labels file, was an images file expected?)";
        } else if ((magic >>> 16) != 0) {
            hint = " (not an IDX file: the first two bytes of an IDX file are zero)";
        } else {
            hint = " (an IDX file of another element type or dimension)";
        }
        throw new InvalidInputException(file + ": wrong magic number " + found + hint + ", expected "
                + String.format("0x%08X", expectedMagic) + " for IDX " + kind);
    }

    private static int readSize(Path file, IdxInput in, String what) {
        byte[] bytes = in.read(4);
        if (bytes.length < 4) {
            throw new InvalidInputException(file + ": truncated header, the " + what + " is missing");
        }
        int size = ByteBuffer.wrap(bytes).getInt();
        if (size <= 0) {
            throw new InvalidInputException(file + ": " + what + " is " + Integer.toUnsignedString(size)
                    + ", must be positive");
        }
        return size;
    }

    private static void checkAnnouncedLength(Path file, long expected, String what) {
        if (expected > Integer.MAX_VALUE - 16) {
            throw new InvalidInputException(file + ": header announces " + what + " = " + expected
                    + " bytes, too large for one array");
        }
    }
}
