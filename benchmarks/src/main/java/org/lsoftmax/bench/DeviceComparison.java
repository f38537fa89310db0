package org.lsoftmax.bench;

import java.awt.Color;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.data.category.DefaultCategoryDataset;
import org.lsoftmax.data.AtomicFiles;
import org.lsoftmax.head.HeadPass;
import org.lsoftmax.head.TornadoDeviceInfo;
import org.lsoftmax.head.TornadoRunInfo;
import org.lsoftmax.head.TornadoSupport;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * The device-comparison benchmark: every pass on every device TornadoVM lists (reference, jvm, tornado
 * per device) at each shape and margin, one JMH suite and one command. Prints a table with ms per step
 * (median and the 99.9% error of JMH), GFLOP/s (6 N D C per step), % of the ceiling (the best
 * matrix-product benchmark of the same run at that shape: three products back to back) and the ratio
 * to the jvm pass; the first step of each tornado layer (kernel JIT) is timed apart, in this JVM,
 * before JMH starts. Writes the table as CSV and a PNG bar chart.
 */
@Command(name = "device-comparison", mixinStandardHelpOptions = true,
        description = "Benchmarks every pass on every TornadoVM device; writes OUT/device-comparison.{csv,png}.")
public final class DeviceComparison implements Callable<Integer> {

    /** Above this many multiply-adds the sequential float64 reference takes tens of seconds a step: skipped. */
    private static final double REFERENCE_MAX_MULTIPLY_ADDS = 2e8;
    private static final List<String> CEILING_BENCHMARKS = List.of("GemmCeilingBenchmark.threeProducts",
            "OpenBlasCeilingBenchmark.threeProducts");

    @Option(names = "--shapes", split = ",", defaultValue = "256x512x10,256x512x1000,1024x512x10000",
            description = "layer shapes NxDxC (default: ${DEFAULT-VALUE})")
    List<String> shapes;

    @Option(names = "--margins", split = ",", defaultValue = "1,4", description = "margins (default: ${DEFAULT-VALUE})")
    List<String> margins;

    @Option(names = "--passes", split = ",",
            description = "passes to compare, e.g. jvm,tornado@0:0 (default: reference, jvm and tornado on every device)")
    List<String> passes;

    @Option(names = "--forks", defaultValue = "1", description = "JMH forks (default: ${DEFAULT-VALUE})")
    int forks;

    @Option(names = "--warmup", defaultValue = "3", description = "JMH warm-up iterations (default: ${DEFAULT-VALUE})")
    int warmupIterations;

    @Option(names = "--iterations", defaultValue = "5", description = "JMH measured iterations (default: ${DEFAULT-VALUE})")
    int iterations;

    @Option(names = "--iteration-seconds", defaultValue = "2", description = "seconds per iteration (default: ${DEFAULT-VALUE})")
    int iterationSeconds;

    @Option(names = "--out", defaultValue = "benchmarks/results", description = "output folder (default: ${DEFAULT-VALUE})")
    Path outDir;

