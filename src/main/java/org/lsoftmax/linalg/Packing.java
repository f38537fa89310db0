package org.lsoftmax.linalg;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Copies a band of {@code width} rows of a logical matrix M[rows x k] into one packed panel, k-major:
 * {@code panel[p * width + r] = M(row0 + r, p)}, with rows past the end of M set to zero. The
 * micro-kernel then reads the panel strictly sequentially, one k step ({@code width} floats) at a time.
 *
 * <p>Two storage orders of M are supported: row-major (M(i, p) at {@code i * k + p}) and column-major,
 * i.e. stored transposed (M(i, p) at {@code p * rows + i}).
 */
final class Packing {

    private static final VectorSpecies<Float> FLOATS = MicroKernel.SPECIES;
    private static final int LANES = FLOATS.length();
    /** The in-register transpose below is written out for 16 lanes (512-bit vectors); other widths copy scalar. */
    private static final boolean TRANSPOSE_IN_REGISTERS = LANES == 16;
    // Butterfly stage with block size d (8, 4, 2, 1): UP_d moves lane l - d to lane l in the upper block
    // of each pair of blocks, DOWN_d moves lane l + d to lane l in the lower one; HI_d / LO_d select them.
    private static final VectorShuffle<Float> UP_8 = shuffle(8, true);
    private static final VectorShuffle<Float> UP_4 = shuffle(4, true);
    private static final VectorShuffle<Float> UP_2 = shuffle(2, true);
    private static final VectorShuffle<Float> UP_1 = shuffle(1, true);
    private static final VectorShuffle<Float> DOWN_8 = shuffle(8, false);
    private static final VectorShuffle<Float> DOWN_4 = shuffle(4, false);
    private static final VectorShuffle<Float> DOWN_2 = shuffle(2, false);
    private static final VectorShuffle<Float> DOWN_1 = shuffle(1, false);
    private static final VectorMask<Float> HI_8 = upperBlocks(8);
    private static final VectorMask<Float> HI_4 = upperBlocks(4);
    private static final VectorMask<Float> HI_2 = upperBlocks(2);
    private static final VectorMask<Float> HI_1 = upperBlocks(1);
    private static final VectorMask<Float> LO_8 = HI_8.not();
    private static final VectorMask<Float> LO_4 = HI_4.not();
    private static final VectorMask<Float> LO_2 = HI_2.not();
    private static final VectorMask<Float> LO_1 = HI_1.not();

    private static VectorShuffle<Float> shuffle(int block, boolean up) {
        int[] source = new int[LANES];
        for (int lane = 0; lane < LANES; lane++) {
            boolean upper = (lane / block) % 2 == 1;
            source[lane] = up ? (upper ? lane - block : lane) : (upper ? lane : Math.min(LANES - 1, lane + block));
        }
        return VectorShuffle.fromArray(FLOATS, source, 0);
    }

    private static VectorMask<Float> upperBlocks(int block) {
        boolean[] upper = new boolean[LANES];
        for (int lane = 0; lane < LANES; lane++) {
            upper[lane] = (lane / block) % 2 == 1;
        }
        return VectorMask.fromArray(FLOATS, upper, 0);
    }

    private Packing() {
    }

    /**
     * M(i, p) = src[i * k + p]: a transposing copy. Full panels go through LANES x LANES blocks
     * transposed in registers (log2(LANES) butterfly stages, each swapping the off-diagonal blocks of a
     * pair of vectors with one rearrange and one blend per vector): about 4x faster than the scalar
     * loop, which writes one float per cache line touched. A copy: the values are the scalar loop's.
     */
    static void packRowMajorRows(float[] src, int rows, int k, int row0, int width, float[] panel, int panelOffset) {
        int valid = Math.min(width, rows - row0);
        int blocked = 0;
        if (TRANSPOSE_IN_REGISTERS && valid == width && width % LANES == 0) {
            blocked = k - k % LANES;
            for (int p0 = 0; p0 < blocked; p0 += LANES) {
                for (int r0 = 0; r0 < width; r0 += LANES) {
                    transpose16(src, (row0 + r0) * k + p0, k, panel, panelOffset + p0 * width + r0, width);
                }
            }
        }
        for (int r = 0; r < valid; r++) {
            int source = (row0 + r) * k;
            int target = panelOffset + r;
            for (int p = blocked; p < k; p++) {
                panel[target + p * width] = src[source + p];
            }
        }
        if (valid < width) {
            for (int p = 0; p < k; p++) {
                int target = panelOffset + p * width;
                Arrays.fill(panel, target + valid, target + width, 0.0f);
            }
        }
    }

