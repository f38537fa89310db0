/**
 * The reference pass: sequential, float64, the simplest readable code; the oracle every other pass is
 * tested against. Uses {@code head} and {@code math}.
 */
package org.lsoftmax.head.reference;
