package org.lsoftmax.head.select;

import java.util.ArrayList;
import java.util.List;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.MemoryBudget;
import org.lsoftmax.head.Collective;
import org.lsoftmax.head.DistributedHead;
import org.lsoftmax.head.Head;
import org.lsoftmax.head.HeadPass;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.MarginHead;
import org.lsoftmax.head.MarginLoss;
import org.lsoftmax.head.PassOptions;
import org.lsoftmax.head.ShardLayout;
import org.lsoftmax.head.ShardOptions;
import org.lsoftmax.head.ShardRank;
import org.lsoftmax.head.ShardedHead;
import org.lsoftmax.head.TornadoDeviceInfo;
import org.lsoftmax.head.TornadoSupport;
import org.lsoftmax.model.Parameter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the head for a shape, a pass and {@link ShardOptions}: today's {@link MarginHead} (one pass on
 * the whole W) when there is one shard and no sampling, else a {@link ShardedHead} with one shard pass per
 * block, on the cores or devices it is given. JVM worker groups: the pass's threads (one per core by
 * default) are split evenly, at least one per shard (2 cores, 2 shards: one thread each; 4 shards: one
 * each, two per core). TornadoVM: shard k on device k of {@code --devices} (round robin), or of every
 * device TornadoVM lists. Before anything is allocated, the head's heap is checked
 * ({@link MemoryBudget}) and each tornado shard's device memory (a shard that does not fit its device
 * runs on the JVM, saying so, as a single tornado pass does).
 */
public final class HeadFactory {

    private static final Logger LOG = LoggerFactory.getLogger(HeadFactory.class);

    /** The name of the single head's class weights and the prefix of the shards' ({@code lsoftmax.weight.shard0}, ...). */
    public static final String WEIGHT_NAME = "lsoftmax.weight";

    private HeadFactory() {
    }

    /** Bytes of one shard: its parameters (W block, gradient, momentum), its buffers and pass on the heap, its pass on the device. */
    public record ShardMemory(int shard, int classes, int computedClasses, long parameterBytes, long heapBytes, long deviceBytes) {
    }

    /** The parameter name of shard k's W block (the single head's name when there is one shard). */
    public static String weightName(int shard, int shards) {
        return shards == 1 ? WEIGHT_NAME : WEIGHT_NAME + ".shard" + shard;
    }

    /** Zero W blocks for a head without a network (eval, the synthetic large-class task): one C_k x D parameter per shard. */
    public static List<Parameter> zeroWeights(ShardLayout layout, int features) {
        List<Parameter> weights = new ArrayList<>(layout.shards());
        for (int k = 0; k < layout.shards(); k++) {
            weights.add(Parameter.zeros(weightName(k, layout.shards()), Math.multiplyExact(layout.size(k), features), true));
        }
        return weights;
    }

    /**
     * What each shard of a head needs (an estimate made before anything is allocated): W, its gradient and
     * momentum (12 C_k D bytes), the shard's buffers and its pass on the heap, and a tornado pass's device
     * buffers (0 for the JVM passes or without a TornadoVM runtime).
     */
    public static List<ShardMemory> memory(String passName, HeadShape shape, MarginLoss loss, ShardOptions options, PassOptions passOptions) {
        ShardLayout layout = new ShardLayout(shape.classes(), options.shards());
        List<ShardMemory> shards = new ArrayList<>(layout.shards());
        List<String> devices = passName.equals("tornado") ? devices(options, passOptions) : List.of();
        for (int k = 0; k < layout.shards(); k++) {
            long n = shape.batch();
            long d = shape.features();
            long local = layout.size(k);
            int computed = layout.sampleSize(k, options.sampleRate(), shape.batch());
            HeadShape passShape = new HeadShape(shape.batch(), shape.features(), computed);
            // beyond the pass's estimate (which counts its caller's logits, dX and dW): the shard's copy of X,
            // its per-row doubles, and with sampling the gathered W sample and the sampler's per-class arrays
            boolean sampling = computed < local;
            long buffers = 4L * n * d + 120L * n + (sampling ? 4L * computed * d + 13L * local : 0);
            long heap = PassFactory.estimatedHeapBytes(passName, passShape, loss) + (options.isSingle() ? 0 : buffers);
            long device = passName.equals("tornado")
                    ? PassFactory.estimatedDeviceBytes(passShape, passOptions(passOptions, devices, k, layout.shards()), !options.isSingle()) : 0;
            shards.add(new ShardMemory(k, (int) local, computed, 12L * local * d, heap, device));
        }
        return shards;
    }

    /**
     * The head over {@code weights}: one parameter per shard, in class order, C_k x D each (K = 1: the
     * whole W). The head adds dL/dW into their gradients.
     */
    public static Head create(String passName, HeadShape shape, MarginLoss loss, PassOptions passOptions, ShardOptions options,
            List<Parameter> weights) {
        if (options.isSingle()) {
            return new MarginHead(weights.get(0), PassFactory.create(passName, shape, loss, passOptions));
        }
        return createSharded(passName, shape, loss, passOptions, options, weights);
    }

