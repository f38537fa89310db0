package org.lsoftmax;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.PassFactory;
import org.lsoftmax.head.PassOptions;

class MemoryBudgetTest {

    /** N x C = 2.1e9 logits: 8.4 GB as float32 alone, refused up front with the bytes needed. */
    private static final HeadShape HUGE = new HeadShape(21_000, 8, 100_000);

    @Test
    void refusesALayerLargerThanTheHeapBeforeAllocating() {
        for (String pass : new String[] {"reference", "jvm"}) {
            long needed = MemoryBudget.estimatedHeapBytes(pass, HUGE);
            assumeTrue(needed > Runtime.getRuntime().maxMemory(), "this JVM's heap would hold the test shape");
            InvalidInputException error = assertThrows(InvalidInputException.class,
                    () -> PassFactory.create(pass, HUGE, 4, PassOptions.DEFAULTS));
            assertTrue(error.getMessage().startsWith("the " + pass + " pass for layer (N=21000, D=8, C=100000) needs about "),
                    error.getMessage());
            assertTrue(error.getMessage().contains("(" + needed + " bytes) of Java heap"), error.getMessage());
        }
    }

    @Test
    void estimatesGrowWithEveryDimension() {
        long base = MemoryBudget.estimatedHeapBytes("jvm", new HeadShape(10, 10, 10));
        assertTrue(MemoryBudget.estimatedHeapBytes("jvm", new HeadShape(20, 10, 10)) > base);
        assertTrue(MemoryBudget.estimatedHeapBytes("jvm", new HeadShape(10, 20, 10)) > base);
        assertTrue(MemoryBudget.estimatedHeapBytes("jvm", new HeadShape(10, 10, 20)) > base);
        assertTrue(MemoryBudget.estimatedHeapBytes("reference", new HeadShape(10, 10, 10)) > base);
    }
}
