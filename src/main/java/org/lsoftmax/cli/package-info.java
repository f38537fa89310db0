/**
 * The {@code lsoftmax} command line (picocli): {@code eval}, {@code gradcheck}, {@code train},
 * {@code test}, {@code plot}, {@code devices}. Every bad input ends in one line and exit code 2. May use
 * every package.
 */
package org.lsoftmax.cli;
