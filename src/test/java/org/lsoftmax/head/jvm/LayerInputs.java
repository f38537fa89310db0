package org.lsoftmax.head.jvm;

import java.util.Random;
import org.lsoftmax.head.HeadShape;

/**
 * Random layer inputs whose target angles cover [0, pi] evenly, so that every branch k of
 * psi is hit: x_i = r_i (cos t_i unit(w_y) + sin t_i perp_i) with perp_i a random unit vector
 * orthogonal to w_y and t_i spread over [0, pi].
 */
record LayerInputs(float[] x, float[] w, int[] labels) {

    static LayerInputs draw(HeadShape shape, Random random, int labelRange) {
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
            double[] unit = normalized(w, y * d, d);
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
            double perpNorm = norm(perp);
            // t_i evenly over [0, pi] (with jitter), including the end points for the first two samples
            double t = i == 0 ? 0.0 : i == 1 ? Math.PI : Math.PI * (i + random.nextDouble()) / n;
            double radius = 0.5 + 1.5 * random.nextDouble();
            for (int col = 0; col < d; col++) {
                double perpPart = perpNorm > 1e-12 ? perp[col] / perpNorm : 0.0;
                x[i * d + col] = (float) (radius * (Math.cos(t) * unit[col] + Math.sin(t) * perpPart));
            }
        }
        return new LayerInputs(x, w, labels);
    }

    private static double[] normalized(float[] values, int offset, int length) {
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

    private static double norm(double[] values) {
        double sum = 0.0;
        for (double value : values) {
            sum += value * value;
        }
        return Math.sqrt(sum);
    }
}
