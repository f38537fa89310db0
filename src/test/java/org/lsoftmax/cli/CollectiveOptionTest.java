package org.lsoftmax.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --collective}: a bad value, and {@code mpi} outside mpirun, are one line and exit 2, before any work. */
class CollectiveOptionTest {

    private static String[] run(String... args) {
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(new StringWriter()), new PrintWriter(err), args);
        return new String[] {Integer.toString(code), err.toString()};
    }

    @Test
    void anUnknownCollectiveIsRefused(@TempDir Path directory) {
        String[] result = run("train", "--collective", "tcp", "--synthetic", "--out", directory.resolve("run").toString());
        assertEquals("2", result[0], result[1]);
        assertEquals(1, result[1].strip().lines().count(), result[1]);
        assertTrue(result[1].contains("--collective must be local or mpi, got 'tcp'"), result[1]);
    }

    @Test
    void mpiOutsideMpirunSaysHowToStartAJob(@TempDir Path directory) {
        assumeTrue(System.getenv("OMPI_COMM_WORLD_SIZE") == null, "this test runs outside mpirun");
        for (String command : new String[] {"train", "eval"}) {
            String[] result = command.equals("train")
                    ? run("train", "--collective", "mpi", "--synthetic", "--out", directory.resolve("run").toString())
                    : run("eval", "--collective", "mpi", "--x", "x.npy", "--w", "w.npy", "--y", "y.npy", "--out", directory.toString());
            assertEquals("2", result[0], result[1]);
            assertTrue(result[1].contains("not started by mpirun") && result[1].contains("bin/lsoftmax-mpi -np K"), result[1]);
        }
    }

    @Test
    void theSyntheticLargeClassTaskRunsInOneProcess(@TempDir Path directory) {
        String[] result = run("train", "--collective", "mpi", "--synthetic-classes", "1000", "--out", directory.resolve("run").toString());
        assertEquals("2", result[0], result[1]);
        assertTrue(result[1].contains("runs in one process"), result[1]);
    }
}
