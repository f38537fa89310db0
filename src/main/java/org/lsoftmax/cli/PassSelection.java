package org.lsoftmax.cli;

import org.lsoftmax.head.PassOptions;
import org.lsoftmax.head.select.PassFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Option;

/** The options that choose a pass and where it runs, shared by every command that runs the head. */
final class PassSelection {

    private static final Logger LOG = LoggerFactory.getLogger(PassSelection.class);

    @Option(names = "--pass", defaultValue = PassFactory.AUTO, paramLabel = "PASS",
            description = {"auto, reference, jvm or tornado (default: ${DEFAULT-VALUE}).",
                "auto: tornado when TornadoVM sees a GPU or an accelerator, else jvm;",
                "reference: sequential, float64 (the oracle); jvm: all cores, float32;",
                "tornado: a TornadoVM device (OpenCL, PTX or SPIR-V), the jvm pass if none can run it."})
    String pass;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "T",
            description = "worker threads of the jvm pass and the network, 0 = one per core (in a job under mpirun: the cores "
                    + "shared among the job's processes on this host) (default: ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--device", paramLabel = "BACKEND:DEVICE",
            description = "TornadoVM device for --pass tornado, e.g. 0:0 (default: TornadoVM's default device; see `lsoftmax devices`)")
    String device;

    PassOptions options() {
        return new PassOptions(threads == 0 ? coresPerLocalRank() : threads, device);
    }

    /**
     * 0 (one per core), or under mpirun the cores divided among this host's ranks of the job (Open MPI's
     * OMPI_COMM_WORLD_LOCAL_SIZE): K processes of one thread per core each would run K times too many
     * threads, and MPI's waiting ranks poll.
     */
    private static int coresPerLocalRank() {
        String localSize = System.getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
        if (localSize == null) {
            return 0;
        }
        try {
            int ranks = Integer.parseInt(localSize.trim());
            return ranks <= 1 ? 0 : Math.max(1, Runtime.getRuntime().availableProcessors() / ranks);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** The pass to run: --pass, with auto resolved (and the choice logged with its reason). */
    String resolvedPass() {
        PassFactory.Choice choice = PassFactory.resolve(pass);
        if (pass.equals(PassFactory.AUTO)) {
            LOG.info("--pass auto: the {} pass ({})", choice.pass(), choice.reason());
        }
        return choice.pass();
    }
}
