package org.lsoftmax.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.lsoftmax.InvalidInputException;

/** Reads and writes a run's {@code metrics.csv} (one {@link EpochMetrics} row per epoch). */
public final class MetricsCsv {

    public static final String FILE_NAME = "metrics.csv";

    private MetricsCsv() {
    }

    /** Rewrites the whole file (small: one line per epoch), so a resumed run drops rows past its checkpoint. */
    public static void write(Path file, List<EpochMetrics> rows) {
        List<String> lines = new ArrayList<>();
        lines.add(EpochMetrics.CSV_HEADER);
        for (EpochMetrics row : rows) {
            lines.add(row.toCsvRow());
        }
        try {
            Files.write(file, lines, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    public static List<EpochMetrics> read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot be read (" + e.getMessage() + ")", e);
        }
        if (lines.isEmpty() || !lines.get(0).trim().equals(EpochMetrics.CSV_HEADER)) {
            throw new InvalidInputException(file + ": not a metrics file (expected the header " + EpochMetrics.CSV_HEADER + ")");
        }
        List<EpochMetrics> rows = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            try {
                rows.add(EpochMetrics.fromCsvRow(lines.get(i).trim()));
            } catch (IllegalArgumentException e) {
                throw new InvalidInputException(file + ": line " + (i + 1) + " is malformed (" + e.getMessage() + ")", e);
            }
        }
        return rows;
    }
}
