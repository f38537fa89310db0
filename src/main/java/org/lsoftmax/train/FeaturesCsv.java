package org.lsoftmax.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.data.AtomicFiles;
import org.lsoftmax.data.TextFiles;

/** A 2-D run's test features, for the scatter plot: {@code features.csv}, a header and "label,x,y" per test sample. */
public final class FeaturesCsv {

    public static final String FILE_NAME = "features.csv";
    static final String HEADER = "label,x,y";

    /** The labels and the 2-D points (x0, y0, x1, y1, ...) of one file. */
    public record Points(int[] labels, float[] points) {
    }

    private FeaturesCsv() {
    }

    /** Writes the file atomically ({@link AtomicFiles}). */
    public static void write(Path file, int[] labels, float[] features) {
        StringBuilder text = new StringBuilder(HEADER).append('\n');
        for (int i = 0; i < labels.length; i++) {
            text.append(labels[i]).append(',').append(features[2 * i]).append(',').append(features[2 * i + 1]).append('\n');
        }
        try {
            AtomicFiles.write(file, text.toString().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /** Reads the file; an empty file, a missing header, a malformed line or a non-finite point is refused naming the line. */
    public static Points read(Path file) {
        List<String> lines = TextFiles.readLines(file);
        if (lines.isEmpty()) {
            throw new InvalidInputException(file + ": is empty, expected the header " + HEADER + " and one line per test sample");
        }
        if (!lines.get(0).trim().equals(HEADER)) {
            throw new InvalidInputException(file + ": not a features file (expected the header " + HEADER + ")");
        }
        int count = 0;
        for (int i = 1; i < lines.size(); i++) {
            if (!lines.get(i).isBlank()) {
                count++;
            }
        }
        int[] labels = new int[count];
        float[] features = new float[2 * count];
        int point = 0;
        for (int i = 1; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            String[] fields = lines.get(i).trim().split(",");
            try {
                if (fields.length != 3) {
                    throw new IllegalArgumentException(fields.length + " fields");
                }
                labels[point] = Integer.parseInt(fields[0].trim());
                features[2 * point] = Float.parseFloat(fields[1].trim());
                features[2 * point + 1] = Float.parseFloat(fields[2].trim());
            } catch (RuntimeException e) {
                throw new InvalidInputException(file + ": line " + (i + 1) + " is not label,x,y", e);
            }
            if (labels[point] < 0) {
                throw new InvalidInputException(file + ": line " + (i + 1) + ": negative label " + labels[point]);
            }
            if (!Float.isFinite(features[2 * point]) || !Float.isFinite(features[2 * point + 1])) {
                throw new InvalidInputException(file + ": line " + (i + 1) + ": the point (" + features[2 * point] + ", "
                        + features[2 * point + 1] + ") is not finite");
            }
            point++;
        }
        return new Points(labels, features);
    }
}
