package org.lsoftmax.plot;

import java.awt.Color;

/** Ten well-separated class colours (matplotlib's "tab10"), so class c has the same colour in every panel. */
final class Palette {

    private static final Color[] COLORS = {
        new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728), new Color(0x9467bd),
        new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f), new Color(0xbcbd22), new Color(0x17becf),
    };

    private Palette() {
    }

    static Color color(int index) {
        Color base = COLORS[index % COLORS.length];
        return index < COLORS.length ? base : base.darker(); // beyond ten classes: darker shades
    }
}
