package org.lsoftmax.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.zip.CRC32;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.lsoftmax.data.SyntheticDataset;
import org.lsoftmax.head.PassOptions;

/**
 * A fixed-seed training run gives exactly the numbers recorded before the code was re-seated along the
 * data flow (commit 5e5ad23, JDK 25, the same values with 4-, 8- and 16-lane float vectors, i.e.
 * {@code -XX:MaxVectorSize=16, 32} and AVX-512): every parameter and momentum bit (a CRC-32 of their
 * big-endian bits, in checkpoint order) and the last epoch's metrics. A change that reorders a
 * floating-point sum changes these; such a change must say so and record the new values here.
 */
class RecordedRunTest {

    @ParameterizedTest(name = "{0} pass, {1} threads")
    @CsvSource({
        "jvm,       1, 2d17dc80, 2.4343278823647307, 0.8963541666666667, 0.5259805572679038",
        "jvm,       2, 2d17dc80, 2.4343278823647307, 0.8963541666666667, 0.5259805572679038",
        "reference, 1, 9ae777f2, 2.4343278953227085, 0.8963541666666667, 0.5259805532181356",
        "reference, 2, 9ae777f2, 2.4343278953227085, 0.8963541666666667, 0.5259805532181356",
    })
    void matchesTheRecordedRun(String pass, int threads, String crc, double trainLoss, double trainAccuracy, double testLoss) {
        TrainConfig config = new TrainConfig(3, List.of(128), 64, 256, 0.05, List.of(), 0.9, 5e-4, 3, 17,
                new BetaSchedule.Geometric(100, 0.9, 1), pass);
        try (Trainer trainer = Trainer.start(config, SyntheticDataset.createDefault(), new PassOptions(threads, null), null)) {
            List<EpochMetrics> history = trainer.showProgress(false).run();
            EpochMetrics last = history.get(history.size() - 1);
            assertEquals(crc, String.format("%08x", parameterCrc(trainer.checkpoint())), "parameters and momentum");
            assertEquals(trainLoss, last.trainLoss(), 0.0, "train loss");
            assertEquals(trainAccuracy, last.trainAccuracy(), 0.0, "train accuracy");
            assertEquals(testLoss, last.testLoss(), 0.0, "test loss");
            assertEquals(0.844, last.testAccuracy(), 0.0, "test accuracy");
        }
    }

    private static long parameterCrc(Checkpoint checkpoint) {
        CRC32 crc = new CRC32();
        for (Checkpoint.Tensor tensor : checkpoint.tensors()) {
            for (float[] values : new float[][] {tensor.values(), tensor.momentum()}) {
                for (float value : values) {
                    int bits = Float.floatToRawIntBits(value);
                    crc.update(new byte[] {(byte) (bits >> 24), (byte) (bits >> 16), (byte) (bits >> 8), (byte) bits});
                }
            }
        }
        return crc.getValue();
    }
}
