package org.lsoftmax.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lsoftmax.data.Npy;

/**
 * {@code eval} on inputs whose results overflow (issue 14, finding 7): one line naming the input files and
 * their largest value, exit code 2, and no NaN or infinity written.
 */
class OverflowCommandTest {

    @TempDir
    Path folder;

    private CliRunner eval(Path x, Path w, Path y, String pass) {
        return CliRunner.run("eval", "--x", x.toString(), "--w", w.toString(), "--y", y.toString(), "--margin", "3",
                "--pass", pass, "--out", folder.resolve("out").toString());
    }

    private void assertOneLine(CliRunner result, String start, String... fragments) {
        assertEquals(Main.EXIT_BAD_INPUT, result.exitCode(), result.err());
        String line = result.err().strip();
        assertEquals(1, line.lines().count(), line);
        assertTrue(line.startsWith(start), line);
        for (String fragment : fragments) {
            assertTrue(line.contains(fragment), "lacks '" + fragment + "': " + line);
        }
        assertFalse(Files.exists(folder.resolve("out").resolve("loss.npy")), "nothing is written");
    }

    @Test
    void float32PassesRefuseLogitsThatOverflow() throws IOException {
        Path x = folder.resolve("x.npy");
        Path w = folder.resolve("w.npy");
        Path y = folder.resolve("y.npy");
        Npy.writeFloat32(x, new int[] {4, 3}, new float[] {1e19f, 2e19f, -1e19f, 3e19f, 1e19f, 1e19f, -2e19f, 1e19f, 1e19f,
            1e19f, -1e19f, 1e19f});
        Npy.writeFloat32(w, new int[] {2, 3}, new float[] {1e19f, 1e19f, 1e19f, -1e19f, 2e19f, 1e19f});
        Npy.writeInt32(y, new int[] {4}, new int[] {0, 1, 0, 1});
        // (the tornado pass's own check: OverflowTest; here it would only add a device compile)
        assertOneLine(eval(x, w, y, "jvm"), "error: " + x + " and " + w + ": the logits overflow float32 (the loss is ",
                "the largest |X| is 3.00e+19 (row 1, column 0)", "the largest |W| is 2.00e+19 (row 1, column 1)");
        // float64 holds these logits (about 1e39): the reference pass computes and writes them
        CliRunner reference = eval(x, w, y, "reference");
        assertEquals(0, reference.exitCode(), reference.err());
        double loss = Npy.read(folder.resolve("out").resolve("loss.npy")).toDoubles()[0];
        assertTrue(Double.isFinite(loss) && loss > 1e38, "loss " + loss);
    }

    @Test
    void aFiniteLossBesideAnOverflowingLogitIsRefusedToo() throws IOException {
        // class 1's logit is -1e39: -Infinity in float32, while the loss (class 0 wins by far) is finite
        Path x = folder.resolve("x.npy");
        Path w = folder.resolve("w.npy");
        Path y = folder.resolve("y.npy");
        Npy.writeFloat32(x, new int[] {1, 2}, new float[] {1e19f, 0f});
        Npy.writeFloat32(w, new int[] {2, 2}, new float[] {1f, 0f, -1e20f, 0f});
        Npy.writeInt32(y, new int[] {1}, new int[] {0});
        assertOneLine(eval(x, w, y, "jvm"), "error: " + x + " and " + w + ": the logits overflows float32 at row 0, column 1 (-Infinity)");
    }

    @Test
    void float64InputsBeyondTheRangeOfTheirPassAreRefusedNamingTheFile() throws IOException {
        Path x = folder.resolve("x.npy");
        Path w = folder.resolve("w.npy");
        Path y = folder.resolve("y.npy");
        Npy.writeFloat64(x, new int[] {2, 2}, new double[] {1e200, 1e200, -1e200, 1e200});
        Npy.writeFloat64(w, new int[] {2, 2}, new double[] {1e200, 1e200, 1e200, -1e200});
        Npy.writeInt32(y, new int[] {2}, new int[] {0, 1});
        assertOneLine(eval(x, w, y, "reference"), "error: " + x + " and " + w + ": the logits overflow float64 (the loss is ",
                "the largest |X| is 1.00e+200");
        // a float32 pass cannot even hold them: the file and the place are named, not "Infinity at row 0"
        assertOneLine(eval(x, w, y, "jvm"), "error: " + x + ": the value 1.0E200 at row 0, column 0 does not fit float32");
    }
}
