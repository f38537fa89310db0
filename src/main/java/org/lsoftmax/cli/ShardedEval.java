package org.lsoftmax.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.lsoftmax.data.Npy;
import org.lsoftmax.head.Collective;
import org.lsoftmax.head.DistributedHead;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.MarginLoss;
import org.lsoftmax.head.PassOptions;
import org.lsoftmax.head.ShardLayout;
import org.lsoftmax.head.ShardOptions;
import org.lsoftmax.head.ShardRank;
import org.lsoftmax.head.ShardedHead;
import org.lsoftmax.head.reference.ShardedReference;
import org.lsoftmax.head.select.HeadFactory;
import org.lsoftmax.model.Parameter;

/**
 * {@code eval --shards K [--sample-rate r]}: one forward and backward of the class-sharded head. The same
 * files as eval without shards; with r < 1 the logits are those of the sampled classes only (N x S, in
 * class order) and OUT/classes.npy lists them (int32), while dw.npy stays C x D with zero rows for the
 * classes no shard sampled (the gradient of the loss over the sampled classes). The sample is drawn from
 * --seed at iteration 0, as {@code train} draws its first step's.
 */
final class ShardedEval {

    private ShardedEval() {
    }

    /** @return a description of where it ran */
    static String run(String passName, HeadShape shape, MarginLoss loss, double beta, double[] x64, float[] x32, double[] w64, float[] w32,
            int[] labels, ShardOptions options, PassOptions passOptions, Path out) throws IOException {
        int n = shape.batch();
        int d = shape.features();
        int c = shape.classes();
        if (passName.equals("reference")) {
            ShardedReference.Result result = ShardedReference.run(shape, loss, x64, w64, labels, beta, options.shards(), options.sampleRate(),
                    options.seed(), 0);
            int[] classes = Arrays.stream(result.classes()).flatMapToInt(Arrays::stream).toArray();
            double[] logits = new double[n * classes.length];
            int offset = 0;
            for (int k = 0; k < options.shards(); k++) {
                int width = result.classes()[k].length;
                for (int i = 0; i < n; i++) {
                    System.arraycopy(result.logits()[k], i * width, logits, i * classes.length + offset, width);
                }
                offset += width;
            }
            Npy.writeFloat64(out.resolve("logits.npy"), new int[] {n, classes.length}, logits);
            Npy.writeFloat64(out.resolve("loss.npy"), new int[0], new double[] {result.loss()});
            Npy.writeFloat64(out.resolve("dx.npy"), new int[] {n, d}, result.dx());
            Npy.writeFloat64(out.resolve("dw.npy"), new int[] {c, d}, result.dw());
            writeClasses(out, options, classes);
            return "reference, " + new ShardLayout(c, options.shards()) + (options.samples() ? ", sample rate " + options.sampleRate() : "");
        }
        ShardLayout layout = new ShardLayout(c, options.shards());
        List<Parameter> weights = HeadFactory.zeroWeights(layout, d);
        for (int k = 0; k < layout.shards(); k++) {
            System.arraycopy(w32, layout.start(k) * d, weights.get(k).value(), 0, layout.size(k) * d);
        }
        try (ShardedHead head = HeadFactory.createSharded(passName, shape, loss, passOptions, options, weights)) {
            head.setIteration(0);
            double lossValue = head.forward(x32, labels, beta);
            float[] dx = head.backward();
            int total = 0;
            for (int k = 0; k < layout.shards(); k++) {
                total += head.computedClasses(k).length;
            }
            int[] classes = new int[total];
            float[] logits = new float[n * total];
            int offset = 0;
            for (int k = 0; k < layout.shards(); k++) {
                int[] shardClasses = head.computedClasses(k);
                System.arraycopy(shardClasses, 0, classes, offset, shardClasses.length);
                for (int i = 0; i < n; i++) {
                    System.arraycopy(head.logits(k), i * shardClasses.length, logits, i * total + offset, shardClasses.length);
                }
                offset += shardClasses.length;
            }
            float[] dw = new float[c * d];
            for (int k = 0; k < layout.shards(); k++) {
                System.arraycopy(weights.get(k).gradient(), 0, dw, layout.start(k) * d, layout.size(k) * d);
            }
            Npy.writeFloat32(out.resolve("logits.npy"), new int[] {n, total}, logits);
            Npy.writeFloat32(out.resolve("loss.npy"), new int[0], new float[] {(float) lossValue});
            Npy.writeFloat32(out.resolve("dx.npy"), new int[] {n, d}, dx);
            Npy.writeFloat32(out.resolve("dw.npy"), new int[] {c, d}, dw);
            writeClasses(out, options, classes);
            return head.description() + ", loss " + lossValue;
        }
    }

