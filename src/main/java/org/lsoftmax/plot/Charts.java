package org.lsoftmax.plot;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.MemoryBudget;
import org.lsoftmax.data.AtomicFiles;

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

    /** The largest side of a picture in pixels: a larger one is surely a typo (and a 100000-pixel square needs 37 GiB). */
    public static final int MAX_SIDE = 10_000;

    /** Draws the chart into a PNG file, written atomically ({@link AtomicFiles}). */
    public static void savePng(JFreeChart chart, Path file, int width, int height) {
        requirePictureFits("the picture " + file, width, height, 1);
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        try {
            ChartUtils.writeChartAsPNG(png, chart, width, height);
            AtomicFiles.write(file, png.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /**
     * Refuses a picture of more than {@link #MAX_SIDE} pixels a side, or whose pixels (and one panel's
     * while it is drawn) do not fit the heap ({@link MemoryBudget}).
     */
    public static void requirePictureFits(String what, long width, long height, long panels) {
        if (width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE) {
            throw new InvalidInputException(what + " would be " + width + " x " + height + " pixels: each side must be in [1, "
                    + MAX_SIDE + "]");
        }
        // ARGB pixels of the picture, and of the panel drawn into it
        MemoryBudget.requireHeap(what + " of " + width + " x " + height + " pixels", 4 * width * height * (panels > 1 ? 2 : 1));
    }

    /** Draws the charts as panels of {@code panelWidth x panelHeight}, {@code columns} per row, into one PNG. */
    public static void saveGridPng(List<JFreeChart> charts, int columns, Path file, int panelWidth, int panelHeight) {
        int rows = (charts.size() + columns - 1) / columns;
        int usedColumns = Math.min(columns, charts.size());
        requirePictureFits("the picture " + file, (long) usedColumns * panelWidth, (long) rows * panelHeight, charts.size());
        BufferedImage image = new BufferedImage(usedColumns * panelWidth, rows * panelHeight, BufferedImage.TYPE_INT_RGB);
        Graphics2D graphics = image.createGraphics();
        graphics.setColor(Color.WHITE);
        graphics.fillRect(0, 0, image.getWidth(), image.getHeight());
        for (int i = 0; i < charts.size(); i++) {
            BufferedImage panel = charts.get(i).createBufferedImage(panelWidth, panelHeight);
            graphics.drawImage(panel, (i % columns) * panelWidth, (i / columns) * panelHeight, null);
        }
        graphics.dispose();
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        try {
            ChartUtils.writeBufferedImageAsPNG(png, image);
            AtomicFiles.write(file, png.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
