package org.lsoftmax.head.mpi;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BiFunction;
import org.lsoftmax.head.Collective;
import org.lsoftmax.head.LocalCollective;

/**
 * Run as an MPI job by {@link MpiTest}: every operation of {@link MpiCollective} on random arrays that
 * depend on (seed, rank), against the same operation of K {@link LocalCollective} ranks run as threads
 * here on every rank's inputs (each process can draw them all): the results must be equal bit for bit.
 * Prints {@code rank r: n operations equal to LocalCollective}, or {@code rank r: FAILED ...} and exits 1.
 */
public final class MpiCollectiveCheck {

    private MpiCollectiveCheck() {
    }

    /** One scenario: what every rank does with a collective, returning what it ends with. */
    private interface Scenario extends BiFunction<Collective, Random, Object> {
    }

    public static void main(String[] args) throws Exception {
        long seed = Long.parseLong(args[0]);
        MpiCollective mpi = MpiCollective.join();
        int rank = mpi.rank();
        int size = mpi.size();
        List<String> failures = new ArrayList<>();
        List<Scenario> scenarios = scenarios(size);
        for (int s = 0; s < scenarios.size(); s++) {
            Scenario scenario = scenarios.get(s);
            Object actual = scenario.apply(mpi, new Random(seed * 31 + s * 1009L + rank));
            Object expected = simulate(scenario, size, seed, s).get(rank);
            if (!Arrays.deepEquals(new Object[] {actual}, new Object[] {expected})) {
                failures.add("scenario " + s + ": " + describe(actual) + " != " + describe(expected));
            }
        }
        long payload = mpi.payloadBytes();
        mpi.barrier();
        if (!failures.isEmpty()) {
            System.out.println("rank " + rank + ": FAILED " + failures);
            System.out.flush();
            mpi.close();
            System.exit(1);
        }
        System.out.println("rank " + rank + ": " + scenarios.size() + " operations equal to LocalCollective (payload " + payload
                + " bytes, MPI sent " + mpi.mpi().bytesSent() + ")");
        mpi.close();
    }

    private static List<Object> simulate(Scenario scenario, int size, long seed, int s) throws Exception {
        List<LocalCollective> ranks = LocalCollective.create(size);
        ExecutorService threads = Executors.newFixedThreadPool(size);
        try {
            List<Future<Object>> results = new ArrayList<>();
            for (int k = 0; k < size; k++) {
                LocalCollective collective = ranks.get(k);
                Random random = new Random(seed * 31 + s * 1009L + k);
                results.add(threads.submit(() -> scenario.apply(collective, random)));
            }
            List<Object> values = new ArrayList<>();
            for (Future<Object> result : results) {
                values.add(result.get());
            }
            return values;
        } finally {
            threads.shutdownNow();
        }
    }

    private static float[] floats(Random random, int n) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (random.nextGaussian() * Math.exp(random.nextGaussian() * 3));
        }
        return values;
    }

    private static List<Scenario> scenarios(int size) {
        int[] counts = new int[size];
        int total = 0;
        for (int k = 0; k < size; k++) {
            counts[k] = 3 + 2 * k; // unequal parts
            total += counts[k];
        }
        int wholeLength = total;
        List<Scenario> list = new ArrayList<>();
        list.add((c, r) -> {
            double[] v = new double[257];
            for (int i = 0; i < v.length; i++) {
                v[i] = r.nextGaussian() * Math.exp(r.nextGaussian() * 5);
            }
            c.allReduce(v, Collective.Reduction.SUM);
            return v;
        });
        list.add((c, r) -> {
            double[] v = new double[100];
            for (int i = 0; i < v.length; i++) {
                v[i] = r.nextGaussian();
            }
            c.allReduce(v, Collective.Reduction.MAX);
            double[] w = v.clone();
            c.allReduce(w, Collective.Reduction.MIN);
            return new Object[] {v, w};
        });
        list.add((c, r) -> {
            float[] v = floats(r, 1000);
            c.broadcast(v, size - 1);
            int[] labels = r.ints(50, 0, 1000).toArray();
            c.broadcast(labels, 0);
            return new Object[] {v, labels};
        });
        list.add((c, r) -> {
            float[] v = floats(r, 777);
            c.reduceSum(v, 0);
            return c.rank() == 0 ? v : null;
        });
        list.add((c, r) -> {
            float[] part = floats(r, counts[c.rank()] + 4); // longer than its count: only the count is sent
            float[] whole = new float[wholeLength + 2];
            c.allGather(part, whole, counts);
            int[] labels = r.ints(counts[c.rank()], 0, 99).toArray();
            int[] allLabels = new int[wholeLength];
            c.allGather(labels, allLabels, counts);
            return new Object[] {whole, allLabels};
        });
        list.add((c, r) -> {
            float[] whole = floats(r, wholeLength);
            float[] part = new float[counts[c.rank()]];
            c.reduceScatterSum(whole, part, counts);
            return part;
        });
        list.add((c, r) -> {
            float[] v = floats(r, 3001);
            c.allReduceSum(v);
            return v;
        });
        list.add((c, r) -> {
            float[] part = floats(r, counts[c.rank()]);
            float[] whole = new float[wholeLength];
            c.gather(part, whole, counts, size - 1);
            c.barrier();
            return c.rank() == size - 1 ? whole : null;
        });
        return list;
    }

    private static String describe(Object value) {
        String text = Arrays.deepToString(new Object[] {value});
        return text.length() > 200 ? text.substring(0, 200) + "..." : text;
    }
}
