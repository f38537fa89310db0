package org.lsoftmax.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lsoftmax.data.Normalization;
import org.lsoftmax.data.Npy;
import org.lsoftmax.train.Checkpoint;
import org.lsoftmax.train.CheckpointFiles;
import org.lsoftmax.train.CheckpointFormat;
import org.lsoftmax.train.FeaturesCsv;
import org.lsoftmax.train.TrainConfig;

/**
 * Inputs and options out of range end in one line and exit code 2, before any work, never in a stack
 * trace or a silently wrong result (issue 14, findings 8, 10 and 11).
 */
class InputLimitsCommandTest {

    /** Shared by the tests, which only read the run (the one that damages features.csv puts it back). */
    @TempDir
    static Path folder;
    private static Path run;
    private static Path checkpoint;

    /** A 2-D run of one epoch on the built-in data (8 steps of 500). */
    @BeforeAll
    static void trainATinyRun() {
        run = folder.resolve("run");
        CliRunner result = CliRunner.run("train", "--synthetic", "--hidden", "8", "--feature-dim", "2", "--batch", "500",
                "--epochs", "1", "--quiet", "--seed", "3", "--pass", "jvm", "--out", run.toString());
        assertEquals(0, result.exitCode(), result.err());
        checkpoint = run.resolve(CheckpointFiles.LAST_FILE);
    }

    static void assertOneLine(CliRunner result, String start, String... fragments) {
        assertEquals(Main.EXIT_BAD_INPUT, result.exitCode(), result.out() + result.err());
        String line = result.err().strip();
        assertEquals(1, line.lines().count(), "one line: " + line);
        assertTrue(line.startsWith(start), line);
        for (String fragment : fragments) {
            assertTrue(line.contains(fragment), "lacks '" + fragment + "': " + line);
        }
    }

    private static CliRunner test(Path checkpointFile, String... extra) {
        List<String> args = new ArrayList<>(List.of("test", "--checkpoint", checkpointFile.toString(), "--synthetic"));
        args.addAll(Arrays.asList(extra));
        return CliRunner.run(args.toArray(String[]::new));
    }

    /** Rewrites a checkpoint's payload (the CRC and the length follow), as an attacker would. */
    private static Path crafted(String name, byte[] payload) throws IOException {
        CRC32 crc = new CRC32();
        crc.update(payload);
        byte[] bytes = ByteBuffer.allocate(24 + payload.length).put("LSMXCKPT".getBytes(StandardCharsets.US_ASCII)).putInt(1)
                .putLong(payload.length).put(payload).putInt((int) crc.getValue()).array();
        return Files.write(folder.resolve(name), bytes);
    }

    private static byte[] payload() throws IOException {
        byte[] bytes = Files.readAllBytes(checkpoint);
        return Arrays.copyOfRange(bytes, 20, bytes.length - 4);
    }

    /** Finding 8: checkpoints with NaN weights or std = 0 were evaluated (accuracy 10%, loss NaN, exit 0). */
    @Test
    void craftedCheckpointsWithUnusableValuesAreRefused() throws IOException {
        Checkpoint good = CheckpointFormat.read(checkpoint);
        List<Checkpoint.Tensor> poisoned = new ArrayList<>(good.tensors());
        float[] values = poisoned.get(0).values().clone();
        values[3] = Float.NaN;
        poisoned.set(0, new Checkpoint.Tensor(poisoned.get(0).name(), values, poisoned.get(0).momentum()));
        Path nan = folder.resolve("nan.ckpt");
        Files.write(nan, CheckpointFormat.toBytes(new Checkpoint(good.config(), good.normalization(), good.inputSize(),
                good.classes(), good.epochsCompleted(), good.iteration(), poisoned)));
        assertOneLine(test(nan), "error: " + nan + ": checkpoint holds a non-finite value: dense1.weight is NaN");

        Path zeroStd = folder.resolve("std0.ckpt");
        Files.write(zeroStd, CheckpointFormat.toBytes(new Checkpoint(good.config(), new Normalization(0.5f, 0f),
                good.inputSize(), good.classes(), good.epochsCompleted(), good.iteration(), good.tensors())));
        assertOneLine(test(zeroStd), "error: " + zeroStd + ": unusable input normalisation (mean 0.5, std 0.0)");
    }

    /** Findings 10 and "unclear": a crafted configuration (feature dimension 2e9, margin 0) made an OOM trace or a message without the file. */
    @Test
    void aCraftedConfigurationIsRefusedNamingTheCheckpoint() throws IOException {
        Checkpoint good = CheckpointFormat.read(checkpoint);
        TrainConfig c = good.config();
        TrainConfig huge = new TrainConfig(c.margin(), c.hidden(), 2_000_000_000, c.batchSize(), c.learningRate(),
                c.learningRateSteps(), c.momentum(), c.weightDecay(), c.epochs(), c.seed(), c.schedule(), c.passName());
        Path wide = folder.resolve("wide.ckpt");
        Files.write(wide, CheckpointFormat.toBytes(new Checkpoint(huge, good.normalization(), good.inputSize(),
                good.classes(), good.epochsCompleted(), good.iteration(), good.tensors())));
        assertOneLine(test(wide), "error: " + wide + ": its configuration describes the network 32 -> 8 prelu -> 2000000000 "
                + "features -> L-Softmax over 10 classes of ", "parameters, but the file holds 310");

        String text = new String(payload(), StandardCharsets.ISO_8859_1).replace("loss=lsoftmax:m=2\n", "loss=lsoftmax:m=0\n");
        Path margin = crafted("margin.ckpt", text.getBytes(StandardCharsets.ISO_8859_1));
        assertOneLine(test(margin), "error: " + margin + ": training configuration: margin m must be an integer in [1, 16], got 0");
    }

