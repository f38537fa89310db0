package org.lsoftmax.cli;

import java.nio.file.Path;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.data.DatasetLoader;
import org.lsoftmax.data.SyntheticDataset;
import org.lsoftmax.data.TrainTestData;

/** The data-choosing options shared by train and test. */
final class DataOptions {

    private DataOptions() {
    }

    static TrainTestData load(Path dataDirectory, boolean synthetic) {
        if (synthetic && dataDirectory != null) {
            throw new InvalidInputException("--synthetic and --data exclude each other");
        }
        return synthetic ? SyntheticDataset.createDefault() : DatasetLoader.load(dataDirectory);
    }
}
