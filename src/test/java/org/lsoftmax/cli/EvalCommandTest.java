package org.lsoftmax.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lsoftmax.check.RandomInputs;
import org.lsoftmax.data.Npy;
import org.lsoftmax.data.NpyArray;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.reference.ReferencePass;

class EvalCommandTest {

    private static final HeadShape SHAPE = new HeadShape(5, 4, 3);

    @TempDir
    Path folder;
    private RandomInputs inputs;
    private Path x;
    private Path w;
    private Path y;

    @BeforeEach
    void writeInputs() throws IOException {
        inputs = RandomInputs.generate(SHAPE, 3, 42);
        x = folder.resolve("x.npy");
        w = folder.resolve("w.npy");
        y = folder.resolve("y.npy");
        Npy.writeFloat64(x, new int[] {5, 4}, inputs.x());
        Npy.writeFloat32(w, new int[] {3, 4}, inputs.wFloat());
        Npy.writeInt32(y, new int[] {5}, inputs.labels());
    }

    private CliRunner eval(String... extra) {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("eval", "--x", x.toString(), "--w", w.toString(),
                "--y", y.toString(), "--out", folder.resolve("out").toString()));
        java.util.List<String> extraArgs = java.util.List.of(extra);
        if (!extraArgs.contains("--margin")) {
            args.addAll(java.util.List.of("--margin", "3"));
        }
        if (!extraArgs.contains("--beta")) {
            args.addAll(java.util.List.of("--beta", "0.5"));
        }
        args.addAll(extraArgs);
        return CliRunner.run(args.toArray(String[]::new));
    }

    @Test
    void referenceEvalWritesFloat64ResultsOfTheReferencePass() throws IOException {
        CliRunner result = eval("--pass", "reference");
        assertEquals(0, result.exitCode(), result.err());
        ReferencePass pass = new ReferencePass(SHAPE, 3);
        double[] logits = new double[15];
        double[] wAsRead = ReferencePass.toDouble(inputs.wFloat());
        double loss = pass.forward(inputs.x(), wAsRead, inputs.labels(), 0.5, logits);
        double[] dx = new double[20];
        double[] dw = new double[12];
        pass.backward(dx, dw);
        Path out = folder.resolve("out");
        NpyArray lossArray = Npy.read(out.resolve("loss.npy"));
        assertEquals(0, lossArray.rank());
        assertEquals(loss, lossArray.toDoubles()[0], 0.0);
        assertArrayEquals(new int[] {5, 3}, Npy.read(out.resolve("logits.npy")).shape());
        assertArrayEquals(logits, Npy.read(out.resolve("logits.npy")).toDoubles(), 0.0);
        assertArrayEquals(dx, Npy.read(out.resolve("dx.npy")).toDoubles(), 0.0);
        assertArrayEquals(new int[] {3, 4}, Npy.read(out.resolve("dw.npy")).shape());
        assertArrayEquals(dw, Npy.read(out.resolve("dw.npy")).toDoubles(), 0.0);
    }

    @Test
    void badInputsEndInOneLineAndExitCodeTwo() throws IOException {
        assertBadInput(eval("--margin", "0"), "error: margin m must be an integer in [1, 16], got 0");
        assertBadInput(eval("--beta", "-2"), "error: beta (lambda) must be a finite number >= 0, got -2.0");
        assertBadInput(eval("--pass", "gpu"), "error: unknown pass 'gpu', expected one of ");

        Npy.writeInt32(y, new int[] {5}, new int[] {0, 1, 2, 3, 0});
        assertBadInput(eval(), "error: " + y + ": label 3 at index 3 is outside [0, 3) (C = 3 rows in " + w + ")");
        Npy.writeInt32(y, new int[] {4}, new int[] {0, 1, 2, 0});
        assertBadInput(eval(), "error: sample counts differ: " + x + " has 5 rows but " + y + " has 4 labels");
        Npy.writeInt32(y, new int[] {5}, inputs.labels());

        Npy.writeFloat32(w, new int[] {3, 5}, new float[15]);
        assertBadInput(eval(), "error: feature sizes differ: " + x + " has shape (5, 4) (D = 4) but " + w
                + " has shape (3, 5) (D = 5)");
        Npy.writeFloat32(w, new int[] {12}, new float[12]);
        assertBadInput(eval(), "error: " + w + ": expected a 2-d array (C x D class weights), got shape (12,)");
        Npy.writeFloat32(w, new int[] {3, 4}, inputs.wFloat());

        double[] withNaN = inputs.x().clone();
        withNaN[4 * 2 + 1] = Double.NaN;
        Npy.writeFloat64(x, new int[] {5, 4}, withNaN);
        assertBadInput(eval(), "error: " + x + " has a non-finite value NaN at row 2, column 1");
        Files.write(x, new byte[] {1, 2, 3});
        assertBadInput(eval(), "error: " + x + ": not a .npy file (it does not start with \\x93NUMPY)");
        Files.delete(x);
        assertBadInput(eval(), "error: " + x + ": no such file");
        assertBadInput(CliRunner.run("eval", "--x", "a.npy"), "error: Missing required options: ");
    }

    private static void assertBadInput(CliRunner result, String expectedStart) {
        assertEquals(2, result.exitCode(), result.err());
        String message = result.err().strip();
        assertTrue(message.startsWith(expectedStart), "got: " + message);
        assertEquals(1, message.lines().count(), "one line: " + message);
    }

    @Test
    void gradcheckPassesAndReportsEveryLossAndMargin() {
        CliRunner result = CliRunner.run("gradcheck", "--pass", "jvm", "--margins", "1,2,5", "--scales", "1,64", "--trials", "1", "--seed", "3");
        assertEquals(0, result.exitCode(), result.out() + result.err());
        for (String loss : new String[] {"lsoftmax(m=1) ", "lsoftmax(m=5) ", "sphereface(m=2) ", "cosface(s=64, m3=0.35) ",
            "arcface(s=1, m2=0.5) ", "combined(s=64, m1=1.5, m2=0.3, m3=0.2) "}) {
            assertTrue(result.out().lines().anyMatch(line -> line.startsWith(loss) && line.contains("worst finite-difference relative error")
                    && line.contains("jvm vs reference") && line.contains("edges finite") && line.endsWith("ok")), loss + "\n" + result.out());
        }
        assertTrue(result.out().contains("gradcheck: all losses passed"));
    }

    @Test
    void gradcheckFailsWhenTheToleranceCannotBeMet() {
        CliRunner result = CliRunner.run("gradcheck", "--pass", "reference", "--margins", "4", "--trials", "1", "--seed", "3",
                "--tolerance", "1e-30");
        assertEquals(1, result.exitCode());
        assertTrue(result.out().contains("FAILED"));
    }
}
