package org.lsoftmax.fuzz;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** A scratch file per fuzz target (readers of outside input take paths), and gzip for inputs. */
final class FuzzFiles {

    private FuzzFiles() {
    }

    static Path scratch(String name) {
        try {
            Path folder = Path.of(System.getProperty("java.io.tmpdir"), "lsoftmax-fuzz-" + ProcessHandle.current().pid());
            Files.createDirectories(folder);
            return folder.resolve(name);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path write(String name, byte[] bytes) {
        Path file = scratch(name);
        try {
            Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    static byte[] gzip(byte[] bytes) {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(buffer)) {
            out.write(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return buffer.toByteArray();
    }
}
