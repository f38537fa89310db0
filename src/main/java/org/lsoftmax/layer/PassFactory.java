package org.lsoftmax.layer;

import java.util.List;
import org.lsoftmax.layer.jvm.JvmPass;
import org.lsoftmax.layer.reference.ReferencePass;

/** Creates a pass by its command-line name. */
public final class PassFactory {

    /** Names accepted by {@link #create}. */
    public static final List<String> PASS_NAMES = List.of("reference", "jvm");

    private PassFactory() {
    }

    public static LSoftmaxPass create(String passName, LayerShape shape, int margin, PassOptions options) {
        if (!PASS_NAMES.contains(passName)) {
            throw new InvalidInputException("unknown pass '" + passName + "', expected one of " + PASS_NAMES);
        }
        MemoryBudget.requireHeap("the " + passName + " pass for layer " + shape, MemoryBudget.estimatedHeapBytes(passName, shape));
        return switch (passName) {
            case "reference" -> new ReferencePass(shape, margin);
            case "jvm" -> new JvmPass(shape, margin, options.resolvedThreads());
            default -> throw new InvalidInputException("unknown pass '" + passName + "', expected one of " + PASS_NAMES);
        };
    }
}
