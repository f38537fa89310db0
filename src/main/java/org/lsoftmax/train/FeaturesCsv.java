package org.lsoftmax.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.lsoftmax.InvalidInputException;

/** A 2-D run's test features, for the scatter plot: {@code features.csv}, a header and "label,x,y" per test sample. */
public final class FeaturesCsv {

    public static final String FILE_NAME = "features.csv";

    /** The labels and the 2-D points (x0, y0, x1, y1, ...) of one file. */
    public record Points(int[] labels, float[] points) {
    }

    private FeaturesCsv() {
    }

    public static void write(Path file, int[] labels, float[] features) {
        StringBuilder text = new StringBuilder("label,x,y\n");
        for (int i = 0; i < labels.length; i++) {
            text.append(labels[i]).append(',').append(features[2 * i]).append(',').append(features[2 * i + 1]).append('\n');
        }
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    public static Points read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot be read (" + e.getMessage() + ")", e);
        }
        int count = lines.size() - 1;
        int[] labels = new int[count];
        float[] features = new float[2 * count];
        for (int i = 0; i < count; i++) {
            String[] fields = lines.get(i + 1).split(",");
            try {
                labels[i] = Integer.parseInt(fields[0]);
                features[2 * i] = Float.parseFloat(fields[1]);
                features[2 * i + 1] = Float.parseFloat(fields[2]);
            } catch (RuntimeException e) {
                throw new InvalidInputException(file + ": line " + (i + 2) + " is not label,x,y", e);
            }
        }
        return new Points(labels, features);
    }
}
