package org.lsoftmax.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.data.AtomicFiles;
import org.lsoftmax.data.TextFiles;

/** Reads and writes a run's {@code metrics.csv} (one {@link EpochMetrics} row per epoch). */
public final class MetricsCsv {

    public static final String FILE_NAME = "metrics.csv";

    private MetricsCsv() {
    }

    /**
     * Rewrites the whole file (small: one line per epoch), so a resumed run drops rows past its checkpoint;
     * atomically ({@link AtomicFiles}), so a crash leaves the old rows or the new ones, never an empty file.
     */
    public static void write(Path file, List<EpochMetrics> rows) {
        StringBuilder text = new StringBuilder(EpochMetrics.CSV_HEADER).append('\n');
        for (EpochMetrics row : rows) {
            text.append(row.toCsvRow()).append('\n');
        }
        try {
            AtomicFiles.write(file, text.toString().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    public static List<EpochMetrics> read(Path file) {
        List<String> lines = TextFiles.readLines(file);
        if (lines.isEmpty()) {
            throw new InvalidInputException(file + ": is empty, expected a metrics file (header " + EpochMetrics.CSV_HEADER + ")");
        }
        if (!lines.get(0).trim().equals(EpochMetrics.CSV_HEADER)) {
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
