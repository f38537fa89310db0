package org.lsoftmax.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.data.SyntheticDataset;
import org.lsoftmax.data.TrainTestData;
import org.lsoftmax.head.HeadPass;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.PassOptions;
import org.lsoftmax.head.select.PassFactory;
import org.lsoftmax.linalg.Sgemm;

/**
 * close() really ends the worker threads: many jvm passes, Sgemm instances and trainers are created,
 * used and closed, and the live thread count comes back to where it was. Each instance starts
 * {@code threads - 1} workers (the caller is the first), so a leak would show as hundreds of threads.
 */
class ThreadLeakTest {

    static final int THREADS = 3;
    static final ThreadMXBean THREAD_BEAN = ManagementFactory.getThreadMXBean();
    /** Room for JVM housekeeping threads (JIT compiler threads come and go) that are not ours. */
    static final int SLACK = 4;

    static long workerThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(thread -> thread.getName().startsWith("sgemm-"))
                .count();
    }

    static void assertNoGrowth(int liveBefore, long workersBefore, String what) {
        int liveAfter = THREAD_BEAN.getThreadCount();
        long workersAfter = workerThreads();
        System.out.println(what + ": live threads " + liveBefore + " -> " + liveAfter + ", sgemm workers "
                + workersBefore + " -> " + workersAfter + " (peak " + THREAD_BEAN.getPeakThreadCount() + ")");
        assertEquals(workersBefore, workersAfter, what + ": worker threads left running");
        assertTrue(liveAfter <= liveBefore + SLACK, what + ": live threads grew from " + liveBefore + " to " + liveAfter);
    }

    @Test
    void jvmPassesAndSgemmsStopTheirWorkersOnClose() {
        int liveBefore = THREAD_BEAN.getThreadCount();
        long workersBefore = workerThreads();
        HeadShape shape = new HeadShape(64, 64, 10); // 4096 row elements: small, one forward each
        float[] x = new float[shape.xSize()];
        float[] w = new float[shape.wSize()];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.sin(i);
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) Math.cos(i);
        }
        int[] labels = new int[shape.batch()];
        float[] logits = new float[shape.logitsSize()];
        for (int round = 0; round < 200; round++) {
            try (HeadPass pass = PassFactory.create("jvm", shape, 2, new PassOptions(THREADS, null))) {
                pass.forward(x, w, labels, 1.0, logits);
            }
        }
        assertNoGrowth(liveBefore, workersBefore, "200 jvm passes of " + THREADS + " threads");

        // Sgemm above its serial limit, so that the workers really run before they are stopped
        float[] a = new float[128 * 128];
        float[] b = new float[128 * 128];
        float[] c = new float[128 * 128];
        for (int round = 0; round < 200; round++) {
            try (Sgemm sgemm = new Sgemm(THREADS)) {
                sgemm.multiplyABt(a, b, c, 128, 128, 128, false);
            }
        }
        assertNoGrowth(liveBefore, workersBefore, "200 Sgemm of " + THREADS + " threads");
    }

    @Test
    void trainersStopTheirWorkersOnCloseAndOnAFailedResume() {
        TrainTestData data = SyntheticDataset.create(5, 4, 8, 256, 64, 0.3);
        TrainConfig config = new TrainConfig(2, List.of(16), 4, 64, 0.05, List.of(), 0.9, 5e-4, 1, 1,
                new BetaSchedule.Constant(5), "jvm");
        PassOptions options = new PassOptions(THREADS, null);
        Checkpoint good;
        try (Trainer trainer = Trainer.start(config, data, options, null)) {
            trainer.showProgress(false).run();
            good = trainer.checkpoint();
        }
        int liveBefore = THREAD_BEAN.getThreadCount();
        long workersBefore = workerThreads();
        for (int round = 0; round < 30; round++) {
            try (Trainer trainer = Trainer.start(config, data, options, null)) {
                trainer.showProgress(false).trainEpoch(); // creates the jvm pass (its own workers) too
            }
        }
        assertNoGrowth(liveBefore, workersBefore, "30 trainers with the jvm pass");

        // a checkpoint that does not fit the network fails after the trainer's Sgemm started its workers
        List<Checkpoint.Tensor> missingOne = new ArrayList<>(good.tensors());
        missingOne.remove(0);
        Checkpoint unfit = new Checkpoint(good.config(), good.normalization(), good.inputSize(), good.classes(),
                good.epochsCompleted(), good.iteration(), missingOne);
        for (int round = 0; round < 30; round++) {
            assertThrows(InvalidInputException.class,
                    () -> Trainer.resume(unfit, Path.of("unfit.ckpt"), 2, "jvm", data, options, null));
        }
        assertNoGrowth(liveBefore, workersBefore, "30 failed resumes");
    }
}
