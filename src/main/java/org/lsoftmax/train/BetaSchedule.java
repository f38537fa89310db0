package org.lsoftmax.train;

import org.lsoftmax.InvalidInputException;
import org.lsoftmax.head.HeadChecks;

/**
 * Annealing of the margin weight beta (lambda in the paper): training starts near plain softmax
 * (large beta) and the margin takes over as beta decays. Each schedule is a pure function of the
 * iteration number, so a resumed run only needs the iteration count to continue exactly.
 */
public sealed interface BetaSchedule {

    /** Beta to use at the given iteration (0-based). */
    double betaAt(long iteration);

    /** A constant beta (no annealing). */
    record Constant(double beta) implements BetaSchedule {
        public Constant {
            HeadChecks.checkBeta(beta);
        }

        @Override
        public double betaAt(long iteration) {
            return beta;
        }
    }

    /**
     * The original Caffe layer's schedule: {@code lambda = max(lambdaMin, base * (1 + gamma * iter)^(-power))}
     * (MNIST example: base 1000, gamma 2.5e-5, power 35, lambdaMin 0).
     */
    record Power(double base, double gamma, double power, double minimum) implements BetaSchedule {
        public Power {
            HeadChecks.checkBeta(base);
            HeadChecks.checkBeta(minimum);
            if (!(gamma >= 0.0) || !(power >= 0.0) || Double.isInfinite(gamma) || Double.isInfinite(power)) {
                throw new InvalidInputException("power schedule needs finite gamma >= 0 and power >= 0, got gamma="
                        + gamma + ", power=" + power);
            }
        }

        @Override
        public double betaAt(long iteration) {
            return Math.max(minimum, base * Math.pow(1.0 + gamma * iteration, -power));
        }
    }

    /**
     * mx-lsoftmax's geometric schedule: {@code beta <- max(beta * scale, betaMin)} once per iteration,
     * i.e. {@code beta_t = max(betaMin, start * scale^t)} for {@code 0 < scale <= 1} and {@code start >= betaMin}.
     */
    record Geometric(double start, double scale, double minimum) implements BetaSchedule {
        public Geometric {
            HeadChecks.checkBeta(start);
            HeadChecks.checkBeta(minimum);
            if (!(scale > 0.0 && scale <= 1.0)) {
                throw new InvalidInputException("geometric schedule needs 0 < scale <= 1, got " + scale);
            }
            if (start < minimum) {
                throw new InvalidInputException("geometric schedule needs start >= minimum, got start=" + start
                        + ", minimum=" + minimum);
            }
        }

        @Override
        public double betaAt(long iteration) {
            return Math.max(minimum, start * Math.pow(scale, iteration));
        }
    }
}
