package org.lsoftmax.model;

import java.util.ArrayList;
import java.util.List;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.MemoryBudget;
import org.lsoftmax.linalg.MatrixProducts;
import org.lsoftmax.math.SplitMix64;

/**
 * The trained model: an MLP feature extractor
 * {@code input -> [Dense -> PReLU] x hidden -> Dense -> D-dim feature}, and the class weights W (C x D)
 * of the L-Softmax head. The feature has no activation, so features can point anywhere on the sphere
 * (as the paper's 2-D MNIST features in Figure 2). The head itself (margin logits, loss, gradients)
 * is computed by an {@code HeadPass}; this class only holds its weights.
 */
public final class Network {

    private final Architecture architecture;
    private final int maxRows;
    private final List<Layer> layers;
    private final Parameter classWeights;
    /** W in contiguous blocks of classes, one per shard of a class-sharded head (one block, {@link #classWeights}, unsharded). */
    private final List<Parameter> classWeightShards;
    /** Immutable, so that {@link #parameters()} hands out the same list every step (no copy per call). */
    private final List<Parameter> parameters;
    private final int classShards;
    /** The one block of W this network holds (a process of a data-parallel job), or -1: every block. */
    private final int ownedShard;

    /** Builds the network for batches of up to {@code maxRows} samples, with zero weights (see {@link #initialise}). */
    public Network(Architecture architecture, int maxRows, MatrixProducts products) {
        this(architecture, maxRows, products, 1);
    }

    /**
     * As {@link #Network(Architecture, int, MatrixProducts)}, with the class weights held in
     * {@code classShards} contiguous blocks of classes (the split of {@code head.ShardLayout}: block k holds
     * the classes [floor(C k / K), floor(C (k + 1) / K))), each its own parameter
     * {@code lsoftmax.weight.shard<k>} with its gradient and momentum, for the class-sharded head. One
     * block is the parameter {@code lsoftmax.weight}, as always.
     */
    public Network(Architecture architecture, int maxRows, MatrixProducts products, int classShards) {
        this(architecture, maxRows, products, classShards, -1);
    }

    /**
     * The network of one process of a data-parallel job ({@code head.DistributedHead}): the whole trunk (a
     * replica) and only block {@code ownedShard} of W's {@code classShards} blocks, so a process holds 1/K
     * of the class weights. Its {@link #parameters()} are the trunk's and that block's; {@link #initialise}
     * gives the block the values it has in the whole network.
     */
    public static Network forShard(Architecture architecture, int maxRows, MatrixProducts products, int classShards, int ownedShard) {
        if (ownedShard < 0 || ownedShard >= classShards) {
            throw new IllegalArgumentException("block " + ownedShard + " of " + classShards);
        }
        return new Network(architecture, maxRows, products, classShards, ownedShard);
    }

    private Network(Architecture architecture, int maxRows, MatrixProducts products, int classShards, int ownedShard) {
        requireFits(architecture, maxRows);
        this.architecture = architecture;
        this.maxRows = maxRows;
        List<Layer> layers = new ArrayList<>();
        int width = architecture.inputSize();
        int index = 1;
        for (int hiddenWidth : architecture.hidden()) {
            layers.add(new Dense("dense" + index, width, hiddenWidth, maxRows, index > 1, products));
            layers.add(new PRelu("prelu" + index, hiddenWidth, maxRows, products));
            width = hiddenWidth;
            index++;
        }
        layers.add(new Dense("dense" + index, width, architecture.featureDimension(), maxRows, index > 1, products));
        this.layers = List.copyOf(layers);
        int classes = architecture.classes();
        if (classShards < 1 || classes < 2L * classShards) {
            throw new IllegalArgumentException(classes + " classes cannot be split into " + classShards + " blocks of at least 2 classes");
        }
        this.classShards = classShards;
        this.ownedShard = ownedShard;
        List<Parameter> classWeightShards = new ArrayList<>();
        if (classShards == 1) {
            this.classWeights = Parameter.zeros("lsoftmax.weight", classes * architecture.featureDimension(), true);
            classWeightShards.add(classWeights);
        } else {
            this.classWeights = null;
            for (int k = 0; k < classShards; k++) {
                if (ownedShard >= 0 && k != ownedShard) {
                    continue;
                }
                int size = shardStart(classes, classShards, k + 1) - shardStart(classes, classShards, k);
                classWeightShards.add(Parameter.zeros("lsoftmax.weight.shard" + k, size * architecture.featureDimension(), true));
            }
        }
        this.classWeightShards = List.copyOf(classWeightShards);
        List<Parameter> parameters = new ArrayList<>();
        for (Layer layer : layers) {
            parameters.addAll(layer.parameters());
        }
        parameters.addAll(classWeightShards);
        this.parameters = List.copyOf(parameters);
    }

