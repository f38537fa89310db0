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
        description = {"List the TornadoVM devices (BACKEND:DEVICE ids for --device and --devices), or say why there are none,",
            "and how to get several PoCL devices on one CPU for the class-sharded head (--shards K)."})
final class DevicesCommand implements Callable<Integer> {

    /** How to get several devices for the class-sharded head (docs/SCALING.md). */
    static final String SEVERAL_DEVICES = String.join(System.lineSeparator(),
            "The class-sharded head puts shard k on device k of --devices (eval/train --pass tornado --shards K --devices 0:0,0:1).",
            "Several OpenCL devices on one CPU: PoCL makes one device per entry of POCL_DEVICES, e.g.",
            "  POCL_DEVICES=\"pthread pthread\" bin/lsoftmax devices      (devices 0:0 and 0:1, sharing the cores;",
            "  POCL_MAX_PTHREAD_COUNT=N limits the threads of each). A GPU machine lists each GPU as a device of its backend.");

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (!TornadoSupport.isAvailable()) {
            out.println("no TornadoVM runtime: " + TornadoSupport.unavailableReason());
            out.println("--pass tornado runs the " + PassFactory.FALLBACK_PASS + " pass instead. See tornado-config/README.md.");
            out.println(SEVERAL_DEVICES);
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
        out.println(SEVERAL_DEVICES);
        out.flush();
        return 0;
    }
}