    /** Finding 10: test --checkpoint /dev/zero ran out of memory; a FIFO hung (unclear). */
    @Test
    void aCheckpointThatIsNotARegularFileIsRefusedWithoutReadingIt() throws Exception {
        Path zero = Path.of("/dev/zero");
        assumeTrue(Files.exists(zero), "no /dev/zero here");
        assertOneLine(test(zero), "error: /dev/zero: not a checkpoint (not a regular file)");
        Path fifo = folder.resolve("fifo.ckpt");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assumeTrue(mkfifo.waitFor() == 0 && Files.exists(fifo), "no mkfifo here");
        CliRunner result = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> test(fifo));
        assertOneLine(result, "error: " + fifo + ": not a checkpoint (not a regular file)");
    }

    /** Finding 10: test --batch 2000000000 ran out of memory; the batch is now no larger than the split. */
    @Test
    void aHugeEvaluationBatchIsBoundedByTheSplit() {
        CliRunner result = test(checkpoint, "--batch", "2000000000");
        assertEquals(0, result.exitCode(), result.err()); // (the accuracy line goes to System.out)
        assertEquals("", result.err());
    }

    /** Finding 10: train --hidden 100000000 ended in a NegativeArraySizeException trace. */
    @Test
    void aNetworkThatNoArrayCanHoldIsRefusedBeforeTraining() {
        CliRunner result = CliRunner.run("train", "--synthetic", "--hidden", "100000000", "--epochs", "1", "--quiet", "--pass", "jvm",
                "--out", folder.resolve("huge").toString());
        assertOneLine(result, "error: the network 32 -> 100000000 prelu -> 64 features -> L-Softmax over 10 classes with "
                + "batches of 256 needs an array of 25600000000 values");
        assertTrue(!Files.exists(folder.resolve("huge").resolve("metrics.csv")));
    }

    /** Finding 10: eval --pass reference at N = 100000, C = 20000 ran out of memory (D = 1 here keeps the files small). */
    @Test
    void anEvalBeyondTheHeapIsRefusedBeforeAnythingIsAllocated() throws IOException {
        int n = 100_000;
        int c = 20_000;
        Path x = folder.resolve("x.npy");
        Path w = folder.resolve("w.npy");
        Path y = folder.resolve("y.npy");
        float[] xs = new float[n];
        Arrays.fill(xs, 1f);
        float[] ws = new float[c];
        Arrays.fill(ws, 0.5f);
        Npy.writeFloat32(x, new int[] {n, 1}, xs);
        Npy.writeFloat32(w, new int[] {c, 1}, ws);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % c;
        }
        Npy.writeInt32(y, new int[] {n}, labels);
        CliRunner result = CliRunner.run("eval", "--x", x.toString(), "--w", w.toString(), "--y", y.toString(), "--pass",
                "reference", "--out", folder.resolve("eval").toString());
        assertOneLine(result, "error: eval with the reference pass for the head (N=100000, D=1, C=20000) needs about ",
                "of Java heap, but only ");
    }

    /** Finding 10: plot --panel-size 100000 ended in a NegativeArraySizeException trace. */
    @Test
    void aPictureOfMoreThanTenThousandPixelsASideIsRefused() {
        assertOneLine(CliRunner.run("plot", run.toString(), "--panel-size", "100000"),
                "error: --columns and --points must be >= 1, --panel-size in [100, 10000], got 4, 4000 and 100000");
    }

    /** Finding 11: plot on a 0-byte or NaN-holding features.csv ended in a stack trace. */
    @Test
    void aDamagedFeaturesFileIsRefusedWithOneLine() throws IOException {
        Path features = run.resolve(FeaturesCsv.FILE_NAME);
        List<String> lines = Files.readAllLines(features);
        try {
            damagedFeatures(features, lines);
        } finally {
            Files.write(features, lines);
        }
        assertEquals(0, CliRunner.run("plot", run.toString(), "--panel-size", "120", "--points", "50").exitCode());
    }

    private static void damagedFeatures(Path features, List<String> lines) throws IOException {
        Files.write(features, new byte[0]);
        assertOneLine(CliRunner.run("plot", run.toString()), "error: " + features + ": is empty, expected the header label,x,y");
        List<String> withNaN = new ArrayList<>(lines);
        withNaN.set(5, "3,NaN,0.5");
        Files.write(features, withNaN);
        assertOneLine(CliRunner.run("plot", run.toString()), "error: " + features + ": line 6: the point (NaN, 0.5) is not finite");
        withNaN.set(5, "12,0.1,0.5");
        Files.write(features, withNaN);
        assertOneLine(CliRunner.run("plot", run.toString()), "error: " + features + ": line 6: label 12 is outside the 10 classes");
    }

    /** Finding 8: --lr-steps 0 and -1 were accepted. */
    @Test
    void learningRateStepsMustBeEpochsFromOne() {
        for (String steps : new String[] {"0", "-1", "3,0"}) {
            assertOneLine(CliRunner.run("train", "--synthetic", "--lr-steps", steps, "--out", folder.resolve("s").toString()),
                    "error: learning-rate steps are 1-based epochs, so each must be >= 1, got [");
        }
    }
}
