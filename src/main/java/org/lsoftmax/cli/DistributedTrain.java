package org.lsoftmax.cli;

import java.nio.file.Path;
import java.util.Locale;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.data.TrainTestData;
import org.lsoftmax.head.PassOptions;
import org.lsoftmax.head.ShardOptions;
import org.lsoftmax.train.Checkpoint;
import org.lsoftmax.train.DataParallel;
import org.lsoftmax.train.RunDirectory;
import org.lsoftmax.train.ShardSets;
import org.lsoftmax.train.TrainConfig;
import org.lsoftmax.train.Trainer;

/**
 * {@code train --collective mpi}: this process is rank r of a job of K started by mpirun, training the
 * trunk on its rows of every batch and block r of the classes (docs/SCALING.md, "Training across
 * processes"). Rank 0 owns the run folder (its lock, run.properties, metrics.csv, the pictures and the
 * summary line); every rank writes its part of each epoch's checkpoint set under OUT/shards. The
 * options are those of a run of one process; {@code --shards}, when given, must be K.
 */
final class DistributedTrain {

    private DistributedTrain() {
    }

    static int run(TrainCommand command, boolean outGiven) {
        // not try-with-resources: on an error the job must stay open, so that Main's error line ends every rank
        // (MPI_Abort) instead of this rank waiting in MPI_Finalize for ranks that wait for it
        Job job = Job.joinMpi();
        int code = train(command, outGiven, job);
        job.close();
        return code;
    }

    private static int train(TrainCommand command, boolean outGiven, Job job) {
        DataParallel dataParallel = job.dataParallel();
        int ranks = dataParallel.size();
        command.shardSelection.requireJobOf(ranks);
        PassOptions passOptions = command.passSelection.options();
        if (command.resume != null) {
            return resume(command, job, passOptions);
        }
        TrainConfig config = command.newConfig();
        RunDirectory run = null;
        try {
            if (job.isLeader()) {
                run = outGiven || command.overwrite ? RunDirectory.forNewRun(command.out, command.overwrite)
                        : RunDirectory.forNewRunBeside(command.out);
            }
            // the folder rank 0 chose (runs/latest may have moved aside to runs/latest-N), on every rank
            command.out = Path.of(job.broadcast(run != null ? run.directory().toString() : ""));
            TrainTestData rawData = DataOptions.load(command.data, command.synthetic);
            config = config.withPassName(command.passSelection.resolvedPass());
            ShardOptions shards = command.shardSelection.options(ranks, config.seed());
            try (Trainer trainer = Trainer.startDistributed(config, rawData, passOptions, shards, dataParallel, run, command.out)) {
                command.train(trainer, command.divergencePolicy(), job.isLeader());
            }
        } finally {
            if (run != null) {
                run.close();
            }
        }
        return 0;
    }

    private static int resume(TrainCommand command, Job job, PassOptions passOptions) {
        Path requested = command.resume.isEmpty() ? null : Path.of(command.resume);
        if (requested != null) {
            Path folder = ShardSets.runFolderOf(requested);
            if (!ShardSets.isSet(requested)) {
                throw new InvalidInputException("--resume " + requested + ": with --collective mpi a job resumes from a checkpoint set "
                        + "(OUT/" + ShardSets.LAST_SET_FILE + ", or a set's " + ShardSets.SET_FILE + "), not from a checkpoint file");
            }
            if (command.out.equals(Path.of(TrainCommand.DEFAULT_OUT))) {
                command.out = folder;
            } else if (!folder.equals(command.out.toAbsolutePath().normalize())) {
                throw new InvalidInputException("--resume " + requested + " is a set of " + folder + ", --out is " + command.out
                        + ": a job continues its run in its own folder");
            }
        }
        RunDirectory run = job.isLeader() ? RunDirectory.forSetResume(command.out) : null;
        try {
            ShardSets.Restored restored = new ShardSets(command.out, job.collective()).resume(requested);
            Checkpoint part = restored.part();
            int done = part.epochsCompleted();
            int total = command.resumeTotal(restored.manifest(), part, job.isLeader());
            if (total == done) {
                return 0;
            }
            if (job.isLeader()) {
                command.logResume(restored.manifest(), part, total);
            }
            TrainTestData rawData = DataOptions.load(command.data, command.synthetic);
            ShardOptions shards = command.shardSelection.options(job.dataParallel().size(), part.config().seed());
            try (Trainer trainer = Trainer.resumeDistributed(restored, total, command.passSelection.resolvedPass(), rawData, passOptions,
                    shards, job.dataParallel(), run, command.out, command.overwrite)) {
                command.train(trainer, command.divergencePolicy(), job.isLeader());
            }
            return 0;
        } finally {
            if (run != null) {
                run.close();
            }
        }
    }
}
