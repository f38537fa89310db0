package org.lsoftmax.train;

import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.zip.CRC32;
import org.lsoftmax.InvalidInputException;
import org.lsoftmax.data.AtomicFiles;
import org.lsoftmax.data.IoErrors;
import org.lsoftmax.data.OutputFolders;
import org.lsoftmax.data.TextFiles;
import org.lsoftmax.head.Collective;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The checkpoints of a data-parallel run (docs/TRAINING.md, "Checkpoints of a job of several processes"):
 * a <em>set</em> per epoch, one file per rank, each holding that rank's part of the state (the trunk, the
 * same on every rank, and its block of W with its momentum), in the format of a checkpoint:
 * <pre>
 *   OUT/shards/epoch-0003/rank-0-of-2.ckpt      written atomically by rank 0
 *   OUT/shards/epoch-0003/rank-1-of-2.ckpt      written atomically by rank 1
 *   OUT/shards/epoch-0003/set.properties        rank 0, once every rank's file is written: K, epoch, iteration, each file's size and CRC-32
 *   OUT/last-set.properties                     rank 0, last: the newest whole set
 * </pre>
 * A set without its {@code set.properties} was never finished and is ignored; {@code set.properties}
 * is written only after an all-reduce has told rank 0 that every rank's file is on disk with the size
 * and CRC it lists. The last two whole sets are kept. A resume ({@link #resume}) checks the set it
 * restores on every rank (each rank its own file against the manifest, whose values rank 0 sends)
 * and falls back to the previous whole set when one is damaged. A rank's files are read and written on
 * that rank's host, so OUT may be one shared folder or a folder of the same path on every host.
 */
public final class ShardSets {

    private static final Logger LOG = LoggerFactory.getLogger(ShardSets.class);

    /** The folder of the sets, in OUT. */
    public static final String FOLDER = "shards";
    /** The pointer to the newest whole set, in OUT. */
    public static final String LAST_SET_FILE = "last-set.properties";
    /** A set's manifest, in its folder. */
    public static final String SET_FILE = "set.properties";
    private static final int KEPT_SETS = 2;

    private final Path directory;
    private final Collective collective;

    /** @param directory the run folder OUT (the same path on every rank) */
    public ShardSets(Path directory, Collective collective) {
        this.directory = directory;
        this.collective = collective;
    }

    /**
     * Before the first epoch, on every rank: the folder of the sets exists and can be written here, with
     * room for {@code bytes} (this rank's parts of two sets and a temporary file).
     */
    public void prepare(long bytes) {
        Path root = directory.resolve(FOLDER);
        OutputFolders.prepare(root, "--out", 0);
        OutputFolders.requireRoom(root, "--out", bytes);
    }

    /** The file of rank r of K in the set of an epoch. */
    public static Path rankFile(Path setFolder, int rank, int ranks) {
        return setFolder.resolve(String.format(Locale.ROOT, "rank-%d-of-%d.ckpt", rank, ranks));
    }

    /** The folder of epoch e's set. */
    public static Path setFolder(Path directory, int epoch) {
        return directory.resolve(FOLDER).resolve(String.format(Locale.ROOT, "epoch-%04d", epoch));
    }

    /**
     * Writes this rank's part of the epoch's set, and (rank 0) the set's manifest once every rank's part
     * is written, then the pointer to it; then removes the sets before the previous one. Every rank calls
     * it. A rank that cannot write throws its error; the others throw one naming it.
     *
     * @return the set's manifest
     */
    public Path save(Checkpoint part) {
        int epoch = part.epochsCompleted();
        int ranks = collective.size();
        int rank = collective.rank();
        Path folder = setFolder(directory, epoch);
        Path own = rankFile(folder, rank, ranks);
        byte[] bytes = CheckpointFormat.toBytes(part);
        double[] sizes = new double[2 * ranks];
        IOException failure = null;
        try {
            Files.createDirectories(folder);
            AtomicFiles.write(own, bytes);
            sizes[2 * rank] = bytes.length;
            sizes[2 * rank + 1] = crc(bytes);
        } catch (IOException e) {
            failure = e;
            sizes[2 * rank] = -1;
        }
        collective.allReduce(sizes, Collective.Reduction.SUM);
        throwIfAnyFailed(sizes, failure, "write its part of the checkpoint set " + folder, own);

        Path manifest = folder.resolve(SET_FILE);
        double[] written = {0};
        IOException manifestFailure = null;
        if (rank == 0) {
            try {
                byte[] text = manifestText(part, ranks, sizes).getBytes(StandardCharsets.UTF_8);
                AtomicFiles.write(manifest, text);
                AtomicFiles.write(directory.resolve(LAST_SET_FILE), pointerText(epoch, ranks).getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                manifestFailure = e;
                written[0] = 1;
            }
        }
        collective.allReduce(written, Collective.Reduction.MAX);
        if (written[0] != 0) {
            if (manifestFailure != null) {
                throw new UncheckedIOException("cannot write the manifest " + manifest, manifestFailure);
            }
            throw new UncheckedIOException(new IOException("rank 0 could not write the manifest " + manifest
                    + " of the checkpoint set (its own error line names the cause)"));
        }
        removeOldSets(epoch);
        return manifest;
    }

    private void throwIfAnyFailed(double[] sizes, IOException own, String what, Path ownFile) {
        if (own != null) {
            throw new UncheckedIOException("rank " + collective.rank() + " cannot " + what + " (" + ownFile + ")", own);
        }
        for (int k = 0; k < collective.size(); k++) {
            if (sizes[2 * k] < 0) {
                throw new UncheckedIOException(new IOException("rank " + k + " could not " + what + " (its own error line names the cause)"));
            }
        }
    }

    /**
     * Removes the sets older than the last {@value #KEPT_SETS} whole ones. Rank 0 decides (only its host is
     * sure to have the manifests) and sends the epochs; it removes their manifests first, then every rank its
     * own files and, where it can, the emptied folder.
     */
    private void removeOldSets(int newestEpoch) {
        List<Integer> old = new ArrayList<>();
        if (collective.rank() == 0) {
            int whole = 0;
            for (int epoch : setEpochs(directory)) { // newest first
                if (epoch > newestEpoch) {
                    continue; // removed by discardNewerThan when a resume went back; never here
                }
                if (whole < KEPT_SETS && (epoch == newestEpoch || Files.exists(setFolder(directory, epoch).resolve(SET_FILE)))) {
                    whole++;
                    continue;
                }
                old.add(epoch);
            }
        }
        remove(old);
    }

    /**
     * After a resume from the set of {@code epoch}: removes every set above it (damaged ones a resume fell
     * back from, or those of the history a resume with --overwrite went back from), which the run will write
     * anew. Every rank calls it.
     */
    public void discardNewerThan(int epoch) {
        List<Integer> newer = new ArrayList<>();
        if (collective.rank() == 0) {
            for (int e : setEpochs(directory)) {
                if (e > epoch) {
                    newer.add(e);
                }
            }
            if (!newer.isEmpty()) {
                LOG.info("the checkpoint set(s) of epoch(s) {} after the restored epoch {} are removed: the run writes them anew", newer,
                        epoch);
            }
        }
        remove(newer);
    }

    /** Rank 0's list of set epochs, removed on every rank: the manifests (rank 0), then each rank's files and the emptied folders. */
    private void remove(List<Integer> rankZeroList) {
        int[] count = {rankZeroList.size()};
        collective.broadcast(count, 0);
        int[] epochs = new int[count[0]];
        for (int i = 0; i < rankZeroList.size(); i++) {
            epochs[i] = rankZeroList.get(i);
        }
        collective.broadcast(epochs, 0);
        if (epochs.length == 0) {
            return;
        }
        if (collective.rank() == 0) {
            for (int epoch : epochs) {
                deleteQuietly(setFolder(directory, epoch).resolve(SET_FILE));
            }
        }
        collective.barrier();
        for (int epoch : epochs) {
            Path folder = setFolder(directory, epoch);
            deleteQuietly(rankFile(folder, collective.rank(), collective.size()));
        }
        collective.barrier();
        for (int epoch : epochs) {
            Path folder = setFolder(directory, epoch);
            try {
                Files.deleteIfExists(folder); // not empty while another rank's file of a shared folder is in it: the last one removes it
            } catch (IOException e) {
                LOG.debug("{} not removed yet: {}", folder, e.toString());
            }
        }
    }

    /** The epochs of the set folders in OUT/shards, newest first. */
    static List<Integer> setEpochs(Path directory) {
        Path root = directory.resolve(FOLDER);
        List<Integer> epochs = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return epochs;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(root, "epoch-*")) {
            for (Path entry : entries) {
                String digits = entry.getFileName().toString().substring("epoch-".length());
                if (digits.matches("[0-9]{1,9}") && Files.isDirectory(entry)) {
                    epochs.add(Integer.parseInt(digits));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + root, e);
        }
        epochs.sort(Comparator.reverseOrder());
        return epochs;
    }

    // ---- resume -----------------------------------------------------------------------------------------

    /** The set a resume restores, as every rank sees it. */
    /**
     * @param fellBack whether a newer set was tried first and found damaged on some rank (a resume from the
     *                 newest whole set, not one the user named: the damaged newer sets are then replaced)
     */
    public record Restored(Path manifest, int epoch, Checkpoint part, boolean fellBack) {
    }

    /**
     * Restores this rank's part of the newest whole set of OUT (or of the set whose manifest
     * {@code requested} names; then no other is tried): rank 0 reads the manifests, sends each candidate's
     * K, epoch and file sizes and CRCs, and every rank checks and reads its own file; the first set that
     * every rank read intact is the one restored, the same on every rank.
     *
     * @throws InvalidInputException when no whole set is left, or K differs from the job's size
     */
    public Restored resume(Path requested) {
        int ranks = collective.size();
        int rank = collective.rank();
        List<Path> candidates = new ArrayList<>();
        String refusal = null;
        if (rank == 0) {
            try {
                candidates = candidates(requested);
            } catch (InvalidInputException e) {
                refusal = e.getMessage();
            }
        }
        int[] count = {refusal == null ? candidates.size() : -1};
        collective.broadcast(count, 0);
        if (count[0] < 0) {
            throw new InvalidInputException(refusal != null ? refusal : "rank 0 found no checkpoint set to resume (its error line says why)");
        }
        List<String> problems = new ArrayList<>();
        for (int c = 0; c < count[0]; c++) {
            // rank 0 sends: K, epoch, and this candidate's sizes and CRCs (each as two ints)
            int[] header = new int[2 + 4 * ranks];
            String manifestProblem = null;
            Path manifest = rank == 0 ? candidates.get(c) : null;
            if (rank == 0) {
                try {
                    SetManifest read = SetManifest.read(manifest);
                    header[0] = read.ranks();
                    header[1] = read.epoch();
                    for (int k = 0; k < read.ranks() && k < ranks; k++) {
                        header[2 + 4 * k] = (int) (read.sizes()[k] >>> 32);
                        header[3 + 4 * k] = (int) read.sizes()[k];
                        header[4 + 4 * k] = (int) (read.crcs()[k] >>> 32);
                        header[5 + 4 * k] = (int) read.crcs()[k];
                    }
                } catch (InvalidInputException e) {
                    manifestProblem = e.getMessage();
                    header[0] = -1;
                }
            }
            collective.broadcast(header, 0);
            if (header[0] == -1) {
                if (rank == 0) {
                    problems.add(manifestProblem);
                    LOG.warn("{}", manifestProblem);
                }
                continue;
            }
            if (header[0] != ranks) {
                throw new InvalidInputException((rank == 0 ? manifest : "the checkpoint set") + " was written by a job of " + header[0]
                        + " processes, this job has " + ranks + ": resume with mpirun -np " + header[0]);
            }
            int epoch = header[1];
            long size = ((long) header[2 + 4 * rank] << 32) | (header[3 + 4 * rank] & 0xffffffffL);
            long crc = ((long) header[4 + 4 * rank] << 32) | (header[5 + 4 * rank] & 0xffffffffL);
            Path own = rankFile(setFolder(directory, epoch), rank, ranks);
            Checkpoint part = null;
            String problem = null;
            try {
                byte[] bytes = readOwn(own);
                if (bytes.length != size || crc(bytes) != crc) {
                    problem = own + " does not match its set's manifest (" + bytes.length + " bytes, CRC " + Long.toHexString(crc(bytes))
                            + "; the manifest says " + size + " bytes, CRC " + Long.toHexString(crc) + ")";
                } else {
                    part = CheckpointFormat.fromBytes(bytes, own);
                    if (part.epochsCompleted() != epoch) {
                        problem = own + " is at epoch " + part.epochsCompleted() + ", its set at epoch " + epoch;
                        part = null;
                    }
                }
            } catch (InvalidInputException e) {
                problem = e.getMessage();
            }
            double[] intact = {part == null ? 0 : 1};
            collective.allReduce(intact, Collective.Reduction.MIN);
            if (intact[0] == 1) {
                Path chosen = rank == 0 ? manifest : setFolder(directory, epoch).resolve(SET_FILE);
                if (rank == 0 && c > 0) {
                    LOG.warn("resuming from the whole set of epoch {} ({}), the newer one(s) being damaged", epoch, chosen);
                }
                return new Restored(chosen, epoch, part, c > 0);
            }
            if (problem != null) {
                LOG.warn("rank {}: the checkpoint set of epoch {} cannot be restored: {}", rank, epoch, problem);
            }
            if (rank == 0) {
                problems.add("the set of epoch " + epoch + " is damaged on at least one rank" + (problem != null ? " (rank 0: " + problem + ")" : ""));
            }
        }
        throw new InvalidInputException("no whole checkpoint set to resume from in " + directory.resolve(FOLDER)
                + (problems.isEmpty() ? "" : ": " + String.join("; ", problems)) + " (each rank's warning names its file)");
    }

    /** Rank 0: the manifests to try, newest first; only {@code requested}'s when one was named. */
    private List<Path> candidates(Path requested) {
        if (requested != null) {
            Path manifest = Files.isDirectory(requested) ? requested.resolve(SET_FILE) : requested;
            if (manifest.getFileName() != null && manifest.getFileName().toString().equals(LAST_SET_FILE)) {
                return candidates(null);
            }
            if (!Files.isRegularFile(manifest)) {
                throw new InvalidInputException(manifest + ": no such checkpoint set manifest");
            }
            return List.of(manifest);
        }
        // the set the pointer names first (the newest whole set of this run's history: sets above it are of a
        // history a resume with --overwrite went back from), then the older whole sets, newest first
        int newest = Integer.MAX_VALUE;
        List<Path> manifests = new ArrayList<>();
        Path pointer = directory.resolve(LAST_SET_FILE);
        if (Files.isRegularFile(pointer)) {
            try {
                Path named = lastSet(pointer);
                SetManifest read = SetManifest.read(named);
                manifests.add(named);
                newest = read.epoch();
            } catch (InvalidInputException e) {
                LOG.warn("{} (trying the whole sets of {} instead)", e.getMessage(), directory.resolve(FOLDER));
            }
        }
        for (int epoch : setEpochs(directory)) {
            Path manifest = setFolder(directory, epoch).resolve(SET_FILE);
            if (Files.isRegularFile(manifest) && (newest == Integer.MAX_VALUE || epoch < newest)) {
                manifests.add(manifest);
            }
        }
        if (manifests.isEmpty()) {
            throw new InvalidInputException(directory + " holds no whole checkpoint set (" + directory.resolve(LAST_SET_FILE)
                    + (Files.exists(directory.resolve(LAST_SET_FILE)) ? " names a set that is gone" : " is missing")
                    + "): train without --resume first");
        }
        return manifests;
    }

    private static byte[] readOwn(Path file) {
        try {
            if (!Files.isRegularFile(file)) {
                throw new InvalidInputException(file + ": no such checkpoint file");
            }
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot be read (" + IoErrors.describe(e) + ")", e);
        }
    }

    // ---- the whole state from a set, for single-process tools ------------------------------------------

    /**
     * The state of a whole network from a set whose every file is on this host (a shared OUT, or one
     * host): the trunk of rank 0's part and every rank's block of W, as a checkpoint of the
     * single-process class-sharded head of K blocks ({@code --shards K}), which {@code test},
     * {@code retrieval} and a single-process {@code train --resume} read.
     */
    public static Checkpoint assemble(Path manifestFile) {
        Path manifestPath = manifestOf(manifestFile);
        SetManifest manifest = SetManifest.read(manifestPath);
        List<Checkpoint.Tensor> tensors = new ArrayList<>();
        Checkpoint first = null;
        for (int k = 0; k < manifest.ranks(); k++) {
            Checkpoint part = readPart(manifestPath, manifest, k);
            if (k == 0) {
                first = part;
                for (Checkpoint.Tensor tensor : part.tensors()) {
                    if (!tensor.name().startsWith("lsoftmax.weight")) {
                        tensors.add(tensor);
                    }
                }
            }
            String blockName = "lsoftmax.weight.shard" + k;
            Path file = rankFile(manifestPath.toAbsolutePath().getParent(), k, manifest.ranks());
            Checkpoint.Tensor block = part.tensors().stream().filter(t -> t.name().equals(blockName)).findFirst()
                    .orElseThrow(() -> new InvalidInputException(file + ": holds no " + blockName));
            tensors.add(block);
        }
        return new Checkpoint(first.config(), first.normalization(), first.inputSize(), first.classes(), first.epochsCompleted(),
                first.iteration(), tensors);
    }

    /**
     * Rank 0's part of a set (the trunk, the configuration and block 0 of W), checked against the set's
     * manifest: what a job's rank 0 has on its own host, e.g. for the pictures of a run whose W it must not
     * assemble.
     */
    public static Checkpoint rankZeroPart(Path file) {
        Path manifestPath = manifestOf(file);
        return readPart(manifestPath, SetManifest.read(manifestPath), 0);
    }

    /** The set manifest that {@code file} names: itself, the one in a set's folder, or the one the pointer names. */
    private static Path manifestOf(Path file) {
        Path manifestPath = Files.isDirectory(file) ? file.resolve(SET_FILE) : file;
        if (manifestPath.getFileName() != null && manifestPath.getFileName().toString().equals(LAST_SET_FILE)) {
            manifestPath = lastSet(manifestPath);
        }
        return manifestPath;
    }

    /** Rank k's part of the set of {@code manifestPath}, checked against the manifest's size and CRC. */
    private static Checkpoint readPart(Path manifestPath, SetManifest manifest, int k) {
        Path file = rankFile(manifestPath.toAbsolutePath().getParent(), k, manifest.ranks());
        byte[] bytes = readOwn(file);
        if (bytes.length != manifest.sizes()[k] || crc(bytes) != manifest.crcs()[k]) {
            throw new InvalidInputException(file + " does not match " + manifestPath + " (size or CRC): the set is damaged");
        }
        return CheckpointFormat.fromBytes(bytes, file);
    }

    /** Whether {@code file} names a checkpoint set (a set manifest, the pointer, or a set's folder) rather than a checkpoint file. */
    public static boolean isSet(Path file) {
        String name = file.getFileName() == null ? "" : file.getFileName().toString();
        // by name too: a set's folder on a host that has no manifests (a local OUT per host) is still a set's
        Path parent = file.toAbsolutePath().normalize().getParent();
        boolean setFolder = name.matches("epoch-[0-9]+") && parent != null && parent.getFileName() != null
                && parent.getFileName().toString().equals(FOLDER);
        return name.equals(SET_FILE) || name.equals(LAST_SET_FILE) || setFolder || Files.isRegularFile(file.resolve(SET_FILE));
    }

    /** The run folder OUT of a set named by {@code file}: OUT/last-set.properties, OUT/shards/epoch-E/set.properties or its folder. */
    public static Path runFolderOf(Path file) {
        Path absolute = file.toAbsolutePath().normalize();
        String name = absolute.getFileName() == null ? "" : absolute.getFileName().toString();
        if (name.equals(LAST_SET_FILE)) {
            return absolute.getParent();
        }
        Path setFolder = name.equals(SET_FILE) ? absolute.getParent() : absolute;
        Path shards = setFolder.getParent();
        return shards != null && shards.getParent() != null ? shards.getParent() : setFolder;
    }

    /** The manifest {@code OUT/last-set.properties} points to. */
    static Path lastSet(Path pointer) {
        Properties properties = load(pointer);
        String set = properties.getProperty("set");
        if (set == null) {
            throw new InvalidInputException(pointer + ": names no set (no set= line)");
        }
        return pointer.toAbsolutePath().getParent().resolve(set).resolve(SET_FILE);
    }

    // ---- file contents ----------------------------------------------------------------------------------

    /** A set's manifest. */
    record SetManifest(int ranks, int epoch, long iteration, long[] sizes, long[] crcs) {

        static SetManifest read(Path file) {
            Properties properties = load(file);
            try {
                int ranks = Integer.parseInt(required(properties, "ranks", file));
                int epoch = Integer.parseInt(required(properties, "epoch", file));
                long iteration = Long.parseLong(required(properties, "iteration", file));
                if (ranks < 1 || epoch < 0 || iteration < 0) {
                    throw new NumberFormatException("ranks=" + ranks + ", epoch=" + epoch + ", iteration=" + iteration);
                }
                long[] sizes = new long[ranks];
                long[] crcs = new long[ranks];
                for (int k = 0; k < ranks; k++) {
                    sizes[k] = Long.parseLong(required(properties, "rank." + k + ".bytes", file));
                    crcs[k] = Long.parseLong(required(properties, "rank." + k + ".crc32", file), 16);
                }
                return new SetManifest(ranks, epoch, iteration, sizes, crcs);
            } catch (NumberFormatException e) {
                throw new InvalidInputException(file + ": not a checkpoint set manifest (" + e.getMessage() + ")", e);
            }
        }
    }

    private static String required(Properties properties, String key, Path file) {
        String value = properties.getProperty(key);
        if (value == null) {
            throw new InvalidInputException(file + ": not a checkpoint set manifest (no " + key + "= line)");
        }
        return value.trim();
    }

    private static Properties load(Path file) {
        Properties properties = new Properties();
        try {
            if (!Files.isRegularFile(file)) {
                throw new InvalidInputException(file + ": no such checkpoint set manifest");
            }
            properties.load(new StringReader(String.join("\n", TextFiles.readLines(file))));
            return properties;
        } catch (IOException | IllegalArgumentException e) {
            if (e instanceof InvalidInputException invalid) {
                throw invalid;
            }
            throw new InvalidInputException(file + ": unreadable (" + e.getMessage() + ")", e);
        }
    }

    private static String manifestText(Checkpoint part, int ranks, double[] sizes) {
        StringBuilder text = new StringBuilder("# lsoftmax checkpoint set: one file per rank of a data-parallel job, whole when this file exists\n");
        text.append("ranks=").append(ranks).append('\n');
        text.append("epoch=").append(part.epochsCompleted()).append('\n');
        text.append("iteration=").append(part.iteration()).append('\n');
        for (int k = 0; k < ranks; k++) {
            text.append("rank.").append(k).append(".file=").append(rankFile(Path.of(""), k, ranks)).append('\n');
            text.append("rank.").append(k).append(".bytes=").append((long) sizes[2 * k]).append('\n');
            text.append("rank.").append(k).append(".crc32=").append(Long.toHexString((long) sizes[2 * k + 1])).append('\n');
        }
        return text.toString();
    }

    private String pointerText(int epoch, int ranks) {
        return "# lsoftmax: the newest whole checkpoint set of this run\nset=" + directory.relativize(setFolder(directory, epoch))
                .toString().replace('\\', '/') + "\nranks=" + ranks + "\nepoch=" + epoch + "\n";
    }

    private static long crc(byte[] bytes) {
        CRC32 crc = new CRC32();
        crc.update(bytes);
        return crc.getValue();
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.warn("cannot remove {}: {}", file, IoErrors.describe(e));
        }
    }
}
