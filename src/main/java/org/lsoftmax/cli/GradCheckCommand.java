package org.lsoftmax.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.check.GradientCheck;
import org.lsoftmax.check.PassComparison;
import org.lsoftmax.check.RandomInputs;
import org.lsoftmax.head.HeadChecks;
import org.lsoftmax.head.HeadPass;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.MarginLoss;
import org.lsoftmax.head.select.PassFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code gradcheck}: for every loss asked for, the reference pass's analytic gradients against central
 * finite differences in float64, on random shapes with inputs across every smooth piece of the margin
 * (branches k of psi, main branch and tail of the combined margins); the chosen pass's outputs against
 * the reference's; and the edges (cos theta = +-1, zero rows, the join, large logits): finite, and the
 * pass within its tolerance of the reference. Exits 1 when any error is above its tolerance.
 */
@Command(name = "gradcheck", mixinStandardHelpOptions = true,
        description = {"Checks gradients of every loss: the reference against float64 finite differences, --pass against the",
            "reference, and the edges (cos = +-1, zero rows, the join angle, large logits) finite on both.",
            "Prints the worst relative errors per loss and exits 1 when one is above its tolerance."})
final class GradCheckCommand implements Callable<Integer> {

    @Option(names = "--losses", split = ",", defaultValue = "lsoftmax,sphereface,cosface,arcface,combined", paramLabel = "LOSS[,LOSS...]",
            description = "losses to check (default: ${DEFAULT-VALUE})")
    List<String> losses;

    @Option(names = "--margins", split = ",", defaultValue = "1,2,3,4,5,6,7,8", paramLabel = "M[,M...]",
            description = "integer margins of lsoftmax and sphereface (default: ${DEFAULT-VALUE})")
    List<Integer> margins;

    @Option(names = "--scales", split = ",", defaultValue = "1,16,64", paramLabel = "S[,S...]",
            description = "scales s of cosface, arcface and combined, each with its default margins and combined also with m1 = 1.5 (default: ${DEFAULT-VALUE})")
    List<Double> scales;

    @Option(names = "--betas", split = ",", defaultValue = "0,1,1000", paramLabel = "B[,B...]",
            description = "beta values to check (default: ${DEFAULT-VALUE})")
    List<Double> betas;

    @Option(names = "--trials", defaultValue = "3", description = "random shapes per loss and beta (default: ${DEFAULT-VALUE})")
    int trials;

    @Option(names = "--seed", description = "random seed (default: drawn at random and printed)")
    Long seed;

    @Option(names = "--tolerance", defaultValue = "1e-6",
            description = "largest finite-difference relative error accepted (default: ${DEFAULT-VALUE})")
    double tolerance;

    @Option(names = "--pass-tolerance", defaultValue = "1e-4",
            description = "largest relative error of --pass against the reference, float32 passes (default: ${DEFAULT-VALUE})")
    double passTolerance;

