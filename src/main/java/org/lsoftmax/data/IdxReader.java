package org.lsoftmax.data;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;
import org.lsoftmax.InvalidInputException;

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
        ByteBuffer data = ByteBuffer.wrap(readMaybeGzipped(file));
        checkMagic(file, data, IMAGES_MAGIC, "images");
        int count = readSize(file, data, "image count");
        int rows = readSize(file, data, "row count");
        int columns = readSize(file, data, "column count");
        if (rows > MAX_SIDE || columns > MAX_SIDE) {
            throw new InvalidInputException(file + ": images of " + rows + " x " + columns
                    + " pixels are implausible (at most " + MAX_SIDE + " per side)");
        }
        long expected = (long) count * rows * columns;
        checkPayloadLength(file, data, expected, count + " images of " + rows + " x " + columns + " pixels");
        byte[] pixels = new byte[(int) expected];
        data.get(pixels);
        return new Images(count, rows, columns, pixels);
    }

    /** Reads a labels file (magic 0x00000801); labels are unsigned bytes. */
    public static int[] readLabels(Path file) {
        ByteBuffer data = ByteBuffer.wrap(readMaybeGzipped(file));
        checkMagic(file, data, LABELS_MAGIC, "labels");
        int count = readSize(file, data, "label count");
        checkPayloadLength(file, data, count, count + " labels");
        int[] labels = new int[count];
        for (int i = 0; i < count; i++) {
            labels[i] = Byte.toUnsignedInt(data.get());
        }
        return labels;
    }

    /**
     * Reads an images file and its labels file into a data set with pixels scaled to [0, 1]; the
     * class count is the largest label + 1.
     */
    public static Dataset readDataset(Path imagesFile, Path labelsFile) {
        Images images = readImages(imagesFile);
        int[] labels = readLabels(labelsFile);
        if (images.count() != labels.length) {
            throw new InvalidInputException(imagesFile + " holds " + images.count() + " images but " + labelsFile
                    + " holds " + labels.length + " labels: the two files do not belong together");
        }
        int classes = 0;
        for (int label : labels) {
            classes = Math.max(classes, label + 1);
        }
        if (classes < 2) {
            throw new InvalidInputException(labelsFile + ": all labels are " + (classes - 1)
                    + ", need at least two classes");
        }
        byte[] pixels = images.pixels();
        float[] features = new float[pixels.length];
        for (int i = 0; i < pixels.length; i++) {
            features[i] = Byte.toUnsignedInt(pixels[i]) / 255f;
        }
        return new Dataset(imagesFile.getParent() + " (" + imagesFile.getFileName() + ")", images.count(),
                images.pixelsPerImage(), classes, features, labels);
    }

    /** The whole file, gunzipped when it starts with the gzip magic 1f 8b. */
    static byte[] readMaybeGzipped(Path file) {
        byte[] raw;
        try {
            raw = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new InvalidInputException(file + ": no such file", e);
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot be read: " + e.getMessage(), e);
        }
        if (raw.length == 0) {
            throw new InvalidInputException(file + ": the file is empty, expected an IDX file");
        }
        boolean gzipped = raw.length >= 2 && (raw[0] & 0xFF) == 0x1F && (raw[1] & 0xFF) == 0x8B;
        if (!gzipped) {
            return raw;
        }
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(raw), 1 << 16)) {
            return in.readAllBytes();
        } catch (ZipException e) {
            throw new InvalidInputException(file + ": corrupt gzip data (" + e.getMessage() + ")", e);
        } catch (IOException e) { // EOFException: the compressed stream ends early
            throw new InvalidInputException(file + ": truncated or corrupt gzip data ("
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()) + ")", e);
        }
    }

    private static void checkMagic(Path file, ByteBuffer data, int expectedMagic, String kind) {
        if (data.remaining() < 4) {
            throw new InvalidInputException(file + ": truncated header, only " + data.remaining()
                    + " bytes where the 4-byte IDX magic number should be");
        }
        int magic = data.getInt();
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

    private static int readSize(Path file, ByteBuffer data, String what) {
        if (data.remaining() < 4) {
            throw new InvalidInputException(file + ": truncated header, the " + what + " is missing");
        }
        int size = data.getInt();
        if (size <= 0) {
            throw new InvalidInputException(file + ": " + what + " is " + Integer.toUnsignedString(size)
                    + ", must be positive");
        }
        return size;
    }

    private static void checkPayloadLength(Path file, ByteBuffer data, long expected, String what) {
        if (expected > Integer.MAX_VALUE - 16) {
            throw new InvalidInputException(file + ": header announces " + what + " = " + expected
                    + " bytes, too large for one array");
        }
        if (data.remaining() < expected) {
            throw new InvalidInputException(file + ": truncated, header announces " + what + " = " + expected
                    + " bytes of data but only " + data.remaining() + " follow");
        }
        if (data.remaining() > expected) {
            throw new InvalidInputException(file + ": " + (data.remaining() - expected)
                    + " unexpected bytes after the " + expected + " bytes of " + what);
        }
    }
}
