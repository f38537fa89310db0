package org.lsoftmax.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lsoftmax.testing.ChildJvm;

/**
 * Inputs that lie about their size, in a JVM with a 64 MiB heap (issue 14, finding 10: a 3 MB gzip IDX
 * file that inflates to 3 GiB, and a data set of 1.9 million images, ended in OutOfMemoryError traces).
 * Now each is refused with one line and exit code 2 before the memory is taken.
 */
class LowMemoryCommandTest {

    private static final List<String> SMALL_HEAP = List.of("-Xmx64m");

    @TempDir
    Path folder;

    private static byte[] imagesHeader(int count, int rows, int columns) {
        return ByteBuffer.allocate(16).putInt(0x00000803).putInt(count).putInt(rows).putInt(columns).array();
    }

    private static byte[] labels(int count, int classes) {
        ByteBuffer buffer = ByteBuffer.allocate(8 + count).putInt(0x00000801).putInt(count);
        for (int i = 0; i < count; i++) {
            buffer.put((byte) (i % classes));
        }
        return buffer.array();
    }

    private void writeTestSplit(Path data) throws IOException {
        ByteBuffer images = ByteBuffer.allocate(16 + 20 * 784).put(imagesHeader(20, 28, 28));
        Files.write(data.resolve("t10k-images-idx3-ubyte"), images.array());
        Files.write(data.resolve("t10k-labels-idx1-ubyte"), labels(20, 10));
    }

    private static void assertOneErrorLine(ChildJvm.Result result, String fragment) {
        assertEquals(Main.EXIT_BAD_INPUT, result.exitCode(), result.err());
        List<String> errors = result.err().lines().filter(line -> line.startsWith("error: ")).toList();
        assertEquals(1, errors.size(), result.err());
        assertTrue(errors.get(0).contains(fragment), errors.get(0));
        assertFalse(result.err().contains("\tat ") || result.err().contains("OutOfMemoryError"), result.err());
    }

    @Test
    void aGzipFileThatInflatesFarBeyondItsHeaderIsRefusedWithinASmallHeap() throws IOException {
        Path data = Files.createDirectory(folder.resolve("data"));
        Path images = data.resolve("train-images-idx3-ubyte.gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(images), 1 << 16)) {
            out.write(imagesHeader(20, 28, 28));
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < 128 + 1; i++) { // 20 images, then 128 MiB more: twice the heap
                out.write(zeros, 0, i == 0 ? 20 * 784 : zeros.length);
            }
        }
        assertTrue(Files.size(images) < 1_000_000, "compressed " + Files.size(images));
        Files.write(data.resolve("train-labels-idx1-ubyte"), labels(20, 10));
        writeTestSplit(data);
        ChildJvm.Result result = ChildJvm.run(folder, SMALL_HEAP, 120, "train", "--data", data.toString(), "--pass", "jvm",
                "--quiet", "--batch", "10", "--out", folder.resolve("run").toString());
        assertOneErrorLine(result, images + ": more than 67108864 unexpected bytes after the 15680 bytes of 20 images of 28 x 28 pixels");
    }

    @Test
    void aDataSetLargerThanTheHeapIsRefusedBeforeItIsRead() throws IOException {
        Path data = Files.createDirectory(folder.resolve("data"));
        int count = 20_000; // 15.7 MB of pixels, 63 MB as floats: more than a 64 MiB heap holds beside them
        ByteBuffer images = ByteBuffer.allocate(16 + count * 784).put(imagesHeader(count, 28, 28));
        Files.write(data.resolve("train-images-idx3-ubyte"), images.array());
        Files.write(data.resolve("train-labels-idx1-ubyte"), labels(count, 10));
        writeTestSplit(data);
        ChildJvm.Result result = ChildJvm.run(folder, SMALL_HEAP, 120, "train", "--data", data.toString(), "--pass", "jvm",
                "--quiet", "--out", folder.resolve("run").toString());
        assertOneErrorLine(result, "bytes) of Java heap, but only ");
        assertTrue(result.err().contains("error: " + data.resolve("train-images-idx3-ubyte") + ": 20000 images as floats needs about "),
                result.err());
    }
}
