package org.lsoftmax.data;

import org.lsoftmax.InvalidInputException;

/**
 * A labelled data set in memory: {@code size} samples of {@code dimension} floats (row-major in
 * {@code features}) and their class indices in {@code [0, classes)}.
 *
 * @param description where it came from, for logs (a directory, or "synthetic ...")
 */
public record Dataset(String description, int size, int dimension, int classes, float[] features, int[] labels) {

    public Dataset {
        if (size < 1 || dimension < 1 || classes < 2) {
            throw new InvalidInputException(description + ": a data set needs >= 1 sample, >= 1 feature and >= 2 classes, got "
                    + size + " samples, " + dimension + " features, " + classes + " classes");
        }
        if (features.length != (long) size * dimension || labels.length != size) {
            throw new InvalidInputException(description + ": " + size + " samples of " + dimension
                    + " features need " + (long) size * dimension + " values and " + size + " labels, got "
                    + features.length + " and " + labels.length);
        }
        for (int i = 0; i < size; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new InvalidInputException(description + ": label " + labels[i] + " of sample " + i
                        + " is outside [0, " + classes + ")");
            }
        }
    }

    /** The same samples with their features replaced (e.g. normalised). */
    public Dataset withFeatures(float[] newFeatures) {
        return new Dataset(description, size, dimension, classes, newFeatures, labels);
    }
}
