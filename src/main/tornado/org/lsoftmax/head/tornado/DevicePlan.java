package org.lsoftmax.head.tornado;

import java.util.Arrays;
import org.lsoftmax.head.ClassGroups;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.MarginLoss;
import org.lsoftmax.head.tornado.GridSizes.MatmulVariant;
import org.lsoftmax.math.MarginMath;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.ac.manchester.tornado.api.ImmutableTaskGraph;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.TornadoExecutionResult;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.enums.ProfilerMode;
import uk.ac.manchester.tornado.api.exceptions.TornadoExecutionPlanException;
import uk.ac.manchester.tornado.api.types.arrays.DoubleArray;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.arrays.TornadoNativeArray;
import uk.ac.manchester.tornado.api.types.collections.VectorFloat16;

/**
 * The head on one TornadoVM device: the device buffers, the task graphs in ONE execution plan, and the
 * host copies. A plan for the single-pass stages has one graph, {@value #STEP}: forward and backward of a
 * batch in one execution ({@link #step}; {@link #gradients} then only copies dX and dW out), so a
 * training step costs one launch of the graph and G never leaves the device. A forward whose backward
 * never comes pays for the backward kernels too (the passes' callers that run forward alone: eval without
 * gradients; training always runs both). A plan for the shard stages has two graphs,
 * {@value #SHARD_FORWARD} and {@value #SHARD_BACKWARD}: the whole head's lse_i comes from the other shards
 * in between. W goes to the device with every execution rather than FIRST_EXECUTION: the training loop
 * changes it on the host every step. TornadoVM 5.2 hands persisted buffers only from the graph executed
 * last to the next one, so the shard backward re-runs the shard forward when another graph ran in
 * between. Not thread-safe; one plan per pass.
 */
final class DevicePlan implements AutoCloseable {

    /** Held by a graph's first execution (its compilation), which must not run in two threads at once. */
    private static final Object FIRST_EXECUTIONS = new Object();
    /** Which of the plan's graphs have run once (their kernels are compiled). */
    private final boolean[] compiledGraphs = new boolean[2]; // the step (one graph), or the shard forward and backward

    private static final Logger LOG = LoggerFactory.getLogger(DevicePlan.class);

    /** The graph of a plan for the single-pass stages: a whole training step. */
    static final String STEP = "lsoftmaxStep";
    /** The graphs of a plan for the shard stages ({@code HeadPass.forwardShard}, {@code backwardShard}). */
    static final String SHARD_FORWARD = "lsoftmaxShardForward";
    static final String SHARD_BACKWARD = "lsoftmaxShardBackward";
    private static final int STEP_GRAPH = 0;
    private static final int SHARD_FORWARD_GRAPH = 0;
    private static final int SHARD_BACKWARD_GRAPH = 1;
    /**
     * {@code -Dlsoftmax.tornado.gradWPanels=true}: the softmax kernel also writes G in 16-class panels
     * and G^T X reads that copy (panel products only). Off by default: G^T X alone runs ~20% faster from
     * it, but the second write costs the softmax ~25 ms at 1024x512x10000 and the step measured no
     * faster (benchmarks/RESULTS.md, TornadoVM pass, third round).
     */
    static final boolean GRAD_W_PANELS = Boolean.getBoolean("lsoftmax.tornado.gradWPanels");

    private final HeadShape shape;
    private final GridSizes grid;
    private final TornadoExecutionPlan plan;
    /** Whether this plan's graphs are the shard stages' (else the single-pass forward and backward). */
    private final boolean shardStages;
    private final boolean profiler;

    // weights, sent with every forward
    private final FloatArray w;
    private final FloatArray wNorms;
    private final FloatArray classScale;          // b_j of (F1): 1 / |w_j| for the losses that normalise W, else 1
    private final VectorFloat16 wPanelsByClass;   // B of X W^T: B(d, j) = W[j][d]
    private final VectorFloat16 wPanelsByFeature; // B of G W:   B(j, d) = W[j][d]

