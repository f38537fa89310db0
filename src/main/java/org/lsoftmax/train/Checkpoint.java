package org.lsoftmax.train;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.data.Normalization;
import org.lsoftmax.model.Architecture;
import org.lsoftmax.model.Network;
import org.lsoftmax.model.Parameter;

/**
 * Everything needed to continue a training run exactly, or to evaluate it: the configuration, the
 * input normalisation, the epoch and iteration reached, and every parameter with its SGD momentum
 * buffer. No random-generator state is needed: weight init happens once, and the shuffle of epoch e
 * is drawn from its own stream of (seed, e), so a run resumed after epoch e draws exactly what an
 * uninterrupted run draws. The beta schedule is a function of the iteration.
 *
 *
 * <p>The file format is {@link CheckpointFormat}; writing and the rotation of {@code last.ckpt} and
 * {@code previous.ckpt} are {@link CheckpointFiles}.
 */
public record Checkpoint(TrainConfig config, Normalization normalization, int inputSize, int classes,
        int epochsCompleted, long iteration, List<Tensor> tensors) {

    /** One saved parameter. */
    public record Tensor(String name, float[] values, float[] momentum) {
    }

    public Checkpoint {
        tensors = List.copyOf(tensors);
    }

    /** A deep copy of the network's parameters and momentum buffers. */
    public static Checkpoint capture(TrainConfig config, Normalization normalization, Network network,
            int epochsCompleted, long iteration) {
        List<Tensor> tensors = new ArrayList<>();
        for (Parameter parameter : network.parameters()) {
            tensors.add(new Tensor(parameter.name(), parameter.value().clone(), parameter.momentum().clone()));
        }
        Architecture architecture = network.architecture();
        return new Checkpoint(config, normalization, architecture.inputSize(), architecture.classes(), epochsCompleted,
                iteration, tensors);
    }

    /** How many blocks the checkpoint's W is held in: its {@code lsoftmax.weight.shard<k>} tensors, or 1 ({@code lsoftmax.weight}). */
    public int classShards() {
        int shards = 0;
        for (Tensor tensor : tensors) {
            if (tensor.name().startsWith("lsoftmax.weight.shard")) {
                shards++;
            }
        }
        return Math.max(1, shards);
    }

    /**
     * Whether this is one process's part of a checkpoint set ({@link ShardSets}): the trunk and fewer
     * values of W than C x D.
     */
    public boolean isPart() {
        long classWeights = 0;
        for (Tensor tensor : tensors) {
            if (tensor.name().startsWith("lsoftmax.weight")) {
                classWeights += tensor.values().length;
            }
        }
        return classWeights < (long) classes * config.featureDimension();
    }

    /** W as one C x D matrix: the class-weight tensor, or its blocks one after the other. */
    public float[] classWeightMatrix() {
        List<float[]> blocks = new ArrayList<>();
        int length = 0;
        for (Tensor tensor : tensors) {
            if (tensor.name().equals("lsoftmax.weight") || tensor.name().startsWith("lsoftmax.weight.shard")) {
                blocks.add(tensor.values());
                length += tensor.values().length;
            }
        }
        if (blocks.size() == 1) {
            return blocks.get(0);
        }
        float[] whole = new float[length];
        int offset = 0;
        for (float[] block : blocks) {
            System.arraycopy(block, 0, whole, offset, block.length);
            offset += block.length;
        }
        return whole;
    }

    public Architecture architecture() {
        return new Architecture(inputSize, config.hidden(), config.featureDimension(), classes);
    }

    /** Copies values and momentum into a network of the same architecture, checking names and sizes. */
    public void restoreInto(Network network, Path source) {
        Map<String, Tensor> byName = new LinkedHashMap<>();
        for (Tensor tensor : tensors) {
            byName.put(tensor.name(), tensor);
        }
        for (Parameter parameter : network.parameters()) {
            Tensor tensor = byName.remove(parameter.name());
            if (tensor == null || tensor.values().length != parameter.size()) {
                throw new InvalidInputException(source + ": parameter " + parameter.name() + " of " + parameter.size()
                        + " values is " + (tensor == null ? "missing" : "of " + tensor.values().length + " values")
                        + " in the checkpoint");
            }
            System.arraycopy(tensor.values(), 0, parameter.value(), 0, parameter.size());
            System.arraycopy(tensor.momentum(), 0, parameter.momentum(), 0, parameter.size());
        }
        if (!byName.isEmpty()) {
            throw new InvalidInputException(source + ": unexpected parameters " + byName.keySet() + " in the checkpoint");
        }
    }

    /**
     * The first non-finite value or momentum of the saved parameters, null when all are finite. A
     * training checkpoint must never hold one: it is the state a diverged run falls back to.
     */
    public OffendingValue firstNonFinite() {
        for (Tensor tensor : tensors) {
            OffendingValue bad = OffendingValue.firstNonFinite(tensor.name(), tensor.values(), tensor.values().length);
            if (bad == null) {
                bad = OffendingValue.firstNonFinite("momentum of " + tensor.name(), tensor.momentum(),
                        tensor.momentum().length);
            }
            if (bad != null) {
                return bad;
            }
        }
        return null;
    }
}
