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

    /**
     * Both splits restricted to the samples of {@code classes} (original labels, in the order given),
     * relabelled 0, 1, ... in that order; the data itself for an empty list.
     */
    public TrainTestData restrictedTo(java.util.List<Integer> classes) {
        if (classes.isEmpty()) {
            return this;
        }
        return new TrainTestData(train.restrictedTo(classes), test.restrictedTo(classes));
    }

    public int dimension() {
        return train.dimension();
    }

    public int classes() {
        return train.classes();
    }
}
