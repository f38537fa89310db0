package org.lsoftmax.plot;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;

/** Saving charts as PNG files, alone or as a grid of panels. Sets AWT headless before any drawing. */
public final class Charts {

    static {
        ensureHeadless();
    }

    private Charts() {
    }

    /**
     * JFreeChart draws with AWT; on a server without a display AWT must not look for one. Called before
     * any chart is built (AWT reads the property once, when it first starts).
     */
    public static void ensureHeadless() {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    public static void savePng(JFreeChart chart, Path file, int width, int height) {
        try {
            createParent(file);
            ChartUtils.saveChartAsPNG(file.toFile(), chart, width, height);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /** Draws the charts as panels of {@code panelWidth x panelHeight}, {@code columns} per row, into one PNG. */
    public static void saveGridPng(List<JFreeChart> charts, int columns, Path file, int panelWidth, int panelHeight) {
        int rows = (charts.size() + columns - 1) / columns;
        int usedColumns = Math.min(columns, charts.size());
        BufferedImage image = new BufferedImage(usedColumns * panelWidth, rows * panelHeight, BufferedImage.TYPE_INT_RGB);
        Graphics2D graphics = image.createGraphics();
        graphics.setColor(Color.WHITE);
        graphics.fillRect(0, 0, image.getWidth(), image.getHeight());
        for (int i = 0; i < charts.size(); i++) {
            BufferedImage panel = charts.get(i).createBufferedImage(panelWidth, panelHeight);
            graphics.drawImage(panel, (i % columns) * panelWidth, (i / columns) * panelHeight, null);
        }
        graphics.dispose();
        try {
            createParent(file);
            try (OutputStream out = Files.newOutputStream(file)) {
                ChartUtils.writeBufferedImageAsPNG(out, image);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    private static void createParent(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
    }
}
