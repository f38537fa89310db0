/**
 * The {@code lsoftmax} command line (picocli): {@code eval}, {@code gradcheck}, {@code train},
 * {@code test}, {@code plot}, {@code devices}. Every failure ends in one line and a documented exit
 * code ({@code Main}: 2 for bad input); {@code --debug} adds the trace. May use every package.
 */
package org.lsoftmax.cli;
