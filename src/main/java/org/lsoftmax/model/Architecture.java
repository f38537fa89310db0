package org.lsoftmax.model;

import java.util.List;
import org.lsoftmax.InvalidInputException;

/**
 * Shape of the network: input size, hidden widths of the MLP feature extractor, the feature dimension
 * D fed to the L-Softmax head, and the class count C.
 */
public record Architecture(int inputSize, List<Integer> hidden, int featureDimension, int classes) {

    public Architecture {
        hidden = List.copyOf(hidden);
        if (inputSize < 1 || featureDimension < 1 || classes < 2) {
            throw new InvalidInputException("network needs input size >= 1, feature dimension >= 1 and >= 2 classes, got "
                    + inputSize + ", " + featureDimension + ", " + classes);
        }
        for (int width : hidden) {
            if (width < 1) {
                throw new InvalidInputException("hidden layer widths must be >= 1, got " + hidden);
            }
        }
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder().append(inputSize);
        for (int width : hidden) {
            text.append(" -> ").append(width).append(" prelu");
        }
        return text.append(" -> ").append(featureDimension).append(" features -> L-Softmax over ").append(classes)
                .append(" classes").toString();
    }
}
