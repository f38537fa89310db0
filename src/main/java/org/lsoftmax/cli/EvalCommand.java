package org.lsoftmax.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.MemoryBudget;
import org.lsoftmax.data.Npy;
import org.lsoftmax.data.NpyArray;
import org.lsoftmax.data.OutputFolders;
import org.lsoftmax.head.HeadChecks;
import org.lsoftmax.head.HeadOverflowException;
import org.lsoftmax.head.HeadPass;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.MarginLoss;
import org.lsoftmax.head.reference.ReferencePass;
import org.lsoftmax.head.select.PassFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code eval}: one forward and backward of the layer on .npy inputs, writing logits, loss and both
 * gradients as .npy files, so results can be compared with any other implementation (e.g. NumPy).
 * The reference pass computes and writes float64; the other passes compute and write float32.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"One forward + backward of the layer on .npy inputs; writes logits, loss and gradients as .npy.",
            "Outputs in --out: logits.npy (N x C), loss.npy (0-d), dx.npy (N x D), dw.npy (C x D).",
            "--shards K: the class-sharded head; --sample-rate R < 1: logits of the sampled classes only (N x S), listed in classes.npy.",
            "The reference pass computes and writes float64, the other passes float32."})
final class EvalCommand implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(EvalCommand.class);

    @Option(names = "--x", required = true, paramLabel = "X.npy", description = "features, N x D, float32 or float64")
    Path xFile;

    @Option(names = "--w", required = true, paramLabel = "W.npy", description = "class weights, C x D, float32 or float64")
    Path wFile;

    @Option(names = "--y", required = true, paramLabel = "y.npy", description = "labels, N, int32 or int64, in [0, C)")
    Path yFile;

    @Mixin
    LossOptions lossOptions;

    @Option(names = "--beta", defaultValue = "0", paramLabel = "B", description = "annealing weight beta (lambda) >= 0 (default: ${DEFAULT-VALUE})")
    double beta;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output folder (created if missing)")
    Path outDir;

    @Mixin
    PassSelection passSelection;

    @Mixin
    ShardSelection shardSelection;

    @Mixin
    JobSelection jobSelection;

    @Option(names = "--seed", defaultValue = "1", paramLabel = "SEED",
            description = "with --sample-rate below 1: the seed of the sampled negatives (default: ${DEFAULT-VALUE})")
    long seed;

    @Override
    public Integer call() throws IOException {
        if (jobSelection.mpi()) {
            // on an error the job stays open: Main's error line then ends every rank (see DistributedTrain.run)
            Job job = Job.joinMpi();
            int code = evaluate(job);
            job.close();
            return code;
        }
        return evaluate(null);
    }

    /** @param job the MPI job this process is a rank of, or null for one process */
    private int evaluate(Job job) throws IOException {
        MarginLoss loss = lossOptions.resolve(4);
        HeadChecks.checkBeta(beta);
        NpyArray x = Npy.read(xFile).requireRank(2, "N x D features");
        NpyArray w = Npy.read(wFile).requireRank(2, "C x D class weights");
        NpyArray y = Npy.read(yFile).requireRank(1, "N labels");
        int n = x.shape()[0];
        int d = x.shape()[1];
        int c = w.shape()[0];
        if (w.shape()[1] != d) {
            throw new InvalidInputException("feature sizes differ: " + xFile + " has shape " + x.shapeString() + " (D = " + d
                    + ") but " + wFile + " has shape " + w.shapeString() + " (D = " + w.shape()[1] + ")");
        }
        if (y.shape()[0] != n) {
            throw new InvalidInputException("sample counts differ: " + xFile + " has " + n + " rows but " + yFile
                    + " has " + y.shape()[0] + " labels");
        }
        int[] labels = y.toInts();
        HeadShape shape = new HeadShape(n, d, c);
        for (int i = 0; i < n; i++) {
            if (labels[i] < 0 || labels[i] >= c) {
                throw new InvalidInputException(yFile + ": label " + labels[i] + " at index " + i + " is outside [0, " + c
                        + ") (C = " + c + " rows in " + wFile + ")");
            }
        }
        double[] x64 = x.toDoubles();
        double[] w64 = w.toDoubles();
        HeadChecks.checkFinite(xFile.toString(), x64, d);
        HeadChecks.checkFinite(wFile.toString(), w64, d);

        String passName = passSelection.resolvedPass();
        boolean float64 = passName.equals("reference");
        long outputValues = (long) n * c + (long) n * d + (long) c * d + 1;
        // the output place is checked before any computing: it exists or can be made, and has room
        if (job != null) {
            int ranks = job.collective().size();
            shardSelection.requireJobOf(ranks);
            if (float64) {
                throw new InvalidInputException("--collective mpi runs the jvm or tornado pass (float32); the reference pass of the "
                        + "sharded head runs in one process: eval --pass reference --shards " + ranks);
            }
            if (job.isLeader()) {
                OutputFolders.prepare(outDir, "--out", 4 * outputValues + 4 * 128);
            }
            String where = ShardedEval.runDistributed(passName, shape, loss, beta, x.toFloats(), w.toFloats(), labels,
                    shardSelection.options(ranks, seed), passSelection.options(), outDir, job.collective());
            if (job.isLeader()) {
                LOG.info("eval {} {} beta={} on {} -> {}", shape, loss, beta, where, outDir);
            }
            return 0;
        }
        OutputFolders.prepare(outDir, "--out", (float64 ? 8 : 4) * outputValues + 4 * 128);
        if (shardSelection.given() && !shardSelection.options(1, seed).isSingle()) {
            String where = ShardedEval.run(passName, shape, loss, beta, x64, x.toFloats(), w64, w.toFloats(), labels, shardSelection.options(1, seed),
                    passSelection.options(), outDir);
            LOG.info("eval {} {} beta={} on {} -> {}", shape, loss, beta, where, outDir);
            return 0;
        }
        double lossValue;
        if (float64) {
            // the pass's own buffers and the four float64 arrays this command keeps and writes
            MemoryBudget.requireHeap("eval with the reference pass for the head " + shape,
                    PassFactory.estimatedHeapBytes("reference", shape) + 8 * outputValues);
            ReferencePass pass = new ReferencePass(shape, loss);
            double[] logits = new double[n * c];
            double[] dx = new double[n * d];
            double[] dw = new double[c * d];
            try {
                lossValue = pass.forward(x64, w64, labels, beta, logits);
                pass.backward(dx, dw);
                HeadOverflowException.requireFinite("the logits", logits, c, x64, w64, d);
                HeadOverflowException.requireFinite("dX", dx, d, x64, w64, d);
                HeadOverflowException.requireFinite("dW", dw, d, x64, w64, d);
            } catch (HeadOverflowException e) {
                throw new InvalidInputException(xFile + " and " + wFile + ": " + e.getMessage(), e);
            }
            Npy.writeFloat64(outDir.resolve("logits.npy"), new int[] {n, c}, logits);
            Npy.writeFloat64(outDir.resolve("loss.npy"), new int[0], new double[] {lossValue});
            Npy.writeFloat64(outDir.resolve("dx.npy"), new int[] {n, d}, dx);
            Npy.writeFloat64(outDir.resolve("dw.npy"), new int[] {c, d}, dw);
        } else {
            float[] x32 = x.toFloats();
            float[] w32 = w.toFloats();
            try (HeadPass pass = PassFactory.create(passName, shape, loss, passSelection.options())) {
                float[] logits = new float[n * c];
                float[] dx = new float[n * d];
                float[] dw = new float[c * d];
                try {
                    lossValue = pass.forward(x32, w32, labels, beta, logits);
                    pass.backward(dx, dw);
                    HeadOverflowException.requireFinite("the logits", logits, c, x32, w32, d);
                    HeadOverflowException.requireFinite("dX", dx, d, x32, w32, d);
                    HeadOverflowException.requireFinite("dW", dw, d, x32, w32, d);
                } catch (HeadOverflowException e) {
                    throw new InvalidInputException(xFile + " and " + wFile + ": " + e.getMessage(), e);
                }
                Npy.writeFloat32(outDir.resolve("logits.npy"), new int[] {n, c}, logits);
                Npy.writeFloat32(outDir.resolve("loss.npy"), new int[0], new float[] {(float) lossValue});
                Npy.writeFloat32(outDir.resolve("dx.npy"), new int[] {n, d}, dx);
                Npy.writeFloat32(outDir.resolve("dw.npy"), new int[] {c, d}, dw);
                passName = pass.deviceDescription();
            }
        }
        LOG.info("eval {} {} beta={} on {}: loss {} -> {}", shape, loss, beta, passName, lossValue, outDir);
        return 0;
    }
}
