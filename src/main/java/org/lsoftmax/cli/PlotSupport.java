package org.lsoftmax.cli;

/** Shared set-up of the commands that draw pictures. */
final class PlotSupport {

    private PlotSupport() {
    }

    /** JFreeChart draws through AWT; without a display AWT must be told to stay headless. */
    static void headless() {
        System.setProperty("java.awt.headless", "true");
    }
}
