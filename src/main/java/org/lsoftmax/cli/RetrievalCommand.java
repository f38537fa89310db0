package org.lsoftmax.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.data.Dataset;
import org.lsoftmax.data.TrainTestData;
import org.lsoftmax.linalg.MatrixProducts;
import org.lsoftmax.linalg.Sgemm;
import org.lsoftmax.model.Network;
import org.lsoftmax.train.Checkpoint;
import org.lsoftmax.train.CheckpointFormat;
import org.lsoftmax.train.Evaluation;
import org.lsoftmax.train.Evaluator;
import org.lsoftmax.train.Retrieval;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code lsoftmax retrieval}: how well a trained network's features retrieve images of classes it never
 * saw. Embeds the test images of {@code --classes} (held out from training with {@code train --classes}),
 * and with each image as a query against all others reports Recall@1 and MAP@R ({@link Retrieval}); beside
 * them the same measures on the test images of the classes it was trained on, and its closed-set accuracy there.
 */
@Command(name = "retrieval", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Retrieval on classes a checkpoint never saw: Recall@1 and MAP@R of the test images of --classes",
            "(each a query against all others, cosine similarity of L2-normalised features), beside the same measures",
            "and the closed-set accuracy on the test images of the classes it was trained on."})
public final class RetrievalCommand implements Callable<Integer> {

    @Option(names = "--checkpoint", required = true, paramLabel = "FILE", description = "A checkpoint written by train (e.g. runs/x/last.ckpt).")
    Path checkpointFile;

    @Option(names = "--classes", required = true, paramLabel = "LIST", description = "The held-out classes, e.g. 5-9 (original labels).")
    String classes;

    @Option(names = "--data", paramLabel = "DIR", description = "IDX directory (default: /usr/share/datasets/fashion-mnist, else synthetic).")
    Path data;

    @Option(names = "--synthetic", description = "Use the built-in synthetic data.")
    boolean synthetic;

    @Option(names = "--batch", defaultValue = "256", description = "Embedding batch size (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--threads", defaultValue = "0", description = "Worker threads, 0 = one per core (default: ${DEFAULT-VALUE}).")
    int threads;

    @Override
    public Integer call() {
        Checkpoint checkpoint = CheckpointFormat.read(checkpointFile);
        List<Integer> heldOut = ClassList.parse(classes);
        List<Integer> trained = checkpoint.config().trainClasses();
        List<Integer> overlap = new ArrayList<>(heldOut);
        overlap.retainAll(trained);
        if (trained.isEmpty() || !overlap.isEmpty()) {
            throw new InvalidInputException(checkpointFile + " was trained on " + (trained.isEmpty() ? "every class" : "classes " + trained)
                    + ": --classes " + classes + " are not held out (train with --classes to hold some out)");
        }
        if (batch < 1) {
            throw new InvalidInputException("--batch must be >= 1, got " + batch);
        }
        TrainTestData rawData = DataOptions.load(data, synthetic);
        if (rawData.dimension() != checkpoint.inputSize()) {
            throw new InvalidInputException(checkpointFile + " expects " + checkpoint.inputSize() + " features, the data has "
                    + rawData.dimension());
        }
        Dataset unseen = checkpoint.normalization().apply(rawData.test().restrictedTo(heldOut));
        Dataset seen = checkpoint.normalization().apply(rawData.restrictedTo(trained).test());
        try (MatrixProducts products = new Sgemm(threads)) {
            Network network = new Network(checkpoint.architecture(), batch, products, checkpoint.classShards());
            checkpoint.restoreInto(network, checkpointFile);
            Evaluation seenEvaluation = Evaluator.evaluate(network, seen, products, true, checkpoint.config().loss());
            Evaluation unseenEvaluation = Evaluator.evaluate(network, unseen, products, true, checkpoint.config().loss());
            int d = checkpoint.config().featureDimension();
            Retrieval.Result seenRetrieval = Retrieval.evaluate(seenEvaluation.features(), seen.labels(), seen.size(), d, products);
            Retrieval.Result unseenRetrieval = Retrieval.evaluate(unseenEvaluation.features(), unseen.labels(), unseen.size(), d, products);
            System.out.printf(Locale.ROOT, "checkpoint %s (%s, epoch %d, trained on classes %s)%n", checkpointFile, checkpoint.config().loss(),
                    checkpoint.epochsCompleted(), trained);
            System.out.printf(Locale.ROOT, "seen classes %s: closed-set accuracy %.4f, recall@1 %.4f, map@r %.4f (%d test images)%n", trained,
                    seenEvaluation.accuracy(), seenRetrieval.recallAt1(), seenRetrieval.mapAtR(), seen.size());
            System.out.printf(Locale.ROOT, "unseen classes %s: recall@1 %.4f, map@r %.4f (%d test images)%n", heldOut,
                    unseenRetrieval.recallAt1(), unseenRetrieval.mapAtR(), unseen.size());
        }
        return 0;
    }
}
