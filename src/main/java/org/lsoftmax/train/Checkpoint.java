package org.lsoftmax.train;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import org.lsoftmax.data.AtomicFiles;
import org.lsoftmax.data.Normalization;
import org.lsoftmax.layer.InvalidInputException;
import org.lsoftmax.model.Architecture;
import org.lsoftmax.model.Network;
import org.lsoftmax.model.Parameter;

/**
 * Everything needed to continue a training run exactly, or to evaluate it: the configuration, the
 * input normalisation, the epoch and iteration reached, and every parameter with its SGD momentum
 * buffer. No random-generator state is needed: weight init happens once, and the shuffle of epoch e
 * is drawn from its own stream of (seed, e), so a run resumed after epoch e draws exactly what an
 * uninterrupted run draws. The beta schedule is a function of the iteration.
 *
 * <h2>File format, version 1</h2>
 * All numbers big-endian (Java {@code DataOutput}); floats are IEEE-754 binary32 bit patterns.
 * <pre>
 * offset  size  field
 * 0       8     magic, the ASCII bytes "LSMXCKPT"
 * 8       4     format version (int) = 1
 * 12      8     payload length P in bytes (long)
 * 20      P     payload, below
 * 20+P    4     CRC-32 (java.util.zip.CRC32, as in zip/PNG) of the P payload bytes (unsigned int)
 * </pre>
 * The file is exactly {@code 24 + P} bytes. Payload:
 * <pre>
 * int     epochs completed
 * long    iterations (optimizer steps) completed
 * float   normalisation mean,  float normalisation std
 * int     input size,  int class count
 * string  training configuration, TrainConfig "key=value" lines
 * int     parameter count T, then T times:
 *           string  name (e.g. "dense1.weight", "lsoftmax.weight")
 *           int     element count L
 *           L float values,  L float momentum
 * string = int byte length + UTF-8 bytes
 * </pre>
 * Writing is atomic: a temporary file in the same directory is written, forced to disk and renamed
 * over the target with {@code ATOMIC_MOVE}, so a crash leaves the old or the new file, never a mix.
 * {@link #saveRotating} keeps the previous checkpoint as {@code previous.ckpt} beside {@code last.ckpt},
 * and refuses a checkpoint with a non-finite value, so the files on disk always hold a usable state.
 */
