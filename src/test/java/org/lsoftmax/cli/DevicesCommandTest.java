package org.lsoftmax.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.lsoftmax.head.TornadoSupport;

class DevicesCommandTest {

    /** Lists the devices with a TornadoVM runtime; otherwise says there is none and why; exit code 0 either way. */
    @Test
    void listsDevicesOrSaysWhyNot() {
        CliRunner result = CliRunner.run("devices");
        assertEquals(0, result.exitCode(), result.err());
        if (TornadoSupport.isAvailable()) {
            assertTrue(result.out().contains("0:0"), result.out());
            assertTrue(result.out().contains("(default)"), result.out());
        } else {
            assertTrue(result.out().startsWith("no TornadoVM runtime: "), result.out());
        }
    }

    /** A malformed --device is bad input (exit code 2), with or without a TornadoVM runtime. */
    @Test
    void malformedDeviceIsBadInput() {
        CliRunner result = CliRunner.run("gradcheck", "--pass", "tornado", "--device", "gpu", "--margins", "2", "--trials", "1");
        assertEquals(Main.EXIT_BAD_INPUT, result.exitCode(), result.out() + result.err());
        assertTrue(result.err().contains("BACKEND:DEVICE"), result.err());
    }
}
