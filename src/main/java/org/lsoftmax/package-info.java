/**
 * lsoftmax-tornado: large-margin softmax losses for the JVM. The packages follow the data flow, and none
 * uses a package after it: {@code math}, {@code linalg} -> {@code data} -> {@code model} (the trunk) ->
 * {@code head} (the loss and its passes: {@code head.reference}, {@code head.jvm}, {@code head.tornado},
 * chosen by {@code head.select}) -> {@code check} and {@code train} -> {@code plot} -> {@code cli}. This
 * root package holds what every layer may use and that uses nothing else: {@link org.lsoftmax.InvalidInputException}
 * (bad input, one line, exit code 2), {@link org.lsoftmax.MemoryBudget} (refuse work that cannot fit the heap) and
 * {@link org.lsoftmax.StepProfile} (opt-in phase timing of the training step, {@code -Dlsoftmax.profile=true}).
 */
package org.lsoftmax;
