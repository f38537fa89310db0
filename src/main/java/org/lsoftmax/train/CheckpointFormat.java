package org.lsoftmax.train;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.MemoryBudget;
import org.lsoftmax.data.IoErrors;
import org.lsoftmax.data.Normalization;
import org.lsoftmax.model.Architecture;
import org.lsoftmax.model.Network;

/**
 * The checkpoint file: a {@link Checkpoint} as bytes and back, every byte checked on the way in.
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
 */
public final class CheckpointFormat {

    static final byte[] MAGIC = "LSMXCKPT".getBytes(StandardCharsets.US_ASCII);
    static final int FORMAT_VERSION = 1;
    private static final int HEADER_BYTES = 8 + 4 + 8;
    private static final int TRAILER_BYTES = 4;

    private CheckpointFormat() {
    }


    /** The complete file contents of a checkpoint (header, payload, CRC). */
    public static byte[] toBytes(Checkpoint checkpoint) {
        byte[] payload = payloadBytes(checkpoint);
        CRC32 crc = new CRC32();
        crc.update(payload);
        ByteBuffer file = ByteBuffer.allocate(HEADER_BYTES + payload.length + TRAILER_BYTES);
        file.put(MAGIC).putInt(FORMAT_VERSION).putLong(payload.length).put(payload).putInt((int) crc.getValue());
        return file.array();
    }

    /** The length of {@link #toBytes}, computed without writing the file's bytes. */
    public static long sizeOf(Checkpoint checkpoint) {
        long payload = 4 + 8 + 4 + 4 + 4 + 4 + 4 + checkpoint.config().toText().getBytes(StandardCharsets.UTF_8).length + 4;
        for (Checkpoint.Tensor tensor : checkpoint.tensors()) {
            payload += 4 + tensor.name().getBytes(StandardCharsets.UTF_8).length + 4 + 8L * tensor.values().length;
        }
        return HEADER_BYTES + payload + TRAILER_BYTES;
    }

    private static byte[] payloadBytes(Checkpoint checkpoint) {
        try {
            ByteArrayOutputStream buffer = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(buffer);
            out.writeInt(checkpoint.epochsCompleted());
            out.writeLong(checkpoint.iteration());
            out.writeFloat(checkpoint.normalization().mean());
            out.writeFloat(checkpoint.normalization().std());
            out.writeInt(checkpoint.inputSize());
            out.writeInt(checkpoint.classes());
            writeString(out, checkpoint.config().toText());
            out.writeInt(checkpoint.tensors().size());
            for (Checkpoint.Tensor tensor : checkpoint.tensors()) {
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


    /**
     * Reads and verifies a checkpoint; any damage is an {@link InvalidInputException} naming the file. A
     * checkpoint set of a job of several processes ({@link ShardSets}: its {@code set.properties}, the run's
     * {@code last-set.properties} or the set's folder) is read whole, as the checkpoint of the class-sharded
     * head of K blocks; one rank's part of a set alone is refused.
     */
    public static Checkpoint read(Path file) {
        if (ShardSets.isSet(file)) {
            return ShardSets.assemble(file);
        }
        Checkpoint checkpoint = readFile(file);
        if (checkpoint.isPart()) {
            throw new InvalidInputException(file + ": one process's part of a checkpoint set (its trunk and one block of W): "
                    + "give the set instead, its " + ShardSets.SET_FILE + " or the run's " + ShardSets.LAST_SET_FILE);
        }
        return checkpoint;
    }

    /** Reads and verifies one checkpoint file, whole or one rank's part of a set. */
    static Checkpoint readFile(Path file) {
        byte[] bytes;
        try {
            if (!Files.exists(file)) {
                throw new NoSuchFileException(file.toString());
            }
            if (!Files.isRegularFile(file)) {
                // a FIFO would block the read forever, a device like /dev/zero would never end
                throw new InvalidInputException(file + ": not a checkpoint (not a regular file)");
            }
            // the bytes, the payload copy and the parameters as floats
            MemoryBudget.requireHeap("reading the checkpoint " + file, 3 * Files.size(file));
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new InvalidInputException(file + ": no such checkpoint file", e);
        } catch (IOException e) {
            throw new InvalidInputException(file + ": checkpoint cannot be read (" + IoErrors.describe(e) + ")", e);
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
        List<Checkpoint.Tensor> tensors = new ArrayList<>();
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
            tensors.add(new Checkpoint.Tensor(name, values, momentum));
        }
        if (in.available() != 0) {
            throw new InvalidInputException(file + ": " + in.available() + " unexpected bytes after the parameters");
        }
        Checkpoint checkpoint = new Checkpoint(config, normalization, inputSize, classes, epochsCompleted, iteration, tensors);
        checkContent(checkpoint, file);
        return checkpoint;
    }

    /**
     * What a well-formed payload must also be to be used: counts that make sense, a usable normalisation,
     * a network whose size is the parameters the file holds (so that a crafted configuration cannot make
     * the reader build a network of billions of values), and finite values everywhere.
     */
    private static void checkContent(Checkpoint checkpoint, Path file) {
        if (checkpoint.epochsCompleted() < 0 || checkpoint.iteration() < 0) {
            throw new InvalidInputException(file + ": checkpoint announces " + checkpoint.epochsCompleted() + " epochs and "
                    + checkpoint.iteration() + " iterations");
        }
        Normalization normalization = checkpoint.normalization();
        if (!Float.isFinite(normalization.mean()) || !(normalization.std() > 0f) || !Float.isFinite(normalization.std())) {
            throw new InvalidInputException(file + ": unusable input normalisation (mean " + normalization.mean() + ", std "
                    + normalization.std() + "): the std must be a finite number > 0");
        }
        Architecture architecture;
        try {
            architecture = checkpoint.architecture();
        } catch (InvalidInputException e) {
            throw new InvalidInputException(file + ": " + e.getMessage(), e);
        }
        long held = 0;
        long classWeightsHeld = 0;
        for (Checkpoint.Tensor tensor : checkpoint.tensors()) {
            held += tensor.values().length;
            if (tensor.name().startsWith("lsoftmax.weight")) {
                classWeightsHeld += tensor.values().length;
            }
        }
        long expected = Network.parameterCount(architecture);
        long classWeights = (long) architecture.classes() * architecture.featureDimension();
        // a part of a set (ShardSets) holds the whole trunk and some blocks of W: never more than the whole network
        boolean part = classWeightsHeld < classWeights && held - classWeightsHeld == expected - classWeights
                && classWeightsHeld % architecture.featureDimension() == 0 && classWeightsHeld > 0;
        if (held != expected && !part) {
            throw new InvalidInputException(file + ": its configuration describes the network " + architecture + " of "
                    + expected + " parameters, but the file holds " + held);
        }
        OffendingValue nonFinite = checkpoint.firstNonFinite();
        if (nonFinite != null) {
            throw new InvalidInputException(file + ": checkpoint holds a non-finite value: " + nonFinite.summary()
                    + " at index " + nonFinite.index());
        }
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
