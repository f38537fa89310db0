package org.lsoftmax.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lsoftmax.data.Npy;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.MarginLoss;
import org.lsoftmax.head.reference.ReferencePass;
import org.lsoftmax.train.CheckpointFiles;
import org.lsoftmax.train.CheckpointFormat;

/** The loss options of eval and train: defaults per kind, and every bad value one line with exit code 2. */
class LossOptionsTest {

    @TempDir
    Path directory;

    private String[] evalArguments(String... loss) throws Exception {
        Path x = directory.resolve("x.npy");
        Path w = directory.resolve("w.npy");
        Path y = directory.resolve("y.npy");
        Npy.writeFloat64(x, new int[] {4, 3}, new double[] {1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1});
        Npy.writeFloat64(w, new int[] {2, 3}, new double[] {1, 2, 0, 0, 1, 2});
        Npy.writeInt32(y, new int[] {4}, new int[] {0, 1, 0, 1});
        String[] base = {"eval", "--x", x.toString(), "--w", w.toString(), "--y", y.toString(), "--out", directory.resolve("out").toString(),
            "--pass", "jvm"};
        String[] all = new String[base.length + loss.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(loss, 0, all, base.length, loss.length);
        return all;
    }

    @Test
    void badLossValuesEndInOneLineAndExitCodeTwo() throws Exception {
        String[][] bad = {
            {"--loss", "cosface", "--scale", "0"},
            {"--loss", "arcface", "--scale", "-3"},
            {"--loss", "arcface", "--m2", "3.2"},
            {"--loss", "arcface", "--m2", "-0.1"},
            {"--loss", "combined", "--m1", "0.5"},
            {"--loss", "combined", "--m3", "-0.2"},
            {"--loss", "arcface", "--margin", "4"},
            {"--loss", "cosface", "--m2", "0.5"},
            {"--loss", "lsoftmax", "--scale", "30"},
            {"--loss", "sphereface", "--margin", "17"},
            {"--loss", "hinge"},
        };
        for (String[] loss : bad) {
            CliRunner result = CliRunner.run(evalArguments(loss));
            String what = String.join(" ", loss) + ": " + result.err();
            assertEquals(2, result.exitCode(), what);
            assertEquals(1, result.err().strip().lines().count(), what);
            assertTrue(result.err().startsWith("error: "), what);
        }
    }

    @Test
    void defaultsFollowThePublishedSettings() throws Exception {
        for (String[] loss : new String[][] {{"--loss", "arcface"}, {"--loss", "cosface", "--scale", "16"}, {"--loss", "combined"},
            {"--loss", "sphereface"}}) {
            CliRunner result = CliRunner.run(evalArguments(loss));
            assertEquals(0, result.exitCode(), String.join(" ", loss) + ": " + result.err());
            assertTrue(Files.isRegularFile(directory.resolve("out").resolve("dw.npy")));
        }
        Object[][] expected = {{new String[] {"--loss", "arcface"}, MarginLoss.arcface(64, 0.5)},
            {new String[] {"--loss", "cosface"}, MarginLoss.cosface(64, 0.35)},
            {new String[] {"--loss", "combined"}, MarginLoss.combined(64, 1.0, 0.3, 0.2)},
            {new String[] {"--loss", "sphereface"}, MarginLoss.sphereface(4)},
            {new String[] {}, MarginLoss.lsoftmax(4)}};
        for (Object[] row : expected) {
            String[] options = (String[]) row[0];
            CliRunner result = CliRunner.run(evalArguments(options));
            assertEquals(0, result.exitCode(), result.err());
            double written = Npy.read(directory.resolve("out").resolve("loss.npy")).toDoubles()[0];
            double reference = new ReferencePass(new HeadShape(4, 3, 2), (MarginLoss) row[1]).forward(
                    new double[] {1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1}, new double[] {1, 2, 0, 0, 1, 2}, new int[] {0, 1, 0, 1}, 0.0,
                    new double[8]);
            assertEquals(reference, written, 1e-5 * Math.abs(reference), String.join(" ", options) + " is " + row[1]);
        }
    }

    /** The loss travels into the checkpoint and back (resume and test use it). */
    @Test
    void trainStoresTheLossInTheCheckpoint() {
        Path run = directory.resolve("run");
        CliRunner result = CliRunner.run("train", "--synthetic", "--loss", "arcface", "--scale", "16", "--m2", "0.4", "--epochs", "1",
                "--hidden", "16", "--feature-dim", "8", "--quiet", "--pass", "jvm", "--out", run.toString());
        assertEquals(0, result.exitCode(), result.err());
        assertEquals("arcface(s=16, m2=0.4)", CheckpointFormat.read(run.resolve(CheckpointFiles.LAST_FILE)).config().loss().toString());
    }
}
