package org.lsoftmax.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.lsoftmax.InvalidInputException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the training and test data: the IDX files in {@code --data DIR}, else in the directory
 * installed by Debian's {@code dataset-fashion-mnist} package, else the embedded synthetic data set
 * (with one log line saying how to get the real one). Pixels are in [0, 1]; normalisation is the
 * trainer's business (its mean/std go into the checkpoint).
 */
public final class DatasetLoader {

    private static final Logger LOG = LoggerFactory.getLogger(DatasetLoader.class);

    /** Where {@code apt-get install dataset-fashion-mnist} puts the data. */
    public static final Path DEFAULT_DIRECTORY = Path.of("/usr/share/datasets/fashion-mnist");

    /** The standard MNIST / Fashion-MNIST names; each is accepted with or without ".gz". */
    private static final String TRAIN_IMAGES = "train-images-idx3-ubyte";
    private static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
    private static final String TEST_IMAGES = "t10k-images-idx3-ubyte";
    private static final String TEST_LABELS = "t10k-labels-idx1-ubyte";

    private DatasetLoader() {
    }

    /**
     * Loads the data.
     *
     * @param directory the {@code --data} directory, or null for the default directory / synthetic data
     */
    public static TrainTestData load(Path directory) {
        if (directory != null) {
            if (!Files.isDirectory(directory)) {
                throw new InvalidInputException(directory + ": --data must be a directory holding "
                        + TRAIN_IMAGES + "[.gz], " + TRAIN_LABELS + "[.gz], " + TEST_IMAGES + "[.gz] and " + TEST_LABELS + "[.gz]");
            }
            return loadIdxDirectory(directory);
        }
        if (Files.isDirectory(DEFAULT_DIRECTORY)) {
            return loadIdxDirectory(DEFAULT_DIRECTORY);
        }
        TrainTestData synthetic = SyntheticDataset.createDefault();
        LOG.info("Fashion-MNIST not found at {}: using the small built-in {}. For the real data: "
                + "apt-get install dataset-fashion-mnist, or pass --data DIR (a directory with the IDX files)",
                DEFAULT_DIRECTORY, synthetic.train().description());
        return synthetic;
    }

    /** Reads the four IDX files of a directory. */
    public static TrainTestData loadIdxDirectory(Path directory) {
        Path trainImages = find(directory, TRAIN_IMAGES);
        Path trainLabels = find(directory, TRAIN_LABELS);
        Path testImages = find(directory, TEST_IMAGES);
        Path testLabels = find(directory, TEST_LABELS);
        // the image shapes of both splits, from their headers, before either is read
        int[] trainShape = IdxReader.readImageShape(trainImages);
        int[] testShape = IdxReader.readImageShape(testImages);
        if (trainShape[1] != testShape[1] || trainShape[2] != testShape[2]) {
            throw new InvalidInputException(directory + ": the training images are " + trainShape[1] + " x " + trainShape[2]
                    + " pixels (" + trainImages.getFileName() + ") but the test images " + testShape[1] + " x " + testShape[2]
                    + " (" + testImages.getFileName() + "): both splits must have one image shape");
        }
        Dataset train = IdxReader.readDataset(trainImages, trainLabels);
        // the training split sets the classes; the test split may lack some, never have others
        Dataset test = IdxReader.readDataset(testImages, testLabels, train.classes());
        LOG.info("Loaded {}: {} training and {} test samples of {} features, {} classes", directory,
                train.size(), test.size(), train.dimension(), train.classes());
        return new TrainTestData(train, test);
    }

    private static Path find(Path directory, String baseName) {
        for (String name : List.of(baseName + ".gz", baseName)) {
            Path candidate = directory.resolve(name);
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new InvalidInputException(directory + ": missing " + baseName + " (or " + baseName
                + ".gz); an MNIST-style data directory holds " + TRAIN_IMAGES + ", " + TRAIN_LABELS + ", "
                + TEST_IMAGES + " and " + TEST_LABELS);
    }
}
