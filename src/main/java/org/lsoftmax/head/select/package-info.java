/**
 * Choosing a pass: {@code PassFactory} creates one by name ({@code auto} resolved to the fastest one
 * here) and is the one place that decides a fallback from the tornado pass to the jvm pass, and logs it;
 * {@code HeadFactory} creates the head ({@code MarginHead}, or the class-sharded head with its shard
 * passes, threads and devices) and checks its memory up front.
 * Uses {@code head} and its passes.
 */
package org.lsoftmax.head.select;
