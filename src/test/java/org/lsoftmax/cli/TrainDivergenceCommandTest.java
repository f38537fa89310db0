package org.lsoftmax.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lsoftmax.train.Checkpoint;
import org.lsoftmax.train.CheckpointFiles;
import org.lsoftmax.train.CheckpointFormat;
import org.lsoftmax.train.TrainConfig;

/** {@code train} on a run that diverges: one error line, exit code 3, the last good checkpoint intact. */
class TrainDivergenceCommandTest {

    @TempDir
    Path directory;

    @Test
    void divergedRunEndsWithOneLineAndExitCodeThreeAndKeepsTheCheckpoint() throws Exception {
        Path out = directory.resolve("run");
        String[] common = {"--synthetic", "--hidden", "16", "--feature-dim", "4", "--batch", "128", "--out",
            out.toString(), "--quiet", "--seed", "4"};
        CliRunner first = CliRunner.run(concat(new String[] {"train", "--epochs", "1"}, common));
        assertEquals(0, first.exitCode(), first.err());

        // the resumed run takes its learning rate from the checkpoint: make it explode there
        Path last = out.resolve(CheckpointFiles.LAST_FILE);
        Checkpoint good = CheckpointFormat.read(last);
        TrainConfig c = good.config();
        TrainConfig explosive = new TrainConfig(c.margin(), c.hidden(), c.featureDimension(), c.batchSize(), 1e30,
                c.learningRateSteps(), c.momentum(), c.weightDecay(), c.epochs(), c.seed(), c.schedule(), c.passName());
        CheckpointFiles.writeAtomically(new Checkpoint(explosive, good.normalization(), good.inputSize(), good.classes(), good.epochsCompleted(),
                good.iteration(), good.tensors()), last);
        byte[] lastBefore = Files.readAllBytes(last);

        CliRunner diverged = CliRunner.run(concat(new String[] {"train", "--epochs", "2", "--resume"}, common));
        assertEquals(Main.EXIT_TRAINING_DIVERGED, diverged.exitCode(), diverged.err());
        String[] errorLines = diverged.err().strip().split("\\R");
        assertEquals(1, errorLines.length, diverged.err());
        // 4000 samples / 128 = 31 steps per epoch; the fourth diverged step in a row (iteration 31 + 3) stops
        assertTrue(errorLines[0].startsWith("error: training diverged at epoch 2 iteration 34: update of "),
                errorLines[0]);
        assertTrue(errorLines[0].endsWith("; last good checkpoint: " + last + " (epoch 1)"), errorLines[0]);
        assertArrayEquals(lastBefore, Files.readAllBytes(last), "last.ckpt is untouched");
        assertEquals(1, CheckpointFormat.read(last).epochsCompleted());
    }

    @Test
    void retriesMustBeNonNegative() {
        CliRunner result = CliRunner.run("train", "--synthetic", "--max-divergence-retries", "-1", "--out",
                directory.resolve("bad").toString(), "--quiet");
        assertEquals(Main.EXIT_BAD_INPUT, result.exitCode());
        assertEquals("error: divergence retries must be in [0, 1000], got -1", result.err().strip());
    }

    private static String[] concat(String[] first, String[] second) {
        String[] all = java.util.Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, all, first.length, second.length);
        return all;
    }
}