    @Option(names = "--replot", paramLabel = "CSV", description = "only redraw the PNG from a CSV this suite wrote (no measuring)")
    Path replotCsv;

    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");
        System.exit(new CommandLine(new DeviceComparison()).execute(args));
    }

    /** One row of the table. */
    record Row(String shape, String margin, String pass, double medianMs, double errorMs, double gflops, double ceilingGflops,
               double ratioToJvm, double firstStepMs) {
    }

    @Override
    public Integer call() throws RunnerException, IOException {
        if (replotCsv != null) {
            Files.createDirectories(outDir);
            writeChart(readCsv(replotCsv), outDir.resolve("device-comparison.png"));
            System.out.println("device-comparison: wrote " + outDir.resolve("device-comparison.png"));
            return 0;
        }
        List<String> passLabels = passes != null ? passes : defaultPasses();
        System.out.println("device-comparison: passes " + passLabels + ", shapes " + shapes + ", margins " + margins);
        Map<String, Double> firstStepMs = measureFirstSteps(passLabels);

        List<String> steps = new ArrayList<>();
        for (String shape : shapes) {
            for (String pass : passLabels) {
                PassStep step = PassStep.parse(pass + ":" + shape);
                boolean referenceTooSlow = step.pass().equals("reference")
                        && step.shape().stepFlops() / 6.0 > REFERENCE_MAX_MULTIPLY_ADDS;
                if (!referenceTooSlow) {
                    steps.add(step.toString());
                }
            }
        }
        Collection<RunResult> stepResults = new Runner(jmhOptions()
                .include(LayerStepBenchmark.class.getSimpleName() + "\\.forwardBackward")
                .param("step", steps.toArray(String[]::new))
                .param("margin", margins.toArray(String[]::new))
                .build()).run();

        ChainedOptionsBuilder ceilingOptions = jmhOptions().param("shape", shapes.toArray(String[]::new));
        for (String ceiling : CEILING_BENCHMARKS) {
            if (benchmarkClassPresent(ceiling)) {
                ceilingOptions.include(ceiling.replace(".", "\\.") + "$");
            }
        }
        Collection<RunResult> ceilingResults = new Runner(ceilingOptions.build()).run();

        List<Row> rows = table(stepResults, ceilingResults, firstStepMs);
        print(rows);
        Files.createDirectories(outDir);
        writeCsv(rows, outDir.resolve("device-comparison.csv"));
        writeChart(rows, outDir.resolve("device-comparison.png"));
        System.out.println("device-comparison: wrote " + outDir.resolve("device-comparison.csv") + " and "
                + outDir.resolve("device-comparison.png"));
        return 0;
    }

    private static List<String> defaultPasses() {
        List<String> result = new ArrayList<>(List.of("reference", "jvm"));
        if (TornadoSupport.isAvailable()) {
            for (TornadoDeviceInfo device : TornadoSupport.listDevices()) {
                result.add("tornado@" + device.id());
            }
        } else {
            System.out.println("device-comparison: no tornado rows: " + TornadoSupport.unavailableReason());
        }
        return result;
    }

    /** The first step of each tornado layer (Graal + driver JIT of its kernels), in this JVM, per device and shape. */
    private Map<String, Double> measureFirstSteps(List<String> passLabels) {
        Map<String, Double> firstStepMs = new LinkedHashMap<>();
        for (String pass : passLabels) {
            if (!pass.startsWith("tornado")) {
                continue;
            }
            for (String shape : shapes) {
                PassStep step = PassStep.parse(pass + ":" + shape);
                BenchmarkInputs inputs = BenchmarkInputs.draw(step.shape());
                float[] logits = new float[step.shape().logitsSize()];
                float[] dx = new float[step.shape().xSize()];
                float[] dw = new float[step.shape().wSize()];
                try (HeadPass tornado = step.create(Integer.parseInt(margins.get(0)))) {
                    long start = System.nanoTime();
                    tornado.forward(inputs.x(), inputs.w(), inputs.labels(), 1.0, logits);
                    tornado.backward(dx, dw);
                    double milliseconds = (System.nanoTime() - start) / 1e6;
                    TornadoRunInfo info = (TornadoRunInfo) tornado;
                    if (!info.runsOnDevice()) {
                        throw new IllegalStateException(step + ": the tornado pass fell back to the JVM: " + info.fallbackReason());
                    }
                    firstStepMs.put(step.toString(), milliseconds);
                    System.out.printf(Locale.ROOT, "device-comparison: %s first step %.0f ms (TornadoVM compile %.0f ms) on %s%n",
                            step, milliseconds, info.compileNanos() / 1e6, tornado.deviceDescription());
                }
            }
        }
        return firstStepMs;
    }

    private ChainedOptionsBuilder jmhOptions() {
        return new OptionsBuilder()
                .forks(forks)
                .warmupIterations(warmupIterations)
                .measurementIterations(iterations)
                .warmupTime(TimeValue.seconds(iterationSeconds))
                .measurementTime(TimeValue.seconds(iterationSeconds))
                .shouldFailOnError(true);
    }

    private static boolean benchmarkClassPresent(String benchmark) {
        try {
            Class.forName("org.lsoftmax.bench." + benchmark.substring(0, benchmark.indexOf('.')));
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    private List<Row> table(Collection<RunResult> stepResults, Collection<RunResult> ceilingResults, Map<String, Double> firstStepMs) {
        Map<String, Double> ceilingMsByShape = new LinkedHashMap<>();
        for (RunResult result : ceilingResults) {
            String shape = result.getParams().getParam("shape");
            double median = median(result.getPrimaryResult());
            ceilingMsByShape.merge(shape, median, Math::min);
        }
        Map<String, Double> jvmMs = new LinkedHashMap<>();
        for (RunResult result : stepResults) {
            PassStep step = PassStep.parse(result.getParams().getParam("step"));
            if (step.pass().equals("jvm")) {
                jvmMs.put(step.shapeLabel() + "/" + result.getParams().getParam("margin"), median(result.getPrimaryResult()));
            }
        }
        List<Row> rows = new ArrayList<>();
        for (RunResult result : stepResults) {
            PassStep step = PassStep.parse(result.getParams().getParam("step"));
            String margin = result.getParams().getParam("margin");
            double median = median(result.getPrimaryResult());
            double flops = step.shape().stepFlops();
            double ceilingMs = ceilingMsByShape.getOrDefault(step.shapeLabel(), Double.NaN);
            Double jvm = jvmMs.get(step.shapeLabel() + "/" + margin);
            rows.add(new Row(step.shapeLabel(), margin, step.passLabel(), median, result.getPrimaryResult().getScoreError(),
                    flops / (median * 1e6), flops / (ceilingMs * 1e6), jvm == null ? Double.NaN : jvm / median,
                    firstStepMs.getOrDefault(step.toString(), Double.NaN)));
        }
        return rows;
    }

    private static double median(Result<?> result) {
        return result.getStatistics().getPercentile(50);
    }

    private static void print(List<Row> rows) {
        System.out.println();
        System.out.printf(Locale.ROOT, "%-16s %-2s %-14s %12s %10s %9s %9s %9s %12s%n", "shape NxDxC", "m", "pass",
                "ms/step", "+-error", "GFLOP/s", "%ceiling", "x jvm", "first step");
        for (Row row : rows) {
            System.out.printf(Locale.ROOT, "%-16s %-2s %-14s %12.3f %10.3f %9.1f %8.0f%% %9.2f %12s%n", row.shape(), row.margin(),
                    row.pass(), row.medianMs(), row.errorMs(), row.gflops(), 100.0 * row.gflops() / row.ceilingGflops(),
                    row.ratioToJvm(), Double.isNaN(row.firstStepMs()) ? "-" : String.format(Locale.ROOT, "%.0f ms", row.firstStepMs()));
        }
        System.out.println("(ceiling: the fastest three-product benchmark at the same shape in this run; "
                + "x jvm: jvm ms / this pass's ms)");
    }

    private static void writeCsv(List<Row> rows, Path file) throws IOException {
        StringBuilder csv = new StringBuilder(
                "shape,margin,pass,median_ms,error_ms,gflops,ceiling_gflops,percent_of_ceiling,ratio_to_jvm,first_step_ms\n");
        for (Row row : rows) {
            csv.append(String.format(Locale.ROOT, "%s,%s,%s,%.4f,%.4f,%.2f,%.2f,%.1f,%.3f,%s%n", row.shape(), row.margin(), row.pass(),
                    row.medianMs(), row.errorMs(), row.gflops(), row.ceilingGflops(), 100.0 * row.gflops() / row.ceilingGflops(),
                    row.ratioToJvm(), Double.isNaN(row.firstStepMs()) ? "" : String.format(Locale.ROOT, "%.1f", row.firstStepMs())));
        }
        AtomicFiles.write(file, csv.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static List<Row> readCsv(Path file) throws IOException {
        List<Row> rows = new ArrayList<>();
        List<String> lines = Files.readAllLines(file);
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",", -1);
            rows.add(new Row(f[0], f[1], f[2], Double.parseDouble(f[3]), Double.parseDouble(f[4]), Double.parseDouble(f[5]),
                    Double.parseDouble(f[6]), Double.parseDouble(f[8]), f[9].isEmpty() ? Double.NaN : Double.parseDouble(f[9])));
        }
        return rows;
    }

    /** Grouped bars: GFLOP/s per pass for each shape and margin, with the ceiling as its own bar. */
    private static void writeChart(List<Row> rows, Path file) throws IOException {
        DefaultCategoryDataset dataset = new DefaultCategoryDataset();
        Map<String, Double> ceilings = new LinkedHashMap<>();
        for (Row row : rows) {
            String category = row.shape() + " m=" + row.margin();
            dataset.addValue(row.gflops(), row.pass(), category);
            ceilings.put(category, row.ceilingGflops());
        }
        ceilings.forEach((category, gflops) -> dataset.addValue(gflops, "ceiling (3 products)", category));
        JFreeChart chart = ChartFactory.createBarChart("L-Softmax step (forward + backward): GFLOP/s per pass and device",
                "shape N x D x C, margin", "GFLOP/s (6 N D C per step)", dataset, PlotOrientation.VERTICAL, true, false, false);
        CategoryPlot plot = chart.getCategoryPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        plot.getDomainAxis().setMaximumCategoryLabelLines(2);
        java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream();
        ChartUtils.writeChartAsPNG(png, chart, 1200, 600);
        AtomicFiles.write(file, png.toByteArray());
    }
}
