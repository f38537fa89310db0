package org.lsoftmax.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.lsoftmax.linalg.Sgemm;
import org.lsoftmax.linalg.SimpleMatrixProducts;
import org.lsoftmax.testing.Seeds;

class RetrievalTest {

    /** Points on the unit circle at angles t: their cosine similarity is cos(t_a - t_b). */
    private static float[] circle(double... angles) {
        float[] features = new float[2 * angles.length];
        for (int i = 0; i < angles.length; i++) {
            features[2 * i] = (float) Math.cos(angles[i]);
            features[2 * i + 1] = (float) Math.sin(angles[i]);
        }
        return features;
    }

    /**
     * Worked by hand. Class 0 at angles 0, 0.1, 0.35; class 1 at 0.22, 2.0, 2.1. Nearest other: 0 -> 0.1
     * (hit), 0.1 -> 0 (hit), 0.35 -> 0.22 (miss), 0.22 -> 0.1 (miss), 2.0 -> 2.1 (hit), 2.1 -> 2.0 (hit):
     * Recall@1 = 4/6. MAP@R with R = 2: query 0 ranks 0.1, 0.22 -> (1/1)/2 = 0.5; query 0.1 ranks 0, 0.22 ->
     * 0.5; query 0.35 ranks 0.22, 0.1 -> (1/2)/2 = 0.25; query 0.22 ranks 0.1, 0.35 (two misses) -> 0; query
     * 2.0 ranks 2.1, 0.35 -> 0.5; query 2.1 ranks 2.0, 0.35 -> 0.5; mean 2.25/6 = 0.375.
     */
    @Test
    void handWorkedExample() {
        Retrieval.Result result = Retrieval.evaluate(circle(0, 0.1, 0.35, 0.22, 2.0, 2.1), new int[] {0, 0, 0, 1, 1, 1}, 6, 2,
                new SimpleMatrixProducts());
        assertEquals(6, result.queries());
        assertEquals(4.0 / 6.0, result.recallAt1(), 1e-12);
        assertEquals(0.375, result.mapAtR(), 1e-12);
    }

    @Test
    void perfectlySeparatedClassesScoreOne() {
        Retrieval.Result result = Retrieval.evaluate(circle(0, 0.1, 0.05, 3.0, 3.1, 2.95), new int[] {0, 0, 0, 1, 1, 1}, 6, 2,
                new SimpleMatrixProducts());
        assertEquals(1.0, result.recallAt1(), 0.0);
        assertEquals(1.0, result.mapAtR(), 0.0);
    }

    /** Against a direct computation (every pair's cosine in double, sorted), on random features and more items than a block. */
    @Test
    void matchesADirectComputation() {
        long seed = Seeds.draw();
        Random random = new Random(seed);
        int count = 300;
        int dimension = 5;
        float[] features = new float[count * dimension];
        int[] labels = new int[count];
        for (int i = 0; i < count; i++) {
            labels[i] = random.nextInt(7);
            for (int col = 0; col < dimension; col++) {
                features[i * dimension + col] = (float) (random.nextGaussian() + (col == labels[i] % dimension ? 1.5 : 0.0));
            }
        }
        labels[0] = 99; // a class of one item: no query
        double recall = 0;
        double map = 0;
        int queries = 0;
        for (int q = 0; q < count; q++) {
            int relevant = 0;
            for (int j = 0; j < count; j++) {
                relevant += j != q && labels[j] == labels[q] ? 1 : 0;
            }
            if (relevant == 0) {
                continue;
            }
            List<double[]> ranked = new ArrayList<>();
            for (int j = 0; j < count; j++) {
                if (j != q) {
                    ranked.add(new double[] {cosine(features, q, j, dimension), j});
                }
            }
            ranked.sort(Comparator.<double[]>comparingDouble(entry -> -entry[0]).thenComparingDouble(entry -> entry[1]));
            recall += labels[(int) ranked.get(0)[1]] == labels[q] ? 1 : 0;
            int hits = 0;
            double sum = 0;
            for (int rank = 1; rank <= relevant; rank++) {
                if (labels[(int) ranked.get(rank - 1)[1]] == labels[q]) {
                    hits++;
                    sum += (double) hits / rank;
                }
            }
            map += sum / relevant;
            queries++;
        }
        try (Sgemm sgemm = new Sgemm(2)) {
            Retrieval.Result result = Retrieval.evaluate(features, labels, count, dimension, sgemm);
            assertEquals(queries, result.queries());
            // float similarities may swap near-ties of the double ranking: a few queries' worth of slack
            assertEquals(recall / queries, result.recallAt1(), 2.0 / queries, "seed " + seed);
            assertEquals(map / queries, result.mapAtR(), 2.0 / queries, "seed " + seed);
        }
    }

    private static double cosine(float[] f, int a, int b, int d) {
        double dot = 0;
        double aa = 0;
        double bb = 0;
        for (int col = 0; col < d; col++) {
            dot += (double) f[a * d + col] * f[b * d + col];
            aa += (double) f[a * d + col] * f[a * d + col];
            bb += (double) f[b * d + col] * f[b * d + col];
        }
        return dot / Math.sqrt(aa * bb);
    }
}
