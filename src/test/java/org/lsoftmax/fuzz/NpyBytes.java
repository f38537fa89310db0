package org.lsoftmax.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.lsoftmax.data.Npy;

/** Writes fuzzer-chosen .npy inputs: usually a valid file with fuzzed values, sometimes raw fuzzed bytes. */
final class NpyBytes {

    private NpyBytes() {
    }

    static void writeFloats(Path file, int[] shape, FuzzedDataProvider data) throws IOException {
        if (data.consumeInt(0, 9) == 0) {
            Files.write(file, data.consumeBytes(64));
            return;
        }
        float[] values = new float[shape[0] * shape[1]];
        for (int i = 0; i < values.length; i++) {
            values[i] = data.consumeBoolean() ? data.consumeRegularFloat(-10f, 10f) : data.consumeFloat();
        }
        Npy.writeFloat32(file, shape, values);
    }

    static void writeInts(Path file, int[] shape, FuzzedDataProvider data) throws IOException {
        if (data.consumeInt(0, 9) == 0) {
            Files.write(file, data.consumeBytes(64));
            return;
        }
        int[] values = new int[shape[0]];
        for (int i = 0; i < values.length; i++) {
            values[i] = data.consumeInt(-1, 4);
        }
        Npy.writeInt32(file, shape, values);
    }
}
