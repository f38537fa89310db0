package org.lsoftmax.head;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.check.PassComparison.Outputs;
import org.lsoftmax.check.PassComparison;
import org.lsoftmax.check.RandomInputs;
import org.lsoftmax.head.reference.ReferencePass;
import org.lsoftmax.head.reference.ShardedReference;
import org.lsoftmax.head.select.HeadFactory;
import org.lsoftmax.head.select.PassFactory;
import org.lsoftmax.model.Parameter;
import org.lsoftmax.model.RowSelection;
import org.lsoftmax.testing.Seeds;
import org.lsoftmax.train.SgdMomentum;

/**
 * The class-sharded head (docs/SCALING.md) against the unsharded head: K = 2 and 4 shards on shapes whose
 * C is not a multiple of K, every loss of the family, the jvm pass (worker groups) within 1e-4 of the
 * K = 1 jvm pass and of the float64 reference, the float64 sharded reference within 1e-6 of the float64
 * unsharded reference; sampled negatives (r < 1) equal to the unsharded reference on the sampled classes;
 * the sampler's determinism; the rows a sampled step does not touch stay as they were; a failing shard
 * does not hang the others; the per-shard memory is 1/K of the whole.
 */
class ShardedHeadTest {

    static final MarginLoss[] LOSSES = {MarginLoss.lsoftmax(1), MarginLoss.lsoftmax(4), MarginLoss.sphereface(4), MarginLoss.cosface(16, 0.35),
        MarginLoss.arcface(16, 0.5), MarginLoss.combined(16, 1.5, 0.3, 0.2)};
    /** 37 classes: a multiple of neither 2 nor 4. */
    static final HeadShape SHAPE = new HeadShape(23, 13, 37);
    /** Shards of 101/102 (K = 2) or 50/51 (K = 4) classes and a batch of 16: sampling at r = 0.3 keeps 31 or 16 of them. */
    static final HeadShape SAMPLED_SHAPE = new HeadShape(16, 9, 203);

    /** One forward and backward of a sharded head: the loss, the logits of the computed classes (N x C, 0 elsewhere), dX, dW (C x D). */
    record ShardedOutputs(Outputs outputs, boolean[] computed) {
    }

    static ShardedOutputs runSharded(String passName, HeadShape shape, MarginLoss loss, float[] x, float[] w, int[] labels, double beta, int shards,
            double sampleRate, long seed, long iteration, PassOptions passOptions) {
        ShardLayout layout = new ShardLayout(shape.classes(), shards);
        List<Parameter> weights = blocks(layout, w, shape.features());
        ShardOptions options = new ShardOptions(shards, List.of(), sampleRate, seed);
        try (ShardedHead head = assertInstanceOf(ShardedHead.class, HeadFactory.create(passName, shape, loss, passOptions, options, weights))) {
            head.setIteration(iteration);
            double lossValue = head.forward(x, labels, beta);
            float[] dx = head.backward().clone();
            return new ShardedOutputs(collect(head, shape, lossValue, dx, weights), computed(head, shape));
        }
    }

    static List<Parameter> blocks(ShardLayout layout, float[] w, int features) {
        List<Parameter> weights = HeadFactory.zeroWeights(layout, features);
        for (int k = 0; k < layout.shards(); k++) {
            System.arraycopy(w, layout.start(k) * features, weights.get(k).value(), 0, layout.size(k) * features);
        }
        return weights;
    }

    static Outputs collect(ShardedHead head, HeadShape shape, double lossValue, float[] dx, List<Parameter> weights) {
        int n = shape.batch();
        int c = shape.classes();
        int d = shape.features();
        double[] logits = new double[n * c];
        for (int k = 0; k < head.layout().shards(); k++) {
            int[] classes = head.computedClasses(k);
            float[] shardLogits = head.logits(k);
            for (int i = 0; i < n; i++) {
                for (int s = 0; s < classes.length; s++) {
                    logits[i * c + classes[s]] = shardLogits[i * classes.length + s];
                }
            }
        }
        double[] dw = new double[c * d];
        for (int k = 0; k < weights.size(); k++) {
            float[] gradient = weights.get(k).gradient();
            for (int index = 0; index < gradient.length; index++) {
                dw[head.layout().start(k) * d + index] = gradient[index];
            }
        }
        return new Outputs(lossValue, logits, ReferencePass.toDouble(dx), dw);
    }

