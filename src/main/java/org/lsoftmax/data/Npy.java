package org.lsoftmax.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.MemoryBudget;

/**
 * Reads and writes NumPy {@code .npy} files (format versions 1.0, 2.0 and 3.0).
 *
 * <p>Layout: the magic {@code \x93NUMPY}, a major and minor version byte, the header length
 * (little-endian uint16 in 1.0, uint32 in 2.0/3.0), an ASCII (UTF-8 in 3.0) Python dict literal
 * {@code {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }} padded with spaces and a
 * newline, then the raw data. Read: float32/float64/int32/int64 in either byte order, C or Fortran
 * order (Fortran data is reordered to C order). Anything else is refused with a message that names
 * the file and the problem. Written files are version 1.0, little-endian, C order, with the header
 * padded so the data starts on a 64-byte boundary, as numpy writes them, and are written atomically.
 */
public final class Npy {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("['\"]descr['\"]\\s*:\\s*(['\"])([^'\"]*)\\1");
    private static final Pattern DESCR_ANY = Pattern.compile("['\"]descr['\"]\\s*:\\s*([\\[(])");
    private static final Pattern FORTRAN = Pattern.compile("['\"]fortran_order['\"]\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("['\"]shape['\"]\\s*:\\s*\\(([^)]*)\\)");
    private static final Pattern SHAPE_TUPLE = Pattern.compile("-?\\d+L?(\\s*,\\s*-?\\d+L?)*\\s*,?");

    private Npy() {
    }

    /** Reads a whole .npy file. */
    public static NpyArray read(Path file) {
        byte[] bytes;
        try {
            if (!Files.exists(file)) {
                throw new NoSuchFileException(file.toString());
            }
            if (!Files.isRegularFile(file)) {
                throw new InvalidInputException(file + ": not a regular file, expected a .npy file");
            }
            MemoryBudget.requireHeap("reading " + file, Files.size(file));
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new InvalidInputException(file + ": no such file");
        } catch (AccessDeniedException e) {
            throw new InvalidInputException(file + ": permission denied");
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        return parse(file.toString(), bytes);
    }

    /** Parses the bytes of a .npy file; {@code source} names it in error messages. */
    public static NpyArray parse(String source, byte[] bytes) {
        if (bytes.length < MAGIC.length + 2 || !startsWithMagic(bytes)) {
            throw new InvalidInputException(source + ": not a .npy file (it does not start with \\x93NUMPY)");
        }
        int major = bytes[6] & 0xff;
        int minor = bytes[7] & 0xff;
        int lengthFieldSize;
        if (major == 1) {
            lengthFieldSize = 2;
        } else if (major == 2 || major == 3) {
            lengthFieldSize = 4;
        } else {
            throw new InvalidInputException(source + ": unsupported .npy format version " + major + "." + minor
                    + " (1.0, 2.0 and 3.0 are supported)");
        }
        int headerStart = 8 + lengthFieldSize;
        if (bytes.length < headerStart) {
            throw new InvalidInputException(source + ": truncated .npy header");
        }
        ByteBuffer lengthBuffer = ByteBuffer.wrap(bytes, 8, lengthFieldSize).order(ByteOrder.LITTLE_ENDIAN);
        long headerLength = lengthFieldSize == 2 ? (lengthBuffer.getShort() & 0xffff) : (lengthBuffer.getInt() & 0xffffffffL);
        if (headerStart + headerLength > bytes.length) {
            throw new InvalidInputException(source + ": truncated .npy header (header says " + headerLength
                    + " bytes, the file has " + (bytes.length - headerStart) + " after the length field)");
        }
        String header = new String(bytes, headerStart, (int) headerLength,
                major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        int dataStart = headerStart + (int) headerLength;

        for (String key : new String[] {"descr", "fortran_order", "shape"}) {
            Matcher occurrences = Pattern.compile("['\"]" + key + "['\"]\\s*:").matcher(header);
            int count = 0;
            while (occurrences.find()) {
                count++;
            }
            if (count > 1) {
                // NumPy's dict literal keeps the last one; this reader would take the first: refuse rather than differ
                throw new InvalidInputException(source + ": malformed .npy header, the key '" + key + "' appears " + count
                        + " times (header " + header.trim() + ")");
            }
        }
        Matcher descrMatcher = DESCR.matcher(header);
        if (!descrMatcher.find()) {
            if (DESCR_ANY.matcher(header).find()) {
                throw new InvalidInputException(source + ": structured dtypes are not supported (header " + header.trim() + ")");
            }
            throw new InvalidInputException(source + ": malformed .npy header, no 'descr' (header " + header.trim() + ")");
        }
        String descr = descrMatcher.group(2);
        NpyDtype dtype = NpyDtype.parse(descr);
        if (dtype == null) {
            throw new InvalidInputException(source + ": unsupported dtype '" + descr
                    + "' (supported: float32, float64, int32, int64)");
        }
        Matcher fortranMatcher = FORTRAN.matcher(header);
        if (!fortranMatcher.find()) {
            throw new InvalidInputException(source + ": malformed .npy header, no 'fortran_order' (header " + header.trim() + ")");
        }
        boolean fortranOrder = fortranMatcher.group(1).equals("True");
        int[] shape = parseShape(source, header);

        long count = 1;
        for (int dimension : shape) {
            count *= dimension;
            if (count > Integer.MAX_VALUE - 16) {
                throw new InvalidInputException(source + ": shape " + NpyArray.shapeString(shape) + " is too large for a Java array");
            }
        }
        long expectedBytes = count * dtype.itemSize();
        long actualBytes = bytes.length - dataStart;
        if (actualBytes < expectedBytes) {
            throw new InvalidInputException(source + ": truncated data: shape " + NpyArray.shapeString(shape) + " of " + descr
                    + " needs " + expectedBytes + " bytes, the file has " + actualBytes);
        }
        if (actualBytes > expectedBytes) {
            throw new InvalidInputException(source + ": " + (actualBytes - expectedBytes) + " unexpected bytes after the data of shape "
                    + NpyArray.shapeString(shape) + " " + descr);
        }

        ByteBuffer data = ByteBuffer.wrap(bytes, dataStart, (int) expectedBytes).order(NpyDtype.byteOrder(descr));
        int size = (int) count;
        // values are held as 8-byte doubles or longs, and Fortran order needs an index map
        MemoryBudget.requireHeap(source + ": " + NpyArray.shapeString(shape) + " " + descr, (8L + (fortranOrder ? 4 : 0)) * size);
        int[] cOrder = fortranOrder ? fortranToCOrder(shape) : null;
        if (dtype.isFloating()) {
            double[] values = new double[size];
            for (int i = 0; i < size; i++) {
                double value = dtype == NpyDtype.FLOAT32 ? data.getFloat() : data.getDouble();
                values[cOrder == null ? i : cOrder[i]] = value;
            }
            return new NpyArray(source, dtype, shape, values, null);
        }
        long[] values = new long[size];
        for (int i = 0; i < size; i++) {
            long value = dtype == NpyDtype.INT32 ? data.getInt() : data.getLong();
            values[cOrder == null ? i : cOrder[i]] = value;
        }
        return new NpyArray(source, dtype, shape, null, values);
    }

    private static boolean startsWithMagic(byte[] bytes) {
        for (int i = 0; i < MAGIC.length; i++) {
            if (bytes[i] != MAGIC[i]) {
                return false;
            }
        }
        return true;
    }

    private static int[] parseShape(String source, String header) {
        Matcher shapeMatcher = SHAPE.matcher(header);
        if (!shapeMatcher.find()) {
            throw new InvalidInputException(source + ": malformed .npy header, no 'shape' tuple (header " + header.trim() + ")");
        }
        String body = shapeMatcher.group(1).trim();
        if (body.isEmpty()) {
            return new int[0];
        }
        // "3, 4" or "3," (a one-element tuple); split drops the empty piece after a trailing comma
        if (!SHAPE_TUPLE.matcher(body).matches()) {
            throw new InvalidInputException(source + ": malformed shape (" + body + ") in .npy header");
        }
        String[] parts = body.split(",");
        int[] shape = new int[parts.length];
        for (int axis = 0; axis < parts.length; axis++) {
            String part = parts[axis].trim();
            if (part.endsWith("L")) {
                part = part.substring(0, part.length() - 1); // Python 2 long literal
            }
            try {
                shape[axis] = Integer.parseInt(part);
            } catch (NumberFormatException e) {
                throw new InvalidInputException(source + ": malformed shape (" + body + ") in .npy header");
            }
            if (shape[axis] < 0) {
                throw new InvalidInputException(source + ": negative dimension in shape (" + body + ")");
            }
        }
        return shape;
    }

    /** For each position in Fortran (column-major) storage order, its index in C (row-major) order. */
    private static int[] fortranToCOrder(int[] shape) {
        int size = NpyArray.sizeOf(shape);
        int[] mapping = new int[size];
        int[] index = new int[shape.length];
        for (int position = 0; position < size; position++) {
            int cIndex = 0;
            for (int axis = 0; axis < shape.length; axis++) {
                cIndex = cIndex * shape[axis] + index[axis];
            }
            mapping[position] = cIndex;
            // Fortran order: the first axis varies fastest
            for (int axis = 0; axis < shape.length; axis++) {
                if (++index[axis] < shape[axis]) {
                    break;
                }
                index[axis] = 0;
            }
        }
        return mapping;
    }

    /** Writes float32 data of the given C-order shape (use {@code new int[0]} for a scalar). */
    public static void writeFloat32(Path file, int[] shape, float[] values) throws IOException {
        ByteBuffer data = startData(shape, values.length, NpyDtype.FLOAT32);
        for (float value : values) {
            data.putFloat(value);
        }
        writeAtomically(file, header(NpyDtype.FLOAT32, shape), data.array());
    }

    /** Writes float64 data of the given C-order shape (use {@code new int[0]} for a scalar). */
    public static void writeFloat64(Path file, int[] shape, double[] values) throws IOException {
        ByteBuffer data = startData(shape, values.length, NpyDtype.FLOAT64);
        for (double value : values) {
            data.putDouble(value);
        }
        writeAtomically(file, header(NpyDtype.FLOAT64, shape), data.array());
    }

    /** Writes int32 data of the given C-order shape. */
    public static void writeInt32(Path file, int[] shape, int[] values) throws IOException {
        ByteBuffer data = startData(shape, values.length, NpyDtype.INT32);
        for (int value : values) {
            data.putInt(value);
        }
        writeAtomically(file, header(NpyDtype.INT32, shape), data.array());
    }

    private static ByteBuffer startData(int[] shape, int length, NpyDtype dtype) {
        if (NpyArray.sizeOf(shape) != length) {
            throw new IllegalArgumentException("shape " + NpyArray.shapeString(shape) + " does not match " + length + " values");
        }
        return ByteBuffer.allocate(length * dtype.itemSize()).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A version 1.0 header, padded with spaces so that magic + header end on a 64-byte boundary. */
    static byte[] header(NpyDtype dtype, int[] shape) {
        String dict = "{'descr': '" + dtype.descr() + "', 'fortran_order': False, 'shape': " + NpyArray.shapeString(shape) + ", }";
        int unpadded = MAGIC.length + 2 + 2 + dict.length() + 1;
        int padding = (64 - unpadded % 64) % 64;
        String text = dict + " ".repeat(padding) + "\n";
        ByteBuffer header = ByteBuffer.allocate(MAGIC.length + 4 + text.length()).order(ByteOrder.LITTLE_ENDIAN);
        header.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) text.length());
        header.put(text.getBytes(StandardCharsets.ISO_8859_1));
        return header.array();
    }

    private static void writeAtomically(Path file, byte[] header, byte[] data) throws IOException {
        byte[] whole = new byte[header.length + data.length];
        System.arraycopy(header, 0, whole, 0, header.length);
        System.arraycopy(data, 0, whole, header.length, data.length);
        AtomicFiles.write(file, whole);
    }
}
