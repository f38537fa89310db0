package org.lsoftmax.head;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lsoftmax.check.PassComparison.Outputs;
import org.lsoftmax.check.PassComparison;
import org.lsoftmax.check.RandomInputs;
import org.lsoftmax.head.select.HeadFactory;
import org.lsoftmax.model.Parameter;
import org.lsoftmax.testing.Seeds;

/**
 * The class-sharded head on several TornadoVM devices: shard k on device k mod 2 of PoCL's two CPU
 * devices 0:0 and 0:1 (the tornado profile of the pom sets {@code POCL_DEVICES="pthread pthread"} for the
 * tests), against the float64 reference and the unsharded tornado pass: K = 2 for every loss, K = 4 (two shards per device), and sampled
 * negatives against the sharded reference. Skipped, with the reason, without a TornadoVM runtime or with
 * fewer than two devices. Plans are reused across losses (the loss is a device value), so the class
 * compiles a handful of device plans.
 */
class ShardedTornadoTest {

    private static final List<String> DEVICES = List.of("0:0", "0:1");

    @BeforeEach
    void requireTwoDevices() {
        assumeTrue(TornadoSupport.isAvailable(), () -> "no TornadoVM runtime (" + TornadoSupport.unavailableReason()
                + "): run ci/test.sh with an SDK at /opt/tornadovm");
        int devices = TornadoSupport.listDevices().size();
        assumeTrue(devices >= 2, () -> "TornadoVM lists " + devices + " device(s), the multi-device tests need two: set POCL_DEVICES=\"pthread pthread\""
                + " (the pom's tornado profile does for its tests)");
    }

    private static ShardedHeadTest.ShardedOutputs run(HeadShape shape, MarginLoss loss, RandomInputs inputs, double beta, int shards, double rate,
            long seed, long iteration) {
        ShardLayout layout = new ShardLayout(shape.classes(), shards);
        List<Parameter> weights = ShardedHeadTest.blocks(layout, inputs.wFloat(), shape.features());
        try (ShardedHead head = assertInstanceOf(ShardedHead.class, HeadFactory.create("tornado", shape, loss, PassOptions.DEFAULTS,
                new ShardOptions(shards, DEVICES, rate, seed), weights))) {
            head.setIteration(iteration);
            double lossValue = head.forward(inputs.xFloat(), inputs.labels(), beta);
            float[] dx = head.backward().clone();
            for (int k = 0; k < shards; k++) {
                TornadoRunInfo info = assertInstanceOf(TornadoRunInfo.class, head.pass(k));
                assertTrue(info.runsOnDevice(), "shard " + k + " fell back: " + info.fallbackReason());
                assertTrue(head.pass(k).deviceDescription().contains(DEVICES.get(k % 2)), head.pass(k).deviceDescription());
            }
            return new ShardedHeadTest.ShardedOutputs(ShardedHeadTest.collect(head, shape, lossValue, dx, weights), ShardedHeadTest.computed(head, shape));
        }
    }

    /**
     * K = 2 on devices 0:0 and 0:1, C = 37 (shards of 18 and 19 classes), every loss, beta 0 and 1: within
     * 1e-4 of the unsharded tornado pass (K = 1, on 0:0) and of the float64 reference.
     */
    @Test
    void twoShardsOnTwoDevicesMatchOneShardAndTheReferenceForEveryLoss() {
        long seed = Seeds.draw();
        Random random = new Random(seed);
        HeadShape shape = ShardedHeadTest.SHAPE;
        for (MarginLoss loss : ShardedHeadTest.LOSSES) {
            for (double beta : new double[] {0.0, 1.0}) {
                RandomInputs inputs = RandomInputs.generate(shape, loss, random.nextLong());
                Outputs reference = PassComparison.reference(shape, loss, beta, inputs.xFloat(), inputs.wFloat(), inputs.labels());
                Outputs single;
                try (HeadPass pass = org.lsoftmax.head.select.PassFactory.create("tornado", shape, loss, new PassOptions(0, "0:0"))) {
                    single = PassComparison.run(pass, beta, inputs.xFloat(), inputs.wFloat(), inputs.labels());
                    assertTrue(((TornadoRunInfo) pass).runsOnDevice(), ((TornadoRunInfo) pass).fallbackReason());
                }
                Outputs sharded = run(shape, loss, inputs, beta, 2, 1.0, 0, 0).outputs();
                String context = "seed " + seed + ", " + loss + ", beta=" + beta;
                PassComparison.Errors againstSingle = PassComparison.errors(shape, single, sharded, inputs.xFloat(), inputs.wFloat());
                PassComparison.Errors againstReference = PassComparison.errors(shape, reference, sharded, inputs.xFloat(), inputs.wFloat());
                assertTrue(againstSingle.worst() < 1e-4, context + ", against K = 1 on the device: " + againstSingle);
                assertTrue(againstReference.worst() < 1e-4, context + ", against the reference: " + againstReference);
            }
        }
    }

    /**
     * K = 4 on two devices (two shards each, running at once), C = 74: shards of 18, 19, 18 and 19 classes,
     * the pass shapes of the K = 2 test on the same devices (its device plans are reused: fewer kernels to compile).
     */
    @Test
    void fourShardsOnTwoDevicesMatchTheReference() {
        long seed = Seeds.draw();
        Random random = new Random(seed);
        HeadShape shape = new HeadShape(23, 13, 74);
        for (MarginLoss loss : new MarginLoss[] {MarginLoss.lsoftmax(4), MarginLoss.arcface(16, 0.5)}) {
            RandomInputs inputs = RandomInputs.generate(shape, loss, random.nextLong());
            Outputs reference = PassComparison.reference(shape, loss, 0.0, inputs.xFloat(), inputs.wFloat(), inputs.labels());
            Outputs sharded = run(shape, loss, inputs, 0.0, 4, 1.0, 0, 0).outputs();
            PassComparison.Errors errors = PassComparison.errors(shape, reference, sharded, inputs.xFloat(), inputs.wFloat());
            assertTrue(errors.worst() < 1e-4, "seed " + seed + ", " + loss + ": " + errors);
        }
    }

    /** Sampled negatives (r = 0.3) on two devices: the sharded float64 reference's sample and numbers within 1e-4. */
    @Test
    void sampledShardsOnTwoDevicesMatchTheShardedReference() {
        long seed = Seeds.draw();
        HeadShape shape = ShardedHeadTest.SAMPLED_SHAPE;
        MarginLoss loss = MarginLoss.combined(16, 1.5, 0.3, 0.2);
        RandomInputs inputs = RandomInputs.generate(shape, loss, seed);
        Outputs expected = ShardedHeadTest.referenceSharded(shape, loss, inputs.xFloat(), inputs.wFloat(), inputs.labels(), 1.0, 2, 0.3, seed, 11);
        Outputs sharded = run(shape, loss, inputs, 1.0, 2, 0.3, seed, 11).outputs();
        PassComparison.Errors errors = PassComparison.errors(shape, expected, sharded, inputs.xFloat(), inputs.wFloat());
        assertTrue(errors.worst() < 1e-4, "seed " + seed + ": " + errors);
    }
}
