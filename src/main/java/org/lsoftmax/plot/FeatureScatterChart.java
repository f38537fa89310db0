package org.lsoftmax.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.geom.Ellipse2D;
import java.util.Arrays;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.annotations.XYLineAnnotation;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.lsoftmax.InvalidInputException;

/**
 * The paper's Figure 2: 2-D features of the test set coloured by class, with each class weight
 * vector drawn as a line from the origin in its class colour. With a larger margin the clusters
 * become thinner wedges around their weight direction.
 */
public final class FeatureScatterChart {

    private FeatureScatterChart() {
    }

    /**
     * @param labels       class of each point
     * @param points       2-D features, x0, y0, x1, y1, ...
     * @param classWeights C x 2 class weights
     * @param maxPoints    at most this many points are drawn (every k-th), to keep the picture legible
     */
    public static JFreeChart create(String title, int[] labels, float[] points, float[] classWeights, int maxPoints) {
        Charts.ensureHeadless();
        if (points.length != 2 * labels.length || classWeights.length % 2 != 0) {
            throw new InvalidInputException("the scatter plot needs 2-D features and 2-D class weights");
        }
        int classes = classWeights.length / 2;
        XYSeriesCollection dataset = new XYSeriesCollection();
        XYSeries[] series = new XYSeries[classes];
        for (int c = 0; c < classes; c++) {
            series[c] = new XYSeries("class " + c, false, true);
            dataset.addSeries(series[c]);
        }
        int stride = Math.max(1, (labels.length + maxPoints - 1) / maxPoints);
        double[] radii = new double[(labels.length + stride - 1) / stride];
        int drawn = 0;
        for (int i = 0; i < labels.length; i += stride) {
            if (labels[i] >= 0 && labels[i] < classes) {
                series[labels[i]].add(points[2 * i], points[2 * i + 1], false);
            }
            radii[drawn++] = Math.hypot(points[2 * i], points[2 * i + 1]);
        }
        Arrays.sort(radii, 0, drawn);
        double typicalRadius = drawn == 0 ? 1.0 : radii[(int) (0.95 * (drawn - 1))];

        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(false, true);
        Ellipse2D dot = new Ellipse2D.Double(-1.2, -1.2, 2.4, 2.4);
        for (int c = 0; c < classes; c++) {
            renderer.setSeriesShape(c, dot);
            renderer.setSeriesPaint(c, Palette.color(c));
        }
        NumberAxis xAxis = new NumberAxis("feature 1");
        NumberAxis yAxis = new NumberAxis("feature 2");
        xAxis.setAutoRangeIncludesZero(true);
        yAxis.setAutoRangeIncludesZero(true);
        XYPlot plot = new XYPlot(dataset, xAxis, yAxis, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xdddddd));
        plot.setRangeGridlinePaint(new Color(0xdddddd));
        // class weight directions, scaled to the 95th percentile feature radius so they span the cloud
        for (int c = 0; c < classes; c++) {
            double wx = classWeights[2 * c];
            double wy = classWeights[2 * c + 1];
            double norm = Math.hypot(wx, wy);
            if (norm == 0.0) {
                continue;
            }
            double scale = 1.1 * typicalRadius / norm;
            plot.addAnnotation(new XYLineAnnotation(0, 0, wx * scale, wy * scale, new BasicStroke(2.5f), Color.BLACK));
            plot.addAnnotation(new XYLineAnnotation(0, 0, wx * scale, wy * scale, new BasicStroke(1.5f), Palette.color(c)));
        }
        JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, classes <= 10);
        chart.setBackgroundPaint(Color.WHITE);
        return chart;
    }
}
