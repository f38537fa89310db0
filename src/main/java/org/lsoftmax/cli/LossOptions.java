package org.lsoftmax.cli;

import org.lsoftmax.InvalidInputException;
import org.lsoftmax.head.MarginLoss;
import picocli.CommandLine.Option;

/**
 * The options that choose the loss of the head (docs/DERIVATION.md, (F2)), shared by eval and train:
 * {@code --loss} and the parameters of that loss, with the published defaults of each kind.
 */
final class LossOptions {

    @Option(names = "--loss", defaultValue = "lsoftmax", paramLabel = "LOSS",
            description = {"lsoftmax, sphereface, cosface, arcface or combined (default: ${DEFAULT-VALUE}).",
                "lsoftmax: w_j.x, target |w||x| psi_m(theta);  sphereface: |x| cos(theta_j), target |x| psi_m(theta);",
                "cosface: s cos(theta_j), target s (cos(theta) - m3);  arcface: target s cos(theta + m2);",
                "combined: target s (cos(m1 theta + m2) - m3)."})
    String loss;

    @Option(names = {"-m", "--margin"}, paramLabel = "M",
            description = "integer margin m of lsoftmax and sphereface, 1..16 (default: 4; train's lsoftmax: 2)")
    Integer margin;

    @Option(names = "--scale", paramLabel = "S", description = "logit scale s of cosface, arcface, combined (default: 64; 8-30 suit small data sets)")
    Double scale;

    @Option(names = "--m1", paramLabel = "M1", description = "multiplicative angular margin of combined, real >= 1 (default: 1.0)")
    Double m1;

    @Option(names = "--m2", paramLabel = "RAD", description = "additive angular margin in radians: arcface (default: 0.5), combined (default: 0.3)")
    Double m2;

    @Option(names = "--m3", paramLabel = "M3", description = "additive cosine margin: cosface (default: 0.35), combined (default: 0.2)")
    Double m3;

    /** The loss asked for, each unset parameter at its kind's default; a parameter the kind does not take is an error. */
    MarginLoss resolve(int defaultIntegerMargin) {
        MarginLoss.Kind kind = MarginLoss.Kind.parse(loss);
        return switch (kind) {
            case LSOFTMAX, SPHEREFACE -> {
                refuse(kind, "--scale", scale);
                refuse(kind, "--m1", m1);
                refuse(kind, "--m2", m2);
                refuse(kind, "--m3", m3);
                int m = margin != null ? margin : kind == MarginLoss.Kind.SPHEREFACE ? 4 : defaultIntegerMargin;
                yield kind == MarginLoss.Kind.LSOFTMAX ? MarginLoss.lsoftmax(m) : MarginLoss.sphereface(m);
            }
            case COSFACE -> {
                refuse(kind, "--margin", margin);
                refuse(kind, "--m1", m1);
                refuse(kind, "--m2", m2);
                yield MarginLoss.cosface(or(scale, MarginLoss.DEFAULT_SCALE), or(m3, MarginLoss.DEFAULT_COSFACE_M3));
            }
            case ARCFACE -> {
                refuse(kind, "--margin", margin);
                refuse(kind, "--m1", m1);
                refuse(kind, "--m3", m3);
                yield MarginLoss.arcface(or(scale, MarginLoss.DEFAULT_SCALE), or(m2, MarginLoss.DEFAULT_ARCFACE_M2));
            }
            case COMBINED -> {
                refuse(kind, "--margin", margin);
                yield MarginLoss.combined(or(scale, MarginLoss.DEFAULT_SCALE), or(m1, MarginLoss.DEFAULT_COMBINED_M1),
                        or(m2, MarginLoss.DEFAULT_COMBINED_M2), or(m3, MarginLoss.DEFAULT_COMBINED_M3));
            }
        };
    }

    private static void refuse(MarginLoss.Kind kind, String option, Object value) {
        if (value != null) {
            throw new InvalidInputException("--loss " + kind.cliName() + " takes no " + option + " (got " + value + ")"
                    + (option.equals("--margin") ? ": its margins are real numbers, see --m1, --m2, --m3" : ""));
        }
    }

    private static double or(Double value, double fallback) {
        return value != null ? value : fallback;
    }
}
