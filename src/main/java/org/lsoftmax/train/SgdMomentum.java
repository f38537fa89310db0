package org.lsoftmax.train;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.lsoftmax.linalg.WorkerPool;
import org.lsoftmax.model.Parameter;
import org.lsoftmax.model.RowSelection;

/**
 * SGD with momentum and L2 weight decay, in Caffe's form (the paper trained with Caffe):
 * <pre>
 *   g = dL/dw + weightDecay * w        (decay only on parameters marked for it)
 *   v = momentum * v + lr * g          (v is the parameter's momentum buffer, saved in checkpoints)
 *   w = w - v
 * </pre>
 * Keeping lr inside v matches Caffe when the learning rate is divided by 10 mid-run.
 *
 * <p>{@link #step} and {@link #isSafeStep} are vectorised sweeps (lanes across the elements of a
 * parameter, the tail through a mask); each element takes exactly the scalar float operations of
 * {@link #newMomentum} (multiplications and additions rounded one by one, no fused multiply-add), so
 * the result is the scalar loop's, bit for bit. {@link #checkStep} is the plain scalar loop that names
 * the first offending element. Given a {@link WorkerPool}, both sweeps are cut into segments of at most
 * {@value #SEGMENT} elements that the pool's threads claim (elementwise work: the same result whoever
 * computes a segment).
 */
public final class SgdMomentum {

    private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;

    /** Elements per segment of a parallel sweep (w, g and v of a segment: 384 KiB). */
    static final int SEGMENT = 1 << 15;
    /** Below this many elements in all, the sweeps run on the caller (a fork-join would cost more). */
    private static final int PARALLEL_ELEMENTS = 1 << 16;

    private final double momentum;
    private final double weightDecay;
    private final WorkerPool workers;

    // the segments of the parameter list seen last (the network hands out the same list every step)
    private List<Parameter> segmented;
    // the parameters without a row selection of the last step(..., rows) that had selections (the same list while they stay the same)
    private List<Parameter> wholeParameters = List.of();
    private final List<Segment> segments = new ArrayList<>();
    // the sweep in progress
    private float sweepMu;
    private float sweepRate;
    private float sweepLimit;
    private volatile boolean sweepUnsafe;
    private final WorkerPool.ChunkTask checkSegments = (segment, worker) -> {
        Segment part = segments.get(segment);
        if (!isSafe(part.parameter, part.from, part.to, sweepMu, sweepRate, part.decay, sweepLimit)) {
            sweepUnsafe = true;
        }
    };
    private final WorkerPool.ChunkTask stepSegments = (segment, worker) -> {
        Segment part = segments.get(segment);
        step(part.parameter, part.from, part.to, sweepMu, sweepRate, part.decay);
    };

    /** Elements {@code [from, to)} of one parameter, with its decay. */
    private record Segment(Parameter parameter, int from, int to, float decay) {
    }

    /** Everything on the calling thread. */
    public SgdMomentum(double momentum, double weightDecay) {
        this(momentum, weightDecay, null);
    }

    /** @param workers threads for the sweeps over large parameter lists; null: the caller alone */
    public SgdMomentum(double momentum, double weightDecay, WorkerPool workers) {
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        this.workers = workers;
    }

    /** Cuts {@code parameters} into segments (once per list), or returns false when the caller should sweep alone. */
    private boolean segment(List<Parameter> parameters) {
        if (workers == null || workers.size() == 1) {
            return false;
        }
        if (parameters != segmented) {
            segmented = parameters;
            // each parameter in pieces of at most SEGMENT, the same number per thread; thread t's pieces
            // (the t-th part of every parameter) form the t-th block of chunks, which the pool gives thread t
            // first: the part of a weight matrix whose dW rows that thread computed (the products cut their
            // rows the same way), so the update mostly reads the gradient from its own core's cache
            segments.clear();
            int threads = workers.size();
            long total = 0;
            for (int thread = 0; thread < threads; thread++) {
                for (Parameter parameter : parameters) {
                    int size = parameter.size();
                    int perThread = Math.max(1, (size + SEGMENT * threads - 1) / (SEGMENT * threads));
                    int pieces = perThread * threads;
                    float decay = parameter.weightDecayed() ? (float) weightDecay : 0f;
                    for (int piece = thread * perThread; piece < (thread + 1) * perThread; piece++) {
                        int from = (int) ((long) size * piece / pieces);
                        int to = (int) ((long) size * (piece + 1) / pieces);
                        if (from < to) {
                            segments.add(new Segment(parameter, from, to, decay));
                        }
                    }
                    if (thread == 0) {
                        total += size;
                    }
                }
            }
            if (total < PARALLEL_ELEMENTS) {
                segments.clear();
            }
        }
        return !segments.isEmpty();
    }