    /**
     * {@code out[j * ldo + r] = src[r * lds + j]} for r, j < 16: 16 rows of 16 floats transposed in
     * registers. Four butterfly stages (block sizes 8, 4, 2, 1): for each pair of vectors (a, b) a block
     * apart, a keeps its lower blocks and takes b's lower blocks into its upper ones, b takes a's upper
     * blocks into its lower ones (one rearrange and one blend each). Written out (vectors in an array
     * would be boxed); generated, keep the stages in sync.
     */
    private static void transpose16(float[] src, int srcOffset, int lds, float[] out, int outOffset, int ldo) {
        FloatVector v0 = FloatVector.fromArray(FLOATS, src, srcOffset + 0 * lds);
        FloatVector v1 = FloatVector.fromArray(FLOATS, src, srcOffset + 1 * lds);
        FloatVector v2 = FloatVector.fromArray(FLOATS, src, srcOffset + 2 * lds);
        FloatVector v3 = FloatVector.fromArray(FLOATS, src, srcOffset + 3 * lds);
        FloatVector v4 = FloatVector.fromArray(FLOATS, src, srcOffset + 4 * lds);
        FloatVector v5 = FloatVector.fromArray(FLOATS, src, srcOffset + 5 * lds);
        FloatVector v6 = FloatVector.fromArray(FLOATS, src, srcOffset + 6 * lds);
        FloatVector v7 = FloatVector.fromArray(FLOATS, src, srcOffset + 7 * lds);
        FloatVector v8 = FloatVector.fromArray(FLOATS, src, srcOffset + 8 * lds);
        FloatVector v9 = FloatVector.fromArray(FLOATS, src, srcOffset + 9 * lds);
        FloatVector v10 = FloatVector.fromArray(FLOATS, src, srcOffset + 10 * lds);
        FloatVector v11 = FloatVector.fromArray(FLOATS, src, srcOffset + 11 * lds);
        FloatVector v12 = FloatVector.fromArray(FLOATS, src, srcOffset + 12 * lds);
        FloatVector v13 = FloatVector.fromArray(FLOATS, src, srcOffset + 13 * lds);
        FloatVector v14 = FloatVector.fromArray(FLOATS, src, srcOffset + 14 * lds);
        FloatVector v15 = FloatVector.fromArray(FLOATS, src, srcOffset + 15 * lds);
        FloatVector a;
        FloatVector b;
        // block size 8
        a = v0;
        b = v8;
        v0 = a.blend(b.rearrange(UP_8), HI_8);
        v8 = b.blend(a.rearrange(DOWN_8), LO_8);
        a = v1;
        b = v9;
        v1 = a.blend(b.rearrange(UP_8), HI_8);
        v9 = b.blend(a.rearrange(DOWN_8), LO_8);
        a = v2;
        b = v10;
        v2 = a.blend(b.rearrange(UP_8), HI_8);
        v10 = b.blend(a.rearrange(DOWN_8), LO_8);
        a = v3;
        b = v11;
        v3 = a.blend(b.rearrange(UP_8), HI_8);
        v11 = b.blend(a.rearrange(DOWN_8), LO_8);
        a = v4;
        b = v12;
        v4 = a.blend(b.rearrange(UP_8), HI_8);
        v12 = b.blend(a.rearrange(DOWN_8), LO_8);
        a = v5;
        b = v13;
        v5 = a.blend(b.rearrange(UP_8), HI_8);
        v13 = b.blend(a.rearrange(DOWN_8), LO_8);
        a = v6;
        b = v14;
        v6 = a.blend(b.rearrange(UP_8), HI_8);
        v14 = b.blend(a.rearrange(DOWN_8), LO_8);
        a = v7;
        b = v15;
        v7 = a.blend(b.rearrange(UP_8), HI_8);
        v15 = b.blend(a.rearrange(DOWN_8), LO_8);
        // block size 4
        a = v0;
        b = v4;
        v0 = a.blend(b.rearrange(UP_4), HI_4);
        v4 = b.blend(a.rearrange(DOWN_4), LO_4);
        a = v1;
        b = v5;
        v1 = a.blend(b.rearrange(UP_4), HI_4);
        v5 = b.blend(a.rearrange(DOWN_4), LO_4);
        a = v2;
        b = v6;
        v2 = a.blend(b.rearrange(UP_4), HI_4);
        v6 = b.blend(a.rearrange(DOWN_4), LO_4);
        a = v3;
        b = v7;
        v3 = a.blend(b.rearrange(UP_4), HI_4);
        v7 = b.blend(a.rearrange(DOWN_4), LO_4);
        a = v8;
        b = v12;
        v8 = a.blend(b.rearrange(UP_4), HI_4);
        v12 = b.blend(a.rearrange(DOWN_4), LO_4);
        a = v9;
        b = v13;
        v9 = a.blend(b.rearrange(UP_4), HI_4);
        v13 = b.blend(a.rearrange(DOWN_4), LO_4);
        a = v10;
        b = v14;
        v10 = a.blend(b.rearrange(UP_4), HI_4);
        v14 = b.blend(a.rearrange(DOWN_4), LO_4);
        a = v11;
        b = v15;
        v11 = a.blend(b.rearrange(UP_4), HI_4);
        v15 = b.blend(a.rearrange(DOWN_4), LO_4);
        // block size 2
        a = v0;
        b = v2;
        v0 = a.blend(b.rearrange(UP_2), HI_2);
        v2 = b.blend(a.rearrange(DOWN_2), LO_2);
        a = v1;
        b = v3;
        v1 = a.blend(b.rearrange(UP_2), HI_2);
        v3 = b.blend(a.rearrange(DOWN_2), LO_2);
        a = v4;
        b = v6;
        v4 = a.blend(b.rearrange(UP_2), HI_2);
        v6 = b.blend(a.rearrange(DOWN_2), LO_2);
        a = v5;
        b = v7;
        v5 = a.blend(b.rearrange(UP_2), HI_2);
        v7 = b.blend(a.rearrange(DOWN_2), LO_2);
        a = v8;
        b = v10;
        v8 = a.blend(b.rearrange(UP_2), HI_2);
        v10 = b.blend(a.rearrange(DOWN_2), LO_2);
        a = v9;
        b = v11;
        v9 = a.blend(b.rearrange(UP_2), HI_2);
        v11 = b.blend(a.rearrange(DOWN_2), LO_2);
        a = v12;
        b = v14;
        v12 = a.blend(b.rearrange(UP_2), HI_2);
        v14 = b.blend(a.rearrange(DOWN_2), LO_2);
        a = v13;
        b = v15;
        v13 = a.blend(b.rearrange(UP_2), HI_2);
        v15 = b.blend(a.rearrange(DOWN_2), LO_2);
        // block size 1
        a = v0;
        b = v1;
        v0 = a.blend(b.rearrange(UP_1), HI_1);
        v1 = b.blend(a.rearrange(DOWN_1), LO_1);
        a = v2;
        b = v3;
        v2 = a.blend(b.rearrange(UP_1), HI_1);
        v3 = b.blend(a.rearrange(DOWN_1), LO_1);
        a = v4;
        b = v5;
        v4 = a.blend(b.rearrange(UP_1), HI_1);
        v5 = b.blend(a.rearrange(DOWN_1), LO_1);
        a = v6;
        b = v7;
        v6 = a.blend(b.rearrange(UP_1), HI_1);
        v7 = b.blend(a.rearrange(DOWN_1), LO_1);
        a = v8;
        b = v9;
        v8 = a.blend(b.rearrange(UP_1), HI_1);
        v9 = b.blend(a.rearrange(DOWN_1), LO_1);
        a = v10;
        b = v11;
        v10 = a.blend(b.rearrange(UP_1), HI_1);
        v11 = b.blend(a.rearrange(DOWN_1), LO_1);
        a = v12;
        b = v13;
        v12 = a.blend(b.rearrange(UP_1), HI_1);
        v13 = b.blend(a.rearrange(DOWN_1), LO_1);
        a = v14;
        b = v15;
        v14 = a.blend(b.rearrange(UP_1), HI_1);
        v15 = b.blend(a.rearrange(DOWN_1), LO_1);
        v0.intoArray(out, outOffset + 0 * ldo);
        v1.intoArray(out, outOffset + 1 * ldo);
        v2.intoArray(out, outOffset + 2 * ldo);
        v3.intoArray(out, outOffset + 3 * ldo);
        v4.intoArray(out, outOffset + 4 * ldo);
        v5.intoArray(out, outOffset + 5 * ldo);
        v6.intoArray(out, outOffset + 6 * ldo);
        v7.intoArray(out, outOffset + 7 * ldo);
        v8.intoArray(out, outOffset + 8 * ldo);
        v9.intoArray(out, outOffset + 9 * ldo);
        v10.intoArray(out, outOffset + 10 * ldo);
        v11.intoArray(out, outOffset + 11 * ldo);
        v12.intoArray(out, outOffset + 12 * ldo);
        v13.intoArray(out, outOffset + 13 * ldo);
        v14.intoArray(out, outOffset + 14 * ldo);
        v15.intoArray(out, outOffset + 15 * ldo);
    }

