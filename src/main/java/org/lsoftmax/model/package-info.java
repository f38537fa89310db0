/**
 * The trunk of the network: fully connected layers ({@code Dense}), {@code PRelu}, their
 * {@code Parameter}s (value, gradient, momentum), and {@code Network}, which holds every parameter
 * including the head class weights W (the head computes on them; the model only stores them), in one
 * parameter or in K blocks of classes for the class-sharded head, and {@code RowSelection} (the rows of
 * a parameter a sampled step touched). May use
 * the root package, {@code math} and {@code linalg}; never the head.
 */
package org.lsoftmax.model;
