package org.lsoftmax.bench;

import org.lsoftmax.head.HeadPass;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.MarginLoss;
import org.lsoftmax.head.PassOptions;
import org.lsoftmax.head.TornadoRunInfo;
import org.lsoftmax.head.select.PassFactory;

/**
 * One benchmarked configuration, written {@code pass[@BACKEND:DEVICE]:NxDxC}: the pass, the TornadoVM
 * device (tornado only) and the layer shape.
 */
record PassStep(String pass, String device, HeadShape shape) {

    static PassStep parse(String text) {
        int shapeStart = text.lastIndexOf(':');
        if (shapeStart < 0) {
            throw new IllegalArgumentException("step must be pass[@BACKEND:DEVICE]:NxDxC, got " + text);
        }
        String passPart = text.substring(0, shapeStart);
        HeadShape shape = BenchmarkInputs.parseShape(text.substring(shapeStart + 1));
        int at = passPart.indexOf('@');
        return at < 0 ? new PassStep(passPart, null, shape)
                : new PassStep(passPart.substring(0, at), passPart.substring(at + 1), shape);
    }

    /** The pass and device, e.g. "tornado@0:0" (the label of a table row). */
    String passLabel() {
        return device == null ? pass : pass + "@" + device;
    }

    String shapeLabel() {
        return shape.batch() + "x" + shape.features() + "x" + shape.classes();
    }

    @Override
    public String toString() {
        return passLabel() + ":" + shapeLabel();
    }

    /** Creates the pass; a tornado pass that fell back to the JVM is refused (its numbers would be the jvm pass's). */
    HeadPass create(int margin) {
        return create(MarginLoss.lsoftmax(margin));
    }

    /** Creates the pass for {@code loss}; refused as {@link #create(int)} when a tornado pass fell back. */
    HeadPass create(MarginLoss loss) {
        HeadPass created = PassFactory.create(pass, shape, loss, new PassOptions(0, device));
        if (created instanceof TornadoRunInfo info && !info.runsOnDevice()) {
            String reason = info.fallbackReason();
            created.close();
            throw new IllegalStateException(this + ": the tornado pass fell back to the JVM: " + reason);
        }
        return created;
    }
}