    /** M(i, p) = src[p * rows + i] (M stored transposed): each k step is one contiguous copy of width floats. */
    static void packColumnMajorRows(float[] src, int rows, int k, int row0, int width, float[] panel, int panelOffset) {
        int valid = Math.min(width, rows - row0);
        if (valid == width) {
            // full panel: a plain copy loop (C2 vectorises it; a System.arraycopy call per 8 or 32 floats
            // costs more than the copy, and Vector API copies of a second float shape would pollute the
            // type profiles the micro-kernel's vectors rely on)
            for (int p = 0; p < k; p++) {
                int source = p * rows + row0;
                int target = panelOffset + p * width;
                for (int j = 0; j < width; j++) {
                    panel[target + j] = src[source + j];
                }
            }
            return;
        }
        for (int p = 0; p < k; p++) {
            int target = panelOffset + p * width;
            System.arraycopy(src, p * rows + row0, panel, target, valid);
            if (valid < width) {
                Arrays.fill(panel, target + valid, target + width, 0.0f);
            }
        }
    }

    /**
     * {@link #packSliceRows} of two full bands of MR rows at once from a column-major M (rows
     * {@code row0 .. row0 + 2 MR - 1}, each in range), through 16 x 16 blocks transposed in registers:
     * the second band lands right after the first ({@code blockOffset + MR * depth}), as two calls would
     * put it. Returns false (and copies nothing) where the registers do not hold 16 lanes.
     */
    static boolean packTransposedSlicePair(float[] src, int rows, int row0, int p0, int depth, float[] block,
                                           int blockOffset) {
        if (!TRANSPOSE_IN_REGISTERS || 2 * MicroKernel.MR != LANES) {
            return false;
        }
        int blocked = depth - depth % LANES;
        for (int p = 0; p < blocked; p += LANES) {
            transpose16(src, (p0 + p) * rows + row0, rows, block, blockOffset + p, depth);
        }
        for (int p = blocked; p < depth; p++) {
            int source = (p0 + p) * rows + row0;
            int target = blockOffset + p;
            for (int r = 0; r < LANES; r++) {
                block[target + r * depth] = src[source + r];
            }
        }
        return true;
    }

    /**
     * One k slice of a band of MR rows, row-major: {@code block[blockOffset + r * depth + (p - p0)] =
     * M(row0 + r, p)} for r < {@code width}, p in [p0, p0 + depth); rows past the end of M are zero.
     * {@code columnMajor}: M(i, p) at {@code src[p * rows + i]}, else M(i, p) at {@code src[i * k + p]}.
     */
    static void packSliceRows(float[] src, boolean columnMajor, int rows, int k, int row0, int width, int p0, int depth,
                              float[] block, int blockOffset) {
        int valid = Math.min(width, rows - row0);
        if (columnMajor) {
            for (int p = 0; p < depth; p++) {
                int source = (p0 + p) * rows + row0;
                int target = blockOffset + p;
                for (int r = 0; r < valid; r++) {
                    block[target + r * depth] = src[source + r];
                }
            }
        } else {
            for (int r = 0; r < valid; r++) {
                System.arraycopy(src, (row0 + r) * k + p0, block, blockOffset + r * depth, depth);
            }
        }
        if (valid < width) {
            Arrays.fill(block, blockOffset + valid * depth, blockOffset + width * depth, 0.0f);
        }
    }
}