    /**
     * The first problem the next {@link #step} would cause, without changing anything: a new momentum
     * (= the change of the weight) or weight that is not finite, or a change larger than
     * {@code maxChange}. Null when the step is safe. Computed with exactly the arithmetic of step.
     */
    public OffendingValue checkStep(List<Parameter> parameters, double learningRate, double maxChange) {
        float mu = (float) momentum;
        float rate = (float) learningRate;
        for (Parameter parameter : parameters) {
            float decay = parameter.weightDecayed() ? (float) weightDecay : 0f;
            float[] w = parameter.value();
            float[] g = parameter.gradient();
            float[] v = parameter.momentum();
            for (int i = 0; i < w.length; i++) {
                float newMomentum = newMomentum(mu, rate, decay, v[i], g[i], w[i]);
                float newWeight = w[i] - newMomentum;
                if (!Float.isFinite(newMomentum) || !Float.isFinite(newWeight)) {
                    return OffendingValue.nonFinite("update of " + parameter.name(), i,
                            Float.isFinite(newMomentum) ? newWeight : newMomentum);
                }
                if (Math.abs(newMomentum) > maxChange) {
                    return OffendingValue.aboveLimit("update of " + parameter.name(), i, newMomentum, maxChange);
                }
            }
        }
        return null;
    }

    /**
     * Whether {@link #step} is safe, in one vectorised pass: true exactly when every gradient, new
     * momentum and new weight is finite and no change exceeds {@code maxChange}. When it is false,
     * {@link #checkStep} (after the gradient scans) names the value. A non-finite gradient always
     * makes its new momentum non-finite ({@code rate * (g + decay w)} is NaN or infinite, also for
     * rate 0), so the gradients need no separate pass.
     */
    public boolean isSafeStep(List<Parameter> parameters, double learningRate, double maxChange) {
        float mu = (float) momentum;
        float rate = (float) learningRate;
        float limit = floatLimit(maxChange);
        if (segment(parameters)) {
            sweepMu = mu;
            sweepRate = rate;
            sweepLimit = limit;
            sweepUnsafe = false;
            workers.runChunks(checkSegments, segments.size());
            return !sweepUnsafe;
        }
        for (Parameter parameter : parameters) {
            float decay = parameter.weightDecayed() ? (float) weightDecay : 0f;
            if (!isSafe(parameter, 0, parameter.size(), mu, rate, decay, limit)) {
                return false;
            }
        }
        return true;
    }

    /** |v| > maxChange (a double) for a float v exactly when |v| > the largest float <= maxChange. */
    private static float floatLimit(double maxChange) {
        float limit = (float) maxChange;
        if (limit > maxChange) {
            limit = Math.nextDown(limit);
        }
        return limit;
    }

