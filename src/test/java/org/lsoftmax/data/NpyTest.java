package org.lsoftmax.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lsoftmax.InvalidInputException;

/** The fixtures under src/test/resources/npy were written by NumPy 2.4 (np.save and numpy.lib.format). */
class NpyTest {

    private static final double[] EXPECTED_2X3 = {0.0, 0.25, 0.5, 0.75, 1.0, 1.25};

    @TempDir
    Path folder;

    private static NpyArray fixture(String name) throws IOException {
        try (InputStream in = NpyTest.class.getResourceAsStream("/npy/" + name)) {
            return Npy.parse(name, in.readAllBytes());
        }
    }

    private static InvalidInputException fixtureError(String name) {
        return assertThrows(InvalidInputException.class, () -> fixture(name));
    }

    @Test
    void readsEveryHeaderVersionAndByteOrder() throws IOException {
        for (String name : new String[] {"f4_v1.npy", "f8_v2.npy", "f4_v3.npy", "f4_big_endian.npy", "f8_fortran.npy"}) {
            NpyArray array = fixture(name);
            assertArrayEquals(new int[] {2, 3}, array.shape(), name);
            assertArrayEquals(EXPECTED_2X3, array.toDoubles(), 0.0, name);
        }
        assertEquals(NpyDtype.FLOAT64, fixture("f8_v2.npy").dtype());
        assertEquals(NpyDtype.FLOAT32, fixture("f4_big_endian.npy").dtype());
    }

    @Test
    void reordersThreeDimensionalFortranData() throws IOException {
        NpyArray array = fixture("f4_3d_fortran.npy");
        assertArrayEquals(new int[] {2, 3, 4}, array.shape());
        for (int i = 0; i < 24; i++) {
            assertEquals(i, array.toDoubles()[i], 0.0);
        }
    }

    @Test
    void readsIntegerLabelsAndScalars() throws IOException {
        assertArrayEquals(new int[] {0, 2, 1, 1}, fixture("i8_labels.npy").toInts());
        assertArrayEquals(new int[] {3, 0, 1}, fixture("i4_labels.npy").toInts());
        NpyArray scalar = fixture("scalar_f8.npy");
        assertEquals(0, scalar.rank());
        assertEquals(2.5, scalar.toDoubles()[0]);
    }

    /** The writer produces the very bytes NumPy writes. */
    @Test
    void writesWhatNumpyWrites() throws IOException {
        Path file = folder.resolve("out.npy");
        Npy.writeFloat32(file, new int[] {2, 3}, new float[] {0f, 0.25f, 0.5f, 0.75f, 1f, 1.25f});
        try (InputStream in = NpyTest.class.getResourceAsStream("/npy/f4_v1.npy")) {
            assertArrayEquals(in.readAllBytes(), Files.readAllBytes(file));
        }
    }

    @Test
    void roundTripsEveryWrittenType() throws IOException {
        Path f64 = folder.resolve("a.npy");
        Npy.writeFloat64(f64, new int[0], new double[] {Math.PI});
        assertEquals(Math.PI, Npy.read(f64).toDoubles()[0]);
        Path i32 = folder.resolve("b.npy");
        Npy.writeInt32(i32, new int[] {3}, new int[] {7, -1, 2});
        assertArrayEquals(new int[] {7, -1, 2}, Npy.read(i32).toInts());
        Path empty = folder.resolve("c.npy");
        Npy.writeFloat32(empty, new int[] {0, 5}, new float[0]);
        assertArrayEquals(new int[] {0, 5}, Npy.read(empty).shape());
        try (var files = Files.list(folder)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary file left behind");
        }
    }

    @Test
    void refusesWhatItCannotRead() {
        assertEquals("bool.npy: unsupported dtype '|b1' (supported: float32, float64, int32, int64)",
                fixtureError("bool.npy").getMessage());
        assertTrue(fixtureError("structured.npy").getMessage().startsWith("structured.npy: structured dtypes are not supported"));
        assertEquals("truncated.npy: truncated data: shape (2, 3) of <f4 needs 24 bytes, the file has 19",
                fixtureError("truncated.npy").getMessage());
        assertEquals("trailing.npy: 4 unexpected bytes after the data of shape (2, 3) <f4",
                fixtureError("trailing.npy").getMessage());
        assertEquals("not_npy.npy: not a .npy file (it does not start with \\x93NUMPY)", fixtureError("not_npy.npy").getMessage());
        InvalidInputException missing = assertThrows(InvalidInputException.class, () -> Npy.read(folder.resolve("missing.npy")));
        assertEquals(folder.resolve("missing.npy") + ": no such file", missing.getMessage());
        byte[] version9 = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 9, 0, 0, 0};
        assertEquals("v9.npy: unsupported .npy format version 9.0 (1.0, 2.0 and 3.0 are supported)",
                assertThrows(InvalidInputException.class, () -> Npy.parse("v9.npy", version9)).getMessage());
        byte[] commasOnly = "\u0093NUMPY\u0001\u0000\u003c\u0000{'descr': '<i4', 'fortran_order': False, 'shape': ( ,, ), }\n"
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1); // found by NpyFuzzTest
        assertEquals("c.npy: malformed shape (,,) in .npy header",
                assertThrows(InvalidInputException.class, () -> Npy.parse("c.npy", commasOnly)).getMessage());
        byte[] shortHeader = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 100, 0, '{'};
        assertTrue(assertThrows(InvalidInputException.class, () -> Npy.parse("h.npy", shortHeader)).getMessage()
                .startsWith("h.npy: truncated .npy header"));
    }

    @Test
    void refusesTheWrongKindOfArrayForItsUse() throws IOException {
        assertEquals("i8_labels.npy: expected a float array (float32 or float64), got dtype <i8",
                assertThrows(InvalidInputException.class, () -> fixture("i8_labels.npy").toFloats()).getMessage());
        assertEquals("f4_v1.npy: expected an integer array (int32 or int64), got dtype <f4",
                assertThrows(InvalidInputException.class, () -> fixture("f4_v1.npy").toInts()).getMessage());
        assertEquals("f4_v1.npy: expected a 1-d array (N labels), got shape (2, 3)",
                assertThrows(InvalidInputException.class, () -> fixture("f4_v1.npy").requireRank(1, "N labels")).getMessage());
    }

    /**
     * Issue 14, finding 8: a header with a second 'shape' key was read by its first one, NumPy reads its
     * last: refused, whatever key is repeated.
     */
    @Test
    void aHeaderThatRepeatsAKeyIsRefused() {
        for (String key : new String[] {"shape", "descr", "fortran_order"}) {
            String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), ";
            dict += switch (key) {
                case "shape" -> "'shape': (1,), }";
                case "descr" -> "'descr': '<f8', }";
                default -> "'fortran_order': True, }";
            };
            byte[] headerText = (dict + " ".repeat(64) + "\n").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
            java.nio.ByteBuffer file = java.nio.ByteBuffer.allocate(10 + headerText.length + 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            file.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) headerText.length).put(headerText);
            InvalidInputException error = assertThrows(InvalidInputException.class, () -> Npy.parse("dup.npy", file.array()));
            assertTrue(error.getMessage().startsWith("dup.npy: malformed .npy header, the key '" + key + "' appears 2 times"),
                    error.getMessage());
        }
    }
}