    static boolean[] computed(ShardedHead head, HeadShape shape) {
        boolean[] computed = new boolean[shape.classes()];
        for (int k = 0; k < head.layout().shards(); k++) {
            for (int j : head.computedClasses(k)) {
                computed[j] = true;
            }
        }
        return computed;
    }

    /** The float64 sharded reference's outputs in the same form. */
    static Outputs referenceSharded(HeadShape shape, MarginLoss loss, float[] x, float[] w, int[] labels, double beta, int shards, double rate,
            long seed, long iteration) {
        ShardedReference.Result result = ShardedReference.run(shape, loss, ReferencePass.toDouble(x), ReferencePass.toDouble(w), labels, beta,
                shards, rate, seed, iteration);
        int n = shape.batch();
        int c = shape.classes();
        double[] logits = new double[n * c];
        for (int k = 0; k < shards; k++) {
            int[] classes = result.classes()[k];
            for (int i = 0; i < n; i++) {
                for (int s = 0; s < classes.length; s++) {
                    logits[i * c + classes[s]] = result.logits()[k][i * classes.length + s];
                }
            }
        }
        return new Outputs(result.loss(), logits, result.dx(), result.dw());
    }

    @Test
    void shardedReferenceIsTheUnshardedReferenceInFloat64() {
        long seed = Seeds.draw();
        Random random = new Random(seed);
        for (MarginLoss loss : LOSSES) {
            for (int shards : new int[] {2, 4}) {
                for (double beta : new double[] {0.0, 1.0}) {
                    RandomInputs inputs = RandomInputs.generate(SHAPE, loss, random.nextLong());
                    float[] x = inputs.xFloat();
                    float[] w = inputs.wFloat();
                    Outputs expected = PassComparison.reference(SHAPE, loss, beta, x, w, inputs.labels());
                    Outputs actual = referenceSharded(SHAPE, loss, x, w, inputs.labels(), beta, shards, 1.0, 0, 0);
                    PassComparison.Errors errors = PassComparison.errors(SHAPE, expected, actual, x, w);
                    assertTrue(errors.worst() < 1e-6, "seed " + seed + ", " + loss + ", K=" + shards + ", beta=" + beta + ": " + errors);
                }
            }
        }
    }

    @Test
    void jvmShardsMatchTheUnshardedJvmPassAndTheReference() {
        long seed = Seeds.draw();
        Random random = new Random(seed);
        for (MarginLoss loss : LOSSES) {
            for (int shards : new int[] {2, 4}) {
                double beta = random.nextBoolean() ? 0.0 : 1.0;
                RandomInputs inputs = RandomInputs.generate(SHAPE, loss, random.nextLong());
                float[] x = inputs.xFloat();
                float[] w = inputs.wFloat();
                Outputs single;
                try (HeadPass pass = PassFactory.create("jvm", SHAPE, loss, PassOptions.DEFAULTS)) {
                    single = PassComparison.run(pass, beta, x, w, inputs.labels());
                }
                Outputs sharded = runSharded("jvm", SHAPE, loss, x, w, inputs.labels(), beta, shards, 1.0, 0, 0, PassOptions.DEFAULTS).outputs();
                Outputs reference = PassComparison.reference(SHAPE, loss, beta, x, w, inputs.labels());
                String context = "seed " + seed + ", " + loss + ", K=" + shards + ", beta=" + beta;
                PassComparison.Errors againstSingle = PassComparison.errors(SHAPE, single, sharded, x, w);
                PassComparison.Errors againstReference = PassComparison.errors(SHAPE, reference, sharded, x, w);
                assertTrue(againstSingle.worst() < 1e-4, context + ", against K = 1: " + againstSingle);
                assertTrue(againstReference.worst() < 1e-4, context + ", against the reference: " + againstReference);
            }
        }
    }

