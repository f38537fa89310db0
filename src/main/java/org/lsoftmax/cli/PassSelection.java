package org.lsoftmax.cli;

import org.lsoftmax.head.PassOptions;
import picocli.CommandLine.Option;

/** The options that choose a pass and where it runs, shared by every command that runs the layer. */
final class PassSelection {

    @Option(names = "--pass", defaultValue = "jvm", paramLabel = "PASS",
            description = "reference (sequential, float64), jvm (multi-threaded, float32) or tornado (TornadoVM device) (default: ${DEFAULT-VALUE})")
    String pass;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "T",
            description = "worker threads of the jvm pass, 0 = one per core (default: ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--device", paramLabel = "BACKEND:DEVICE",
            description = "TornadoVM device for --pass tornado, e.g. 0:0 (default: TornadoVM's default device)")
    String device;

    PassOptions options() {
        return new PassOptions(threads, device);
    }
}
