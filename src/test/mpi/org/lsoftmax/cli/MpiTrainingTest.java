package org.lsoftmax.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lsoftmax.data.Npy;
import org.lsoftmax.head.mpi.MpiJob;
import org.lsoftmax.math.SplitMix64;
import org.lsoftmax.train.EpochMetrics;
import org.lsoftmax.train.MetricsCsv;
import org.lsoftmax.train.ShardSets;

/**
 * {@code train} and {@code eval} with {@code --collective mpi} as real jobs of two processes
 * ({@code mpirun -np 2}, the ranks on this test's class path): one epoch gives the single-process
 * {@code --shards 2} run and the plain run within 1e-4; eval gives the single-process sharded eval's
 * files; a rank killed with SIGKILL ends the job within seconds with one line naming it, the last whole
 * set is intact, and the resumed job ends where an uninterrupted one does, bit for bit.
 */
class MpiTrainingTest {

    private static final List<String> TINY = List.of("--synthetic", "--hidden", "32", "--feature-dim", "8", "--batch", "64", "--quiet",
            "--threads", "1", "--pass", "jvm");

    private static MpiJob.Result mpi(List<String> args, long timeoutSeconds) throws Exception {
        return MpiJob.run(2, List.of(), Main.class.getName(), args, timeoutSeconds);
    }

    private static List<String> args(String command, Path out, String... more) {
        List<String> args = new ArrayList<>(List.of(command, "--collective", "mpi", "--out", out.toString()));
        args.addAll(List.of(more));
        return args;
    }

