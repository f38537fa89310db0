package org.lsoftmax.head.tornado;

import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.exceptions.TornadoBailoutRuntimeException;
import uk.ac.manchester.tornado.api.exceptions.TornadoRuntimeException;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * A device fault on purpose, for tests of the fallback ({@code lsoftmax.tornado.injectFault}, see
 * {@link TornadoOptions}): the graph execution number {@code after} (counted from 0 per pass) fails.
 *
 * @param kind  what fails
 * @param after graph executions that succeed before the failing one
 */
record FaultInjection(Kind kind, long after) {

    enum Kind { NONE, COMPILE, EXECUTE }

    static final FaultInjection NONE = new FaultInjection(Kind.NONE, -1);

    /** The execution index that fails, or -1. */
    long failingExecution() {
        return kind == Kind.NONE ? -1 : after;
    }

    /**
     * Fails as the device would: {@link Kind#COMPILE} hands TornadoVM a task graph whose kernel it
     * cannot compile (it builds a string: no OpenCL for that) on {@code device}, so the failure is
     * TornadoVM's own; {@link Kind#EXECUTE} throws TornadoVM's runtime exception.
     */
    void fail(TornadoDevice device, long execution) {
        String what = "injected " + kind.name().toLowerCase(java.util.Locale.ROOT) + " fault at graph execution " + execution
                + " (lsoftmax.tornado.injectFault)";
        if (kind == Kind.EXECUTE) {
            throw new TornadoRuntimeException(what);
        }
        FloatArray input = new FloatArray(16);
        FloatArray output = new FloatArray(16);
        TornadoExecutionPlan plan = null;
        try { // TornadoVM analyses the kernel already when the task is added
            TaskGraph graph = new TaskGraph("lsoftmaxInjectedFault")
                    .transferToDevice(DataTransferMode.EVERY_EXECUTION, input)
                    .task("uncompilable", FaultInjection::uncompilable, input, output)
                    .transferToHost(DataTransferMode.EVERY_EXECUTION, output);
            plan = new TornadoExecutionPlan(graph.snapshot());
            plan.withDevice(device).execute();
        } catch (Exception e) { // TornadoVM also throws checked exceptions it does not declare
            throw new TornadoBailoutRuntimeException(what + ": " + e, e);
        } catch (Error e) {
            throw new TornadoBailoutRuntimeException(what + ": " + e);
        } finally {
            closeQuietly(plan);
        }
        // TornadoVM recovered (ran the kernel as Java: -Dtornado.recover.bailout=True, its default)
        throw new TornadoBailoutRuntimeException(what + ": TornadoVM could not compile the kernel and recovered by running it as Java");
    }

    private static void closeQuietly(TornadoExecutionPlan plan) {
        if (plan != null) {
            try {
                plan.close();
            } catch (Exception e) {
                // nothing was allocated for a kernel that did not compile
            }
        }
    }

    /** A kernel TornadoVM cannot compile: strings have no OpenCL form. */
    static void uncompilable(FloatArray input, FloatArray output) {
        for (@Parallel int i = 0; i < output.getSize(); i++) {
            output.set(i, Float.parseFloat(String.valueOf(input.get(i))));
        }
    }
}
