/**
 * Checking tools for every pass: {@code RandomInputs} (inputs across every branch k),
 * {@code GradientCheck} (the reference against central finite differences, float64) and
 * {@code PassComparison} (the one comparison of a pass against the reference, used by {@code gradcheck}
 * and every test). Uses {@code head}.
 */
package org.lsoftmax.check;
