package org.lsoftmax.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lsoftmax.testing.ChildJvm;
import org.lsoftmax.testing.Seeds;
import org.lsoftmax.testing.TinyRuns;
import org.lsoftmax.train.Checkpoint;
import org.lsoftmax.train.CheckpointFiles;
import org.lsoftmax.train.MetricsCsv;

/**
 * {@code train} in a process of its own, killed with SIGKILL at random moments (issue 14, finding 2 and
 * the kills of the report): while it runs, a second {@code train} on its folder is refused by the lock
 * (the other process named); after each kill the lock is free, no valid checkpoint was lost, and the run
 * resumed to the end writes a last.ckpt byte-identical to an uninterrupted run's.
 */
class KillCommandTest {

    private static final String[] RUN = {"--synthetic", "--hidden", "16", "--feature-dim", "4", "--batch", "500",
        "--quiet", "--pass", "jvm", "--threads", "1", "--seed", "5", "--epochs", "25"};
    private static final int KILLS = 3;

    @TempDir
    Path folder;

    private static String[] train(Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("train"));
        args.addAll(Arrays.asList(RUN));
        args.addAll(Arrays.asList(extra));
        args.addAll(List.of("--out", out.toString()));
        return args.toArray(String[]::new);
    }

    @Test
    void aRunKilledAtRandomMomentsIsLockedWhileAliveAndResumesToTheUninterruptedRunsBytes() throws Exception {
        Random random = new Random(Seeds.draw());
        Path reference = folder.resolve("reference");
        CliRunner uninterrupted = CliRunner.run(train(reference));
        assertEquals(0, uninterrupted.exitCode(), uninterrupted.err());

        Path run = folder.resolve("run");
        Path metrics = run.resolve(MetricsCsv.FILE_NAME);
        int validBefore = 0;
        int newestBefore = 0;
        boolean lockSeen = false;
        for (int kill = 0; kill < KILLS; kill++) {
            boolean anyCheckpoint = Files.exists(run.resolve(CheckpointFiles.LAST_FILE))
                    || Files.exists(run.resolve(CheckpointFiles.PREVIOUS_FILE));
            String[] args = anyCheckpoint ? train(run, "--resume") : train(run, "--overwrite");
            int rowsBefore = Files.exists(metrics) ? MetricsCsv.read(metrics).size() : 0;
            Process child = ChildJvm.start(List.of(), folder.resolve("child" + kill + ".out"),
                    folder.resolve("child" + kill + ".err"), args);
            try {
                // wait until the child has saved an epoch of its own, then kill it at a random moment after
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (child.isAlive() && rowsOf(metrics) <= rowsBefore && System.nanoTime() < deadline) {
                    Thread.sleep(2);
                }
                if (!lockSeen && child.isAlive()) {
                    CliRunner second = CliRunner.run(train(run, "--resume"));
                    if (child.isAlive()) {
                        assertEquals(Main.EXIT_BAD_INPUT, second.exitCode(), second.err());
                        assertTrue(second.err().strip().startsWith("error: " + run + " is in use by another train (pid "
                                + child.pid() + ", since "), second.err());
                        lockSeen = true;
                    }
                }
                if (!child.isAlive()) {
                    // it ended before the kill: it must have finished, not been refused (a lock left behind)
                    assertEquals(0, child.exitValue(), Files.readString(folder.resolve("child" + kill + ".err")));
                }
                Thread.sleep(random.nextInt(120));
            } finally {
                child.destroyForcibly(); // SIGKILL: no shutdown hook, no finally block runs in the child
                child.waitFor(30, TimeUnit.SECONDS);
            }
            List<Checkpoint> valid = TinyRuns.validCheckpoints(run);
            int newest = valid.stream().mapToInt(Checkpoint::epochsCompleted).max().orElse(0);
            assertTrue(valid.size() >= validBefore, "kill " + kill + ": fewer valid checkpoints, " + TinyRuns.names(run));
            assertTrue(newest >= newestBefore, "kill " + kill + ": the newest checkpoint went back to epoch " + newest);
            validBefore = valid.size();
            newestBefore = newest;
        }
        assertTrue(lockSeen, "a second train never met the running one");
        CliRunner resumed = CliRunner.run(newestBefore > 0 ? train(run, "--resume") : train(run, "--overwrite"));
        assertEquals(0, resumed.exitCode(), resumed.err());
        assertEquals(-1L, Files.mismatch(reference.resolve(CheckpointFiles.LAST_FILE), run.resolve(CheckpointFiles.LAST_FILE)),
                "last.ckpt differs from the uninterrupted run's (killed at epochs up to " + newestBefore + ")");
        assertEquals(withoutTimes(reference.resolve(MetricsCsv.FILE_NAME)), withoutTimes(metrics));
        try (var files = Files.list(run)) {
            assertTrue(files.noneMatch(file -> file.getFileName().toString().endsWith(".tmp")), TinyRuns.names(run).toString());
        }
    }

    private static int rowsOf(Path metrics) {
        try {
            return Files.exists(metrics) ? MetricsCsv.read(metrics).size() : 0;
        } catch (RuntimeException e) {
            return 0; // replaced between the check and the read
        }
    }

    private static List<String> withoutTimes(Path metrics) throws IOException {
        List<String> rows = new ArrayList<>();
        for (String line : Files.readAllLines(metrics)) {
            String[] columns = line.split(",");
            rows.add(String.join(",", Arrays.asList(columns).subList(0, 10)));
        }
        return rows;
    }
}
