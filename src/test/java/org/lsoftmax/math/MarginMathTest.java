package org.lsoftmax.math;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Tests of {@link MarginMath}; every random test names its seed in its failure messages. */
class MarginMathTest {

    private static final int[] KINDS = {
        MarginMath.LSOFTMAX, MarginMath.SPHEREFACE, MarginMath.COSFACE, MarginMath.ARCFACE, MarginMath.COMBINED};

    /** One draw of the parameters of every kind. */
    private record Params(int kind, int margin, double m1, double m2, double m3) {
        double value(double c) {
            return MarginMath.value(kind, c, margin, m1, m2, m3);
        }

        double slope(double c) {
            return MarginMath.slope(kind, c, margin, m1, m2, m3);
        }

        /** The m1 and m2 the kind actually uses (arcface and cosface are combined(1, m2, 0), combined(1, 0, m3)). */
        double effectiveM1() {
            return kind == MarginMath.COMBINED ? m1 : 1.0;
        }

        double effectiveM2() {
            return kind == MarginMath.COMBINED || kind == MarginMath.ARCFACE ? m2 : 0.0;
        }

        boolean isPsi() {
            return kind == MarginMath.LSOFTMAX || kind == MarginMath.SPHEREFACE;
        }

        @Override
        public String toString() {
            return "kind=" + kind + " margin=" + margin + " m1=" + m1 + " m2=" + m2 + " m3=" + m3;
        }
    }

    /** m1 in [1, 16] (often exactly 1 or an integer), m2 in [0, pi) (often 0), m3 in [0, 2]. */
    private static Params draw(Random random, int kind) {
        int margin = 1 + random.nextInt(LSoftmaxMath.MAX_MARGIN);
        double m1 = switch (random.nextInt(4)) {
            case 0 -> 1.0;
            case 1 -> 1 + random.nextInt(16);
            default -> 1.0 + 15.0 * random.nextDouble();
        };
        double m2 = random.nextInt(5) == 0 ? 0.0 : Math.PI * random.nextDouble();
        double m3 = random.nextInt(5) == 0 ? 0.0 : 2.0 * random.nextDouble();
        return new Params(kind, margin, m1, m2, m3);
    }

    /** The angles where h is not smooth or h' is singular: 0, pi, j pi / m (psi kinds), theta* (the tail kinds). */
    private static double angleToNearestFeature(Params p, double theta) {
        double distance = Math.min(theta, Math.PI - theta);
        if (p.isPsi()) {
            for (int j = 1; j < p.margin(); j++) {
                distance = Math.min(distance, Math.abs(theta - j * Math.PI / p.margin()));
            }
        } else {
            double join = MarginMath.joinAngle(p.effectiveM1(), p.effectiveM2());
            if (join < Math.PI) {
                distance = Math.min(distance, Math.abs(theta - join));
            }
        }
        return distance;
    }

    /** Central difference of value at c with step h, Richardson-extrapolated (h, h/2): error O(h^4). */
    private static double centralDifference(Params p, double c, double h) {
        double wide = (p.value(c + h) - p.value(c - h)) / (2 * h);
        double half = h / 2;
        double narrow = (p.value(c + half) - p.value(c - half)) / (2 * half);
        return (4 * narrow - wide) / 3;
    }