    /** As {@link #create}, always a {@link ShardedHead} (one shard too: what {@link ShardedHead#evaluate} needs). */
    public static ShardedHead createSharded(String passName, HeadShape shape, MarginLoss loss, PassOptions passOptions, ShardOptions options,
            List<Parameter> weights) {
        ShardLayout layout = new ShardLayout(shape.classes(), options.shards());
        if (weights.size() != layout.shards()) {
            throw new IllegalArgumentException(layout + " needs " + layout.shards() + " weight blocks, got " + weights.size());
        }
        long heap = 0;
        for (ShardMemory shard : memory(passName, shape, loss, options.withShards(layout.shards()), PassOptions.DEFAULTS)) {
            heap += shard.heapBytes();
        }
        MemoryBudget.requireHeap("the head " + shape + " in " + layout + (options.samples() ? " (sample rate " + options.sampleRate() + ")" : ""),
                heap);
        List<String> devices = passName.equals("tornado") ? devices(options, passOptions) : List.of();
        List<HeadPass> passes = new ArrayList<>(layout.shards());
        try {
            for (int k = 0; k < layout.shards(); k++) {
                HeadShape passShape = new HeadShape(shape.batch(), shape.features(), layout.sampleSize(k, options.sampleRate(), shape.batch()));
                passes.add(PassFactory.createShardPass(passName, passShape, loss, passOptions(passOptions, devices, k, layout.shards())));
            }
            ShardedHead head = new ShardedHead(shape, loss, layout, weights, passes, options.sampleRate(), options.seed());
            LOG.debug("head {}: {}", shape, head.description());
            return head;
        } catch (RuntimeException | Error e) {
            for (HeadPass pass : passes) {
                pass.close();
            }
            throw e;
        }
    }

    /**
     * This process's head in a data-parallel job of K processes ({@link DistributedHead}): shard r (r the
     * collective's rank) of the classes over {@code ownBlock} (C_r x D), its pass with this process's
     * threads, on device r of {@code --devices} (round robin) for the tornado pass. Only this shard's
     * memory is checked and allocated.
     */
    public static DistributedHead createDistributed(String passName, HeadShape shape, MarginLoss loss, PassOptions passOptions,
            ShardOptions options, Parameter ownBlock, Collective collective) {
        int shards = collective.size();
        int rank = collective.rank();
        ShardLayout layout = new ShardLayout(shape.classes(), shards);
        if (ownBlock.size() != (long) layout.size(rank) * shape.features()) {
            throw new IllegalArgumentException("shard " + rank + " of " + layout + " holds " + layout.size(rank) + " x " + shape.features()
                    + " weights, " + ownBlock.name() + " has " + ownBlock.size());
        }
        ShardOptions mine = options.withShards(shards);
        ShardMemory memory = memory(passName, shape, loss, mine, passOptions).get(rank);
        MemoryBudget.requireHeap("shard " + rank + " of the head " + shape + " in " + layout
                + (options.samples() ? " (sample rate " + options.sampleRate() + ")" : ""), memory.heapBytes());
        List<String> devices = passName.equals("tornado") ? devices(options, passOptions) : List.of();
        PassOptions own = new PassOptions(passOptions.threads(), devices.isEmpty() ? passOptions.device() : devices.get(rank % devices.size()));
        HeadShape passShape = new HeadShape(shape.batch(), shape.features(), layout.sampleSize(rank, options.sampleRate(), shape.batch()));
        HeadPass pass = PassFactory.createShardPass(passName, passShape, loss, own);
        try {
            ShardRank shard = new ShardRank(shape, layout, options.sampleRate(), rank, ownBlock, pass, collective, options.seed());
            DistributedHead head = new DistributedHead(shape, loss, shard);
            LOG.debug("head {}: {}", shape, head.description());
            return head;
        } catch (RuntimeException | Error e) {
            pass.close();
            throw e;
        }
    }

    /** Shard k's pass options: its share of the worker threads, its device. */
    static PassOptions passOptions(PassOptions options, List<String> devices, int shard, int shards) {
        int threads = Math.max(1, options.resolvedThreads() / shards);
        String device = devices.isEmpty() ? options.device() : devices.get(shard % devices.size());
        return new PassOptions(threads, device);
    }

    /** The devices the shards take in turn: --devices, else --device, else every device TornadoVM lists. */
    static List<String> devices(ShardOptions options, PassOptions passOptions) {
        if (!options.devices().isEmpty()) {
            return options.devices();
        }
        if (passOptions.device() != null) {
            return List.of(passOptions.device());
        }
        if (!TornadoSupport.isAvailable()) {
            return List.of();
        }
        List<String> ids = new ArrayList<>();
        for (TornadoDeviceInfo device : TornadoSupport.listDevices()) {
            ids.add(device.id());
        }
        return ids;
    }

    /** Refuses a layout that cannot be: more shards than half the classes (each shard needs two). */
    public static void checkLayout(int classes, ShardOptions options) {
        if (classes < 2L * options.shards()) {
            throw new InvalidInputException(classes + " classes cannot be split into " + options.shards() + " shards of at least 2 classes each");
        }
    }
}