    /** The edge set (parallel and anti-parallel targets, zero rows, the join angle) through shards too. */
    @Test
    void edgesThroughShardsMatchTheReference() {
        long seed = Seeds.draw();
        HeadShape shape = new HeadShape(16, 5, 11);
        for (MarginLoss loss : LOSSES) {
            RandomInputs inputs = RandomInputs.edges(shape, loss, seed);
            float[] x = inputs.xFloat();
            float[] w = inputs.wFloat();
            Outputs reference = PassComparison.reference(shape, loss, 0.0, x, w, inputs.labels());
            Outputs sharded = runSharded("jvm", shape, loss, x, w, inputs.labels(), 0.0, 4, 1.0, 0, 0, PassOptions.DEFAULTS).outputs();
            PassComparison.Errors errors = PassComparison.errors(shape, reference, sharded, x, w);
            assertTrue(errors.worst() < 1e-4, "seed " + seed + ", " + loss + ": " + errors);
            Outputs sharded64 = referenceSharded(shape, loss, x, w, inputs.labels(), 0.0, 4, 1.0, 0, 0);
            PassComparison.Errors errors64 = PassComparison.errors(shape, reference, sharded64, x, w);
            assertTrue(errors64.worst() < 1e-6, "seed " + seed + ", " + loss + ", float64: " + errors64);
        }
    }

    /**
     * r < 1: the sharded reference's loss, logits and gradients are those of the unsharded reference on
     * W restricted to the sampled classes (labels remapped), and the jvm shards give the same samples and
     * results within 1e-4.
     */
    @Test
    void sampledNegativesAreTheUnshardedLossOnTheSampledClasses() {
        long seed = Seeds.draw();
        Random random = new Random(seed);
        HeadShape shape = SAMPLED_SHAPE;
        int n = shape.batch();
        int d = shape.features();
        for (MarginLoss loss : LOSSES) {
            for (int shards : new int[] {1, 2, 4}) {
                RandomInputs inputs = RandomInputs.generate(shape, loss, random.nextLong());
                float[] x = inputs.xFloat();
                float[] w = inputs.wFloat();
                int[] labels = inputs.labels();
                long iteration = random.nextInt(1000);
                String context = "seed " + seed + ", " + loss + ", K=" + shards;
                ShardedReference.Result sharded = ShardedReference.run(shape, loss, ReferencePass.toDouble(x), ReferencePass.toDouble(w), labels, 1.0,
                        shards, 0.3, seed, iteration);
                // the sampled classes, in class order (the shards' samples are ascending and the shards contiguous)
                int[] sampled = Arrays.stream(sharded.classes()).flatMapToInt(Arrays::stream).toArray();
                assertTrue(sampled.length < shape.classes(), context + ": nothing was left out");
                for (int label : labels) {
                    assertTrue(Arrays.binarySearch(sampled, label) >= 0, context + ": positive class " + label + " not sampled");
                }
                int s = sampled.length;
                double[] wRestricted = new double[s * d];
                for (int k = 0; k < s; k++) {
                    for (int col = 0; col < d; col++) {
                        wRestricted[k * d + col] = w[sampled[k] * d + col];
                    }
                }
                int[] remapped = new int[n];
                for (int i = 0; i < n; i++) {
                    remapped[i] = Arrays.binarySearch(sampled, labels[i]);
                }
                HeadShape restricted = new HeadShape(n, d, s);
                ReferencePass reference = new ReferencePass(restricted, loss);
                double[] logits = new double[n * s];
                double[] dx = new double[n * d];
                double[] dw = new double[s * d];
                double expectedLoss = reference.forward(ReferencePass.toDouble(x), wRestricted, remapped, 1.0, logits);
                reference.backward(dx, dw);
                assertEquals(expectedLoss, sharded.loss(), 1e-12 * Math.max(1.0, Math.abs(expectedLoss)), context);
                double[] shardedLogits = Arrays.stream(sharded.logits()).flatMapToDouble(Arrays::stream).toArray();
                double[] expectedLogitsByShard = new double[shardedLogits.length];
                int offset = 0;
                for (int k = 0; k < shards; k++) {
                    int[] classes = sharded.classes()[k];
                    for (int i = 0; i < n; i++) {
                        for (int column = 0; column < classes.length; column++) {
                            expectedLogitsByShard[offset + i * classes.length + column] = logits[i * s + Arrays.binarySearch(sampled, classes[column])];
                        }
                    }
                    offset += n * classes.length;
                }
                assertTrue(PassComparison.normwise(shardedLogits, expectedLogitsByShard, 0.0) < 1e-12, context + ": logits");
                assertTrue(PassComparison.normwise(sharded.dx(), dx, 1e-3) < 1e-12, context + ": dX");
                double[] dwFull = new double[shape.wSize()];
                for (int k = 0; k < s; k++) {
                    System.arraycopy(dw, k * d, dwFull, sampled[k] * d, d);
                }
                assertTrue(PassComparison.normwise(sharded.dw(), dwFull, 1e-3) < 1e-12, context + ": dW");

                // the jvm shards: the same sample, the same numbers within float32
                ShardedOutputs jvm = runSharded("jvm", shape, loss, x, w, labels, 1.0, shards, 0.3, seed, iteration, PassOptions.DEFAULTS);
                Outputs expected = referenceSharded(shape, loss, x, w, labels, 1.0, shards, 0.3, seed, iteration);
                for (int j = 0; j < shape.classes(); j++) {
                    assertEquals(Arrays.binarySearch(sampled, j) >= 0, jvm.computed()[j], context + ": class " + j + " sampled differently");
                }
                PassComparison.Errors errors = PassComparison.errors(shape, expected, jvm.outputs(), x, w);
                assertTrue(errors.worst() < 1e-4, context + ", jvm against the sharded reference: " + errors);
            }
        }
    }

