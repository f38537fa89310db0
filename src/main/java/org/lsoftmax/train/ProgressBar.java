package org.lsoftmax.train;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A text progress bar with throughput and ETA for one epoch. On a terminal it redraws one line with
 * {@code \r} at most every 200 ms; otherwise (a log file, CI) it prints a plain line every 10%, so
 * logs stay readable.
 */
public final class ProgressBar {

    private static final int WIDTH = 30;
    private static final long REDRAW_NANOS = 200_000_000L;

    private final PrintStream out;
    private final String label;
    private final long total;
    private final boolean interactive;
    private final long startNanos = System.nanoTime();
    private long lastDrawNanos;
    private int lastDecile;

    public ProgressBar(PrintStream out, String label, long total, boolean interactive) {
        this.out = out;
        this.label = label;
        this.total = Math.max(1, total);
        this.interactive = interactive;
    }

    /** A bar on stderr, interactive when a console is attached. */
    public static ProgressBar onStderr(String label, long total) {
        return new ProgressBar(System.err, label, total, System.console() != null);
    }

    /** Reports {@code done} items (samples) finished. */
    public void update(long done) {
        long now = System.nanoTime();
        if (interactive) {
            if (now - lastDrawNanos >= REDRAW_NANOS || done >= total) {
                lastDrawNanos = now;
                out.print("\r" + line(done, now));
                out.flush();
            }
        } else {
            int decile = (int) (10 * done / total);
            if (decile > lastDecile) {
                lastDecile = decile;
                out.println(line(done, now));
            }
        }
    }

    /** Ends the bar's line (interactive mode). */
    public void finish() {
        if (interactive) {
            out.println();
        }
    }

    String line(long done, long now) {
        double seconds = Math.max(1e-9, (now - startNanos) / 1e9);
        double rate = done / seconds;
        double eta = rate > 0 ? (total - done) / rate : Double.NaN;
        int filled = (int) (WIDTH * done / total);
        return String.format(Locale.ROOT, "%s [%s%s] %3d%% %d/%d  %.0f samples/s  ETA %s", label, "=".repeat(filled),
                " ".repeat(WIDTH - filled), 100 * done / total, done, total, rate, formatSeconds(eta));
    }

    static String formatSeconds(double seconds) {
        if (Double.isNaN(seconds) || Double.isInfinite(seconds)) {
            return "--:--";
        }
        long whole = Math.round(seconds);
        return String.format(Locale.ROOT, "%d:%02d", whole / 60, whole % 60);
    }
}
