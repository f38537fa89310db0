package org.lsoftmax.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.data.Normalization;
import org.lsoftmax.linalg.SimpleMatrixProducts;
import org.lsoftmax.math.SplitMix64;
import org.lsoftmax.model.Architecture;
import org.lsoftmax.model.Network;

class CheckpointTest {

    @TempDir
    Path directory;

    private final TrainConfig config = new TrainConfig(3, List.of(6, 5), 2, 4, 0.1, List.of(3, 5), 0.9, 5e-4, 6, 11,
            new BetaSchedule.Power(1000, 2.5e-5, 35, 0), "reference");
    private Network network;

    @BeforeEach
    void buildNetwork() {
        network = new Network(new Architecture(7, config.hidden(), config.featureDimension(), 3), 4,
                new SimpleMatrixProducts());
        network.initialise(new SplitMix64(1));
        network.parameters().get(0).momentum()[0] = 0.125f;
    }

    private Checkpoint checkpointAfterEpoch(int epoch) {
        return Checkpoint.capture(config, new Normalization(0.25f, 0.5f), network, epoch, 100L * epoch);
    }

    @Test
    void roundTripsEveryField() {
        Checkpoint original = checkpointAfterEpoch(2);
        Path file = directory.resolve("a.ckpt");
        CheckpointFiles.writeAtomically(original, file);
        Checkpoint read = CheckpointFormat.read(file);
        assertEquals(config, read.config());
        assertEquals(original.normalization(), read.normalization());
        assertEquals(2, read.epochsCompleted());
        assertEquals(200L, read.iteration());
        assertEquals(original.architecture(), read.architecture());
        for (int t = 0; t < original.tensors().size(); t++) {
            assertEquals(original.tensors().get(t).name(), read.tensors().get(t).name());
            assertArrayEquals(original.tensors().get(t).values(), read.tensors().get(t).values());
            assertArrayEquals(original.tensors().get(t).momentum(), read.tensors().get(t).momentum());
        }
        assertEquals(List.of("a.ckpt"), listDirectory(), "no temporary file is left behind");
    }

    @Test
    void rotationKeepsThePreviousCheckpoint() {
        CheckpointFiles.saveRotating(checkpointAfterEpoch(1), directory);
        CheckpointFiles.saveRotating(checkpointAfterEpoch(2), directory);
        assertEquals(2, CheckpointFormat.read(directory.resolve(CheckpointFiles.LAST_FILE)).epochsCompleted());
        assertEquals(1, CheckpointFormat.read(directory.resolve(CheckpointFiles.PREVIOUS_FILE)).epochsCompleted());
    }

    @Test
    void nonFiniteCheckpointIsRefusedAndTheFilesStayAsTheyWere() throws IOException {
        CheckpointFiles.saveRotating(checkpointAfterEpoch(1), directory);
        CheckpointFiles.saveRotating(checkpointAfterEpoch(2), directory);
        byte[] lastBefore = Files.readAllBytes(directory.resolve(CheckpointFiles.LAST_FILE));
        byte[] previousBefore = Files.readAllBytes(directory.resolve(CheckpointFiles.PREVIOUS_FILE));
        network.parameters().get(1).momentum()[2] = Float.POSITIVE_INFINITY;
        Checkpoint poisoned = checkpointAfterEpoch(3);
        assertEquals("momentum of " + network.parameters().get(1).name(), poisoned.firstNonFinite().tensor());
        assertEquals(2, poisoned.firstNonFinite().index());

        IllegalStateException error = assertThrows(IllegalStateException.class, () -> CheckpointFiles.saveRotating(poisoned, directory));
        assertTrue(error.getMessage().contains("Infinity"), error.getMessage());
        assertArrayEquals(lastBefore, Files.readAllBytes(directory.resolve(CheckpointFiles.LAST_FILE)));
        assertArrayEquals(previousBefore, Files.readAllBytes(directory.resolve(CheckpointFiles.PREVIOUS_FILE)));
    }

    @Test
    void flippedByteIsRejectedAndPreviousStaysIntact() throws IOException {
        CheckpointFiles.saveRotating(checkpointAfterEpoch(1), directory);
        CheckpointFiles.saveRotating(checkpointAfterEpoch(2), directory);
        Path last = directory.resolve(CheckpointFiles.LAST_FILE);
        byte[] bytes = Files.readAllBytes(last);
        bytes[bytes.length / 2] ^= 0x01;
        Files.write(last, bytes);

        InvalidInputException error = assertThrows(InvalidInputException.class, () -> CheckpointFormat.read(last));
        assertTrue(error.getMessage().contains(last.toString()), error.getMessage());
        assertTrue(error.getMessage().contains("checksum mismatch"), error.getMessage());
        assertEquals(1, CheckpointFormat.read(directory.resolve(CheckpointFiles.PREVIOUS_FILE)).epochsCompleted());
    }

    @Test
    void truncatedFileIsRejectedAndPreviousStaysIntact() throws IOException {
        CheckpointFiles.saveRotating(checkpointAfterEpoch(1), directory);
        CheckpointFiles.saveRotating(checkpointAfterEpoch(2), directory);
        Path last = directory.resolve(CheckpointFiles.LAST_FILE);
        byte[] bytes = Files.readAllBytes(last);
        Files.write(last, Arrays.copyOf(bytes, bytes.length - 100));

        InvalidInputException error = assertThrows(InvalidInputException.class, () -> CheckpointFormat.read(last));
        assertTrue(error.getMessage().contains(last.toString()), error.getMessage());
        assertTrue(error.getMessage().contains("truncated"), error.getMessage());
        assertEquals(1, CheckpointFormat.read(directory.resolve(CheckpointFiles.PREVIOUS_FILE)).epochsCompleted());

        Files.write(last, Arrays.copyOf(bytes, 10));
        InvalidInputException tiny = assertThrows(InvalidInputException.class, () -> CheckpointFormat.read(last));
        assertTrue(tiny.getMessage().contains("truncated"), tiny.getMessage());
    }

    @Test
    void foreignFileAndNewerVersionAreRejected() throws IOException {
        Path foreign = Files.writeString(directory.resolve("notes.txt"), "this is not a checkpoint at all");
        InvalidInputException error = assertThrows(InvalidInputException.class, () -> CheckpointFormat.read(foreign));
        assertTrue(error.getMessage().contains(foreign + ": not an lsoftmax checkpoint"), error.getMessage());

        byte[] bytes = CheckpointFormat.toBytes(checkpointAfterEpoch(1));
        bytes[11] = 2; // format version 1 -> 2
        Path newer = Files.write(directory.resolve("newer.ckpt"), bytes);
        InvalidInputException versionError = assertThrows(InvalidInputException.class, () -> CheckpointFormat.read(newer));
        assertTrue(versionError.getMessage().contains("format version 2"), versionError.getMessage());
    }

    @Test
    void restoreRejectsAnotherArchitecture() {
        Checkpoint checkpoint = checkpointAfterEpoch(1);
        Network other = new Network(new Architecture(7, List.of(6, 4), 2, 3), 4, new SimpleMatrixProducts());
        InvalidInputException error = assertThrows(InvalidInputException.class,
                () -> checkpoint.restoreInto(other, directory.resolve("x.ckpt")));
        assertTrue(error.getMessage().contains("x.ckpt"), error.getMessage());
    }

    private List<String> listDirectory() {
        try (var files = Files.list(directory)) {
            return files.map(path -> path.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
