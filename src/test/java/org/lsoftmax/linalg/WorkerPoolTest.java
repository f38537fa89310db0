package org.lsoftmax.linalg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** WorkerPool's two kinds of job, mixed, with slow workers and failures. */
class WorkerPoolTest {

    @Test
    void everyChunkRunsExactlyOnceAcrossManyMixedJobs() {
        try (WorkerPool pool = new WorkerPool(3, "test-pool")) {
            for (int round = 0; round < 2000; round++) {
                int chunks = 1 + round % 17;
                AtomicIntegerArray runs = new AtomicIntegerArray(chunks);
                pool.runChunks((chunk, worker) -> {
                    assertTrue(worker >= 0 && worker < 3);
                    runs.incrementAndGet(chunk);
                }, chunks);
                for (int chunk = 0; chunk < chunks; chunk++) {
                    assertEquals(1, runs.get(chunk), "round " + round + ", chunk " + chunk);
                }
                if (round % 3 == 0) {
                    AtomicIntegerArray shares = new AtomicIntegerArray(3);
                    pool.run((worker, workers) -> {
                        assertEquals(3, workers);
                        shares.incrementAndGet(worker);
                    });
                    for (int worker = 0; worker < 3; worker++) {
                        assertEquals(1, shares.get(worker), "round " + round + ", share " + worker);
                    }
                }
            }
        }
    }

    /**
     * Two threads' jobs on one pool (in-process shards whose passes share the pool of their thread
     * count) run at the same time, not one after the other: each job's chunk 0 waits for the other's.
     */
    @Test
    void jobsOfTwoThreadsRunAtTheSameTime() throws Exception {
        try (WorkerPool pool = new WorkerPool(2, "test-pool")) {
            for (int round = 0; round < 20; round++) {
                CyclicBarrier both = new CyclicBarrier(2);
                AtomicIntegerArray runs = new AtomicIntegerArray(16);
                AtomicInteger failures = new AtomicInteger();
                Runnable job = () -> {
                    int base = Thread.currentThread().getName().endsWith("-b") ? 8 : 0;
                    WorkerPool.ChunkTask task = (chunk, worker) -> {
                        if (chunk == 0) {
                            try {
                                both.await(10, TimeUnit.SECONDS);
                            } catch (Exception e) {
                                failures.incrementAndGet();
                            }
                        }
                        runs.incrementAndGet(base + chunk);
                    };
                    if (base == 0) {
                        pool.runChunks(task, 8);
                    } else {
                        pool.run((worker, workers) -> {
                            for (int chunk = worker; chunk < 8; chunk += workers) {
                                task.run(chunk, worker);
                            }
                        });
                    }
                };
                Thread a = new Thread(job, "job-a");
                Thread b = new Thread(job, "job-b");
                a.start();
                b.start();
                a.join(20_000);
                b.join(20_000);
                assertEquals(0, failures.get(), "round " + round + ": one job waited for the other");
                for (int chunk = 0; chunk < 16; chunk++) {
                    assertEquals(1, runs.get(chunk), "round " + round + ", chunk " + chunk);
                }
            }
        }
    }

    @Test
    void aSlowWorkerDoesNotHoldBackTheOthersAndCannotRunAChunkTwice() {
        try (WorkerPool pool = new WorkerPool(2, "test-pool")) {
            AtomicInteger total = new AtomicInteger();
            for (int round = 0; round < 50; round++) {
                AtomicIntegerArray runs = new AtomicIntegerArray(8);
                pool.runChunks((chunk, worker) -> {
                    if (worker == 1) {
                        sleep(2); // a descheduled worker: the caller takes the other chunks meanwhile
                    }
                    runs.incrementAndGet(chunk);
                    total.incrementAndGet();
                }, 8);
                for (int chunk = 0; chunk < 8; chunk++) {
                    assertEquals(1, runs.get(chunk));
                }
            }
            assertEquals(400, total.get());
        }
    }

    @Test
    void aFailingChunkIsRethrownAndThePoolStaysUsable() {
        try (WorkerPool pool = new WorkerPool(2, "test-pool")) {
            for (int round = 0; round < 20; round++) {
                int bad = round % 5;
                IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> pool.runChunks((chunk, worker) -> {
                    if (chunk == bad) {
                        throw new IllegalStateException("chunk " + chunk);
                    }
                }, 5));
                assertEquals("chunk " + bad, thrown.getMessage());
                AtomicInteger count = new AtomicInteger();
                pool.runChunks((chunk, worker) -> count.incrementAndGet(), 6);
                assertEquals(6, count.get());
            }
        }
    }

    @Test
    void sgemmsOfOneThreadCountShareTheirWorkersUntilTheLastCloses() {
        long before = sgemmWorkers();
        Sgemm first = new Sgemm(3);
        Sgemm second = new Sgemm(3);
        assertTrue(first.workers() == second.workers(), "one pool for both");
        assertEquals(before + 2, sgemmWorkers(), "3 threads = the caller and 2 workers, once");
        float[] a = new float[200 * 200];
        float[] c = new float[200 * 200];
        first.multiplyABt(a, a, c, 200, 200, 200, false);
        first.close();
        second.multiplyABt(a, a, c, 200, 200, 200, false); // still running on the shared workers
        assertThrows(IllegalStateException.class, () -> first.multiplyABt(a, a, c, 200, 200, 200, false));
        second.close();
        for (int wait = 0; wait < 100 && sgemmWorkers() != before; wait++) {
            sleep(10);
        }
        assertEquals(before, sgemmWorkers(), "the last close stops the workers");
    }

    private static long sgemmWorkers() {
        return Thread.getAllStackTraces().keySet().stream().filter(thread -> thread.getName().startsWith("sgemm-"))
                .filter(Thread::isAlive).count();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