    /** The first class of block k of C classes in K blocks: floor(C k / K) (as {@code head.ShardLayout}). */
    public static int shardStart(int classes, int shards, int shard) {
        return (int) ((long) classes * shard / shards);
    }

    /** He init of every dense layer (from one random stream, in layer order), and the class weights. */
    public void initialise(SplitMix64 random) {
        for (int i = 0; i < layers.size(); i++) {
            if (layers.get(i) instanceof Dense dense) {
                boolean beforePrelu = i + 1 < layers.size() && layers.get(i + 1) instanceof PRelu;
                double slope = PRelu.INITIAL_SLOPE;
                dense.initialise(random, beforePrelu ? 2.0 / (1.0 + slope * slope) : 1.0);
            }
        }
        // class weights ~ N(0, 1/D): |w_j| about 1, directions uniformly random (in class order, block after
        // block: the same values however W is split)
        double std = Math.sqrt(1.0 / architecture.featureDimension());
        if (ownedShard > 0) {
            // the blocks before this process's: drawn and dropped, so its block gets the values it has in the whole W
            long before = (long) shardStart(architecture.classes(), classShards, ownedShard) * architecture.featureDimension();
            for (long i = 0; i < before; i++) {
                random.nextGaussian();
            }
        }
        for (Parameter block : classWeightShards) {
            float[] w = block.value();
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) (std * random.nextGaussian());
            }
        }
    }

    /** Features (rows x D) of {@code rows} input samples; the returned array is the last layer's buffer. */
    public float[] features(float[] input, int rows) {
        checkRows(rows);
        float[] activations = input;
        for (Layer layer : layers) {
            activations = layer.forward(activations, rows);
        }
        return activations;
    }

    /** Back-propagates dL/d features of the most recent {@link #features} call, adding into the gradients. */
    public void backward(float[] featureGradient, int rows) {
        checkRows(rows);
        float[] gradient = featureGradient;
        for (int i = layers.size() - 1; i >= 0; i--) {
            gradient = layers.get(i).backward(gradient, rows);
        }
    }

    /**
     * Zeroes every parameter gradient before a step. The dense layers' weight gradients are zeroed
     * lazily ({@link Dense#zeroGradients}): their next backward writes them.
     */
    public void zeroGradients() {
        for (Layer layer : layers) {
            if (layer instanceof Dense dense) {
                dense.zeroGradients();
            } else {
                for (Parameter parameter : layer.parameters()) {
                    java.util.Arrays.fill(parameter.gradient(), 0f);
                }
            }
        }
        for (Parameter block : classWeightShards) {
            java.util.Arrays.fill(block.gradient(), 0f);
        }
    }

    public Architecture architecture() {
        return architecture;
    }

    public int maxRows() {
        return maxRows;
    }

    /**
     * Class weights W of the L-Softmax head, C x D row-major.
     *
     * @throws IllegalStateException when W is held in several blocks ({@link #classWeightShards()})
     */
    public Parameter classWeights() {
        if (classWeights == null) {
            throw new IllegalStateException("W is held in " + classWeightShards.size() + " blocks: use classWeightShards()");
        }
        return classWeights;
    }

    /** W's blocks of classes in class order (one block, {@link #classWeights()}, when W is not split). */
    public List<Parameter> classWeightShards() {
        return classWeightShards;
    }

    /** The one block of W this network holds ({@link #forShard}), or -1 when it holds them all. */
    public int ownedShard() {
        return ownedShard;
    }

    /** The number of blocks W is split into (this network may hold only one, {@link #ownedShard()}). */
    public int classShards() {
        return classShards;
    }

    /** W as one C x D matrix: the parameter's own array when W is one block, else a copy of the blocks one after the other. */
    public float[] classWeightMatrix() {
        if (ownedShard >= 0) {
            throw new IllegalStateException("this network holds block " + ownedShard + " of W's " + classShards + " only");
        }
        if (classWeights != null) {
            return classWeights.value();
        }
        float[] whole = new float[architecture.classes() * architecture.featureDimension()];
        int offset = 0;
        for (Parameter block : classWeightShards) {
            System.arraycopy(block.value(), 0, whole, offset, block.size());
            offset += block.size();
        }
        return whole;
    }

    /** All parameters in a fixed order (layers first, class weights last): the checkpoint order. */
    public List<Parameter> parameters() {
        return parameters;
    }

    public List<Layer> layers() {
        return layers;
    }

    /** The number of parameters (weights, biases, PReLU slopes, class weights) of a network of this shape. */
    public static long parameterCount(Architecture architecture) {
        long count = 0;
        long width = architecture.inputSize();
        for (int hidden : architecture.hidden()) {
            count += width * hidden + hidden + hidden; // weight, bias, PReLU slope
            width = hidden;
        }
        count += width * architecture.featureDimension() + architecture.featureDimension();
        return count + (long) architecture.classes() * architecture.featureDimension();
    }

    /**
     * Heap bytes of a network for batches of {@code maxRows}: value, gradient and momentum of every
     * parameter plus a packed copy for the products, and each layer's output and input-gradient buffers.
     */
    public static long estimatedHeapBytes(Architecture architecture, int maxRows) {
        long activations = 0;
        long width = architecture.inputSize();
        for (int hidden : architecture.hidden()) {
            activations += 2L * hidden + width + 2L * hidden; // dense output and input gradient, PReLU output and gradient
            width = hidden;
        }
        activations += architecture.featureDimension() + width;
        return 16 * parameterCount(architecture) + 4 * activations * maxRows;
    }

    /**
     * Refuses, before anything is allocated, a network whose arrays a Java array cannot hold or whose
     * buffers do not fit the heap ({@link MemoryBudget}).
     */
    public static void requireFits(Architecture architecture, int maxRows) {
        if (maxRows < 1) {
            throw new InvalidInputException("batch size must be >= 1, got " + maxRows);
        }
        long width = architecture.inputSize();
        List<Integer> widths = new ArrayList<>(architecture.hidden());
        widths.add(architecture.featureDimension());
        for (int next : widths) {
            long largest = Math.max(width * next, (long) maxRows * Math.max(width, next));
            if (largest > Integer.MAX_VALUE - 16) {
                throw new InvalidInputException("the network " + architecture + " with batches of " + maxRows
                        + " needs an array of " + largest + " values (a layer of " + width + " -> " + next
                        + "), more than a Java array can hold");
            }
            width = next;
        }
        if ((long) architecture.classes() * architecture.featureDimension() > Integer.MAX_VALUE - 16) {
            throw new InvalidInputException("the network " + architecture + " needs " + architecture.classes() + " x "
                    + architecture.featureDimension() + " class weights, more than a Java array can hold");
        }
        MemoryBudget.requireHeap("the network " + architecture + " with batches of " + maxRows,
                estimatedHeapBytes(architecture, maxRows));
    }

    private void checkRows(int rows) {
        if (rows < 1 || rows > maxRows) {
            throw new IllegalArgumentException("rows must be in [1, " + maxRows + "], got " + rows);
        }
    }
}