    // per forward
    private final FloatArray x;
    private final IntArray labels;
    private final DoubleArray beta;
    private final DoubleArray loss;               // LSoftmaxKernels.lossValues: kind, m, m1, m2, m3, s
    private final FloatArray logits;
    private final FloatArray plainTarget;       // the plain logit of each row's target entry before the margin replaced it
    private final IntArray predictions;         // each row's plain-logit argmax (the single-pass step)
    private final FloatArray rowScale;          // a_i of (F1): s / |x_i| for the losses that normalise X, else 1
    private final DoubleArray rowLoss;
    private final FloatArray gradLogits;
    private final FloatArray gradPanels;        // G in 16-class panels (GRAD_W_PANELS only)
    private final DoubleArray rowTerms;

    // the shard stages only (null in a single-pass plan): per row max, sum of exp, owned target logit; lse from the host
    private final DoubleArray rowMax;
    private final DoubleArray rowSum;
    private final DoubleArray rowTarget;
    private final DoubleArray logSumExp;

    // per backward
    private final VectorFloat16 xPanels;          // B of G^T X: B(i, d) = X[i][d]
    private final IntArray classStart;
    private final IntArray presentClasses;
    private final IntArray samplesByClass;
    private final FloatArray gradX;
    private final FloatArray gradW;

    private final float[] packScratch;
    private final ClassGroups classGroups;
    private final TornadoDevice device;
    private final long deviceBytes;
    private long failingExecution = -1;
    private long executions;
    private FaultInjection fault = FaultInjection.NONE;
    private boolean closed;
    private float[] forwardX;
    private float[] forwardW;
    private int lastGraph = -1;
    private long lastKernelNanos;
    private long graphExecutions;
    private long compileNanos;

    DevicePlan(HeadShape shape, TornadoDevice device, MatmulVariant variant, TornadoOptions options) {
        this(shape, device, variant, options, false);
    }

