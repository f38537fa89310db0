package org.lsoftmax.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzzes the gzip path of the IDX reader: mostly well-formed gzip around fuzzed IDX content (so the
 * fuzzer reaches the parser behind the decompression), sometimes raw bytes after the gzip magic
 * (damaged streams).
 */
class IdxGzipFuzzTest {

    @FuzzTest(maxDuration = "30s")
    void gzipped(FuzzedDataProvider data) {
        byte[] bytes;
        if (data.consumeBoolean()) {
            byte[] damaged = data.consumeRemainingAsBytes();
            bytes = new byte[damaged.length + 2];
            bytes[0] = 0x1f;
            bytes[1] = (byte) 0x8b;
            System.arraycopy(damaged, 0, bytes, 2, damaged.length);
        } else {
            bytes = FuzzFiles.gzip(data.consumeRemainingAsBytes());
        }
        IdxFuzzTest.readBoth(FuzzFiles.write("gzipped.idx.gz", bytes));
    }
}
