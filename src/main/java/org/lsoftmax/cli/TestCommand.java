package org.lsoftmax.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.data.Dataset;
import org.lsoftmax.data.TrainTestData;
import org.lsoftmax.head.PassOptions;
import org.lsoftmax.linalg.MatrixProducts;
import org.lsoftmax.linalg.Sgemm;
import org.lsoftmax.model.Network;
import org.lsoftmax.train.Checkpoint;
import org.lsoftmax.train.CheckpointFormat;
import org.lsoftmax.train.Evaluation;
import org.lsoftmax.train.Evaluator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lsoftmax test}: accuracy and angular statistics of a checkpoint on a data split. */
@Command(name = "test", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Evaluates a checkpoint with its loss's plain logits (no margin): accuracy, loss and the mean angles "
                + "between features and class weights.")
public final class TestCommand implements Callable<Integer> {

    @Option(names = "--checkpoint", required = true, paramLabel = "FILE", description = "A checkpoint written by train (e.g. runs/x/last.ckpt).")
    Path checkpointFile;

    @Option(names = "--data", paramLabel = "DIR", description = "IDX directory (default: /usr/share/datasets/fashion-mnist, else synthetic).")
    Path data;

    @Option(names = "--synthetic", description = "Use the built-in synthetic data.")
    boolean synthetic;

    @Option(names = "--split", defaultValue = "test", description = "test or train (default: ${DEFAULT-VALUE}).")
    String split;

    @Option(names = "--batch", defaultValue = "256", description = "Evaluation batch size (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--threads", defaultValue = "0", description = "Worker threads, 0 = one per core (default: ${DEFAULT-VALUE}).")
    int threads;

    @Override
    public Integer call() {
        if (batch < 1) {
            throw new InvalidInputException("--batch must be >= 1, got " + batch);
        }
        int workers = new PassOptions(threads, null).resolvedThreads(); // refuses a thread count out of range
        Checkpoint checkpoint = CheckpointFormat.read(checkpointFile);
        TrainTestData rawData = DataOptions.load(data, synthetic).restrictedTo(checkpoint.config().trainClasses());
        Dataset raw = switch (split) {
            case "test" -> rawData.test();
            case "train" -> rawData.train();
            default -> throw new InvalidInputException("--split must be test or train, got '" + split + "'");
        };
        if (raw.dimension() != checkpoint.inputSize() || raw.classes() > checkpoint.classes()) {
            throw new InvalidInputException(checkpointFile + " expects " + checkpoint.inputSize() + " features and "
                    + checkpoint.classes() + " classes, " + raw.description() + " has " + raw.dimension() + " and "
                    + raw.classes());
        }
        Dataset dataset = checkpoint.normalization().apply(raw);
        // a batch larger than the split would only allocate rows that are never used
        int rows = Math.min(batch, dataset.size());
        Network.requireFits(checkpoint.architecture(), rows);
        try (MatrixProducts products = new Sgemm(workers)) {
            Network network = new Network(checkpoint.architecture(), rows, products, checkpoint.classShards());
            checkpoint.restoreInto(network, checkpointFile);
            Evaluation evaluation = Evaluator.evaluate(network, dataset, products, false, checkpoint.config().loss());
            if (!Double.isFinite(evaluation.loss())) {
                throw new InvalidInputException(checkpointFile + ": the network's logits overflow float32 on "
                        + raw.description() + " (the loss is " + evaluation.loss() + "): its weights are too large to use");
            }
            System.out.printf(Locale.ROOT, "checkpoint %s (%s, epoch %d) on %s, %d samples%n", checkpointFile,
                    checkpoint.config().loss(), checkpoint.epochsCompleted(), raw.description(), evaluation.size());
            System.out.printf(Locale.ROOT, "accuracy %.2f%%  loss %.4f  mean angle to own class %.2f deg, "
                    + "to nearest other class %.2f deg%n", 100 * evaluation.accuracy(), evaluation.loss(),
                    evaluation.meanOwnAngle(), evaluation.meanNearestOtherAngle());
        }
        return 0;
    }
}