    /** isSafeStep's check of elements {@code [from, to)} of one parameter. */
    private static boolean isSafe(Parameter parameter, int from, int to, float mu, float rate, float decay, float limit) {
        float[] w = parameter.value();
        float[] g = parameter.gradient();
        float[] v = parameter.momentum();
        int length = to;
        int lanes = FLOATS.length();
        int bound = from + FLOATS.loopBound(to - from);
        // bad lanes: a non-finite value gives NaN in (x - x); above the limit gives true in the compare
        FloatVector nanIfNonFinite = FloatVector.zero(FLOATS);
        VectorMask<Float> aboveLimit = FLOATS.maskAll(false);
        int i = from;
        for (; i < bound; i += lanes) {
            FloatVector wv = FloatVector.fromArray(FLOATS, w, i);
            FloatVector nv = newMomentum(mu, rate, decay, FloatVector.fromArray(FLOATS, v, i),
                    FloatVector.fromArray(FLOATS, g, i), wv);
            FloatVector nw = wv.sub(nv);
            nanIfNonFinite = nanIfNonFinite.add(nv.sub(nv)).add(nw.sub(nw));
            aboveLimit = aboveLimit.or(nv.abs().compare(VectorOperators.GT, limit));
        }
        if (i < length) {
            VectorMask<Float> tail = FLOATS.indexInRange(i, length);
            FloatVector wv = FloatVector.fromArray(FLOATS, w, i, tail);
            FloatVector nv = newMomentum(mu, rate, decay, FloatVector.fromArray(FLOATS, v, i, tail),
                    FloatVector.fromArray(FLOATS, g, i, tail), wv);
            FloatVector nw = wv.sub(nv);
            nanIfNonFinite = nanIfNonFinite.add(nv.sub(nv)).add(nw.sub(nw)); // lanes past the end are 0
            aboveLimit = aboveLimit.or(nv.abs().compare(VectorOperators.GT, limit));
        }
        return !aboveLimit.anyTrue() && !nanIfNonFinite.compare(VectorOperators.NE, nanIfNonFinite).anyTrue();
    }

    public void step(List<Parameter> parameters, double learningRate) {
        float mu = (float) momentum;
        float rate = (float) learningRate;
        if (segment(parameters)) {
            sweepMu = mu;
            sweepRate = rate;
            workers.runChunks(stepSegments, segments.size());
            return;
        }
        for (Parameter parameter : parameters) {
            float decay = parameter.weightDecayed() ? (float) weightDecay : 0f;
            step(parameter, 0, parameter.size(), mu, rate, decay);
        }
    }

    /** The update of elements {@code [from, to)} of one parameter. */
    private static void step(Parameter parameter, int from, int to, float mu, float rate, float decay) {
        float[] w = parameter.value();
        float[] g = parameter.gradient();
        float[] v = parameter.momentum();
        int length = to;
        int lanes = FLOATS.length();
        int bound = from + FLOATS.loopBound(to - from);
        int i = from;
        for (; i < bound; i += lanes) {
            FloatVector wv = FloatVector.fromArray(FLOATS, w, i);
            FloatVector nv = newMomentum(mu, rate, decay, FloatVector.fromArray(FLOATS, v, i),
                    FloatVector.fromArray(FLOATS, g, i), wv);
            nv.intoArray(v, i);
            wv.sub(nv).intoArray(w, i);
        }
        if (i < length) {
            VectorMask<Float> tail = FLOATS.indexInRange(i, length);
            FloatVector wv = FloatVector.fromArray(FLOATS, w, i, tail);
            FloatVector nv = newMomentum(mu, rate, decay, FloatVector.fromArray(FLOATS, v, i, tail),
                    FloatVector.fromArray(FLOATS, g, i, tail), wv);
            nv.intoArray(v, i, tail);
            wv.sub(nv).intoArray(w, i, tail);
        }
    }

    /**
     * {@link #step(List, double)} where {@code rows} names, for some parameters, the rows a step touched
     * (a class-sharded head's sampled classes): only those rows' momentum and values change, each element
     * exactly as {@code step} would change it; every other row keeps its value and its momentum. A
     * parameter without a selection ({@code rows} gives null) gets the full update of {@code step}
     * (segmented on the pool as there); the selected rows are swept vectorised on the caller.
     */
    public void step(List<Parameter> parameters, double learningRate, Function<Parameter, RowSelection> rows) {
        List<Parameter> whole = withoutSelections(parameters, rows);
        if (whole != parameters) {
            float mu = (float) momentum;
            float rate = (float) learningRate;
            for (Parameter parameter : parameters) {
                RowSelection selection = rows.apply(parameter);
                if (selection == null) {
                    continue;
                }
                float decay = parameter.weightDecayed() ? (float) weightDecay : 0f;
                int length = selection.rowLength();
                for (int k = 0; k < selection.count(); k++) {
                    int start = selection.row(k) * length;
                    step(parameter, start, start + length, mu, rate, decay);
                }
            }
        }
        step(whole, learningRate);
    }

