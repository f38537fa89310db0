package org.lsoftmax.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.data.Npy;
import org.lsoftmax.data.NpyArray;

/**
 * Fuzzes the .npy parser with arbitrary bytes: it either returns a consistent array or throws the
 * project's documented {@link InvalidInputException}; anything else (an index error, an
 * OutOfMemoryError from a lying header, a hang) is a finding. Plain test runs replay the seed corpus
 * in src/test/resources/org/lsoftmax/fuzz/NpyFuzzTestInputs; ci/fuzz.sh fuzzes for a bounded time.
 */
class NpyFuzzTest {

    @FuzzTest(maxDuration = "30s")
    void parse(byte[] bytes) {
        NpyArray array;
        try {
            array = Npy.parse("fuzz.npy", bytes);
        } catch (InvalidInputException expected) {
            return;
        }
        int size = array.size();
        int held = array.doubles() != null ? array.doubles().length : array.longs().length;
        assertEquals(size, held, "element count must match the shape");
    }
}