    /**
     * {@code eval --collective mpi}: this process is rank r of K, holding block r of W and rows
     * floor(N r/K) .. of X ({@code head.DistributedHead}); one forward and backward, then rank 0 gathers
     * the logits of every block, dX of every rank's rows and dW of every block, and writes the files that
     * {@link #run} writes. Every rank reads the inputs (each host needs them).
     *
     * @return on rank 0, a description of where it ran
     */
    static String runDistributed(String passName, HeadShape shape, MarginLoss loss, double beta, float[] x32, float[] w32, int[] labels,
            ShardOptions options, PassOptions passOptions, Path out, Collective collective) throws IOException {
        int n = shape.batch();
        int d = shape.features();
        int c = shape.classes();
        int ranks = collective.size();
        int rank = collective.rank();
        ShardLayout layout = new ShardLayout(c, ranks);
        Parameter block = HeadFactory.zeroWeights(layout, d).get(rank);
        System.arraycopy(w32, layout.start(rank) * d, block.value(), 0, layout.size(rank) * d);
        try (DistributedHead head = HeadFactory.createDistributed(passName, shape, loss, passOptions, options, block, collective)) {
            head.setIteration(0);
            int from = head.ownRowStart();
            float[] ownX = Arrays.copyOfRange(x32, from * d, (from + head.ownRows()) * d);
            int[] ownLabels = Arrays.copyOfRange(labels, from, from + head.ownRows());
            double lossValue = head.forward(ownX, ownLabels, beta);
            float[] dx = head.backward();
            ShardRank shard = head.shardRank();
            int[] computed = shard.computedClasses();
            // how many classes each rank computed, then which, then their logits (N x S_r each)
            int[] widths = new int[ranks];
            int[] one = {computed.length};
            int[] ones = new int[ranks];
            Arrays.fill(ones, 1);
            collective.allGather(one, widths, ones);
            int total = Arrays.stream(widths).sum();
            int[] classes = new int[total];
            collective.allGather(computed, classes, widths);
            int[] logitCounts = new int[ranks];
            int[] rowCounts = DistributedHead.rowCounts(n, ranks);
            int[] blockCounts = new int[ranks];
            for (int k = 0; k < ranks; k++) {
                logitCounts[k] = n * widths[k];
                rowCounts[k] *= d;
                blockCounts[k] = layout.size(k) * d;
            }
            boolean root = rank == 0;
            float[] blockLogits = root ? new float[n * total] : new float[0];
            float[] wholeDx = root ? new float[n * d] : new float[0];
            float[] dw = root ? new float[c * d] : new float[0];
            collective.gather(shard.logits(), blockLogits, logitCounts, 0);
            collective.gather(dx, wholeDx, rowCounts, 0);
            collective.gather(block.gradient(), dw, blockCounts, 0);
            if (!root) {
                return null;
            }
            // the gathered logits are block after block (N x S_0, then N x S_1, ...): columns in class order
            float[] logits = new float[n * total];
            int offset = 0;
            int column = 0;
            for (int k = 0; k < ranks; k++) {
                for (int i = 0; i < n; i++) {
                    System.arraycopy(blockLogits, offset + i * widths[k], logits, i * total + column, widths[k]);
                }
                offset += n * widths[k];
                column += widths[k];
            }
            Npy.writeFloat32(out.resolve("logits.npy"), new int[] {n, total}, logits);
            Npy.writeFloat32(out.resolve("loss.npy"), new int[0], new float[] {(float) lossValue});
            Npy.writeFloat32(out.resolve("dx.npy"), new int[] {n, d}, wholeDx);
            Npy.writeFloat32(out.resolve("dw.npy"), new int[] {c, d}, dw);
            writeClasses(out, options, classes);
            return "a job of " + ranks + " processes (rank 0: " + head.description() + "), loss " + lossValue;
        }
    }

    private static void writeClasses(Path out, ShardOptions options, int[] classes) throws IOException {
        if (options.samples()) {
            Npy.writeInt32(out.resolve("classes.npy"), new int[] {classes.length}, classes);
        }
    }
}
