package org.lsoftmax.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.util.List;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.lsoftmax.train.EpochMetrics;

/**
 * Loss (top) and accuracy (bottom) per epoch, from one or several runs' metrics.csv: solid lines are
 * the test split, dashed the training split (its loss is the margin loss, with the epoch's beta, so
 * it can lie above the plain test loss).
 */
public final class CurvesChart {

    /** One run's label and metrics. */
    public record Run(String label, List<EpochMetrics> metrics) {
    }

    private CurvesChart() {
    }

    public static JFreeChart create(String title, List<Run> runs) {
        Charts.ensureHeadless();
        XYSeriesCollection losses = new XYSeriesCollection();
        XYSeriesCollection accuracies = new XYSeriesCollection();
        for (Run run : runs) {
            XYSeries trainLoss = new XYSeries(run.label() + " train");
            XYSeries testLoss = new XYSeries(run.label() + " test");
            XYSeries trainAccuracy = new XYSeries(run.label() + " train");
            XYSeries testAccuracy = new XYSeries(run.label() + " test");
            for (EpochMetrics row : run.metrics()) {
                trainLoss.add(row.epoch(), row.trainLoss());
                testLoss.add(row.epoch(), row.testLoss());
                trainAccuracy.add(row.epoch(), 100 * row.trainAccuracy());
                testAccuracy.add(row.epoch(), 100 * row.testAccuracy());
            }
            losses.addSeries(testLoss);
            losses.addSeries(trainLoss);
            accuracies.addSeries(testAccuracy);
            accuracies.addSeries(trainAccuracy);
        }
        NumberAxis epochAxis = new NumberAxis("epoch");
        epochAxis.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        CombinedDomainXYPlot plot = new CombinedDomainXYPlot(epochAxis);
        plot.add(subplot(losses, "loss", runs.size(), true), 1);
        plot.add(subplot(accuracies, "accuracy (%)", runs.size(), false), 1); // same colours: one legend is enough
        JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        return chart;
    }

    private static XYPlot subplot(XYSeriesCollection data, String axisLabel, int runs, boolean inLegend) {
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        renderer.setDefaultSeriesVisibleInLegend(inLegend);
        BasicStroke dashed = new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {5f, 4f}, 0f);
        for (int run = 0; run < runs; run++) {
            Color color = Palette.color(run);
            renderer.setSeriesPaint(2 * run, color);
            renderer.setSeriesStroke(2 * run, new BasicStroke(2f));
            renderer.setSeriesPaint(2 * run + 1, color);
            renderer.setSeriesStroke(2 * run + 1, dashed);
            renderer.setSeriesShapesVisible(2 * run + 1, false);
        }
        NumberAxis axis = new NumberAxis(axisLabel);
        axis.setAutoRangeIncludesZero(false);
        XYPlot plot = new XYPlot(data, null, axis, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xdddddd));
        plot.setRangeGridlinePaint(new Color(0xdddddd));
        return plot;
    }
}
