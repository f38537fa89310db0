package org.lsoftmax.plot;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The pictures of one run folder: {@code curves.png} (loss and accuracy per epoch) and, for 2-D
 * features, {@code features.png} (the paper's Figure 2). Written by {@code train} at the end of a run
 * and by {@code plot}.
 */
public final class RunPictures {

    public static final String CURVES_FILE = "curves.png";
    public static final String FEATURES_FILE = "features.png";

    private RunPictures() {
    }

    /** Draws the run's pictures into its folder; returns the files written. */
    public static List<Path> draw(RunFolder folder, int panelSize, int maxPoints) {
        List<Path> written = new ArrayList<>();
        Path curvesFile = folder.directory().resolve(CURVES_FILE);
        Charts.savePng(CurvesChart.create(folder.title(), List.of(new CurvesChart.Run(folder.marginLabel(), folder.metrics()))),
                curvesFile, 800, 700);
        written.add(curvesFile);
        if (folder.hasFeatures()) {
            Path featuresFile = folder.directory().resolve(FEATURES_FILE);
            Charts.savePng(FeatureScatterChart.create(folder.title(), folder.featureLabels(), folder.features(),
                    folder.classWeights(), maxPoints), featuresFile, panelSize, panelSize);
            written.add(featuresFile);
        }
        return written;
    }
}