    /**
     * {@link #isSafeStep(List, double, double)} of the step {@link #step(List, double, Function)} would
     * take: only the selected rows of a parameter with a selection are checked.
     */
    public boolean isSafeStep(List<Parameter> parameters, double learningRate, double maxChange, Function<Parameter, RowSelection> rows) {
        List<Parameter> whole = withoutSelections(parameters, rows);
        if (whole != parameters) {
            float mu = (float) momentum;
            float rate = (float) learningRate;
            float limit = floatLimit(maxChange);
            for (Parameter parameter : parameters) {
                RowSelection selection = rows.apply(parameter);
                if (selection == null) {
                    continue;
                }
                float decay = parameter.weightDecayed() ? (float) weightDecay : 0f;
                int length = selection.rowLength();
                for (int k = 0; k < selection.count(); k++) {
                    int start = selection.row(k) * length;
                    if (!isSafe(parameter, start, start + length, mu, rate, decay, limit)) {
                        return false;
                    }
                }
            }
        }
        return isSafeStep(whole, learningRate, maxChange);
    }

    /**
     * The parameters {@code rows} gives no selection: {@code parameters} itself when none has one (the
     * unsampled head: the list the network hands out, so its segments are cut once), else a list of them
     * (reused, so the segments are cut again only when its contents change).
     */
    private List<Parameter> withoutSelections(List<Parameter> parameters, Function<Parameter, RowSelection> rows) {
        boolean any = false;
        for (Parameter parameter : parameters) {
            if (rows.apply(parameter) != null) {
                any = true;
                break;
            }
        }
        if (!any) {
            return parameters;
        }
        List<Parameter> whole = new ArrayList<>(parameters.size());
        for (Parameter parameter : parameters) {
            if (rows.apply(parameter) == null) {
                whole.add(parameter);
            }
        }
        if (!whole.equals(wholeParameters)) {
            wholeParameters = List.copyOf(whole);
        }
        return wholeParameters;
    }

    /** {@link #checkStep(List, double, double)} of the step {@link #step(List, double, Function)} would take. */
    public OffendingValue checkStep(List<Parameter> parameters, double learningRate, double maxChange, Function<Parameter, RowSelection> rows) {
        List<Parameter> whole = new ArrayList<>(parameters.size());
        float mu = (float) momentum;
        float rate = (float) learningRate;
        for (Parameter parameter : parameters) {
            RowSelection selection = rows.apply(parameter);
            if (selection == null) {
                whole.add(parameter);
                continue;
            }
            float decay = parameter.weightDecayed() ? (float) weightDecay : 0f;
            float[] w = parameter.value();
            float[] g = parameter.gradient();
            float[] v = parameter.momentum();
            int length = selection.rowLength();
            for (int k = 0; k < selection.count(); k++) {
                int start = selection.row(k) * length;
                for (int i = start; i < start + length; i++) {
                    float newMomentum = newMomentum(mu, rate, decay, v[i], g[i], w[i]);
                    float newWeight = w[i] - newMomentum;
                    if (!Float.isFinite(newMomentum) || !Float.isFinite(newWeight)) {
                        return OffendingValue.nonFinite("update of " + parameter.name(), i, Float.isFinite(newMomentum) ? newWeight : newMomentum);
                    }
                    if (Math.abs(newMomentum) > maxChange) {
                        return OffendingValue.aboveLimit("update of " + parameter.name(), i, newMomentum, maxChange);
                    }
                }
            }
        }
        return checkStep(whole, learningRate, maxChange);
    }

    /** {@code v' = mu v + lr (g + decay w)}: Caffe's momentum update, one definition for step and checkStep. */
    private static float newMomentum(float mu, float rate, float decay, float v, float g, float w) {
        return mu * v + rate * (g + decay * w);
    }

    /** {@link #newMomentum(float, float, float, float, float, float)} lane by lane, the same operations in the same order. */
    private static FloatVector newMomentum(float mu, float rate, float decay, FloatVector v, FloatVector g, FloatVector w) {
        return v.mul(mu).add(g.add(w.mul(decay)).mul(rate));
    }
}
