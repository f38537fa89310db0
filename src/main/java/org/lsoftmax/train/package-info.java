/**
 * The training loop ({@code Trainer}: forward, backward, update, nothing else), with what it needs each
 * in its own class: SGD with momentum, the beta schedules, the divergence guard, evaluation, metrics,
 * and checkpoints (the state {@code Checkpoint}, the file format {@code CheckpointFormat}, the atomic
 * writes and rotation {@code CheckpointFiles}), and the run folder that one run owns ({@code RunDirectory}:
 * the lock, the run's manifest, the rules for new runs and resumes, the history check);
 * {@code SyntheticClassTraining}, the class-sharded head trained alone on the synthetic large-class task.
 * Uses {@code data}, {@code model}, {@code head},
 * {@code head.select}, {@code linalg} and {@code math}.
 */
package org.lsoftmax.train;
