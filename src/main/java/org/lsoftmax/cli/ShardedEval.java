package org.lsoftmax.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.lsoftmax.data.Npy;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.MarginLoss;
import org.lsoftmax.head.PassOptions;
import org.lsoftmax.head.ShardLayout;
import org.lsoftmax.head.ShardOptions;
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

    private static void writeClasses(Path out, ShardOptions options, int[] classes) throws IOException {
        if (options.samples()) {
            Npy.writeInt32(out.resolve("classes.npy"), new int[] {classes.length}, classes);
        }
    }
}