    /** The split: contiguous, sizes differing by at most one, shardOf its inverse, and the network's W blocks split the same way. */
    @Test
    void theLayoutSplitsContiguouslyAsTheNetworkDoes() {
        Random random = new Random(Seeds.draw());
        for (int trial = 0; trial < 200; trial++) {
            int shards = 1 + random.nextInt(9);
            int classes = 2 * shards + random.nextInt(500);
            ShardLayout layout = new ShardLayout(classes, shards);
            assertEquals(0, layout.start(0));
            assertEquals(classes, layout.end(shards - 1));
            for (int k = 0; k < shards; k++) {
                assertEquals(org.lsoftmax.model.Network.shardStart(classes, shards, k), layout.start(k));
                assertTrue(layout.size(k) >= classes / shards && layout.size(k) <= classes / shards + 1);
                assertTrue(layout.sampleSize(k, 0.1, 16) >= Math.min(16, layout.size(k)));
            }
            for (int j = 0; j < classes; j++) {
                int k = layout.shardOf(j);
                assertTrue(layout.start(k) <= j && j < layout.end(k), "class " + j + " in shard " + k + " of " + layout);
            }
        }
        assertThrows(InvalidInputException.class, () -> new ShardLayout(7, 4));
    }

    @Test
    void theSampleIsAFunctionOfSeedIterationAndShardAndHoldsEveryPositive() {
        long seed = Seeds.draw();
        Random random = new Random(seed);
        int local = 1000;
        int size = 120;
        int[] labels = new int[64];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = random.nextInt(4) == 0 ? -1 : random.nextInt(local);
        }
        int[] remapped = new int[labels.length];
        ShardSampler first = new ShardSampler(local, size, seed, 1);
        first.sample(7, labels, remapped);
        int[] sample = first.selected().clone();
        int[] remappedFirst = remapped.clone();
        for (int k = 1; k < size; k++) {
            assertTrue(sample[k] > sample[k - 1], "ascending and distinct");
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0) {
                assertEquals(-1, remapped[i]);
            } else {
                assertEquals(labels[i], sample[remapped[i]], "label " + labels[i] + " remapped into the sample");
            }
        }
        // the same (seed, iteration, shard) again, after other draws: the same sample
        ShardSampler again = new ShardSampler(local, size, seed, 1);
        again.sample(3, labels, remapped);
        again.sample(7, labels, remapped);
        assertArrayEquals(sample, again.selected(), "seed " + seed);
        assertArrayEquals(remappedFirst, remapped);
        // another iteration or shard: another sample (1000 choose ~70 negatives: equal only by a miracle)
        again.sample(8, labels, remapped);
        assertNotEquals(Arrays.toString(sample), Arrays.toString(again.selected()));
        ShardSampler otherShard = new ShardSampler(local, size, seed, 2);
        otherShard.sample(7, labels, remapped);
        assertNotEquals(Arrays.toString(sample), Arrays.toString(otherShard.selected()));
        // negatives are spread over the block: each class about equally likely over many draws
        int[] counts = new int[local];
        int[] none = new int[labels.length];
        Arrays.fill(none, -1);
        ShardSampler uniform = new ShardSampler(local, size, seed, 0);
        for (int iteration = 0; iteration < 500; iteration++) {
            uniform.sample(iteration, none, remapped);
            for (int j : uniform.selected()) {
                counts[j]++;
            }
        }
        int expected = 500 * size / local; // 60
        for (int j = 0; j < local; j++) {
            assertTrue(counts[j] > expected / 3 && counts[j] < expected * 3, "class " + j + " drawn " + counts[j] + " times, expected about " + expected);
        }
    }

    /** A sampled step changes the sampled rows' values and momentum only; the other rows keep theirs, bit for bit. */
    @Test
    void rowsOutsideTheSampleAreUntouchedByAStep() {
        long seed = Seeds.draw();
        HeadShape shape = SAMPLED_SHAPE;
        int d = shape.features();
        RandomInputs inputs = RandomInputs.generate(shape, MarginLoss.arcface(16, 0.5), seed);
        ShardLayout layout = new ShardLayout(shape.classes(), 2);
        List<Parameter> weights = blocks(layout, inputs.wFloat(), d);
        Random random = new Random(seed);
        for (Parameter parameter : weights) {
            for (int i = 0; i < parameter.size(); i++) {
                parameter.momentum()[i] = (float) (0.01 * random.nextGaussian());
            }
        }
        List<float[]> valuesBefore = new ArrayList<>();
        List<float[]> momentumBefore = new ArrayList<>();
        for (Parameter parameter : weights) {
            valuesBefore.add(parameter.value().clone());
            momentumBefore.add(parameter.momentum().clone());
        }
        SgdMomentum optimizer = new SgdMomentum(0.9, 5e-4);
        try (ShardedHead head = (ShardedHead) HeadFactory.create("jvm", shape, MarginLoss.arcface(16, 0.5), PassOptions.DEFAULTS,
                new ShardOptions(2, List.of(), 0.3, seed), weights)) {
            head.setIteration(5);
            head.forward(inputs.xFloat(), inputs.labels(), 0.0);
            head.backward();
            assertTrue(optimizer.checkStep(weights, 0.1, 1e9, head::touchedRows) == null);
            optimizer.step(weights, 0.1, head::touchedRows);
            for (int k = 0; k < 2; k++) {
                Parameter parameter = weights.get(k);
                RowSelection selection = head.touchedRows(parameter);
                boolean[] touched = new boolean[layout.size(k)];
                for (int r = 0; r < selection.count(); r++) {
                    touched[selection.row(r)] = true;
                }
                int changed = 0;
                for (int row = 0; row < layout.size(k); row++) {
                    for (int col = 0; col < d; col++) {
                        int index = row * d + col;
                        if (!touched[row]) {
                            assertEquals(valuesBefore.get(k)[index], parameter.value()[index], "shard " + k + " row " + row + " value");
                            assertEquals(momentumBefore.get(k)[index], parameter.momentum()[index], "shard " + k + " row " + row + " momentum");
                            assertEquals(0.0f, parameter.gradient()[index], "shard " + k + " row " + row + " gradient");
                        } else if (parameter.value()[index] != valuesBefore.get(k)[index]) {
                            changed++;
                        }
                    }
                }
                assertTrue(changed > 0, "shard " + k + ": the sampled rows changed");
                assertEquals(layout.sampleSize(k, 0.3, shape.batch()), selection.count());
            }
        }
    }

    /** Bad input fails before any shard runs; a shard that fails mid-step stops the others; the head works again afterwards. */
    @Test
    void aFailingShardStopsTheStepAndTheHeadRecovers() {
        long seed = Seeds.draw();
        RandomInputs inputs = RandomInputs.generate(SHAPE, MarginLoss.lsoftmax(2), seed);
        ShardLayout layout = new ShardLayout(SHAPE.classes(), 4);
        List<Parameter> weights = blocks(layout, inputs.wFloat(), SHAPE.features());
        try (ShardedHead head = (ShardedHead) HeadFactory.create("jvm", SHAPE, MarginLoss.lsoftmax(2), PassOptions.DEFAULTS,
                new ShardOptions(4, List.of(), 1.0, 0), weights)) {
            int[] bad = inputs.labels().clone();
            bad[3] = SHAPE.classes();
            assertThrows(InvalidInputException.class, () -> head.forward(inputs.xFloat(), bad, 0.0));
            // shard 2's block holds a NaN: its pass refuses it; shards 0, 1, 3 must not wait forever
            weights.get(2).value()[5] = Float.NaN;
            InvalidInputException failure = assertThrows(InvalidInputException.class, () -> head.forward(inputs.xFloat(), inputs.labels(), 0.0));
            assertTrue(failure.getMessage().contains("W"), failure.getMessage());
            weights.get(2).value()[5] = inputs.wFloat()[layout.start(2) * SHAPE.features() + 5];
            double loss = head.forward(inputs.xFloat(), inputs.labels(), 0.0);
            Outputs reference = PassComparison.reference(SHAPE, MarginLoss.lsoftmax(2), 0.0, inputs.xFloat(), inputs.wFloat(), inputs.labels());
            assertEquals(reference.loss(), loss, 1e-4 * Math.max(1.0, Math.abs(reference.loss())));
            head.backward();
            int correct = head.correct();
            assertTrue(correct >= 0 && correct <= SHAPE.batch());
        }
    }

    /** correct(): the argmax of the plain logits over every class, combined over the shards, equals the unsharded head's. */
    @Test
    void predictionsCombineTheShardsArgmax() {
        long seed = Seeds.draw();
        RandomInputs inputs = RandomInputs.generate(SHAPE, MarginLoss.cosface(16, 0.35), seed);
        int[] expected = new int[SHAPE.batch()];
        try (HeadPass pass = PassFactory.create("reference", SHAPE, MarginLoss.cosface(16, 0.35), PassOptions.DEFAULTS)) {
            pass.forward(inputs.xFloat(), inputs.wFloat(), inputs.labels(), 0.0, new float[SHAPE.logitsSize()]);
            pass.predict(expected);
        }
        for (int shards : new int[] {2, 4}) {
            ShardLayout layout = new ShardLayout(SHAPE.classes(), shards);
            try (ShardedHead head = (ShardedHead) HeadFactory.create("jvm", SHAPE, MarginLoss.cosface(16, 0.35), PassOptions.DEFAULTS,
                    new ShardOptions(shards, List.of(), 1.0, 0), blocks(layout, inputs.wFloat(), SHAPE.features()))) {
                head.forward(inputs.xFloat(), inputs.labels(), 0.0);
                head.correct();
                assertArrayEquals(expected, head.predictions(), "seed " + seed + ", K=" + shards);
                int[] all = new int[SHAPE.batch()];
                head.evaluate(inputs.xFloat(), inputs.labels(), all);
                assertArrayEquals(expected, all, "evaluate, seed " + seed + ", K=" + shards);
            }
        }
    }

    /** evaluate() over every class in slices of a sampled pass's width: the plain predictions and loss of the unsharded margin-free head. */
    @Test
    void evaluationCoversEveryClassEvenWithSampling() {
        long seed = Seeds.draw();
        HeadShape shape = SAMPLED_SHAPE;
        MarginLoss loss = MarginLoss.arcface(16, 0.5);
        RandomInputs inputs = RandomInputs.generate(shape, loss, seed);
        int[] expected = new int[shape.batch()];
        Outputs plain = PassComparison.reference(shape, MarginLoss.arcface(16, 0.0), 0.0, inputs.xFloat(), inputs.wFloat(), inputs.labels());
        try (HeadPass pass = PassFactory.create("reference", shape, MarginLoss.arcface(16, 0.0), PassOptions.DEFAULTS)) {
            pass.forward(inputs.xFloat(), inputs.wFloat(), inputs.labels(), 0.0, new float[shape.logitsSize()]);
            pass.predict(expected);
        }
        for (int shards : new int[] {1, 2, 4}) {
            ShardLayout layout = new ShardLayout(shape.classes(), shards);
            try (ShardedHead head = (ShardedHead) HeadFactory.create("jvm", shape, loss, PassOptions.DEFAULTS,
                    new ShardOptions(shards, List.of(), 0.3, seed), blocks(layout, inputs.wFloat(), shape.features()))) {
                int[] predictions = new int[shape.batch()];
                double evaluated = head.evaluate(inputs.xFloat(), inputs.labels(), predictions);
                assertArrayEquals(expected, predictions, "seed " + seed + ", K=" + shards);
                assertEquals(plain.loss(), evaluated, 1e-4 * Math.max(1.0, plain.loss()), "seed " + seed + ", K=" + shards);
            }
        }
    }

    /** What crosses between the shards per step: X and dX (N D floats each), the labels, three N-double vectors; never W. */
    @Test
    void theWireCarriesTheBatchNotTheWeights() {
        HeadShape shape = new HeadShape(16, 9, 203);
        RandomInputs inputs = RandomInputs.generate(shape, MarginLoss.lsoftmax(1), 1);
        try (ShardedHead head = (ShardedHead) HeadFactory.create("jvm", shape, MarginLoss.lsoftmax(1), PassOptions.DEFAULTS,
                new ShardOptions(2, List.of(), 1.0, 0), blocks(new ShardLayout(203, 2), inputs.wFloat(), 9))) {
            head.forward(inputs.xFloat(), inputs.labels(), 0.0);
            head.backward();
            long n = shape.batch();
            long d = shape.features();
            long step = 4 * n * d + 4 * n + 3 * 8 * n + 4 * n * d;
            assertEquals(step, head.payloadBytes(0));
            assertEquals(step, head.payloadBytes(1));
            head.correct();
            assertEquals(step + 2 * 8 * n, head.payloadBytes(1));
        }
    }

    /** W, momentum and gradient, the logits and the device buffers of a shard are 1/K of the whole head's (+-5%). */
    @Test
    void memoryPerShardIsOneKthOfTheWhole() {
        HeadShape shape = new HeadShape(256, 128, 100_003);
        for (String passName : new String[] {"jvm", "tornado"}) {
            List<HeadFactory.ShardMemory> whole = HeadFactory.memory(passName, shape, MarginLoss.arcface(64, 0.5), ShardOptions.NONE, PassOptions.DEFAULTS);
            for (int shards : new int[] {2, 4}) {
                List<HeadFactory.ShardMemory> parts = HeadFactory.memory(passName, shape, MarginLoss.arcface(64, 0.5), new ShardOptions(shards, List.of(), 1.0, 0),
                        PassOptions.DEFAULTS);
                for (HeadFactory.ShardMemory part : parts) {
                    String context = passName + ", K=" + shards + ", shard " + part.shard();
                    assertWithin(whole.get(0).parameterBytes() / (double) shards, part.parameterBytes(), context + ": W, gradient, momentum");
                    assertWithin(whole.get(0).heapBytes() / (double) shards, part.heapBytes(), context + ": heap (logits, G, operands)");
                    if (whole.get(0).deviceBytes() > 0) {
                        assertWithin(whole.get(0).deviceBytes() / (double) shards, part.deviceBytes(), context + ": device buffers");
                    }
                }
            }
        }
    }

    private static void assertWithin(double expected, double actual, String what) {
        assertTrue(Math.abs(actual - expected) <= 0.05 * expected, what + ": " + actual + " bytes, 1/K of the whole is " + expected);
    }
}