    private static int local(String... args) {
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(new StringWriter()), new PrintWriter(err), args);
        assertEquals(0, code, err.toString());
        return code;
    }

    @Test
    void anEpochOfTwoRanksIsTheSingleProcessRun(@TempDir Path directory) throws Exception {
        MpiJob.assumeMpirun();
        Path job = directory.resolve("job");
        List<String> train = new ArrayList<>(args("train", job, "--epochs", "1"));
        train.addAll(TINY);
        MpiJob.Result result = mpi(train, 300);
        assertEquals(0, result.exitCode(), result.output());

        List<String> sharded = new ArrayList<>(List.of("train", "--epochs", "1", "--shards", "2", "--out", directory.resolve("sharded").toString()));
        sharded.addAll(TINY);
        local(sharded.toArray(String[]::new));
        List<String> plain = new ArrayList<>(List.of("train", "--epochs", "1", "--out", directory.resolve("plain").toString()));
        plain.addAll(TINY);
        local(plain.toArray(String[]::new));

        EpochMetrics ofJob = MetricsCsv.read(job.resolve("metrics.csv")).get(0);
        for (String other : List.of("sharded", "plain")) {
            EpochMetrics expected = MetricsCsv.read(directory.resolve(other).resolve("metrics.csv")).get(0);
            assertEquals(expected.iteration(), ofJob.iteration(), other);
            assertEquals(expected.trainLoss(), ofJob.trainLoss(), 1e-4 * expected.trainLoss(), other + ": train loss");
            assertEquals(expected.testLoss(), ofJob.testLoss(), 1e-4 * expected.testLoss(), other + ": test loss");
            assertEquals(expected.testAccuracy(), ofJob.testAccuracy(), 2e-3, other + ": test accuracy");
            assertEquals(expected.meanOwnAngle(), ofJob.meanOwnAngle(), 1e-2, other + ": angle to the own class");
        }
        // the job's checkpoint set is read whole by the single-process tools
        local("test", "--checkpoint", job.resolve(ShardSets.LAST_SET_FILE).toString(), "--synthetic", "--threads", "1");
    }

    @Test
    void anErrorOnRankZeroAloneEndsTheJobWithItsLine(@TempDir Path directory) throws Exception {
        MpiJob.assumeMpirun();
        // rank 0 refuses the folder (it holds another run) while rank 1 waits for the folder's name: the job must
        // end with rank 0's line and exit code, not hang in MPI_Finalize
        Path taken = directory.resolve("taken");
        Files.createDirectories(taken);
        Files.writeString(taken.resolve("metrics.csv"), "epoch\n");
        List<String> train = new ArrayList<>(args("train", taken, "--epochs", "1"));
        train.addAll(TINY);
        MpiJob.Result result = mpi(train, 120);
        assertEquals(2, result.exitCode(), result.output());
        assertTrue(result.output().contains("error: rank 0: " + taken + " holds another run"), result.output());
        assertTrue(result.seconds() < 60, "the job took " + result.seconds() + " s");
    }

    @Test
    void evalOfTwoRanksWritesTheSingleProcessShardedFiles(@TempDir Path directory) throws Exception {
        MpiJob.assumeMpirun();
        int n = 37;
        int d = 16;
        int c = 11;
        SplitMix64 random = new SplitMix64(5);
        float[] x = new float[n * d];
        float[] w = new float[c * d];
        int[] y = new int[n];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) random.nextGaussian();
        }
        for (int i = 0; i < n; i++) {
            y[i] = (int) Math.floorMod(random.nextLong(), c);
        }
        Path xFile = directory.resolve("x.npy");
        Path wFile = directory.resolve("w.npy");
        Path yFile = directory.resolve("y.npy");
        Npy.writeFloat32(xFile, new int[] {n, d}, x);
        Npy.writeFloat32(wFile, new int[] {c, d}, w);
        Npy.writeInt32(yFile, new int[] {n}, y);
        for (String loss : List.of("lsoftmax", "arcface")) {
            Path job = directory.resolve("job-" + loss);
            Path single = directory.resolve("single-" + loss);
            MpiJob.Result result = mpi(args("eval", job, "--x", xFile.toString(), "--w", wFile.toString(), "--y", yFile.toString(), "--loss", loss,
                    "--beta", "0.5", "--pass", "jvm", "--threads", "1"), 300);
            assertEquals(0, result.exitCode(), result.output());
            local("eval", "--shards", "2", "--out", single.toString(), "--x", xFile.toString(), "--w", wFile.toString(), "--y", yFile.toString(),
                    "--loss", loss, "--beta", "0.5", "--pass", "jvm", "--threads", "1");
            for (String file : List.of("loss.npy", "logits.npy", "dx.npy", "dw.npy")) {
                assertArrayEquals(Npy.read(single.resolve(file)).toFloats(), Npy.read(job.resolve(file)).toFloats(), loss + " " + file);
            }
        }
    }

    @Test
    void aKilledRankEndsTheJobInSecondsWithOneLineAndTheRunResumes(@TempDir Path directory) throws Exception {
        MpiJob.assumeMpirun();
        Path wrapper = Path.of("bin", "lsoftmax-mpi").toAbsolutePath();
        Path run = directory.resolve("run");
        List<String> train = new ArrayList<>(List.of(wrapper.toString(), "--oversubscribe", "-np", "2", "train", "--out", run.toString(),
                "--epochs", "400"));
        train.addAll(TINY);
        Path log = directory.resolve("job.log");
        ProcessBuilder builder = new ProcessBuilder(train).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("LSOFTMAX_LAUNCHER", launcher());
        Process job = builder.start();
        Path secondSet = ShardSets.setFolder(run, 2).resolve(ShardSets.SET_FILE);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        while (!Files.exists(secondSet) && job.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(Files.exists(secondSet), "the job wrote two sets: " + Files.readString(log));
        ProcessHandle rankOne = rank(job, 1).orElseThrow(() -> new AssertionError("no process of rank 1"));
        long killed = System.nanoTime();
        rankOne.destroyForcibly();
        assertTrue(job.waitFor(30, TimeUnit.SECONDS), "the job ended after its rank 1 was killed");
        double seconds = (System.nanoTime() - killed) / 1e9;
        assertTrue(seconds < 20, "the job took " + seconds + " s to end");
        assertTrue(job.exitValue() != 0, "a job with a killed rank fails");
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8).stream().filter(line -> !line.isBlank()).toList();
        List<String> wrapperLines = lines.stream().filter(line -> line.startsWith("lsoftmax-mpi:")).toList();
        assertEquals(1, wrapperLines.size(), String.join("\n", lines));
        assertTrue(wrapperLines.get(0).contains("rank 1") && wrapperLines.get(0).contains("signal 9")
                && wrapperLines.get(0).contains("--resume"), wrapperLines.get(0));
        assertTrue(lines.stream().noneMatch(line -> line.startsWith("-----")), "mpirun's banners are condensed: " + String.join("\n", lines));

        // the last whole set is intact; the run resumes from it and ends where an uninterrupted run does
        int epoch = Integer.parseInt(Files.readAllLines(run.resolve(ShardSets.LAST_SET_FILE)).stream()
                .filter(line -> line.startsWith("epoch=")).findFirst().orElseThrow().substring("epoch=".length()));
        assertTrue(epoch >= 2, "epoch " + epoch);
        String total = Integer.toString(epoch + 1);
        List<String> resume = new ArrayList<>(args("train", run, "--resume", "--epochs", total));
        resume.addAll(TINY);
        MpiJob.Result resumed = mpi(resume, 300);
        assertEquals(0, resumed.exitCode(), resumed.output());
        Path straight = directory.resolve("straight");
        List<String> uninterrupted = new ArrayList<>(args("train", straight, "--epochs", total));
        uninterrupted.addAll(TINY);
        MpiJob.Result whole = mpi(uninterrupted, 300);
        assertEquals(0, whole.exitCode(), whole.output());
        assertEquals(crcLines(ShardSets.setFolder(straight, epoch + 1)), crcLines(ShardSets.setFolder(run, epoch + 1)),
                "the resumed job's last set equals the uninterrupted job's, byte for byte");
        assertEquals(epoch + 1, MetricsCsv.read(run.resolve("metrics.csv")).size());
    }

    private static List<String> crcLines(Path setFolder) throws IOException {
        return Files.readAllLines(setFolder.resolve(ShardSets.SET_FILE)).stream().filter(line -> line.contains(".crc32=")).toList();
    }

    /** The ranks' command: java on this test's class path. */
    private static String launcher() {
        return String.join(" ", Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--enable-native-access=ALL-UNNAMED",
                "--add-modules", "jdk.incubator.vector", "-Xmx1g", "-cp", MpiJob.classPath(), Main.class.getName());
    }

    /** The process of the given rank among the job's descendants (Open MPI sets OMPI_COMM_WORLD_RANK in its environment). */
    private static Optional<ProcessHandle> rank(Process job, int rank) {
        return job.descendants().filter(process -> {
            try {
                String environment = Files.readString(Path.of("/proc", Long.toString(process.pid()), "environ"), StandardCharsets.ISO_8859_1);
                return environment.contains("\0OMPI_COMM_WORLD_RANK=" + rank + "\0") && process.info().command().orElse("").endsWith("java");
            } catch (IOException e) {
                return false;
            }
        }).findFirst();
    }
}