    /** @param shardStages true: the graphs of the shard stages ({@value #SHARD_FORWARD}, {@value #SHARD_BACKWARD}) */
    DevicePlan(HeadShape shape, TornadoDevice device, MatmulVariant variant, TornadoOptions options, boolean shardStages) {
        this.shardStages = shardStages;
        this.shape = shape;
        this.grid = new GridSizes(shape, variant, options.localSize());
        this.profiler = options.profiler();
        this.device = device;
        int n = shape.batch();
        int d = shape.features();
        int c = shape.classes();
        boolean panels = variant == MatmulVariant.PANELS;
        int lanes = MatrixKernels.LANES;

        w = new FloatArray(c * d);
        wNorms = new FloatArray(c);
        classScale = new FloatArray(c);
        wPanelsByClass = new VectorFloat16(panels ? grid.paddedClasses / lanes * d : 1);
        wPanelsByFeature = new VectorFloat16(panels ? grid.paddedFeatures / lanes * c : 1);
        x = new FloatArray(n * d);
        labels = new IntArray(n);
        beta = new DoubleArray(1);
        loss = new DoubleArray(LSoftmaxKernels.LOSS_VALUES);
        logits = new FloatArray(grid.paddedBatch * grid.paddedClasses);
        plainTarget = new FloatArray(n);
        predictions = new IntArray(n);
        rowScale = new FloatArray(n);
        rowLoss = new DoubleArray(n);
        gradLogits = new FloatArray(n * grid.paddedClasses);
        gradPanels = new FloatArray(panels && GRAD_W_PANELS ? n * grid.paddedClasses : 1);
        rowTerms = new DoubleArray(n * LSoftmaxKernels.TERMS_PER_ROW);
        rowMax = shardStages ? new DoubleArray(n) : null;
        rowSum = shardStages ? new DoubleArray(n) : null;
        rowTarget = shardStages ? new DoubleArray(n) : null;
        logSumExp = shardStages ? new DoubleArray(n) : null;
        xPanels = new VectorFloat16(panels ? grid.paddedFeatures / lanes * n : 1);
        classStart = new IntArray(c + 1);
        presentClasses = new IntArray(n + 1);
        samplesByClass = new IntArray(n);
        gradX = new FloatArray(grid.paddedBatch * grid.paddedFeatures);
        gradW = new FloatArray(grid.paddedClasses * grid.paddedFeatures);
        classGroups = new ClassGroups(n, c);
        packScratch = panels ? new float[lanes * Math.max(wPanelsByClass.getLength(),
                Math.max(wPanelsByFeature.getLength(), xPanels.getLength()))] : null;

        int cStride = grid.paddedClasses;
        int dStride = grid.paddedFeatures;
        // The B operands the products read: packed panels (CPU) or the plain matrices (tiled, GPU).
        Object logitsB = panels ? wPanelsByClass : w;
        Object gradXB = panels ? wPanelsByFeature : w;
        Object gradWB = panels ? xPanels : x;
        TaskGraph[] graphs;
        if (shardStages) {
            graphs = new TaskGraph[] {shardForwardGraph(logitsB, n, c, d, cStride, panels),
                shardBackwardGraph(gradXB, gradWB, n, c, d, cStride, dStride, panels)};
        } else {
            graphs = new TaskGraph[] {stepGraph(logitsB, gradXB, gradWB, n, c, d, cStride, dStride, panels)};
        }

        deviceBytes = bytesOf(w, wNorms, classScale, wPanelsByClass, wPanelsByFeature, x, labels, beta, loss, logits, plainTarget, rowScale,
                predictions, rowLoss, gradLogits, gradPanels, rowTerms, xPanels, classStart, presentClasses, samplesByClass, gradX, gradW)
                + (shardStages ? bytesOf(rowMax, rowSum, rowTarget, logSumExp) : 0);
        long expected = deviceBytes(shape, variant, shardStages);
        if (deviceBytes != expected) {
            throw new IllegalStateException("device buffers of " + shape + ": " + deviceBytes + " bytes, estimated " + expected);
        }
        plan = new TornadoExecutionPlan(Arrays.stream(graphs).map(TaskGraph::snapshot).toArray(ImmutableTaskGraph[]::new));
        plan.withDevice(device).withGridScheduler(shardStages ? grid.shardScheduler() : grid.scheduler());
        if (profiler) {
            plan.withProfiler(options.profilerConsole() ? ProfilerMode.CONSOLE : ProfilerMode.SILENT);
        }
        DevicePlanPool.opened(this);
        LOG.debug("tornado layer {}{} on {}: {} products, padded N={} C={} D={}, {} device bytes", shape, shardStages ? " (shard stages)" : "",
                device.getDeviceName(), variant, grid.paddedBatch, grid.paddedClasses, grid.paddedFeatures, deviceBytes);
    }

