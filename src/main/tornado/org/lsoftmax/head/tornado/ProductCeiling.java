package org.lsoftmax.head.tornado;

import java.util.Random;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.TornadoProducts;
import org.lsoftmax.head.TornadoSupport;
import org.lsoftmax.head.tornado.GridSizes.MatmulVariant;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.exceptions.TornadoExecutionPlanException;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.collections.VectorFloat16;

/**
 * The ceiling of a tornado step on its device: the step's three matrix products (X W^T, G W, G^T X:
 * 6 N D C flops) with the same panel kernel, operands, strides and work grids as {@link DevicePlan},
 * but every operand packed once and resident on the device, and nothing copied back: what the step
 * would cost if it were nothing but its products. For benchmarks ({@link TornadoSupport#productCeiling}).
 */
final class ProductCeiling implements TornadoProducts {

    private static final String GRAPH = "lsoftmaxProducts";
    private final TornadoExecutionPlan[] plans;

    ProductCeiling(HeadShape shape, TornadoDevice device) {
        GridSizes grid = new GridSizes(shape, MatmulVariant.PANELS, 16);
        int n = shape.batch();
        int d = shape.features();
        int c = shape.classes();
        int lanes = MatrixKernels.LANES;
        int cStride = grid.paddedClasses;
        int dStride = grid.paddedFeatures;
        Random random = new Random(1);
        FloatArray x = filled(n * d, random);
        FloatArray g = filled(n * cStride, random);
        FloatArray gPanels = filled(n * cStride, random);
        VectorFloat16 wByClass = filled16(grid.paddedClasses / lanes * d, random);
        VectorFloat16 wByFeature = filled16(grid.paddedFeatures / lanes * c, random);
        VectorFloat16 xPanels = filled16(grid.paddedFeatures / lanes * n, random);
        FloatArray logits = new FloatArray(grid.paddedBatch * cStride);
        FloatArray gradX = new FloatArray(grid.paddedBatch * dStride);
        FloatArray gradW = new FloatArray(grid.paddedClasses * dStride);
        // G row-major for G W and in 16-class panels (MatrixKernels.panelIndex) for G^T X, as the plan keeps it; one graph (and plan)
        // per product, so that each can be timed alone
        TaskGraph logitsGraph = new TaskGraph(GRAPH + "Logits")
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, x, wByClass)
                .task("product", PanelMatmulKernel::matmulPanels, x, wByClass, logits, n, d, d, 16 * d, 1, 16, GridSizes.rowBlocks(grid.paddedBatch),
                        GridSizes.panelPairs(cStride))
                .transferToHost(DataTransferMode.UNDER_DEMAND, logits);
        TaskGraph gradXGraph = new TaskGraph(GRAPH + "GradX")
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, g, wByFeature)
                .task("product", PanelMatmulKernel::matmulPanels, g, wByFeature, gradX, n, c, cStride, lanes * cStride, 1, lanes, GridSizes.rowBlocks(grid.paddedBatch),
                        GridSizes.panelPairs(dStride))
                .transferToHost(DataTransferMode.UNDER_DEMAND, gradX);
        TaskGraph gradWGraph = new TaskGraph(GRAPH + "GradW")
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, gPanels, xPanels)
                .task("product", PanelMatmulKernel::matmulPanels, gPanels, xPanels, gradW, c, n, 1, lanes * n, lanes, lanes * lanes, GridSizes.rowBlocks(grid.paddedClasses),
                        GridSizes.panelPairs(dStride))
                .transferToHost(DataTransferMode.UNDER_DEMAND, gradW);
        GridScheduler scheduler = new GridScheduler();
        scheduler.addWorkerGrid(GRAPH + "Logits.product", grid.matmul(grid.paddedBatch, cStride));
        scheduler.addWorkerGrid(GRAPH + "GradX.product", grid.matmul(grid.paddedBatch, dStride));
        scheduler.addWorkerGrid(GRAPH + "GradW.product", grid.matmul(grid.paddedClasses, dStride));
        plans = new TornadoExecutionPlan[] {new TornadoExecutionPlan(logitsGraph.snapshot()), new TornadoExecutionPlan(gradXGraph.snapshot()),
            new TornadoExecutionPlan(gradWGraph.snapshot())};
        for (TornadoExecutionPlan plan : plans) {
            plan.withDevice(device).withGridScheduler(scheduler);
        }
    }

    private static FloatArray filled(int size, Random random) {
        FloatArray array = new FloatArray(size);
        for (int i = 0; i < size; i++) {
            array.set(i, (float) random.nextGaussian());
        }
        return array;
    }

    private static VectorFloat16 filled16(int length, Random random) {
        VectorFloat16 vector = new VectorFloat16(length);
        FloatArray array = vector.getArray();
        for (int i = 0; i < array.getSize(); i++) {
            array.set(i, (float) random.nextGaussian());
        }
        return vector;
    }

    @Override
    public void run() {
        for (TornadoExecutionPlan plan : plans) {
            plan.execute();
        }
    }

    @Override
    public void runProduct(int product) {
        plans[product].execute();
    }

    @Override
    public void close() {
        for (TornadoExecutionPlan plan : plans) {
            try {
                plan.close();
            } catch (TornadoExecutionPlanException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
