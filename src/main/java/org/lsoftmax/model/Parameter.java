package org.lsoftmax.model;

/**
 * One learned tensor with its gradient (filled by backward) and its optimizer state (the SGD
 * momentum buffer, which a checkpoint saves with the values).
 *
 * @param name         stable name, used as the key in checkpoints (e.g. "dense1.weight")
 * @param weightDecayed whether weight decay applies (weights yes; biases and PReLU slopes no, as in He et al. 2015)
 */
public record Parameter(String name, float[] value, float[] gradient, float[] momentum, boolean weightDecayed) {

    public static Parameter zeros(String name, int size, boolean weightDecayed) {
        return new Parameter(name, new float[size], new float[size], new float[size], weightDecayed);
    }

    public int size() {
        return value.length;
    }
}
