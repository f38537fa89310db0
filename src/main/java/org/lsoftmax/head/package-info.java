/**
 * The head: what every pass shares ({@code HeadPass}, {@code HeadShape}, {@code HeadChecks},
 * {@code PassOptions}, {@code ClassGroups}), {@code MarginHead} (the class weights and the pass that
 * computes the margin loss on them), and the one seam to TornadoVM ({@code TornadoSupport} loads the
 * {@code TornadoBackend} of {@code src/main/tornado} by reflection; {@code DeviceFallback} and
 * {@code DeviceUnavailableException} carry fallbacks to {@code head.select}). The class-sharded head
 * (docs/SCALING.md): {@code Head} (what the trainer calls; {@code MarginHead} and {@code ShardedHead}),
 * the shard stages' {@code ShardRows} and {@code ShardCombine}, {@code ShardLayout}, {@code ShardRank}
 * (one shard as one rank), the {@code Collective} and its in-process {@code LocalCollective}, Partial FC's
 * {@code ShardSampler}, {@code ShardOptions}. The math is in docs/DERIVATION.md. May use the root package, {@code math}, {@code linalg} and {@code model}.
 */
package org.lsoftmax.head;
