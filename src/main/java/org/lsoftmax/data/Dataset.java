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

    /**
     * The samples whose label is one of {@code classes} (at least two distinct labels in [0, classes)),
     * relabelled by their position in the list: {@code classes.get(k)} becomes label k.
     */
    public Dataset restrictedTo(java.util.List<Integer> keep) {
        int[] newLabel = new int[classes];
        java.util.Arrays.fill(newLabel, -1);
        for (int k = 0; k < keep.size(); k++) {
            int label = keep.get(k);
            if (label < 0 || label >= classes) {
                throw new InvalidInputException(description + ": class " + label + " does not exist (labels are 0.." + (classes - 1) + ")");
            }
            if (newLabel[label] >= 0) {
                throw new InvalidInputException("class " + label + " is listed twice in " + keep);
            }
            newLabel[label] = k;
        }
        if (keep.size() < 2) {
            throw new InvalidInputException("a class subset needs at least two classes, got " + keep);
        }
        int count = 0;
        for (int label : labels) {
            count += newLabel[label] >= 0 ? 1 : 0;
        }
        if (count == 0) {
            throw new InvalidInputException(description + ": no sample has one of the classes " + keep);
        }
        float[] keptFeatures = new float[count * dimension];
        int[] keptLabels = new int[count];
        int next = 0;
        for (int i = 0; i < size; i++) {
            if (newLabel[labels[i]] >= 0) {
                System.arraycopy(features, i * dimension, keptFeatures, next * dimension, dimension);
                keptLabels[next++] = newLabel[labels[i]];
            }
        }
        return new Dataset(description + ", classes " + keep, count, dimension, keep.size(), keptFeatures, keptLabels);
    }

    /** The same samples with their features replaced (e.g. normalised). */
    public Dataset withFeatures(float[] newFeatures) {
        return new Dataset(description, size, dimension, classes, newFeatures, labels);
    }
}
