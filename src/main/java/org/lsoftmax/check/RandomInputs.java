package org.lsoftmax.check;

import java.util.Random;
import org.lsoftmax.head.HeadShape;
import org.lsoftmax.head.MarginLoss;

/**
 * Random head inputs whose target angles cover every branch k of psi ({@link #spread} draws them
 * evenly over [0, pi] instead): sample i gets an angle
 * theta_i drawn inside the interval {@code [k pi/m, (k+1) pi/m]} with {@code k = i mod m}, and
 * {@code x_i = r (cos(theta) w_y/|w_y| + sin(theta) u)} with u a random unit vector orthogonal to
 * w_y. Norms vary over [0.5, 2]. Used by the gradient check, the tests and the benchmarks.
 *
 * @param x      N*D, float64
 * @param w      C*D, float64
 * @param labels N labels
 */
public record RandomInputs(double[] x, double[] w, int[] labels) {

    /** L-Softmax inputs across every branch k of psi_m. */
    public static RandomInputs generate(HeadShape shape, int margin, long seed) {
        return generate(shape, MarginLoss.lsoftmax(margin), seed);
    }

    /**
     * Inputs for {@code loss}: the angles cover every smooth piece of its margin function, a little
     * inside each (branches k of psi; the main branch and the tail of the combined margins, away from
     * theta = 0 where an additive angular margin has a corner), so finite differences do not straddle
     * a corner.
     */
    public static RandomInputs generate(HeadShape shape, MarginLoss loss, long seed) {
        double[] pieces = pieceBoundaries(loss);
        Random random = new Random(seed);
        int n = shape.batch();
        int d = shape.features();
        int c = shape.classes();
        double[] w = new double[c * d];
        for (int j = 0; j < c; j++) {
            double scale = 0.5 + 1.5 * random.nextDouble();
            double[] row = randomUnit(random, d, null);
            for (int col = 0; col < d; col++) {
                w[j * d + col] = scale * row[col];
            }
        }
        double[] x = new double[n * d];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            int y = random.nextInt(c);
            labels[i] = y;
            double[] direction = new double[d];
            double wNorm = 0.0;
            for (int col = 0; col < d; col++) {
                direction[col] = w[y * d + col];
                wNorm += direction[col] * direction[col];
            }
            wNorm = Math.sqrt(wNorm);
            for (int col = 0; col < d; col++) {
                direction[col] /= wNorm;
            }
            int piece = i % (pieces.length - 1);
            // stay a little inside the piece so finite differences do not straddle a corner
            double fraction = 0.02 + 0.96 * random.nextDouble();
            double theta = pieces[piece] + fraction * (pieces[piece + 1] - pieces[piece]);
            double radius = 0.5 + 1.5 * random.nextDouble();
            double[] orthogonal = d > 1 ? randomUnit(random, d, direction) : new double[d];
            for (int col = 0; col < d; col++) {
                x[i * d + col] = radius * (Math.cos(theta) * direction[col] + Math.sin(theta) * orthogonal[col]);
            }
        }
        return new RandomInputs(x, w, labels);
    }

    /**
     * The edges of {@code loss} (docs/DERIVATION.md, "Edges"), on a shape of at least 8 samples, 2
     * features and 3 classes: sample 0 parallel to its class weight (cos theta = 1), sample 1
     * anti-parallel (-1), sample 2 a zero feature, sample 3 of a class whose weight is zero, sample 4
     * exactly at the join angle of a combined margin or on a branch boundary of psi, sample 5 at
     * theta = pi/2; the others random; norms up to 50, so a large scale s gives large logits.
     */
    public static RandomInputs edges(HeadShape shape, MarginLoss loss, long seed) {
        if (shape.batch() < 8 || shape.features() < 2 || shape.classes() < 3) {
            throw new IllegalArgumentException("the edge set needs N >= 8, D >= 2, C >= 3, got " + shape);
        }
        RandomInputs base = generate(shape, loss, seed);
        double[] x = base.x().clone();
        double[] w = base.w().clone();
        int[] labels = base.labels().clone();
        int d = shape.features();
        Random random = new Random(seed ^ 0x5DEECE66DL);
        int zeroClass = shape.classes() - 1;
        java.util.Arrays.fill(w, zeroClass * d, (zeroClass + 1) * d, 0.0);
        for (int i = 0; i < shape.batch(); i++) {
            if (labels[i] == zeroClass && i != 3) {
                labels[i] = random.nextInt(zeroClass); // only sample 3 has the zero class
            }
        }
        labels[3] = zeroClass;
        double[] pieces = pieceBoundaries(loss);
        double boundary = pieces.length > 2 ? pieces[1] : Math.PI / 3;
        double[] angles = {0.0, Math.PI, Double.NaN, Double.NaN, boundary, Math.PI / 2};
        for (int i = 0; i < angles.length; i++) {
            int y = labels[i];
            if (i == 2) {
                java.util.Arrays.fill(x, i * d, (i + 1) * d, 0.0);
                continue;
            }
            if (Double.isNaN(angles[i])) {
                continue;
            }
            double[] unit = new double[d];
            double wNorm = 0.0;
            for (int col = 0; col < d; col++) {
                unit[col] = w[y * d + col];
                wNorm += unit[col] * unit[col];
            }
            wNorm = Math.sqrt(wNorm);
            for (int col = 0; col < d; col++) {
                unit[col] /= wNorm;
            }
            double[] orthogonal = randomUnit(random, d, unit);
            double radius = i == 0 ? 2.0 * wNorm : 0.5 + 49.5 * random.nextDouble();
            for (int col = 0; col < d; col++) {
                x[i * d + col] = radius * (angles[i] == 0.0 ? unit[col] : angles[i] == Math.PI ? -unit[col]
                        : Math.cos(angles[i]) * unit[col] + Math.sin(angles[i]) * orthogonal[col]);
            }
        }
        return new RandomInputs(x, w, labels);
    }

    /** The angles where the target's margin function has a corner: 0, the branch or join angles, pi. */
    static double[] pieceBoundaries(MarginLoss loss) {
        if (loss.kind().integerMargin()) {
            double[] bounds = new double[loss.margin() + 1];
            for (int k = 0; k <= loss.margin(); k++) {
                bounds[k] = k * Math.PI / loss.margin();
            }
            return bounds;
        }
        double join = org.lsoftmax.math.MarginMath.joinAngle(loss.m1(), loss.m2());
        return join < Math.PI ? new double[] {0.0, join, Math.PI} : new double[] {0.0, Math.PI};
    }

    /** A random unit vector, orthogonal to {@code against} (a unit vector) when given. */
    private static double[] randomUnit(Random random, int d, double[] against) {
        double[] v = new double[d];
        while (true) {
            for (int col = 0; col < d; col++) {
                v[col] = random.nextGaussian();
            }
            if (against != null) {
                double projection = 0.0;
                for (int col = 0; col < d; col++) {
                    projection += v[col] * against[col];
                }
                for (int col = 0; col < d; col++) {
                    v[col] -= projection * against[col];
                }
            }
            double norm = 0.0;
            for (double value : v) {
                norm += value * value;
            }
            norm = Math.sqrt(norm);
            if (norm > 1e-6) {
                for (int col = 0; col < d; col++) {
                    v[col] /= norm;
                }
                return v;
            }
        }
    }

    /** Float32 inputs, for the passes' own tests. */
    public record Floats(float[] x, float[] w, int[] labels) {
    }

    /**
     * Float32 inputs whose target angles spread evenly over [0, pi] (both ends included: samples 0 and
     * 1 sit at theta = 0 and pi), so that every branch k of psi is hit whatever m is:
     * {@code x_i = r_i (cos t_i unit(w_y) + sin t_i perp_i)} with {@code perp_i} a random unit vector
     * orthogonal to w_y. Labels are drawn from the first {@code labelRange} classes (a small range puts
     * many samples in each class).
     */
    public static Floats spread(HeadShape shape, Random random, int labelRange) {
        int n = shape.batch();
        int d = shape.features();
        int c = shape.classes();
        float[] w = new float[c * d];
        for (int j = 0; j < c; j++) {
            double scale = 0.5 + 1.5 * random.nextDouble();
            for (int col = 0; col < d; col++) {
                w[j * d + col] = (float) (scale * random.nextGaussian() / Math.sqrt(d));
            }
        }
        int[] labels = new int[n];
        float[] x = new float[n * d];
        for (int i = 0; i < n; i++) {
            int y = random.nextInt(Math.min(c, labelRange));
            labels[i] = y;
            double[] unit = normalizedRow(w, y * d, d);
            double[] perp = new double[d];
            for (int col = 0; col < d; col++) {
                perp[col] = random.nextGaussian();
            }
            double along = 0.0;
            for (int col = 0; col < d; col++) {
                along += perp[col] * unit[col];
            }
            for (int col = 0; col < d; col++) {
                perp[col] -= along * unit[col];
            }
            double perpNorm = normOf(perp);
            // t_i evenly over [0, pi] (with jitter), including the end points for the first two samples
            double t = i == 0 ? 0.0 : i == 1 ? Math.PI : Math.PI * (i + random.nextDouble()) / n;
            double radius = 0.5 + 1.5 * random.nextDouble();
            for (int col = 0; col < d; col++) {
                double perpPart = perpNorm > 1e-12 ? perp[col] / perpNorm : 0.0;
                x[i * d + col] = (float) (radius * (Math.cos(t) * unit[col] + Math.sin(t) * perpPart));
            }
        }
        return new Floats(x, w, labels);
    }

    private static double[] normalizedRow(float[] values, int offset, int length) {
        double[] result = new double[length];
        double sum = 0.0;
        for (int col = 0; col < length; col++) {
            sum += (double) values[offset + col] * values[offset + col];
        }
        double norm = Math.sqrt(sum);
        for (int col = 0; col < length; col++) {
            result[col] = values[offset + col] / norm;
        }
        return result;
    }

    private static double normOf(double[] values) {
        double sum = 0.0;
        for (double value : values) {
            sum += value * value;
        }
        return Math.sqrt(sum);
    }

    public float[] xFloat() {
        return toFloat(x);
    }

    public float[] wFloat() {
        return toFloat(w);
    }

    public static float[] toFloat(double[] values) {
        float[] result = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            result[i] = (float) values[i];
        }
        return result;
    }
}
