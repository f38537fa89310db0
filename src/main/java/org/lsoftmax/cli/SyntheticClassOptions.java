package org.lsoftmax.cli;

import picocli.CommandLine.Option;

/**
 * train's synthetic large-class task (docs/SCALING.md): Gaussian class centres on the sphere, batches
 * generated on the fly, the head trained alone on them (no trunk), held-out accuracy against chance.
 */
final class SyntheticClassOptions {

    @Option(names = "--synthetic-classes", paramLabel = "C",
            description = "Train the head alone on a synthetic task of C classes (class centres on the unit sphere, samples "
                    + "generated on the fly: 10^6 classes need no data set); prints held-out top-1 accuracy vs chance 1/C.")
    Integer classes;

    @Option(names = "--synthetic-dim", defaultValue = "128", paramLabel = "D",
            description = "Feature dimension of the synthetic task (default: ${DEFAULT-VALUE}).")
    int dimension;

    @Option(names = "--synthetic-noise", defaultValue = "0.1", paramLabel = "S",
            description = "Noise of a sample around its class centre, as a ratio of norms (0.1: about 6 degrees; default: "
                    + "${DEFAULT-VALUE}).")
    double noise;

    @Option(names = "--steps-per-epoch", defaultValue = "200", paramLabel = "STEPS",
            description = "Synthetic task: training steps between two held-out evaluations (default: ${DEFAULT-VALUE}).")
    int stepsPerEpoch;

    @Option(names = "--eval-samples", defaultValue = "1024", paramLabel = "N",
            description = "Synthetic task: held-out samples per evaluation, scored over every class (default: "
                    + "${DEFAULT-VALUE}).")
    int evalSamples;

    boolean given() {
        return classes != null;
    }
}