    /**
     * The training step ({@value #STEP}): forward and backward of one batch in ONE graph execution.
     * X, labels, beta, the loss, W (with the B operands of the products) and the class groups go to the
     * device every execution (the training loop changes W every step). Seven kernels: class norms, X W^T,
     * the margin on the target logits with softmax cross-entropy and each row's prediction (one kernel),
     * dX = G W, its radial part and target correction (one kernel), dW = G^T X, its radial part and
     * target corrections (one kernel). Per-row losses, predictions, dX and dW come back every
     * execution; the logits only when asked for ({@code UNDER_DEMAND}); G never leaves the device.
     */
    private TaskGraph stepGraph(Object logitsB, Object gradXB, Object gradWB, int n, int c, int d, int cStride, int dStride, boolean panels) {
        TaskGraph step = new TaskGraph(STEP)
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, panels
                        ? new Object[] {x, labels, beta, loss, w, wPanelsByClass, wPanelsByFeature, xPanels, classStart, samplesByClass}
                        : new Object[] {x, labels, beta, loss, w, classStart, samplesByClass})
                .task("classNorms", LSoftmaxKernels::classNorms, w, loss, wNorms, classScale, c, d, grid.rowsExtent(c));
        // logits = X W^T: A = X (N x D), B(d, j) = W[j][d]
        addMatmul(step, "logits", x, logitsB, logits, n, c, d, d, 16 * d, 1, 16, 1, d, cStride);
        // (F2) the margin on the target logits, then (L5), (L7) the loss, G and the predictions: one kernel per row
        step.task("marginSoftmax", LSoftmaxKernels::marginSoftmax, x, w, labels, classScale, beta, loss, logits, plainTarget, rowScale, rowTerms,
                gradLogits, gradPanels, rowLoss, predictions, n, d, c, cStride, panels && GRAD_W_PANELS ? 1 : 0, grid.rowsExtent(n));
        // dX = G W: A = G (N x C, row stride cStride), B(j, d) = W[j][d]
        addMatmul(step, "gradXMatmul", gradLogits, gradXB, gradX, n, d, c, cStride, 16 * cStride, 1, 16, d, 1, dStride);
        // (F14) the radial part of normalised features' gradient removed, (F15) the target correction
        step.task("finishGradX", LSoftmaxKernels::finishGradX, x, w, labels, loss, rowTerms, gradX, n, d, dStride, grid.rowsExtent(n));
        // dW = G^T X: A(j, i) = G[i][j], B(i, d) = X[i][d]
        if (panels && GRAD_W_PANELS) {
            // A(j, i) = G[i][j] from the panels copy: rows j run along a panel row, samples i 16 floats apart
            int panelRun = MatrixKernels.LANES;
            addMatmul(step, "gradWMatmul", gradPanels, gradWB, gradW, c, d, n, 1, MatrixKernels.LANES * n, panelRun, panelRun * panelRun, d, 1,
                    dStride);
        } else {
            addMatmul(step, "gradWMatmul", gradLogits, gradWB, gradW, c, d, n, 1, 16, cStride, 16 * cStride, d, 1, dStride);
        }
        // (F14) the radial part of normalised weights' gradient removed, (F15) each class's target correction
        step.task("finishGradW", LSoftmaxKernels::finishGradW, x, w, classStart, samplesByClass, loss, rowTerms, gradW, c, d, dStride,
                        grid.rowsExtent(c))
                .transferToHost(DataTransferMode.EVERY_EXECUTION, rowLoss, predictions, gradX, gradW)
                .transferToHost(DataTransferMode.UNDER_DEMAND, logits);
        return step;
    }

    /**
     * The shard forward ({@value #SHARD_FORWARD}): the single-pass forward's inputs and tasks up to the
     * margin (targetMargin tolerates label -1), then {@link LSoftmaxKernels#shardSoftmax}: per row max, sum of
     * exp and the owned target logit to the host with the logits; e_ij = exp(f_ij - max_i) stays on the
     * device as G's numerator, with what the shard backward needs.
     */
    private TaskGraph shardForwardGraph(Object logitsB, int n, int c, int d, int cStride, boolean panels) {
        TaskGraph forward = new TaskGraph(SHARD_FORWARD)
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, panels ? new Object[] {x, labels, beta, loss, w, wPanelsByClass}
                        : new Object[] {x, labels, beta, loss, w})
                .task("classNorms", LSoftmaxKernels::classNorms, w, loss, wNorms, classScale, c, d, grid.rowsExtent(c));
        addMatmul(forward, "logits", x, logitsB, logits, n, c, d, d, 16 * d, 1, 16, 1, d, cStride);
        forward.task("targetMargin", LSoftmaxKernels::targetMargin, x, w, labels, classScale, beta, loss, logits, plainTarget, rowScale, rowTerms,
                        n, d, cStride, grid.rowsExtent(n))
                .task("shardSoftmax", LSoftmaxKernels::shardSoftmax, logits, labels, loss, rowScale, classScale, gradLogits, rowMax, rowSum,
                        rowTarget, n, c, cStride, grid.rowsExtent(n))
                .transferToHost(DataTransferMode.EVERY_EXECUTION, logits, plainTarget, rowMax, rowSum, rowTarget)
                .persistOnDevice(x, w, labels, beta, loss, gradLogits, rowTerms, rowScale, classScale, rowMax, rowTarget);
        return forward;
    }

    /**
     * The shard backward ({@value #SHARD_BACKWARD}): lse_i from the host, {@link LSoftmaxKernels#shardGradient}
     * (G and the correction coefficients), then the single-pass backward's tasks: dX = G W, its radial part
     * and target correction, dW = G^T X, its radial part and target correction.
     */
    private TaskGraph shardBackwardGraph(Object gradXB, Object gradWB, int n, int c, int d, int cStride, int dStride, boolean panels) {
        TaskGraph backward = new TaskGraph(SHARD_BACKWARD)
                .consumeFromDevice(SHARD_FORWARD, x, w, labels, beta, loss, gradLogits, rowTerms, rowScale, classScale, rowMax, rowTarget)
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, panels ? new Object[] {logSumExp, wPanelsByFeature, xPanels, presentClasses,
                    classStart, samplesByClass} : new Object[] {logSumExp, presentClasses, classStart, samplesByClass})
                .task("shardGradient", LSoftmaxKernels::shardGradient, gradLogits, labels, beta, loss, rowScale, classScale, rowMax, logSumExp,
                        rowTarget, rowTerms, n, c, cStride, grid.rowsExtent(n));
        addMatmul(backward, "gradXMatmul", gradLogits, gradXB, gradX, n, d, c, cStride, 16 * cStride, 1, 16, d, 1, dStride);
        backward.task("gradXRadial", LSoftmaxKernels::removeRadialPart, x, gradX, loss, MarginMath.COSFACE, n, d, dStride, grid.rowsExtent(n));
        backward.task("gradXTarget", LSoftmaxKernels::correctGradX, x, w, labels, rowTerms, gradX, grid.elementColumnsExtent(), n, d, dStride);
        addMatmul(backward, "gradWMatmul", gradLogits, gradWB, gradW, c, d, n, 1, 16, cStride, 16 * cStride, d, 1, dStride);
        backward.task("gradWRadial", LSoftmaxKernels::removeRadialPart, w, gradW, loss, MarginMath.SPHEREFACE, c, d, dStride, grid.rowsExtent(c));
        backward.task("gradWTarget", LSoftmaxKernels::correctGradW, x, w, presentClasses, classStart, samplesByClass, rowTerms, gradW,
                grid.elementColumnsExtent(), grid.presentClassRows(), d, dStride)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, gradX, gradW);
        return backward;
    }

    boolean shardStages() {
        return shardStages;
    }

    /**
     * Adds the task out(r, c) = sum_k A(r, k) B(k, c) for r < rows, c < columns, k < depth, with
     * A(r, k) = a[(r / 16) * aRowPanelStride + (r % 16) * aRowStride + (k / 16) * aDepthPanelStride + (k % 16) * aDepthStride]
     * (the tiled form takes only row-major A: aRowPanelStride = 16 aRowStride, aDepthPanelStride = 16 aDepthStride) and (tiled form) B(k, c) = b[k * bDepthStride +
     * c * bColumnStride]; the panel form reads B from its packed panels instead.
     */
    private void addMatmul(TaskGraph graph, String task, FloatArray a, Object b, FloatArray out, int rows, int columns, int depth,
            int aRowStride, int aRowPanelStride, int aDepthStride, int aDepthPanelStride, int bDepthStride, int bColumnStride, int outStride) {
        if (grid.matmulVariant == MatmulVariant.PANELS) {
            int paddedRows = out.getSize() / outStride;
            graph.task(task, PanelMatmulKernel::matmulPanels, a, (VectorFloat16) b, out, rows, depth, aRowStride, aRowPanelStride, aDepthStride,
                    aDepthPanelStride, GridSizes.rowBlocks(paddedRows), GridSizes.panelPairs(outStride));
        } else {
            graph.task(task, MatrixKernels::matmulTiled, new KernelContext(), a, (FloatArray) b, out, rows, columns, depth,
                    aRowStride, aDepthStride, bDepthStride, bColumnStride, outStride);
        }
    }

    /**
     * A whole step on the device in one graph execution: forward and backward of the batch. Returns the
     * mean loss; writes the logits (N*C) when {@code logitsOut} is not null (else they stay on the
     * device); the gradients wait in the host copies of dX and dW for {@link #gradients}.
     */
    double step(MarginLoss lossSpec, float[] xHost, float[] wHost, int[] labelsHost, double betaValue, float[] logitsOut) {
        requireShardStages(false);
        upload(lossSpec, xHost, wHost, labelsHost, betaValue);
        if (grid.matmulVariant == MatmulVariant.PANELS) {
            HostCopies.packPanels(wHost, shape.classes(), shape.features(), shape.features(), 1, wPanelsByFeature, packScratch);
            HostCopies.packPanels(xHost, shape.batch(), shape.features(), shape.features(), 1, xPanels, packScratch);
        }
        TornadoExecutionResult result = execute(STEP_GRAPH);
        if (logitsOut != null) {
            result.transferToHost(logits);
            HostCopies.unpad(logits, grid.paddedClasses, shape.batch(), shape.classes(), logitsOut);
        }
        double sum = 0.0;
        for (int i = 0; i < shape.batch(); i++) {
            sum += rowLoss.get(i);
        }
        return sum / shape.batch();
    }

    /** dX (N*D) and dW (C*D) of the most recent {@link #step}, from the host copies it brought back. */
    void gradients(float[] dxOut, float[] dwOut) {
        requireShardStages(false);
        HostCopies.unpad(gradX, grid.paddedFeatures, shape.batch(), shape.features(), dxOut);
        HostCopies.unpad(gradW, grid.paddedFeatures, shape.classes(), shape.features(), dwOut);
    }

    /** The host copies of a forward's inputs (X, W with its panels, labels and their class groups, beta, the loss). */
    private void upload(MarginLoss lossSpec, float[] xHost, float[] wHost, int[] labelsHost, double betaValue) {
        lastKernelNanos = 0;
        double[] values = LSoftmaxKernels.lossValues(lossSpec);
        for (int v = 0; v < values.length; v++) {
            loss.set(v, values[v]);
        }
        HostCopies.copy(xHost, x);
        HostCopies.copy(wHost, w);
        if (grid.matmulVariant == MatmulVariant.PANELS) {
            HostCopies.packPanels(wHost, shape.features(), shape.classes(), 1, shape.features(), wPanelsByClass, packScratch);
        }
        HostCopies.copy(labelsHost, labels);
        beta.set(0, betaValue);
        forwardX = xHost;
        forwardW = wHost;
        classGroups.group(labelsHost);
        HostCopies.copy(classGroups.presentClasses(), presentClasses);
        HostCopies.copy(classGroups.classStart(), classStart);
        HostCopies.copy(classGroups.samples(), samplesByClass);
    }

    /**
     * The shard forward on the device: writes the logits (N*C) and the per-row max, sum of exp and owned
     * target logits (margin and plain) into {@code rows}.
     */
    void forwardShard(MarginLoss lossSpec, float[] xHost, float[] wHost, int[] labelsHost, double betaValue, float[] logitsOut,
            org.lsoftmax.head.ShardRows rows) {
        requireShardStages(true);
        upload(lossSpec, xHost, wHost, labelsHost, betaValue);
        execute(SHARD_FORWARD_GRAPH);
        HostCopies.unpad(logits, grid.paddedClasses, shape.batch(), shape.classes(), logitsOut);
        for (int i = 0; i < shape.batch(); i++) {
            rows.max()[i] = rowMax.get(i);
            rows.sumExp()[i] = rowSum.get(i);
            rows.target()[i] = rowTarget.get(i);
            rows.plainTarget()[i] = plainTarget.get(i);
        }
    }

    /** The shard backward on the device for the most recent shard forward, with the whole head's lse_i. */
    void backwardShard(double[] logSumExpHost, float[] dxOut, float[] dwOut) {
        requireShardStages(true);
        for (int i = 0; i < shape.batch(); i++) {
            logSumExp.set(i, logSumExpHost[i]);
        }
        if (lastGraph != SHARD_FORWARD_GRAPH) {
            // the forward graph's buffers are handed over only to the graph that runs right after it
            execute(SHARD_FORWARD_GRAPH);
        }
        if (grid.matmulVariant == MatmulVariant.PANELS) {
            HostCopies.packPanels(forwardW, shape.classes(), shape.features(), shape.features(), 1, wPanelsByFeature, packScratch);
            HostCopies.packPanels(forwardX, shape.batch(), shape.features(), shape.features(), 1, xPanels, packScratch);
        }
        execute(SHARD_BACKWARD_GRAPH);
        HostCopies.unpad(gradX, grid.paddedFeatures, shape.batch(), shape.features(), dxOut);
        HostCopies.unpad(gradW, grid.paddedFeatures, shape.classes(), shape.features(), dwOut);
    }

    private void requireShardStages(boolean shard) {
        if (shardStages != shard) {
            throw new IllegalStateException(shardStages ? "this device plan runs the shard stages only" : "this device plan has no shard stages");
        }
    }

    /**
     * Plain-logit argmax of each row of the most recent forward (the first index on ties): a single-pass
     * step computed it on the device ({@link LSoftmaxKernels#softmaxCrossEntropy}); for the shard stages,
     * from the host copies of the logits and plain target logits, the target entry's margin logit
     * replaced by its plain value.
     */
    void predict(int[] labelsHost, int[] predictionsOut) {
        if (!shardStages) {
            HostCopies.copy(predictions, predictionsOut);
            return;
        }
        int c = shape.classes();
        int stride = grid.paddedClasses;
        for (int i = 0; i < shape.batch(); i++) {
            int y = labelsHost[i];
            int best = 0;
            float bestValue = y == 0 ? plainTarget.get(i) : logits.get(i * stride);
            for (int j = 1; j < c; j++) {
                float value = j == y ? plainTarget.get(i) : logits.get(i * stride + j);
                if (value > bestValue) {
                    best = j;
                    bestValue = value;
                }
            }
            predictionsOut[i] = best;
        }
    }

    private TornadoExecutionResult execute(int graph) {
        graphExecutions++;
        if (failingExecution >= 0 && executions++ == failingExecution) {
            lastGraph = -1;
            fault.fail(device, failingExecution);
        }
        lastGraph = -1;
        TornadoExecutionResult result;
        if (compiledGraphs[graph]) {
            result = plan.withGraph(graph).execute();
        } else {
            // a graph's first execution JIT-compiles its kernels; TornadoVM's compiler is not safe for two threads at
            // once (the shards of the sharded head start together: seen as "unimplemented: field type FloatArray" and
            // BufferOverflowException from one of them), so first executions take turns
            synchronized (FIRST_EXECUTIONS) {
                result = plan.withGraph(graph).execute();
            }
            compiledGraphs[graph] = true;
        }
        lastGraph = graph;
        if (profiler && result != null && result.getProfilerResult() != null) {
            lastKernelNanos += Math.max(0, result.getProfilerResult().getDeviceKernelTime());
            compileNanos += Math.max(0, result.getProfilerResult().getCompileTime());
        }
        return result;
    }

    long lastKernelNanos() {
        return lastKernelNanos;
    }

    /** Graph executions of this plan so far (while a pool lends it to several passes, all of theirs). */
    long graphExecutions() {
        return graphExecutions;
    }

    long compileNanos() {
        return compileNanos;
    }

    /** Arms {@code injection} for the pass that uses this layer now (executions count from 0); NONE disarms. */
    void arm(FaultInjection injection) {
        fault = injection;
        failingExecution = injection.failingExecution();
        executions = 0;
    }

    /** Bytes of the buffers this layer keeps on the device (each TornadoVM array with its header). */
    long deviceBytes() {
        return deviceBytes;
    }

    /**
     * Device bytes a layer of this shape allocates, before anything is allocated (the constructor
     * checks that its buffers add up to it). Also the size of the largest single buffer, in [1].
     */
    static long[] deviceBytesAndLargest(HeadShape shape, MatmulVariant variant) {
        return deviceBytesAndLargest(shape, variant, false);
    }

    /** {@link #deviceBytesAndLargest(HeadShape, MatmulVariant)} of a plan with the shard stages (four N-double rows more). */
    static long[] deviceBytesAndLargest(HeadShape shape, MatmulVariant variant, boolean shardStages) {
        GridSizes grid = new GridSizes(shape, variant, 1);
        long n = shape.batch();
        long d = shape.features();
        long c = shape.classes();
        boolean panels = variant == MatmulVariant.PANELS;
        int lanes = MatrixKernels.LANES;
        long header = TornadoNativeArray.ARRAY_HEADER;
        long[] floats = {c * d, c, c, panels ? (long) grid.paddedClasses * d : lanes, panels ? (long) grid.paddedFeatures * c : lanes, n * d,
            (long) grid.paddedBatch * grid.paddedClasses, n, n, n * grid.paddedClasses, panels && GRAD_W_PANELS ? n * grid.paddedClasses : 1,
            panels ? (long) grid.paddedFeatures * n : lanes, (long) grid.paddedBatch * grid.paddedFeatures,
            (long) grid.paddedClasses * grid.paddedFeatures};
        long[] ints = {n, c + 1, n + 1, n, n};
        long[] doubles = {1, LSoftmaxKernels.LOSS_VALUES, n, n * LSoftmaxKernels.TERMS_PER_ROW};
        long total = 0;
        long largest = 0;
        for (long count : floats) {
            total += header + 4 * count;
            largest = Math.max(largest, header + 4 * count);
        }
        for (long count : ints) {
            total += header + 4 * count;
        }
        for (long count : doubles) {
            total += header + 8 * count;
        }
        if (shardStages) {
            total += 4 * (header + 8 * n);
        }
        return new long[] {total, largest};
    }

    static long deviceBytes(HeadShape shape, MatmulVariant variant) {
        return deviceBytesAndLargest(shape, variant)[0];
    }

    static long deviceBytes(HeadShape shape, MatmulVariant variant, boolean shardStages) {
        return deviceBytesAndLargest(shape, variant, shardStages)[0];
    }

    private static long bytesOf(Object... buffers) {
        long total = 0;
        for (Object buffer : buffers) {
            total += switch (buffer) {
                case TornadoNativeArray array -> array.getNumBytesOfSegmentWithHeader();
                case VectorFloat16 vector -> vector.getArray().getNumBytesOfSegmentWithHeader();
                default -> throw new IllegalArgumentException("not a device buffer: " + buffer);
            };
        }
        return total;
    }

    /** Closes the execution plan (frees its device buffers); idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            plan.close();
        } catch (TornadoExecutionPlanException | RuntimeException e) {
            LOG.warn("closing the TornadoVM execution plan: {}", e.toString());
        } finally {
            DevicePlanPool.closed(this);
        }
    }
}