    @Mixin
    PassSelection passSelection;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (trials < 1) {
            throw new InvalidInputException("--trials must be >= 1, got " + trials);
        }
        betas.forEach(HeadChecks::checkBeta);
        List<MarginLoss> variants = variants();
        long runSeed = seed != null ? seed : new Random().nextLong();
        Random random = new Random(runSeed);
        PrintWriter out = spec.commandLine().getOut();
        String passName = passSelection.resolvedPass();
        boolean comparePass = !passName.equals("reference");
        out.printf("gradcheck: seed %d, betas %s, %d random shapes each, FD tolerance %.1e%s%n", runSeed, betas, trials,
                tolerance, comparePass ? ", " + passName + " vs reference tolerance " + passTolerance : "");
        boolean allPassed = true;
        for (MarginLoss loss : variants) {
            double worstFiniteDifference = 0.0;
            double worstPass = 0.0;
            double worstEdge = 0.0;
            for (double beta : betas) {
                for (int trial = 0; trial < trials; trial++) {
                    HeadShape shape = new HeadShape(2 + random.nextInt(11), 2 + random.nextInt(8), 2 + random.nextInt(6));
                    RandomInputs inputs = RandomInputs.generate(shape, loss, random.nextLong());
                    worstFiniteDifference = Math.max(worstFiniteDifference, GradientCheck.check(shape, loss, beta, inputs).worst());
                    if (comparePass) {
                        worstPass = Math.max(worstPass, passError(passName, shape, loss, beta, inputs));
                    }
                }
                HeadShape edgeShape = new HeadShape(8 + random.nextInt(5), 2 + random.nextInt(6), 3 + random.nextInt(4));
                worstEdge = Math.max(worstEdge, edgeError(comparePass ? passName : "reference", edgeShape, loss, beta,
                        RandomInputs.edges(edgeShape, loss, random.nextLong())));
            }
            boolean passed = worstFiniteDifference <= tolerance && worstEdge <= passTolerance
                    && (!comparePass || worstPass <= passTolerance);
            allPassed &= passed;
            out.printf(Locale.ROOT, "%-34s worst finite-difference relative error %.3e%s,  edges %s  %s%n", loss, worstFiniteDifference,
                    comparePass ? String.format(Locale.ROOT, ",  %s vs reference %.3e", passName, worstPass) : "",
                    Double.isFinite(worstEdge) ? String.format(Locale.ROOT, "finite (%.1e)", worstEdge) : "NOT FINITE",
                    passed ? "ok" : "FAILED");
        }
        out.println(allPassed ? "gradcheck: all losses passed" : "gradcheck: FAILED");
        out.flush();
        return allPassed ? 0 : 1;
    }

    /** Every loss variant asked for. */
    private List<MarginLoss> variants() {
        List<MarginLoss> variants = new ArrayList<>();
        for (String name : losses) {
            MarginLoss.Kind kind = MarginLoss.Kind.parse(name);
            switch (kind) {
                case LSOFTMAX -> margins.forEach(m -> variants.add(MarginLoss.lsoftmax(m)));
                case SPHEREFACE -> margins.forEach(m -> variants.add(MarginLoss.sphereface(m)));
                case COSFACE -> scales.forEach(s -> variants.add(MarginLoss.cosface(s, MarginLoss.DEFAULT_COSFACE_M3)));
                case ARCFACE -> scales.forEach(s -> variants.add(MarginLoss.arcface(s, MarginLoss.DEFAULT_ARCFACE_M2)));
                case COMBINED -> scales.forEach(s -> {
                    variants.add(MarginLoss.combined(s, MarginLoss.DEFAULT_COMBINED_M1, MarginLoss.DEFAULT_COMBINED_M2,
                            MarginLoss.DEFAULT_COMBINED_M3));
                    variants.add(MarginLoss.combined(s, 1.5, MarginLoss.DEFAULT_COMBINED_M2, MarginLoss.DEFAULT_COMBINED_M3));
                });
            }
        }
        return variants;
    }

    /** Worst error of the chosen pass's loss, logits and gradients against the reference ({@link PassComparison}). */
    private double passError(String passName, HeadShape shape, MarginLoss loss, double beta, RandomInputs inputs) {
        try (HeadPass pass = PassFactory.create(passName, shape, loss, passSelection.options())) {
            // the reference sees the same float32-rounded inputs as the pass under test
            return PassComparison.compare(pass, beta, inputs.xFloat(), inputs.wFloat(), inputs.labels()).worst();
        }
    }

    /** The pass against the reference on the edge set; infinity when either gives a non-finite value. */
    private double edgeError(String passName, HeadShape shape, MarginLoss loss, double beta, RandomInputs inputs) {
        float[] x = inputs.xFloat();
        float[] w = inputs.wFloat();
        PassComparison.Outputs expected = PassComparison.reference(shape, loss, beta, x, w, inputs.labels());
        try (HeadPass pass = PassFactory.create(passName, shape, loss, passSelection.options())) {
            PassComparison.Outputs actual = PassComparison.run(pass, beta, x, w, inputs.labels());
            if (!finite(expected) || !finite(actual)) {
                return Double.POSITIVE_INFINITY;
            }
            return PassComparison.errors(shape, expected, actual, x, w).worst();
        }
    }

    private static boolean finite(PassComparison.Outputs outputs) {
        if (!Double.isFinite(outputs.loss())) {
            return false;
        }
        for (double[] values : new double[][] {outputs.logits(), outputs.dx(), outputs.dw()}) {
            for (double value : values) {
                if (!Double.isFinite(value)) {
                    return false;
                }
            }
        }
        return true;
    }
}
