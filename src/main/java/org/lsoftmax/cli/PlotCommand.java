package org.lsoftmax.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.jfree.chart.JFreeChart;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.data.OutputFolders;
import org.lsoftmax.plot.Charts;
import org.lsoftmax.plot.CurvesChart;
import org.lsoftmax.plot.FeatureScatterChart;
import org.lsoftmax.plot.RunFolder;
import org.lsoftmax.plot.RunPictures;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code lsoftmax plot}: PNG pictures of one or more training runs. */
@Command(name = "plot", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Draws PNGs from run folders written by train: RUN/curves.png (loss and accuracy per epoch) "
                + "and, for 2-D features, RUN/features.png (the paper's Figure 2). With --out, also the comparison "
                + "of all runs: OUT/curves.png and OUT/features-grid.png (one panel per run)."})
public final class PlotCommand implements Callable<Integer> {

    @Parameters(arity = "1..*", paramLabel = "RUN", description = "Run folders (train --out).")
    List<Path> runs;

    @Option(names = "--out", paramLabel = "DIR", description = "Where the comparison pictures go.")
    Path out;

    @Option(names = "--columns", defaultValue = "4", description = "Panels per row of the feature grid (default: ${DEFAULT-VALUE}).")
    int columns;

    @Option(names = "--points", defaultValue = "4000", description = "Most points per scatter panel (default: ${DEFAULT-VALUE}).")
    int maxPoints;

    @Option(names = "--panel-size", defaultValue = "520", description = "Width and height of one panel in pixels (default: ${DEFAULT-VALUE}).")
    int panelSize;

    @Override
    public Integer call() {
        Charts.ensureHeadless();
        if (columns < 1 || maxPoints < 1 || panelSize < 100 || panelSize > Charts.MAX_SIDE) {
            throw new InvalidInputException("--columns and --points must be >= 1, --panel-size in [100, " + Charts.MAX_SIDE
                    + "], got " + columns + ", " + maxPoints + " and " + panelSize);
        }
        List<RunFolder> folders = new ArrayList<>();
        for (Path run : runs) {
            folders.add(RunFolder.read(run));
        }
        // every picture's place and size is checked before the first is drawn
        for (Path run : runs) {
            OutputFolders.prepare(run, "RUN", 4L << 20);
        }
        Charts.requirePictureFits("a --panel-size picture", panelSize, panelSize, 1);
        if (out != null) {
            OutputFolders.prepare(out, "--out", 16L << 20);
            int panels = runs.size();
            Charts.requirePictureFits("the feature grid", (long) Math.min(columns, panels) * panelSize,
                    (long) ((panels + columns - 1) / columns) * panelSize, panels);
        }
        List<CurvesChart.Run> curves = new ArrayList<>();
        List<JFreeChart> scatterPanels = new ArrayList<>();
        for (RunFolder folder : folders) {
            curves.add(new CurvesChart.Run(folder.marginLabel(), folder.metrics()));
            for (Path file : RunPictures.draw(folder, panelSize, maxPoints)) {
                System.out.println("wrote " + file);
            }
            if (folder.hasFeatures()) {
                scatterPanels.add(scatter(folder));
            }
        }
        if (out != null) {
            Path curvesFile = out.resolve("curves.png");
            Charts.savePng(CurvesChart.create("loss and accuracy per epoch", curves), curvesFile, 900, 800);
            System.out.println("wrote " + curvesFile);
            if (!scatterPanels.isEmpty()) {
                Path gridFile = out.resolve("features-grid.png");
                Charts.saveGridPng(scatterPanels, columns, gridFile, panelSize, panelSize);
                System.out.println("wrote " + gridFile);
            }
        }
        return 0;
    }

    private JFreeChart scatter(RunFolder folder) {
        return FeatureScatterChart.create(folder.title(), folder.featureLabels(), folder.features(),
                folder.classWeights(), maxPoints);
    }
}
