package org.lsoftmax.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import org.lsoftmax.head.TornadoDeviceInfo;
import org.lsoftmax.head.TornadoSupport;
import org.lsoftmax.head.select.PassFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code devices}: the TornadoVM devices this JVM sees, as {@code BACKEND:DEVICE} ids for
 * {@code --device}, or a clear statement that there is no TornadoVM runtime (exit code 0 either way:
 * no device is not an error; {@code --pass tornado} then runs on the JVM).
 */
@Command(name = "devices", mixinStandardHelpOptions = true,
        description = {"List the TornadoVM devices (BACKEND:DEVICE ids for --device), or say why there are none."})
final class DevicesCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (!TornadoSupport.isAvailable()) {
            out.println("no TornadoVM runtime: " + TornadoSupport.unavailableReason());
            out.println("--pass tornado runs the " + PassFactory.FALLBACK_PASS + " pass instead. See tornado-config/README.md.");
            out.flush();
            return 0;
        }
        List<TornadoDeviceInfo> devices = TornadoSupport.listDevices();
        out.printf("%-7s %-8s %-4s %-10s %s%n", "DEVICE", "BACKEND", "TYPE", "MEMORY", "NAME");
        for (TornadoDeviceInfo device : devices) {
            out.printf("%-7s %-8s %-4s %-10s %s%s%n", device.id(), device.backend(), device.type(),
                    String.format("%.1f GiB", device.globalMemoryBytes() / (double) (1L << 30)), device.name(),
                    device.isDefault() ? "  (default)" : "");
        }
        out.flush();
        return 0;
    }
}
