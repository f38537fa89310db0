package org.lsoftmax.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.lsoftmax.cli.Main;

/**
 * Fuzzes the command line's argument handling with {@code eval}: option names and values drawn from
 * the fuzzer (numbers, words, paths to fuzzed .npy files). Every run must end in exit code 0 (a valid
 * evaluation) or 2 (bad input, one line on stderr); an uncaught exception or exit code 1 is a finding.
 */
class CliFuzzTest {

    private static final String[] OPTIONS = {"--x", "--w", "--y", "--margin", "--beta", "--pass", "--out", "--threads",
        "--device", "--help", "--version", "eval", "gradcheck", "--unknown", "-", "--", "--shards", "--sample-rate", "--devices", "--seed"};
    private static final String[] PASSES = {"reference", "jvm", "tornado", "", "JVM", "gpu"};

    private static Path folder;

    private static synchronized Path folder() {
        if (folder == null) {
            try {
                folder = Files.createTempDirectory("cli-fuzz");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return folder;
    }

    @FuzzTest(maxDuration = "30s")
    void evalArguments(FuzzedDataProvider data) throws IOException {
        Path dir = folder();
        Path x = dir.resolve("x.npy");
        Path w = dir.resolve("w.npy");
        Path y = dir.resolve("y.npy");
        int n = data.consumeInt(1, 4);
        int d = data.consumeInt(1, 4);
        int c = data.consumeInt(1, 4);
        NpyBytes.writeFloats(x, new int[] {n, d}, data);
        NpyBytes.writeFloats(w, new int[] {c, d}, data);
        NpyBytes.writeInts(y, new int[] {n}, data);

        List<String> args = new ArrayList<>(List.of("eval", "--x", x.toString(), "--w", w.toString(), "--y", y.toString(),
                "--out", dir.resolve("out").toString(), "--pass", data.pickValue(PASSES)));
        int extra = data.consumeInt(0, 4);
        for (int i = 0; i < extra; i++) {
            args.add(data.pickValue(OPTIONS));
            args.add(data.consumeBoolean() ? Integer.toString(data.consumeInt(-3, 20)) : data.consumeString(12));
        }
        if (data.consumeBoolean()) {
            args.add(data.pickValue(OPTIONS));
        }
        StringWriter err = new StringWriter();
        int exitCode = Main.run(new PrintWriter(new StringWriter()), new PrintWriter(err), args.toArray(String[]::new));
        assertTrue(exitCode == 0 || exitCode == 2, "exit code " + exitCode + " for " + args + ": " + err);
        if (exitCode == 2) {
            assertTrue(err.toString().startsWith("error: "), "bad input must be reported as one 'error:' line: " + err);
        }
    }
}
