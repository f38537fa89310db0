package org.lsoftmax.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lsoftmax.check.PassComparison;
import org.lsoftmax.check.RandomInputs;
import org.lsoftmax.data.Npy;
import org.lsoftmax.data.NpyArray;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.MarginLoss;
import org.lsoftmax.train.MetricsCsv;

/** The command line of the class-sharded head: eval --shards/--sample-rate, train --shards (with test on its checkpoint), train --synthetic-classes. */
class ShardCommandTest {

    @TempDir
    Path folder;

    private Path[] writeInputs(HeadShape shape, MarginLoss loss) throws IOException {
        RandomInputs inputs = RandomInputs.generate(shape, loss, 42);
        Path x = folder.resolve("x.npy");
        Path w = folder.resolve("w.npy");
        Path y = folder.resolve("y.npy");
        Npy.writeFloat64(x, new int[] {shape.batch(), shape.features()}, inputs.x());
        Npy.writeFloat64(w, new int[] {shape.classes(), shape.features()}, inputs.w());
        Npy.writeInt32(y, new int[] {shape.batch()}, inputs.labels());
        return new Path[] {x, w, y};
    }

    private CliRunner eval(Path[] files, String out, String... extra) {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("eval", "--x", files[0].toString(), "--w", files[1].toString(),
                "--y", files[2].toString(), "--loss", "cosface", "--scale", "16", "--out", folder.resolve(out).toString()));
        args.addAll(Arrays.asList(extra));
        return CliRunner.run(args.toArray(String[]::new));
    }

    /** eval --shards 3 gives the unsharded outputs: float64 within 1e-6, jvm within 1e-4. */
    @Test
    void evalWithShardsWritesTheUnshardedResults() throws IOException {
        HeadShape shape = new HeadShape(9, 6, 17);
        Path[] files = writeInputs(shape, MarginLoss.cosface(16, 0.35));
        assertEquals(0, eval(files, "single", "--pass", "reference").exitCode());
        for (String pass : new String[] {"reference", "jvm"}) {
            CliRunner result = eval(files, pass, "--pass", pass, "--shards", "3");
            assertEquals(0, result.exitCode(), result.err());
            double tolerance = pass.equals("reference") ? 1e-6 : 1e-4;
            for (String name : new String[] {"logits.npy", "loss.npy", "dx.npy", "dw.npy"}) {
                double[] expected = Npy.read(folder.resolve("single").resolve(name)).toDoubles();
                NpyArray actual = Npy.read(folder.resolve(pass).resolve(name));
                double error = PassComparison.normwise(actual.toDoubles(), expected, 1e-3);
                assertTrue(error < tolerance, pass + " " + name + ": " + error);
            }
            assertTrue(Files.notExists(folder.resolve(pass).resolve("classes.npy")));
        }
    }

    /** eval --sample-rate 0.3: the logits of the sampled classes (listed in classes.npy), the positives among them; jvm equals the reference. */
    @Test
    void evalWithSampledNegativesListsTheSampledClasses() throws IOException {
        HeadShape shape = new HeadShape(8, 5, 120);
        Path[] files = writeInputs(shape, MarginLoss.cosface(16, 0.35));
        for (String pass : new String[] {"reference", "jvm"}) {
            CliRunner result = eval(files, "sampled-" + pass, "--pass", pass, "--shards", "2", "--sample-rate", "0.3", "--seed", "5");
            assertEquals(0, result.exitCode(), result.err());
        }
        int[] classes = Npy.read(folder.resolve("sampled-reference").resolve("classes.npy")).toInts();
        assertArrayEquals(classes, Npy.read(folder.resolve("sampled-jvm").resolve("classes.npy")).toInts());
        assertEquals(2 * 18, classes.length, "ceil(0.3 x 60) per shard");
        for (int label : Npy.read(folder.resolve("y.npy")).toInts()) {
            assertTrue(Arrays.binarySearch(classes, label) >= 0, "positive " + label);
        }
        NpyArray logits = Npy.read(folder.resolve("sampled-jvm").resolve("logits.npy"));
        assertArrayEquals(new int[] {8, classes.length}, logits.shape());
        for (String name : new String[] {"logits.npy", "loss.npy", "dx.npy", "dw.npy"}) {
            double error = PassComparison.normwise(Npy.read(folder.resolve("sampled-jvm").resolve(name)).toDoubles(),
                    Npy.read(folder.resolve("sampled-reference").resolve(name)).toDoubles(), 1e-3);
            assertTrue(error < 1e-4, name + ": " + error);
        }
    }

    @Test
    void badShardOptionsAreBadInput() throws IOException {
        Path[] files = writeInputs(new HeadShape(4, 3, 5), MarginLoss.cosface(16, 0.35));
        CliRunner tooMany = eval(files, "bad", "--pass", "jvm", "--shards", "3");
        assertEquals(Main.EXIT_BAD_INPUT, tooMany.exitCode(), tooMany.err());
        assertTrue(tooMany.err().contains("shards"), tooMany.err());
        CliRunner rate = eval(files, "bad", "--pass", "jvm", "--shards", "2", "--sample-rate", "1.5");
        assertEquals(Main.EXIT_BAD_INPUT, rate.exitCode(), rate.err());
        assertTrue(rate.err().contains("--sample-rate"), rate.err());
        CliRunner device = eval(files, "bad", "--pass", "jvm", "--shards", "2", "--devices", "gpu");
        assertEquals(Main.EXIT_BAD_INPUT, device.exitCode(), device.err());
    }

    /** train --shards 2 on the built-in data writes a checkpoint of two W blocks; test and a resume read it. */
    @Test
    void trainWithShardsAndTestItsCheckpoint() {
        Path out = folder.resolve("run");
        CliRunner train = CliRunner.run("train", "--synthetic", "--epochs", "1", "--hidden", "16", "--feature-dim", "4", "--batch", "100",
                "--pass", "jvm", "--shards", "2", "--quiet", "--out", out.toString());
        assertEquals(0, train.exitCode(), train.err());
        CliRunner test = CliRunner.run("test", "--synthetic", "--checkpoint", out.resolve("last.ckpt").toString());
        assertEquals(0, test.exitCode(), test.err());
        CliRunner resume = CliRunner.run("train", "--synthetic", "--resume", "--epochs", "2", "--pass", "jvm", "--quiet", "--out", out.toString());
        assertEquals(0, resume.exitCode(), resume.err());
        CliRunner wrong = CliRunner.run("train", "--synthetic", "--resume", "--epochs", "3", "--pass", "jvm", "--shards", "4", "--quiet", "--out",
                out.toString());
        assertEquals(Main.EXIT_BAD_INPUT, wrong.exitCode(), wrong.err());
        assertTrue(wrong.err().contains("--shards 2"), wrong.err());
    }

    /** train --synthetic-classes: the head alone on generated data, metrics.csv, steps.csv and curves.png, held-out accuracy far above chance. */
    @Test
    void trainOnTheSyntheticLargeClassTask() throws IOException {
        Path out = folder.resolve("synthetic");
        CliRunner train = CliRunner.run("train", "--synthetic-classes", "3000", "--synthetic-dim", "32", "--shards", "2", "--sample-rate", "0.2",
                "--loss", "cosface", "--scale", "30", "--m3", "0.2", "--lr", "2", "--batch", "128", "--epochs", "2", "--steps-per-epoch", "40",
                "--eval-samples", "256", "--pass", "jvm", "--out", out.toString());
        assertEquals(0, train.exitCode(), train.err());
        assertTrue(Files.isRegularFile(out.resolve("curves.png")));
        assertTrue(Files.readAllLines(out.resolve("steps.csv")).size() == 81);
        var metrics = MetricsCsv.read(out.resolve(MetricsCsv.FILE_NAME));
        assertEquals(2, metrics.size());
        assertTrue(metrics.get(1).testAccuracy() > 30.0 / 3000, "held-out accuracy " + metrics.get(1).testAccuracy());
    }
}