    @Test
    void slopeMatchesCentralDifferencesOfValue() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        int checked = 0;
        double worst = 0;
        while (checked < 20000) {
            Params p = draw(random, KINDS[random.nextInt(KINDS.length)]);
            double theta = Math.PI * random.nextDouble();
            if (angleToNearestFeature(p, theta) < 0.01) {
                continue;
            }
            double c = Math.cos(theta);
            // the step stays well inside the smooth piece around c: 1% of the distance in c to its ends
            double gap = Double.POSITIVE_INFINITY;
            for (double edge = -1; edge <= 1; edge += 2) {
                gap = Math.min(gap, Math.abs(c - edge));
            }
            if (p.isPsi()) {
                for (int j = 1; j < p.margin(); j++) {
                    gap = Math.min(gap, Math.abs(c - Math.cos(j * Math.PI / p.margin())));
                }
            } else if (MarginMath.joinCos(p.effectiveM1(), p.effectiveM2()) > -1) {
                gap = Math.min(gap, Math.abs(c - MarginMath.joinCos(p.effectiveM1(), p.effectiveM2())));
            }
            double numeric = centralDifference(p, c, 0.01 * gap);
            double analytic = p.slope(c);
            double error = Math.abs(numeric - analytic) / Math.abs(analytic);
            worst = Math.max(worst, error);
            assertTrue(error <= 1e-6, p + " c=" + c + " theta=" + theta + ": analytic " + analytic + " numeric "
                    + numeric + " (relative error " + error + ", seed " + seed + ")");
            checked++;
        }
        assertTrue(worst < 1e-6, "worst " + worst + " (seed " + seed + ")");
    }

    @Test
    void continuousAtTheJoinFromBothSides() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        int joins = 0;
        for (int trial = 0; trial < 5000; trial++) {
            Params p = draw(random, random.nextBoolean() ? MarginMath.ARCFACE : MarginMath.COMBINED);
            double m1 = p.effectiveM1();
            double m2 = p.effectiveM2();
            double join = MarginMath.joinCos(m1, m2);
            if (join == -1.0) {
                continue;
            }
            joins++;
            String where = p + " join=" + join + " (seed " + seed + ")";
            double below = Math.nextDown(join);
            assertTrue(MarginMath.onTail(below, m1, m2) && !MarginMath.onTail(join, m1, m2), where);
            double expected = -1.0 - (p.kind() == MarginMath.COMBINED ? p.m3() : 0.0);
            assertEquals(expected, p.value(join), 1e-12, "main side, " + where);
            assertEquals(expected, p.value(below), 1e-12, "tail side, " + where);
            assertEquals(p.value(join), p.value(below), 1e-12, where);
            // the tail's slope in theta, -sin(theta*), is away from zero; h' = 1 in c
            assertEquals(1.0, p.slope(below), 0.0, where);
        }
        assertTrue(joins > 1000, "too few draws with a tail: " + joins + " (seed " + seed + ")");
    }

    /** h strictly decreasing in theta, and h' >= 0 wherever sin(theta) > 0 (psi: up to rounding), on a fine grid over [0, pi]. */
    @Test
    void strictlyDecreasingInThetaForEveryKind() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        int steps = 4096;
        for (int trial = 0; trial < 400; trial++) {
            Params p = draw(random, KINDS[trial % KINDS.length]);
            double previous = Double.POSITIVE_INFINITY;
            for (int step = 0; step <= steps; step++) {
                double theta = Math.PI * step / steps;
                double c = step == steps ? -1.0 : Math.cos(theta);
                double h = p.value(c);
                String where = p + " theta=" + theta + " (seed " + seed + ")";
                assertTrue(h < previous, "not decreasing: h=" + h + " after " + previous + ", " + where);
                if (MarginMath.sinTheta(c) > 0) {
                    // psi' vanishes on the k boundaries, where the binomial expansion leaves a rounding error
                    double floor = p.isPsi() ? -1e-12 * p.margin() * p.margin() : 0.0;
                    assertTrue(p.slope(c) >= floor, "h'=" + p.slope(c) + ", " + where);
                }
                previous = h;
            }
        }
    }

    @Test
    void arcfaceAndCosfaceAreTheCombinedMarginBitForBit() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        for (int trial = 0; trial < 20000; trial++) {
            double c = trial < SPECIAL_COSINES.length ? SPECIAL_COSINES[trial] : 2 * random.nextDouble() - 1;
            double m2 = trial % 7 == 0 ? 0.0 : Math.PI * random.nextDouble();
            double m3 = trial % 5 == 0 ? 0.0 : 2 * random.nextDouble();
            String where = "c=" + c + " m2=" + m2 + " m3=" + m3 + " (seed " + seed + ")";
            assertBits(MarginMath.value(MarginMath.COMBINED, c, 0, 1.0, m2, 0.0),
                    MarginMath.value(MarginMath.ARCFACE, c, 0, 7.0, m2, 1.5), "arcface value, " + where);
            assertBits(MarginMath.slope(MarginMath.COMBINED, c, 0, 1.0, m2, 0.0),
                    MarginMath.slope(MarginMath.ARCFACE, c, 0, 7.0, m2, 1.5), "arcface slope, " + where);
            assertBits(MarginMath.value(MarginMath.COMBINED, c, 0, 1.0, 0.0, m3),
                    MarginMath.value(MarginMath.COSFACE, c, 0, 7.0, 2.5, m3), "cosface value, " + where);
            assertBits(MarginMath.slope(MarginMath.COMBINED, c, 0, 1.0, 0.0, m3),
                    MarginMath.slope(MarginMath.COSFACE, c, 0, 7.0, 2.5, m3), "cosface slope, " + where);
            // cosface is c - m3 exactly, and c itself at m3 = 0
            assertBits(c - m3, MarginMath.value(MarginMath.COSFACE, c, 0, 0, 0, m3), "cosface = c - m3, " + where);
            assertBits(c, MarginMath.value(MarginMath.COSFACE, c, 0, 0, 0, 0.0), "cosface m3=0, " + where);
            assertBits(1.0, MarginMath.slope(MarginMath.COSFACE, c, 0, 0, 0, m3), "cosface slope, " + where);
        }
    }

    @Test
    void psiKindsAreTodaysLSoftmaxBitForBit() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        for (int trial = 0; trial < 20000; trial++) {
            double c = trial < SPECIAL_COSINES.length ? SPECIAL_COSINES[trial] : 2 * random.nextDouble() - 1;
            int m = 1 + trial % LSoftmaxMath.MAX_MARGIN;
            int k = LSoftmaxMath.marginK(c, m);
            String where = "c=" + c + " m=" + m + " (seed " + seed + ")";
            double value = MarginMath.value(MarginMath.LSOFTMAX, c, m, 3.0, 1.0, 0.5);
            double slope = MarginMath.slope(MarginMath.LSOFTMAX, c, m, 3.0, 1.0, 0.5);
            assertBits(LSoftmaxMath.psi(c, m, k), value, "lsoftmax value, " + where);
            assertBits(LSoftmaxMath.dPsiDCos(c, m, k), slope, "lsoftmax slope, " + where);
            assertBits(value, MarginMath.value(MarginMath.SPHEREFACE, c, m, 0, 0, 0), "sphereface value, " + where);
            assertBits(slope, MarginMath.slope(MarginMath.SPHEREFACE, c, m, 0, 0, 0), "sphereface slope, " + where);
            if (m == 1) {
                assertEquals(c, value, 0.0, "lsoftmax m=1 is c, " + where);
                assertBits(1.0, slope, "lsoftmax m=1 slope, " + where);
            }
        }
    }

    private static final double[] SPECIAL_COSINES = {
        -1.0, -1.0 + 1e-16, Math.nextUp(-1.0), -0.5, -0.0, 0.0, 0.5, Math.nextDown(1.0), 1.0 - 1e-16, 1.0};

    @Test
    void finiteAtTheEndsZeroAndTheJoinForEveryKind() {
        double[] m1s = {1.0, Math.nextUp(1.0), 1.5, 2.0, 4.0, 16.0};
        double[] m2s = {0.0, Double.MIN_VALUE, 1e-17, 0.5, Math.PI / 2, 3.0, Math.nextDown(Math.PI)};
        double[] m3s = {0.0, 0.35, 2.0};
        for (int kind : KINDS) {
            for (int margin = 1; margin <= LSoftmaxMath.MAX_MARGIN; margin++) {
                for (double m1 : m1s) {
                    for (double m2 : m2s) {
                        for (double m3 : m3s) {
                            Params p = new Params(kind, margin, m1, m2, m3);
                            double join = MarginMath.joinCos(p.effectiveM1(), p.effectiveM2());
                            double[] cs = {-1.0, -1.0 + 1e-16, -0.0, 0.0, 1.0 - 1e-16, 1.0,
                                join, Math.nextDown(join), Math.nextUp(join)};
                            for (double c : cs) {
                                double value = p.value(c);
                                double slope = p.slope(c);
                                assertTrue(Double.isFinite(value) && Double.isFinite(slope),
                                        p + " c=" + c + ": value " + value + " slope " + slope);
                            }
                            assertTrue(Double.isFinite(join) && join >= -1 && join <= 1, p + " join=" + join);
                        }
                    }
                }
            }
        }
    }

    /** |h'(c) sin(theta)| <= m1: the x-gradient's h' term stays bounded as c -> 1 although h' does not. */
    @Test
    void slopeTimesSinThetaStaysBoundedNearCosOne() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        for (int trial = 0; trial < 200; trial++) {
            boolean arcface = trial % 2 == 0;
            double m1 = arcface ? 1.0 : 1.0 + 15.0 * random.nextDouble();
            double m2 = Math.PI * random.nextDouble();
            double largest = 0;
            for (int digits = 1; digits <= 17; digits++) {
                double c = digits == 17 ? Math.nextDown(1.0) : 1.0 - Math.pow(10, -digits);
                double slope = arcface ? MarginMath.slope(MarginMath.ARCFACE, c, 0, 0, m2, 0)
                        : MarginMath.slope(MarginMath.COMBINED, c, 0, m1, m2, 0.3);
                double product = slope * MarginMath.sinTheta(c);
                largest = Math.max(largest, Math.abs(product));
                assertTrue(Math.abs(product) <= m1 * (1 + 1e-12), "m1=" + m1 + " m2=" + m2 + " c=" + c
                        + ": h' sin = " + product + " (seed " + seed + ")");
            }
            // and h' itself really is unbounded there when sin(m2) != 0 (the reason for the convention)
            if (Math.sin(m2) > 0.1 && MarginMath.joinCos(m1, m2) < Math.nextDown(1.0)) {
                double nearOne = arcface ? MarginMath.slope(MarginMath.ARCFACE, Math.nextDown(1.0), 0, 0, m2, 0)
                        : MarginMath.slope(MarginMath.COMBINED, Math.nextDown(1.0), 0, m1, m2, 0.3);
                assertTrue(nearOne > 1e6, "m1=" + m1 + " m2=" + m2 + ": h' " + nearOne + " (seed " + seed + ")");
            }
        }
    }

    /** At sin(theta) == 0 the finite part of h' (F9); for m2 = 0 that is the limit m1^2, accurate for tiny theta too. */
    @Test
    void slopeAtTheEndsIsTheFinitePart() {
        for (double m2 : new double[] {0.0, 0.3, 0.5, 1.2, 2.0, 3.0}) {
            assertEquals(Math.cos(m2), MarginMath.slope(MarginMath.ARCFACE, 1.0, 0, 0, m2, 0), 1e-15, "arcface m2=" + m2);
            for (double m1 : new double[] {1.0, 1.5, 2.0, 4.0, 16.0}) {
                double expected = m1 * m1 * Math.cos(m2);
                assertEquals(expected, MarginMath.slope(MarginMath.COMBINED, 1.0, 0, m1, m2, 0.2), 1e-13 * m1 * m1,
                        "m1=" + m1 + " m2=" + m2);
            }
        }
        // m2 = 0: the limit m1^2 of m1 sin(m1 theta)/sin(theta), and the ratio is accurate for tiny theta
        for (double m1 : new double[] {1.0, 1.5, 2.0, 3.0, 7.25, 16.0}) {
            assertEquals(m1 * m1, MarginMath.slope(MarginMath.COMBINED, 1.0, 0, m1, 0.0, 0.0), 0.0, "m1=" + m1);
            for (double theta : new double[] {1e-3, 1e-5, 1e-7, 1.5e-8}) {
                double c = Math.cos(theta);
                double angle = Math.acos(c);
                double ratio = m1 * Math.sin(m1 * angle) / Math.sin(angle);
                double slope = MarginMath.slope(MarginMath.COMBINED, c, 0, m1, 0.0, 0.0);
                assertEquals(ratio, slope, 1e-13 * m1 * m1, "m1=" + m1 + " theta=" + theta);
                assertEquals(m1 * m1, slope, m1 * m1 * (m1 * m1 * angle * angle + 1e-13), "m1=" + m1 + " theta=" + theta);
            }
        }
        // c = -1 on the main branch happens only without a tail (m1 = 1, m2 = 0): cosface's 1
        assertEquals(1.0, MarginMath.slope(MarginMath.COMBINED, -1.0, 0, 1.0, 0.0, 0.4), 0.0);
        assertEquals(1.0, MarginMath.slope(MarginMath.COMBINED, -1.0, 0, Math.nextUp(1.0), 0.0, 0.4), 1e-15);
    }

    @Test
    void knownValues() {
        double c60 = 0.5; // cos(60 deg)
        double t60 = Math.PI / 3;
        assertEquals(Math.cos(t60 + 0.5), MarginMath.value(MarginMath.ARCFACE, c60, 0, 0, 0.5, 0), 1e-15);
        assertEquals(Math.sin(t60 + 0.5) / Math.sin(t60), MarginMath.slope(MarginMath.ARCFACE, c60, 0, 0, 0.5, 0), 1e-15);
        assertEquals(0.3 - 0.35, MarginMath.value(MarginMath.COSFACE, 0.3, 0, 0, 0, 0.35), 0.0);
        double t30 = Math.PI / 6;
        assertEquals(Math.cos(2 * t30 + 0.3) - 0.2,
                MarginMath.value(MarginMath.COMBINED, Math.cos(t30), 0, 2.0, 0.3, 0.2), 1e-15);
        assertEquals(2 * Math.sin(2 * t30 + 0.3) / Math.sin(t30),
                MarginMath.slope(MarginMath.COMBINED, Math.cos(t30), 0, 2.0, 0.3, 0.2), 1e-14);
        // arcface m2 = 0.5 at 170 deg is past theta* = pi - 0.5 (about 151 deg): the tail
        double c170 = Math.cos(Math.toRadians(170));
        assertTrue(MarginMath.onTail(c170, 1.0, 0.5));
        assertEquals(c170 - Math.cos(Math.PI - 0.5) - 1, MarginMath.value(MarginMath.ARCFACE, c170, 0, 0, 0.5, 0), 1e-15);
        assertEquals(1.0, MarginMath.slope(MarginMath.ARCFACE, c170, 0, 0, 0.5, 0), 0.0);
        // psi: m = 4 at 60 deg is k = 1, -cos(240 deg) - 2 = -1.5; m = 2 at 120 deg likewise
        assertEquals(-1.5, MarginMath.value(MarginMath.SPHEREFACE, 0.5, 4, 0, 0, 0), 1e-14);
        assertEquals(-1.5, MarginMath.value(MarginMath.LSOFTMAX, -0.5, 2, 0, 0, 0), 1e-14);
        // join angles
        assertEquals(-1.0, MarginMath.joinCos(1.0, 0.0), 0.0);
        assertEquals(Math.cos(Math.PI - 0.5), MarginMath.joinCos(1.0, 0.5), 0.0);
        assertEquals(Math.cos((Math.PI - 0.3) / 1.35), MarginMath.joinCos(1.35, 0.3), 0.0);
        assertEquals(0.0, MarginMath.joinCos(2.0, 0.0), 1e-16);
    }

    /** sinTheta keeps full relative accuracy near |c| = 1, where sqrt(1 - c*c) does not. */
    @Test
    void sinThetaIsAccurateNearTheEnds() {
        MathContext context = new MathContext(40);
        for (int i = 0; i <= 51; i++) {
            for (double sign : new double[] {1, -1}) {
                // 1 - c from 1/2 down to one ulp below 1
                double c = sign * (i == 51 ? Math.nextDown(1.0) : 1.0 - Math.pow(2, -i - 1) * (1 + i / 61.0));
                BigDecimal exact = BigDecimal.ONE.subtract(new BigDecimal(c).pow(2)).sqrt(context);
                double error = Math.abs(MarginMath.sinTheta(c) - exact.doubleValue()) / exact.doubleValue();
                assertTrue(error <= 3e-16, "c=" + c + ": relative error " + error);
            }
        }
        assertEquals(0.0, MarginMath.sinTheta(1.0), 0.0);
        assertEquals(0.0, MarginMath.sinTheta(-1.0), 0.0);
        assertEquals(0.0, MarginMath.sinTheta(1.0000001), 0.0);
        assertEquals(1.0, MarginMath.sinTheta(0.0), 0.0);
    }

    @Test
    void cosineOutsideTheRangeIsClampedNotNaN() {
        for (int kind : KINDS) {
            assertBits(MarginMath.value(kind, 1.0, 4, 2.0, 0.5, 0.3), MarginMath.value(kind, 1.0000001, 4, 2.0, 0.5, 0.3),
                    "kind " + kind);
            assertBits(MarginMath.slope(kind, -1.0, 4, 2.0, 0.5, 0.3), MarginMath.slope(kind, -1.0000001, 4, 2.0, 0.5, 0.3),
                    "kind " + kind);
        }
    }

    private static void assertBits(double expected, double actual, String message) {
        assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(actual),
                message + ": expected " + expected + " got " + actual);
    }
}
