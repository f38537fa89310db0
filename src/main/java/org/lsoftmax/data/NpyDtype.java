package org.lsoftmax.data;

import java.nio.ByteOrder;

/** The .npy element types the project reads: float32/float64 data and int32/int64 labels, either byte order. */
public enum NpyDtype {
    FLOAT32('f', 4),
    FLOAT64('f', 8),
    INT32('i', 4),
    INT64('i', 8);

    private final char kind;
    private final int itemSize;

    NpyDtype(char kind, int itemSize) {
        this.kind = kind;
        this.itemSize = itemSize;
    }

    public int itemSize() {
        return itemSize;
    }

    public boolean isFloating() {
        return kind == 'f';
    }

    /** The little-endian descr string written in headers, e.g. {@code <f4}. */
    public String descr() {
        return "<" + kind + itemSize;
    }

    /** Parses a numpy descr such as {@code <f4}, {@code >i8} or {@code |i1}; null when not supported. */
    static NpyDtype parse(String descr) {
        if (descr.length() < 3) {
            return null;
        }
        char kindChar = descr.charAt(1);
        String size = descr.substring(2);
        for (NpyDtype dtype : values()) {
            if (dtype.kind == kindChar && size.equals(Integer.toString(dtype.itemSize))) {
                return dtype;
            }
        }
        return null;
    }

    /** The byte order of a descr: '>' is big-endian; '<', '=' (on little-endian numpy builds) and '|' are little. */
    static ByteOrder byteOrder(String descr) {
        return descr.charAt(0) == '>' ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
    }
}
