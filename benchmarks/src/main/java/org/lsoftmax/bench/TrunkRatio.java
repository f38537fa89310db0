package org.lsoftmax.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Reads one JMH JSON result file ({@code -rf json}) holding GemmCeilingBenchmark and
 * OpenBlasCeilingBenchmark at the trunk shapes and at the large shape 1024x512x10000, and
 * TrunkProductsBenchmark, and prints every trunk product's GFLOP/s (median; best iteration beside it)
 * as a fraction of the ceiling of the same run: the fastest product measured at 1024x512x10000, the
 * rate the project's Sgemm and OpenBLAS reach at a shape big enough to hide every per-call cost. Beside
 * it the same product of the other implementation at the same shape.
 *
 * <pre>java -cp target/benchmarks.jar org.lsoftmax.bench.TrunkRatio result.json</pre>
 */
public final class TrunkRatio {

    private static final String CEILING_SHAPE = "1024x512x10000";

    private TrunkRatio() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            System.err.println("usage: TrunkRatio result.json");
            System.exit(2);
        }
        List<CeilingRatio.Entry> entries = CeilingRatio.parse(Files.readString(Path.of(args[0])));
        double ceiling = 0;
        String ceilingName = "none";
        for (CeilingRatio.Entry entry : entries) {
            boolean cpuProduct = entry.benchmark().contains(".GemmCeilingBenchmark.")
                    || entry.benchmark().contains(".OpenBlasCeilingBenchmark.");
            if (cpuProduct && CEILING_SHAPE.equals(entry.params().get("shape")) && !entry.benchmark().endsWith("threeProducts")) {
                double gflops = productFlops(CEILING_SHAPE) / entry.medianMs() / 1e6;
                if (gflops > ceiling) {
                    ceiling = gflops;
                    ceilingName = name(entry);
                }
            }
        }
        System.out.printf(Locale.ROOT, "ceiling of this run: %.1f GFLOP/s (%s at %s, median)%n%n", ceiling, ceilingName,
                CEILING_SHAPE);
        System.out.printf(Locale.ROOT, "%-44s %10s %9s %9s %9s %12s%n", "product (shape N x D x C)", "median ms", "GFLOP/s",
                "best", "/ceiling", "/other impl");
        for (CeilingRatio.Entry entry : entries) {
            String shape = entry.params().get("shape");
            boolean cpuProduct = entry.benchmark().contains(".GemmCeilingBenchmark.")
                    || entry.benchmark().contains(".OpenBlasCeilingBenchmark.");
            if (shape == null || !cpuProduct || shape.equals(CEILING_SHAPE) || entry.benchmark().endsWith("threeProducts")) {
                continue;
            }
            double flops = productFlops(shape);
            double gflops = flops / entry.medianMs() / 1e6;
            CeilingRatio.Entry other = counterpart(entries, entry);
            String versus = other == null ? "-" : String.format(Locale.ROOT, "%.2f", other.medianMs() / entry.medianMs());
            System.out.printf(Locale.ROOT, "%-44s %10.3f %9.1f %9.1f %9.2f %12s%n", name(entry) + " " + shape,
                    entry.medianMs(), gflops, flops / entry.minMs() / 1e6, gflops / ceiling, versus);
        }
        for (CeilingRatio.Entry entry : entries) {
            if (entry.benchmark().endsWith("TrunkProductsBenchmark.trunkProducts")) {
                double gflops = TrunkProductsBenchmark.FLOPS / entry.medianMs() / 1e6;
                System.out.printf(Locale.ROOT, "%-44s %10.3f %9.1f %9.1f %9.2f%n",
                        "trunk step's 8 products, " + entry.params().get("impl"), entry.medianMs(), gflops,
                        TrunkProductsBenchmark.FLOPS / entry.minMs() / 1e6, gflops / ceiling);
            }
        }
    }

    /** One product of shape N x D x C: 2 N D C. */
    private static double productFlops(String shape) {
        String[] parts = shape.split("x");
        return 2.0 * Long.parseLong(parts[0]) * Long.parseLong(parts[1]) * Long.parseLong(parts[2]);
    }

    private static String name(CeilingRatio.Entry entry) {
        String[] parts = entry.benchmark().split("\\.");
        String owner = parts[parts.length - 2].replace("CeilingBenchmark", "");
        return owner + "." + parts[parts.length - 1];
    }

    /** The same product and shape of the other implementation (Gemm <-> OpenBlas). */
    private static CeilingRatio.Entry counterpart(List<CeilingRatio.Entry> entries, CeilingRatio.Entry entry) {
        String method = entry.benchmark().substring(entry.benchmark().lastIndexOf('.') + 1);
        boolean own = entry.benchmark().contains("GemmCeilingBenchmark");
        for (CeilingRatio.Entry candidate : entries) {
            if (candidate.benchmark().endsWith((own ? "OpenBlasCeilingBenchmark." : "GemmCeilingBenchmark.") + method)
                    && entry.params().get("shape").equals(candidate.params().get("shape"))) {
                return candidate;
            }
        }
        return null;
    }
}
