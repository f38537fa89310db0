package org.lsoftmax.data;

import org.lsoftmax.InvalidInputException;

/** A training split and a test split with the same feature dimension and classes. */
public record TrainTestData(Dataset train, Dataset test) {

    public TrainTestData {
        if (train.dimension() != test.dimension() || train.classes() != test.classes()) {
            throw new InvalidInputException("training data (" + train.description() + ": " + train.dimension()
                    + " features, " + train.classes() + " classes) and test data (" + test.description() + ": "
                    + test.dimension() + " features, " + test.classes() + " classes) do not match");
        }
    }

    public int dimension() {
        return train.dimension();
    }

    public int classes() {
        return train.classes();
    }
}
