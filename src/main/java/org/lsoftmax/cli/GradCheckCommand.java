package org.lsoftmax.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import org.lsoftmax.check.GradientCheck;
import org.lsoftmax.check.PassComparison;
import org.lsoftmax.check.RandomInputs;
import org.lsoftmax.head.HeadChecks;
import org.lsoftmax.head.HeadPass;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.select.PassFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code gradcheck}: the reference pass's analytic gradients against central finite differences in
 * float64, on random shapes with inputs across every branch k, for each margin; and the chosen pass's
 * gradients against the reference's. Exits 1 when any error is above its tolerance.
 */
@Command(name = "gradcheck", mixinStandardHelpOptions = true,
        description = {"Checks gradients: the reference against float64 finite differences, --pass against the reference.",
            "Random shapes with inputs across every branch k; prints the worst relative error per margin",
            "and exits 1 when one is above its tolerance."})
final class GradCheckCommand implements Callable<Integer> {

    @Option(names = "--margins", split = ",", defaultValue = "1,2,3,4,5,6,7,8", paramLabel = "M[,M...]",
            description = "margins to check (default: ${DEFAULT-VALUE})")
    List<Integer> margins;

    @Option(names = "--betas", split = ",", defaultValue = "0,1,1000", paramLabel = "B[,B...]",
            description = "beta values to check (default: ${DEFAULT-VALUE})")
    List<Double> betas;

    @Option(names = "--trials", defaultValue = "3", description = "random shapes per margin and beta (default: ${DEFAULT-VALUE})")
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
            throw new org.lsoftmax.InvalidInputException("--trials must be >= 1, got " + trials);
        }
        margins.forEach(HeadChecks::checkMargin);
        betas.forEach(HeadChecks::checkBeta);
        long runSeed = seed != null ? seed : new Random().nextLong();
        Random random = new Random(runSeed);
        PrintWriter out = spec.commandLine().getOut();
        String passName = passSelection.resolvedPass();
        boolean comparePass = !passName.equals("reference");
        out.printf("gradcheck: seed %d, betas %s, %d random shapes each, FD tolerance %.1e%s%n", runSeed, betas, trials,
                tolerance, comparePass ? ", " + passName + " vs reference tolerance " + passTolerance : "");
        boolean allPassed = true;
        for (int margin : margins) {
            double worstFiniteDifference = 0.0;
            double worstPass = 0.0;
            for (double beta : betas) {
                for (int trial = 0; trial < trials; trial++) {
                    HeadShape shape = new HeadShape(2 + random.nextInt(11), 2 + random.nextInt(8), 2 + random.nextInt(6));
                    RandomInputs inputs = RandomInputs.generate(shape, margin, random.nextLong());
                    worstFiniteDifference = Math.max(worstFiniteDifference, GradientCheck.check(shape, margin, beta, inputs).worst());
                    if (comparePass) {
                        worstPass = Math.max(worstPass, passError(passName, shape, margin, beta, inputs));
                    }
                }
            }
            boolean passed = worstFiniteDifference <= tolerance && (!comparePass || worstPass <= passTolerance);
            allPassed &= passed;
            out.printf("m=%d  worst finite-difference relative error %.3e%s  %s%n", margin, worstFiniteDifference,
                    comparePass ? String.format(",  %s vs reference %.3e", passName, worstPass) : "",
                    passed ? "ok" : "FAILED");
        }
        out.println(allPassed ? "gradcheck: all margins passed" : "gradcheck: FAILED");
        out.flush();
        return allPassed ? 0 : 1;
    }

    /** Worst error of the chosen pass's loss, logits and gradients against the reference ({@link PassComparison}). */
    private double passError(String passName, HeadShape shape, int margin, double beta, RandomInputs inputs) {
        try (HeadPass pass = PassFactory.create(passName, shape, margin, passSelection.options())) {
            // the reference sees the same float32-rounded inputs as the pass under test
            return PassComparison.compare(pass, beta, inputs.xFloat(), inputs.wFloat(), inputs.labels()).worst();
        }
    }
}
