package org.lsoftmax;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.PassOptions;
import org.lsoftmax.head.select.PassFactory;

class MemoryBudgetTest {

    /**
     * A head whose logits alone (N x C floats, 4 bytes each, at least twice over in every pass) need
     * more than this JVM's whole heap: refused up front with the bytes needed, nothing allocated.
     */
    @ParameterizedTest
    @ValueSource(strings = {"reference", "jvm"})
    void refusesAHeadLargerThanTheHeapBeforeAllocating(String pass) {
        int batch = 1024;
        long classes = Math.min((Integer.MAX_VALUE - 16) / batch, Runtime.getRuntime().maxMemory() / (4L * batch) + 1);
        HeadShape huge = new HeadShape(batch, 8, (int) classes);
        long needed = PassFactory.estimatedHeapBytes(pass, huge);
        assertTrue(needed > Runtime.getRuntime().maxMemory(), "the test shape " + huge + " needs " + needed
                + " bytes, no more than this JVM's heap of " + Runtime.getRuntime().maxMemory());
        InvalidInputException error = assertThrows(InvalidInputException.class,
                () -> PassFactory.create(pass, huge, 4, PassOptions.DEFAULTS));
        assertTrue(error.getMessage().startsWith("the " + pass + " pass for the head " + huge + " needs about "),
                error.getMessage());
        assertTrue(error.getMessage().contains("(" + needed + " bytes) of Java heap"), error.getMessage());
    }

    @Test
    void estimatesGrowWithEveryDimension() {
        long base = PassFactory.estimatedHeapBytes("jvm", new HeadShape(10, 10, 10));
        assertTrue(PassFactory.estimatedHeapBytes("jvm", new HeadShape(20, 10, 10)) > base);
        assertTrue(PassFactory.estimatedHeapBytes("jvm", new HeadShape(10, 20, 10)) > base);
        assertTrue(PassFactory.estimatedHeapBytes("jvm", new HeadShape(10, 10, 20)) > base);
        assertTrue(PassFactory.estimatedHeapBytes("reference", new HeadShape(10, 10, 10)) > base);
    }
}
