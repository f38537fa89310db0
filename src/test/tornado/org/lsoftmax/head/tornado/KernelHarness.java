package org.lsoftmax.head.tornado;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.function.Consumer;
import org.lsoftmax.head.TornadoSupport;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.WorkerGrid;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.TornadoNativeArray;

/**
 * Runs one kernel alone on TornadoVM's default device, as TornadoVM's own unit tests do: its inputs to
 * the device, the one task, its outputs back; a twin in plain Java computes what it must give. Only
 * compiled with an SDK (src/test/tornado, the {@code tornado} Maven profile); the tests run with
 * {@code -Dtornado.recover.bailout=False}, so a kernel that does not compile fails instead of running
 * as Java.
 */
final class KernelHarness {

    private KernelHarness() {
    }

    static void requireRuntime() {
        org.junit.jupiter.api.Assumptions.assumeTrue(TornadoSupport.isAvailable(),
                () -> "no TornadoVM runtime (" + TornadoSupport.unavailableReason() + ")");
    }

    /**
     * One execution of a graph: {@code inputs} to the device, the task {@code name} added by
     * {@code addTask}, {@code outputs} back. {@code grid} (may be null) is the task's worker grid.
     */
    static void runOnce(String name, Object[] inputs, Consumer<TaskGraph> addTask, WorkerGrid grid, Object... outputs) {
        TaskGraph graph = new TaskGraph("kernelTest").transferToDevice(DataTransferMode.EVERY_EXECUTION, inputs);
        addTask.accept(graph);
        graph.transferToHost(DataTransferMode.EVERY_EXECUTION, outputs);
        try (TornadoExecutionPlan plan = new TornadoExecutionPlan(graph.snapshot())) {
            if (grid != null) {
                GridScheduler scheduler = new GridScheduler();
                scheduler.addWorkerGrid("kernelTest." + name, grid);
                plan.withGridScheduler(scheduler);
            }
            plan.execute();
        } catch (Exception e) { // TornadoVM's close() declares a checked exception
            throw new IllegalStateException("kernel " + name + " failed on the device: " + e, e);
        }
    }

    /**
     * One execution of a graph of several tasks: {@code inputs} to the device, the tasks {@code addTasks}
     * adds (named as in {@code grids}, each with its worker grid), {@code outputs} back.
     */
    static void runTasks(Object[] inputs, Consumer<TaskGraph> addTasks, java.util.Map<String, WorkerGrid> grids, Object... outputs) {
        TaskGraph graph = new TaskGraph("kernelTest").transferToDevice(DataTransferMode.EVERY_EXECUTION, inputs);
        addTasks.accept(graph);
        graph.transferToHost(DataTransferMode.EVERY_EXECUTION, outputs);
        try (TornadoExecutionPlan plan = new TornadoExecutionPlan(graph.snapshot())) {
            GridScheduler scheduler = new GridScheduler();
            grids.forEach((name, grid) -> scheduler.addWorkerGrid("kernelTest." + name, grid));
            plan.withGridScheduler(scheduler);
            plan.execute();
        } catch (Exception e) { // TornadoVM's close() declares a checked exception
            throw new IllegalStateException("kernels " + grids.keySet() + " failed on the device: " + e, e);
        }
    }

    static FloatArray copy(FloatArray array) {
        FloatArray copy = new FloatArray(array.getSize());
        for (int i = 0; i < array.getSize(); i++) {
            copy.set(i, array.get(i));
        }
        return copy;
    }

    /** Bit-for-bit equality of two device outputs (NaN equal to NaN). */
    static void assertSameBits(TornadoNativeArray expected, TornadoNativeArray actual, String what) {
        java.lang.foreign.MemorySegment a = expected.getSegment();
        java.lang.foreign.MemorySegment b = actual.getSegment();
        long mismatch = a.mismatch(b);
        assertTrue(mismatch < 0, () -> what + ": differs from byte " + mismatch);
    }

    static FloatArray gaussian(int size, Random random, double scale) {
        FloatArray array = new FloatArray(size);
        for (int i = 0; i < size; i++) {
            array.set(i, (float) (scale * random.nextGaussian()));
        }
        return array;
    }

    static double[] toDoubles(FloatArray array) {
        double[] values = new double[array.getSize()];
        for (int i = 0; i < values.length; i++) {
            values[i] = array.get(i);
        }
        return values;
    }

    /** max |actual - expected| over the listed indices <= tolerance * max(|expected|, floor). */
    static void assertClose(double[] expected, FloatArray actual, int[] indices, double tolerance, double floor, String what) {
        double maxError = 0.0;
        double scale = floor;
        for (int index : indices) {
            maxError = Math.max(maxError, Math.abs(actual.get(index) - expected[index]));
            scale = Math.max(scale, Math.abs(expected[index]));
        }
        assertTrue(maxError <= tolerance * scale, what + ": error " + maxError + " > " + tolerance + " x " + scale);
    }

    static int[] range(int size) {
        int[] indices = new int[size];
        for (int i = 0; i < size; i++) {
            indices[i] = i;
        }
        return indices;
    }

    /** Indices of the rows x columns block of a matrix with row stride {@code stride}. */
    static int[] block(int rows, int columns, int stride) {
        int[] indices = new int[rows * columns];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < columns; c++) {
                indices[r * columns + c] = r * stride + c;
            }
        }
        return indices;
    }

    static long bytes(TornadoNativeArray array) {
        return array.getNumBytesOfSegment();
    }
}
