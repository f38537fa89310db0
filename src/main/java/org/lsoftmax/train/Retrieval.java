package org.lsoftmax.train;

import java.util.Arrays;
import org.lsoftmax.linalg.MatrixProducts;

/**
 * Retrieval quality of embeddings: each item in turn is the query, every other item a candidate,
 * ranked by cosine similarity (the features are L2-normalised first). As in pytorch-metric-learning:
 * <pre>
 *   Recall@1 = fraction of queries whose nearest other item has the query's class
 *   MAP@R    = mean over queries of (1/R) sum_{i <= R} P(i) rel(i)
 *              R = number of other items of the query's class, rel(i) = 1 when the i-th nearest is of
 *              the query's class, P(i) = fraction of the i nearest that are
 * </pre>
 * Queries whose class has no other item are left out. Similarities come from one matrix product per
 * block of queries; ties are broken by the candidate's index, so the result is deterministic.
 */
public final class Retrieval {

    /** Queries per similarity block (block x items floats at a time). */
    private static final int BLOCK = 256;

    /** @param queries how many items served as queries (those whose class has another item) */
    public record Result(int queries, double recallAt1, double mapAtR) {
    }

    private Retrieval() {
    }

    /**
     * @param features {@code count x dimension}, row-major (not modified)
     * @param labels   {@code count} class labels (any ints)
     */
    public static Result evaluate(float[] features, int[] labels, int count, int dimension, MatrixProducts products) {
        float[] unit = new float[count * dimension];
        for (int i = 0; i < count; i++) {
            double sum = 0.0;
            for (int col = 0; col < dimension; col++) {
                sum += (double) features[i * dimension + col] * features[i * dimension + col];
            }
            double inverse = sum > 0.0 ? 1.0 / Math.sqrt(sum) : 0.0;
            for (int col = 0; col < dimension; col++) {
                unit[i * dimension + col] = (float) (features[i * dimension + col] * inverse);
            }
        }
        int maxLabel = 0;
        for (int label : labels) {
            maxLabel = Math.max(maxLabel, label);
        }
        int[] classSize = new int[maxLabel + 1];
        for (int i = 0; i < count; i++) {
            classSize[labels[i]]++;
        }
        float[] similarities = new float[BLOCK * count];
        long[] keys = new long[count - 1];
        int queries = 0;
        double recallSum = 0.0;
        double mapSum = 0.0;
        for (int start = 0; start < count; start += BLOCK) {
            int rows = Math.min(BLOCK, count - start);
            products.multiplyABt(Arrays.copyOfRange(unit, start * dimension, (start + rows) * dimension), unit, similarities, rows, count,
                    dimension, false);
            for (int r = 0; r < rows; r++) {
                int query = start + r;
                int relevantTotal = classSize[labels[query]] - 1;
                if (relevantTotal == 0) {
                    continue;
                }
                int next = 0;
                for (int j = 0; j < count; j++) {
                    if (j != query) {
                        keys[next++] = descendingKey(similarities[r * count + j], j);
                    }
                }
                Arrays.sort(keys);
                int relevantSoFar = 0;
                double precisionSum = 0.0;
                for (int rank = 1; rank <= relevantTotal; rank++) {
                    int candidate = (int) keys[rank - 1]; // the low 32 bits
                    if (labels[candidate] == labels[query]) {
                        relevantSoFar++;
                        precisionSum += (double) relevantSoFar / rank;
                    }
                }
                int nearest = (int) keys[0];
                recallSum += labels[nearest] == labels[query] ? 1.0 : 0.0;
                mapSum += precisionSum / relevantTotal;
                queries++;
            }
        }
        return new Result(queries, queries == 0 ? Double.NaN : recallSum / queries, queries == 0 ? Double.NaN : mapSum / queries);
    }

    /**
     * A long whose (signed) ascending order is the similarity's descending order, then the index's
     * ascending order: the float's bits mapped to an order-preserving unsigned int, inverted, above the
     * index; the top bit flipped so that signed order is that unsigned order.
     */
    static long descendingKey(float similarity, int index) {
        int bits = Float.floatToIntBits(similarity == 0.0f ? 0.0f : similarity); // -0 and +0 alike
        int ordered = bits >= 0 ? bits ^ Integer.MIN_VALUE : ~bits; // unsigned order of the floats
        long inverted = 0xFFFFFFFFL - Integer.toUnsignedLong(ordered);
        return ((inverted << 32) | index) ^ Long.MIN_VALUE;
    }
}
