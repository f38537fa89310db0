package org.lsoftmax.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads one JMH JSON result file ({@code -rf json}) holding LayerStepBenchmark and the ceiling
 * benchmarks (GemmCeilingBenchmark, OpenBlasCeilingBenchmark) of the same run and prints, per shape,
 * the ceiling (the fastest matrix product of that run, in GFLOP/s: 2 N D C per product, 6 N D C for
 * threeProducts) and each jvm step's GFLOP/s (6 N D C per step) as a fraction of it. Scores are the
 * medians of the measured iterations; the same ratio from each benchmark's best iteration is printed
 * beside it (on a shared machine the least disturbed iterations compare more fairly).
 *
 * <pre>java -cp target/benchmarks.jar org.lsoftmax.bench.CeilingRatio result.json [target fraction, default 0.6]</pre>
 */
public final class CeilingRatio {

    record Entry(String benchmark, Map<String, String> params, double medianMs, double errorMs, double minMs) {
    }

    private CeilingRatio() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            System.err.println("usage: CeilingRatio result.json [target fraction]");
            System.exit(2);
        }
        double target = args.length > 1 ? Double.parseDouble(args[1]) : 0.6;
        List<Entry> entries = parse(Files.readString(Path.of(args[0])));
        TreeSet<String> shapes = new TreeSet<>();
        for (Entry entry : entries) {
            String shape = shapeOf(entry);
            if (shape != null) {
                shapes.add(shape);
            }
        }
        for (String shape : shapes) {
            long[] ndc = dims(shape);
            double stepFlops = 6.0 * ndc[0] * ndc[1] * ndc[2];
            System.out.printf(Locale.ROOT, "%nshape %s (N x D x C), one step = %.3f GFLOP%n", shape, stepFlops / 1e9);
            double ceiling = 0.0;
            String ceilingName = null;
            double bestCeiling = 0.0;
            for (Entry entry : entries) {
                if (!shape.equals(shapeOf(entry)) || entry.benchmark.contains("LayerStepBenchmark")) {
                    continue;
                }
                double flops = entry.benchmark.endsWith("threeProducts") ? stepFlops : stepFlops / 3;
                double gflops = flops / entry.medianMs / 1e6;
                bestCeiling = Math.max(bestCeiling, flops / entry.minMs / 1e6);
                System.out.printf(Locale.ROOT, "  product %-45s %10.3f ms (+- %.3f) %7.1f GFLOP/s (best iteration %.1f)%n",
                        shortName(entry.benchmark), entry.medianMs, entry.errorMs, gflops, flops / entry.minMs / 1e6);
                if (gflops > ceiling) {
                    ceiling = gflops;
                    ceilingName = shortName(entry.benchmark);
                }
            }
            if (ceilingName == null) {
                System.out.println("  no product measured for this shape: no ceiling");
            } else {
                System.out.printf(Locale.ROOT, "  ceiling: %.1f GFLOP/s (%s, median); best iteration of any product: %.1f GFLOP/s%n",
                        ceiling, ceilingName, bestCeiling);
            }
            for (Entry entry : entries) {
                if (!shape.equals(shapeOf(entry)) || !entry.benchmark.contains("LayerStepBenchmark")) {
                    continue;
                }
                double gflops = stepFlops / entry.medianMs / 1e6;
                String pass = entry.params.get("step").split(":")[0];
                if (ceilingName == null) {
                    System.out.printf(Locale.ROOT, "  step %-9s m=%s %10.3f ms %7.1f GFLOP/s%n", pass,
                            entry.params.get("margin"), entry.medianMs, gflops);
                } else {
                    double ratio = gflops / ceiling;
                    double bestRatio = stepFlops / entry.minMs / 1e6 / bestCeiling;
                    System.out.printf(Locale.ROOT, "  step %-9s m=%s %10.3f ms (+- %.3f) %7.1f GFLOP/s = %.2f of the ceiling (best iterations: %.2f)%s%n",
                            pass, entry.params.get("margin"), entry.medianMs, entry.errorMs, gflops, ratio, bestRatio,
                            pass.equals("jvm") ? (ratio >= target ? "  (target " + target + ": met)" : "  (target " + target + ": NOT met)") : "");
                }
            }
        }
    }

    private static String shortName(String benchmark) {
        String[] parts = benchmark.split("\\.");
        return parts.length >= 2 ? parts[parts.length - 2] + "." + parts[parts.length - 1] : benchmark;
    }

    private static String shapeOf(Entry entry) {
        String shape = entry.params.get("shape");
        if (shape != null) {
            return shape;
        }
        String step = entry.params.get("step");
        return step == null ? null : step.substring(step.indexOf(':') + 1);
    }

    private static long[] dims(String shape) {
        String[] parts = shape.split("x");
        return new long[] {Long.parseLong(parts[0]), Long.parseLong(parts[1]), Long.parseLong(parts[2])};
    }

    private static final Pattern BENCHMARK = Pattern.compile("\"benchmark\"\\s*:\\s*\"([^\"]+)\"");
    private static final Pattern PARAMS = Pattern.compile("\"params\"\\s*:\\s*\\{([^}]*)}");
    private static final Pattern PAIR = Pattern.compile("\"([^\"]+)\"\\s*:\\s*\"([^\"]*)\"");
    private static final Pattern MEDIAN = Pattern.compile("\"50\\.0\"\\s*:\\s*([-0-9.eE+]+|\"NaN\")");
    private static final Pattern MINIMUM = Pattern.compile("\"0\\.0\"\\s*:\\s*([-0-9.eE+]+|\"NaN\")");
    private static final Pattern ERROR = Pattern.compile("\"scoreError\"\\s*:\\s*([-0-9.eE+]+|\"NaN\")");

    /** Minimal reader for JMH's JSON: one block per result, split at "jmhVersion". */
    static List<Entry> parse(String json) {
        List<Entry> entries = new ArrayList<>();
        String[] blocks = json.split("\"jmhVersion\"");
        for (int i = 1; i < blocks.length; i++) {
            String block = blocks[i];
            Matcher benchmark = BENCHMARK.matcher(block);
            if (!benchmark.find()) {
                continue;
            }
            Map<String, String> params = new LinkedHashMap<>();
            Matcher paramsBlock = PARAMS.matcher(block);
            if (paramsBlock.find()) {
                Matcher pair = PAIR.matcher(paramsBlock.group(1));
                while (pair.find()) {
                    params.put(pair.group(1), pair.group(2));
                }
            }
            int primary = block.indexOf("\"primaryMetric\"");
            String metric = primary < 0 ? block : block.substring(primary);
            int secondary = metric.indexOf("\"secondaryMetrics\"");
            if (secondary > 0) {
                metric = metric.substring(0, secondary);
            }
            Matcher median = MEDIAN.matcher(metric);
            Matcher error = ERROR.matcher(metric);
            Matcher minimum = MINIMUM.matcher(metric);
            if (!median.find()) {
                continue;
            }
            entries.add(new Entry(benchmark.group(1), params, number(median.group(1)),
                    error.find() ? number(error.group(1)) : Double.NaN, minimum.find() ? number(minimum.group(1)) : Double.NaN));
        }
        return entries;
    }

    private static double number(String text) {
        return text.startsWith("\"") ? Double.NaN : Double.parseDouble(text);
    }
}
