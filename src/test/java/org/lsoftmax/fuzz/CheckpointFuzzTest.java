package org.lsoftmax.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;
import java.util.zip.CRC32;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.train.Checkpoint;
import org.lsoftmax.train.CheckpointFormat;

/**
 * Fuzzes the checkpoint reader. A checksum guards the payload, so random bytes alone would only
 * exercise the header checks: most inputs are framed with the right magic, version, length and
 * CRC-32 around a fuzzed payload, so the payload parser itself is fuzzed; the rest are raw bytes.
 */
class CheckpointFuzzTest {

    private static final byte[] MAGIC = "LSMXCKPT".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    @FuzzTest(maxDuration = "30s")
    void read(FuzzedDataProvider data) {
        byte[] bytes;
        if (data.consumeInt(0, 7) == 0) {
            bytes = data.consumeRemainingAsBytes();
        } else {
            byte[] payload = data.consumeRemainingAsBytes();
            CRC32 crc = new CRC32();
            crc.update(payload);
            bytes = ByteBuffer.allocate(24 + payload.length).put(MAGIC).putInt(1).putLong(payload.length).put(payload)
                    .putInt((int) crc.getValue()).array();
        }
        try {
            Checkpoint checkpoint = CheckpointFormat.read(FuzzFiles.write("fuzz.ckpt", bytes));
            checkpoint.architecture();
        } catch (InvalidInputException expected) {
            // documented rejection
        }
    }
}