public record Checkpoint(TrainConfig config, Normalization normalization, int inputSize, int classes,
        int epochsCompleted, long iteration, List<Tensor> tensors) {

    public static final String LAST_FILE = "last.ckpt";
    public static final String PREVIOUS_FILE = "previous.ckpt";
    static final byte[] MAGIC = "LSMXCKPT".getBytes(StandardCharsets.US_ASCII);
    static final int FORMAT_VERSION = 1;
    private static final int HEADER_BYTES = 8 + 4 + 8;
    private static final int TRAILER_BYTES = 4;

    /** One saved parameter. */
    public record Tensor(String name, float[] values, float[] momentum) {
    }

    public Checkpoint {
        tensors = List.copyOf(tensors);
    }

    /** A deep copy of the network's parameters and momentum buffers. */
    public static Checkpoint capture(TrainConfig config, Normalization normalization, Network network,
            int epochsCompleted, long iteration) {
        List<Tensor> tensors = new ArrayList<>();
        for (Parameter parameter : network.parameters()) {
            tensors.add(new Tensor(parameter.name(), parameter.value().clone(), parameter.momentum().clone()));
        }
        Architecture architecture = network.architecture();
        return new Checkpoint(config, normalization, architecture.inputSize(), architecture.classes(), epochsCompleted,
                iteration, tensors);
    }

    public Architecture architecture() {
        return new Architecture(inputSize, config.hidden(), config.featureDimension(), classes);
    }

    /** Copies values and momentum into a network of the same architecture, checking names and sizes. */
    public void restoreInto(Network network, Path source) {
        Map<String, Tensor> byName = new LinkedHashMap<>();
        for (Tensor tensor : tensors) {
            byName.put(tensor.name(), tensor);
        }
        for (Parameter parameter : network.parameters()) {
            Tensor tensor = byName.remove(parameter.name());
            if (tensor == null || tensor.values().length != parameter.size()) {
                throw new InvalidInputException(source + ": parameter " + parameter.name() + " of " + parameter.size()
                        + " values is " + (tensor == null ? "missing" : "of " + tensor.values().length + " values")
                        + " in the checkpoint");
            }
            System.arraycopy(tensor.values(), 0, parameter.value(), 0, parameter.size());
            System.arraycopy(tensor.momentum(), 0, parameter.momentum(), 0, parameter.size());
        }
        if (!byName.isEmpty()) {
            throw new InvalidInputException(source + ": unexpected parameters " + byName.keySet() + " in the checkpoint");
        }
    }

    /**
     * The first non-finite value or momentum of the saved parameters, null when all are finite. A
     * training checkpoint must never hold one: it is the state a diverged run falls back to.
     */
    public OffendingValue firstNonFinite() {
        for (Tensor tensor : tensors) {
            OffendingValue bad = OffendingValue.firstNonFinite(tensor.name(), tensor.values(), tensor.values().length);
            if (bad == null) {
                bad = OffendingValue.firstNonFinite("momentum of " + tensor.name(), tensor.momentum(),
                        tensor.momentum().length);
            }
            if (bad != null) {
                return bad;
            }
        }
        return null;
    }

    // ---------------------------------------------------------------- writing

    /** The complete file contents (header, payload, CRC). */
    public byte[] toBytes() {
        byte[] payload = payloadBytes();
        CRC32 crc = new CRC32();
        crc.update(payload);
        ByteBuffer file = ByteBuffer.allocate(HEADER_BYTES + payload.length + TRAILER_BYTES);
        file.put(MAGIC).putInt(FORMAT_VERSION).putLong(payload.length).put(payload).putInt((int) crc.getValue());
        return file.array();
    }

    private byte[] payloadBytes() {
        try {
            ByteArrayOutputStream buffer = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(buffer);
            out.writeInt(epochsCompleted);
            out.writeLong(iteration);
            out.writeFloat(normalization.mean());
            out.writeFloat(normalization.std());
            out.writeInt(inputSize);
            out.writeInt(classes);
            writeString(out, config.toText());
            out.writeInt(tensors.size());
            for (Tensor tensor : tensors) {
                writeString(out, tensor.name());
                out.writeInt(tensor.values().length);
                for (float value : tensor.values()) {
                    out.writeFloat(value);
                }
                for (float value : tensor.momentum()) {
                    out.writeFloat(value);
                }
            }
            out.flush();
            return buffer.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
    }

    /** Writes the file atomically: temporary file in the same directory, fsync, atomic rename ({@link AtomicFiles}). */
    public void writeAtomically(Path file) {
        try {
            AtomicFiles.write(file, toBytes());
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
    public void saveRotating(Path directory) {
        OffendingValue nonFinite = firstNonFinite();
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
        writeAtomically(last);
    }

    /** Makes the rename itself durable; not every platform can open a directory, which is then skipped. */
    private static void syncDirectory(Path directory) {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // e.g. Windows: directories cannot be opened; the rename is still atomic
        }
    }

    // ---------------------------------------------------------------- reading

    /** Reads and verifies a checkpoint; any damage is an {@link InvalidInputException} naming the file. */
    public static Checkpoint read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new InvalidInputException(file + ": no such checkpoint file", e);
        } catch (IOException e) {
            throw new InvalidInputException(file + ": checkpoint cannot be read (" + e.getMessage() + ")", e);
        }
        return fromBytes(bytes, file);
    }

    static Checkpoint fromBytes(byte[] bytes, Path file) {
        if (bytes.length < HEADER_BYTES + TRAILER_BYTES) {
            throw new InvalidInputException(file + ": not a checkpoint or truncated: " + bytes.length
                    + " bytes, shorter than the " + (HEADER_BYTES + TRAILER_BYTES) + "-byte header and checksum");
        }
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        byte[] magic = new byte[MAGIC.length];
        buffer.get(magic);
        if (!java.util.Arrays.equals(magic, MAGIC)) {
            throw new InvalidInputException(file + ": not an lsoftmax checkpoint (the file does not start with \"LSMXCKPT\")");
        }
        int version = buffer.getInt();
        if (version != FORMAT_VERSION) {
            throw new InvalidInputException(file + ": checkpoint format version " + version + ", this build reads version "
                    + FORMAT_VERSION);
        }
        long payloadLength = buffer.getLong();
        long expectedFileLength = HEADER_BYTES + payloadLength + TRAILER_BYTES;
        if (payloadLength < 0 || expectedFileLength != bytes.length) {
            throw new InvalidInputException(file + ": " + (bytes.length < expectedFileLength ? "truncated" : "damaged")
                    + " checkpoint: the header announces " + expectedFileLength + " bytes, the file has " + bytes.length);
        }
        byte[] payload = new byte[(int) payloadLength];
        buffer.get(payload);
        long storedCrc = Integer.toUnsignedLong(buffer.getInt());
        CRC32 crc = new CRC32();
        crc.update(payload);
        if (crc.getValue() != storedCrc) {
            throw new InvalidInputException(file + ": corrupt checkpoint: CRC-32 checksum mismatch (stored "
                    + String.format("%08x", storedCrc) + ", computed " + String.format("%08x", crc.getValue()) + ")");
        }
        try {
            return parsePayload(payload, file);
        } catch (IOException | RuntimeException e) {
            if (e instanceof InvalidInputException invalid) {
                throw invalid;
            }
            throw new InvalidInputException(file + ": checkpoint payload is malformed (" + e + ")", e);
        }
    }

    private static Checkpoint parsePayload(byte[] payload, Path file) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload));
        int epochsCompleted = in.readInt();
        long iteration = in.readLong();
        Normalization normalization = new Normalization(in.readFloat(), in.readFloat());
        int inputSize = in.readInt();
        int classes = in.readInt();
        TrainConfig config = TrainConfig.fromText(readString(in, payload.length), file.toString());
        int tensorCount = in.readInt();
        if (tensorCount < 0 || tensorCount > 10_000) {
            throw new InvalidInputException(file + ": implausible parameter count " + tensorCount);
        }
        List<Tensor> tensors = new ArrayList<>();
        for (int t = 0; t < tensorCount; t++) {
            String name = readString(in, payload.length);
            int length = in.readInt();
            if (length < 0 || 8L * length > payload.length) {
                throw new InvalidInputException(file + ": parameter " + name + " announces " + length
                        + " values, more than the payload holds");
            }
            float[] values = new float[length];
            float[] momentum = new float[length];
            for (int i = 0; i < length; i++) {
                values[i] = in.readFloat();
            }
            for (int i = 0; i < length; i++) {
                momentum[i] = in.readFloat();
            }
            tensors.add(new Tensor(name, values, momentum));
        }
        if (in.available() != 0) {
            throw new InvalidInputException(file + ": " + in.available() + " unexpected bytes after the parameters");
        }
        return new Checkpoint(config, normalization, inputSize, classes, epochsCompleted, iteration, tensors);
    }

    private static void writeString(DataOutputStream out, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    private static String readString(DataInputStream in, int limit) throws IOException {
        int length = in.readInt();
        if (length < 0 || length > limit) {
            throw new EOFException("string length " + length + " outside the payload");
        }
        byte[] bytes = new byte[length];
        in.readFully(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
