package org.lsoftmax.layer;

import java.util.List;
import org.lsoftmax.layer.jvm.JvmPass;
import org.lsoftmax.layer.reference.ReferencePass;
import org.lsoftmax.layer.tornado.TornadoSupport;

/** Creates a pass by its command-line name. */
public final class PassFactory {

    /** Names accepted by {@link #create}. */
    public static final List<String> PASS_NAMES = List.of("reference", "jvm", "tornado");

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
            // TornadoVM device; falls back to the jvm pass (with one warning) when TornadoVM cannot run it
            case "tornado" -> TornadoSupport.createPass(shape, margin, options);
            default -> throw new InvalidInputException("unknown pass '" + passName + "', expected one of " + PASS_NAMES);
        };
    }
}
