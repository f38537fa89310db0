#!/usr/bin/env python3
"""PyTorch twin of `bin/lsoftmax train`: the same network, optimiser, schedule and data, for a
like-for-like throughput comparison (benchmarks/training-vs-torch.sh runs both).

    input 784 (pixels / 255, standardised by the training split's one mean and one std)
    -> [Dense -> PReLU (per-channel slope, init 0.25)] for each --hidden width
    -> Dense to --feature-dim (no activation)
    -> L-Softmax head (class weights C x D, init N(0, 1/D); lsoftmax.py)
    Dense weights ~ N(0, gain / in), gain 2 / (1 + 0.25^2) before a PReLU, 1 before the feature; biases 0
    SGD in Caffe's form: v = mu v + lr (g + wd w) (wd on weights only, not on biases or slopes); w -= v
    mu 0.9, wd 5e-4, batch --batch (the incomplete tail dropped), a fresh shuffle per epoch,
    beta_t = max(beta_min, start * scale^t) per iteration t, lr / 10 at each of --lr-steps.

Per epoch it prints one machine-readable line, e.g.

    epoch 2 samples_per_second 35000.0 epoch_seconds 1.711 train_loss 0.512300 train_accuracy 0.8123 ...

where samples_per_second counts the training part of the epoch only (batch gathering, forward,
backward, update; no shuffle, no evaluation), as the Java loop's metrics.csv does.

Threads: --threads N calls torch.set_num_threads(N). The caller should also set
OPENBLAS_NUM_THREADS=N, OMP_NUM_THREADS=N and OMP_WAIT_POLICY=PASSIVE before starting Python (as a
fair user would: with the default spinning OpenMP threads torch is about 3x slower on 2 cores);
benchmarks/training-vs-torch.sh does.
"""

import argparse
import gzip
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lsoftmax import build_head  # noqa: E402
from splitmix64 import SplitMix64  # noqa: E402

DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"
FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
PRELU_INITIAL_SLOPE = 0.25
MOMENTUM = 0.9
WEIGHT_DECAY = 5e-4
INIT_STREAM = 0  # Trainer.INIT_STREAM; epoch e shuffles with stream e


# ----------------------------------------------------------------------------------------------
# Data: the four IDX files, raw or gzipped (as org.lsoftmax.data.DatasetLoader)
# ----------------------------------------------------------------------------------------------

def _read_idx(directory, base_name):
    for name in (base_name + ".gz", base_name):
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            opener = gzip.open if name.endswith(".gz") else open
            with opener(path, "rb") as f:
                data = f.read()
            break
    else:
        raise SystemExit(f"train.py: {directory}: missing {base_name} (or {base_name}.gz); "
                         f"apt-get install dataset-fashion-mnist, or pass --data DIR")
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise SystemExit(f"train.py: {path}: not an unsigned-byte IDX file")
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    values = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims)
    if values.size != int(np.prod(shape)):
        raise SystemExit(f"train.py: {path}: {values.size} values for the shape {shape}")
    return values.reshape(shape)


def load_data(directory):
    train_images, train_labels, test_images, test_labels = (_read_idx(directory, name) for name in FILES)

    def features(images):
        # Byte.toUnsignedInt(p) / 255f: a float32 division
        return images.reshape(images.shape[0], -1).astype(np.float32) / np.float32(255.0)

    return (features(train_images), train_labels.astype(np.int64),
            features(test_images), test_labels.astype(np.int64))


def fit_normalization(train_x):
    """One mean and one std over every value of the training split, accumulated in float64
    (org.lsoftmax.data.Normalization); applied as (x - mean) * (1 / std) in float32."""
    mean = float(np.sum(train_x, dtype=np.float64) / train_x.size)
    mean_squares = float(np.sum(np.square(train_x, dtype=np.float64)) / train_x.size)
    variance = max(0.0, mean_squares - mean * mean)
    std = math.sqrt(variance) if variance > 1e-12 else 1.0
    return np.float32(mean), np.float32(std)


def normalise(x, mean, std):
    return (x - mean) * (np.float32(1.0) / std)


# ----------------------------------------------------------------------------------------------
# Network
# ----------------------------------------------------------------------------------------------

class Network(torch.nn.Module):
    """input -> [Dense -> PReLU] x hidden -> Dense -> D-dim feature; the L-Softmax head's weights."""

    def __init__(self, input_size, hidden, feature_dim, classes, margin, margin_dtype=torch.float64):
        super().__init__()
        layers = []
        width = input_size
        for hidden_width in hidden:
            layers.append(torch.nn.Linear(width, hidden_width))
            layers.append(torch.nn.PReLU(num_parameters=hidden_width, init=PRELU_INITIAL_SLOPE))
            width = hidden_width
        layers.append(torch.nn.Linear(width, feature_dim))
        self.features = torch.nn.Sequential(*layers)
        self.head = build_head(feature_dim, classes, margin, margin_dtype=margin_dtype)

    def initialise(self, random):
        """He init std sqrt(gain / in) of every Dense layer in order, then W ~ N(0, 1/D), all from one
        SplitMix64 stream, drawn in the Java order: bit for bit the weights of Network.initialise."""
        layers = list(self.features)
        with torch.no_grad():
            for i, layer in enumerate(layers):
                if isinstance(layer, torch.nn.Linear):
                    before_prelu = i + 1 < len(layers) and isinstance(layers[i + 1], torch.nn.PReLU)
                    slope = float(np.float32(PRELU_INITIAL_SLOPE))
                    gain = 2.0 / (1.0 + slope * slope) if before_prelu else 1.0
                    layer.weight.copy_(_gaussian_tensor(random, layer.weight.shape, math.sqrt(gain / layer.in_features)))
                    layer.bias.zero_()
            d = self.head.weight.shape[1]
            self.head.weight.copy_(_gaussian_tensor(random, self.head.weight.shape, math.sqrt(1.0 / d)))

    def parameter_groups(self):
        """(parameter, weight decayed?): weights yes; biases and PReLU slopes no (Parameter.weightDecayed)."""
        groups = []
        for module in self.features:
            if isinstance(module, torch.nn.Linear):
                groups += [(module.weight, True), (module.bias, False)]
            else:
                groups.append((module.weight, False))
        groups.append((self.head.weight, True))
        return groups

    def describe(self):
        text = [str(self.features[0].in_features)]
        for module in self.features:
            if isinstance(module, torch.nn.Linear):
                text.append(str(module.out_features))
            else:
                text[-1] += "p"
        classes, d = self.head.weight.shape
        return "-".join(text) + f"-lsoftmax(C={classes},m={self.head.margin})"


def _gaussian_tensor(random, shape, std):
    """(float) (std * nextGaussian()) for each element, row-major."""
    count = int(np.prod(shape))
    return torch.from_numpy((std * random.gaussians(count)).astype(np.float32).reshape(tuple(shape)))


class CaffeSgd:
    """v = mu v + lr (g + wd w) with wd only where marked; w -= v (org.lsoftmax.train.SgdMomentum)."""

    def __init__(self, groups, momentum, weight_decay):
        self.groups = groups
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.buffers = [torch.zeros_like(p) for p, _ in groups]

    @torch.no_grad()
    def step(self, learning_rate):
        for (p, decayed), v in zip(self.groups, self.buffers):
            g = torch.add(p.grad, p, alpha=self.weight_decay) if decayed else p.grad
            v.mul_(self.momentum).add_(g, alpha=learning_rate)
            p.sub_(v)

    def zero_grad(self):
        for p, _ in self.groups:
            p.grad = None


# ----------------------------------------------------------------------------------------------
# The loop
# ----------------------------------------------------------------------------------------------

def blas_libraries():
    """The BLAS / LAPACK shared objects mapped into this process (Linux /proc), for the log."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "/" in line}
    except OSError:
        return []
    return sorted(p for p in paths if any(key in os.path.basename(p).lower() for key in ("blas", "mkl", "blis", "lapack")))


def uses_reference_blas(libraries):
    """True when torch's matrix products go to the netlib reference BLAS (Debian's libblas3): ~50x slower."""
    fast = any(key in p.lower() for p in libraries for key in ("openblas", "mkl", "blis"))
    return not fast and any("/blas/libblas" in p for p in libraries)


def evaluate(network, x, labels, batch):
    """Plain logits F W^T on the test split in batches (the last one shorter): accuracy and mean
    cross-entropy (org.lsoftmax.train.Evaluator)."""
    correct = 0
    loss_sum = 0.0
    with torch.no_grad():
        for start in range(0, x.shape[0], batch):
            features = network.features(x[start:start + batch])
            logits = network.head.plain_logits(features)
            y = labels[start:start + batch]
            correct += int((logits.argmax(dim=1) == y).sum())
            loss_sum += float(torch.nn.functional.cross_entropy(logits.double(), y, reduction="sum"))
    return correct / x.shape[0], loss_sum / x.shape[0]


def parse_list(text):
    return [int(v) for v in text.split(",") if v.strip()] if text else []


def main(argv=None):
    parser = argparse.ArgumentParser(description="PyTorch twin of `bin/lsoftmax train` (same network, "
                                     "optimiser and schedule); prints one line per epoch.")
    parser.add_argument("--data", default=DEFAULT_DATA, help="directory with the IDX files (default: %(default)s)")
    parser.add_argument("--hidden", default="512,256", help="hidden widths (default: %(default)s)")
    parser.add_argument("--feature-dim", type=int, default=64, help="feature dimension D (default: %(default)s)")
    parser.add_argument("--margin", "-m", type=int, default=4, help="margin m, 1 = softmax (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs (default: %(default)s)")
    parser.add_argument("--batch", type=int, default=256, help="batch size (default: %(default)s)")
    parser.add_argument("--lr", type=float, default=0.05, help="base learning rate (default: %(default)s)")
    parser.add_argument("--lr-steps", default="", help="1-based epochs at whose start lr is divided by 10")
    parser.add_argument("--beta-start", type=float, default=1000.0, help="geometric schedule start (default: %(default)s)")
    parser.add_argument("--beta-scale", type=float, default=0.99, help="factor per iteration (default: %(default)s)")
    parser.add_argument("--beta-min", type=float, default=5.0, help="floor of beta (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads; 0 = one per core")
    parser.add_argument("--seed", type=int, default=1, help="seed of weights and shuffles (default: %(default)s)")
    parser.add_argument("--margin-dtype", default="float64", choices=["float64", "float32"],
                        help="precision of the per-sample margin math (target dot, norms, psi); float64 as the "
                             "jvm pass (default: %(default)s)")
    parser.add_argument("--allow-reference-blas", action="store_true",
                        help="run even when torch's BLAS is the slow netlib reference implementation")
    args = parser.parse_args(argv)

    threads = args.threads if args.threads > 0 else (os.cpu_count() or 1)
    torch.set_num_threads(threads)
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "OMP_WAIT_POLICY"):
        if variable not in os.environ:
            print(f"train.py: warning: {variable} is not set (see the module docstring)", file=sys.stderr)
    if not os.path.isdir(args.data):
        raise SystemExit(f"train.py: no data at {args.data}: apt-get install dataset-fashion-mnist, or pass --data DIR")

    train_x, train_y, test_x, test_y = load_data(args.data)
    mean, std = fit_normalization(train_x)
    train_x = torch.from_numpy(normalise(train_x, mean, std))
    test_x = torch.from_numpy(normalise(test_x, mean, std))
    train_y = torch.from_numpy(train_y)
    test_y = torch.from_numpy(test_y)
    classes = int(max(train_y.max(), test_y.max())) + 1
    if args.batch > train_x.shape[0]:
        raise SystemExit(f"train.py: batch size {args.batch} is larger than the {train_x.shape[0]} training samples")

    network = Network(train_x.shape[1], parse_list(args.hidden), args.feature_dim, classes, args.margin,
                      getattr(torch, args.margin_dtype))
    network.initialise(SplitMix64.for_stream(args.seed, INIT_STREAM))
    optimizer = CaffeSgd(network.parameter_groups(), MOMENTUM, WEIGHT_DECAY)
    lr_steps = parse_list(args.lr_steps)

    # one product first so the BLAS library is loaded, then say which one it is
    torch.ones(2, 2) @ torch.ones(2, 2)
    libraries = blas_libraries()
    print(f"# torch {torch.__version__} threads {torch.get_num_threads()} "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '')} "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '')} "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '')} blas {','.join(libraries) or 'unknown'}")
    print(f"# network {network.describe()} margin math {args.margin_dtype} batch {args.batch} lr {args.lr:g} seed {args.seed} "
          f"train {train_x.shape[0]} test {test_x.shape[0]} mean {float(mean):.6f} std {float(std):.6f}", flush=True)
    if uses_reference_blas(libraries) and not args.allow_reference_blas:
        raise SystemExit("train.py: torch is using the netlib reference BLAS (" + ", ".join(libraries) + "), about 50x "
                         "slower than an optimised one; install OpenBLAS: apt-get install libopenblas0-pthread "
                         "(or pass --allow-reference-blas)")

    n = train_x.shape[0]
    batches = n // args.batch
    iteration = 0
    for epoch in range(1, args.epochs + 1):
        learning_rate = args.lr / 10.0 ** sum(1 for s in lr_steps if s <= epoch)
        # the Java loop's shuffle: Fisher-Yates of 0..n-1 with stream `epoch` of the seed (not timed)
        order = torch.from_numpy(np.array(SplitMix64.for_stream(args.seed, epoch).shuffle(list(range(n))),
                                          dtype=np.int64))
        network.train()
        loss_sum = torch.zeros((), dtype=torch.float64)
        correct = torch.zeros((), dtype=torch.int64)
        beta = float("nan")
        start = time.perf_counter()
        for b in range(batches):
            index = order[b * args.batch:(b + 1) * args.batch]
            x = train_x.index_select(0, index)
            y = train_y.index_select(0, index)
            beta = max(args.beta_min, args.beta_start * args.beta_scale ** iteration)
            optimizer.zero_grad()
            features = network.features(x)
            loss = network.head(features, y, beta)
            loss.backward()
            with torch.no_grad():
                # training accuracy with the plain logits before this step's update, as the Java loop
                correct += (network.head.plain_logits(features).argmax(dim=1) == y).sum()
                loss_sum += loss.detach()
            optimizer.step(learning_rate)
            iteration += 1
        seconds = time.perf_counter() - start
        samples = batches * args.batch
        network.eval()
        test_accuracy, test_loss = evaluate(network, test_x, test_y, args.batch)
        train_loss = float(loss_sum) / batches
        if not math.isfinite(train_loss):
            raise SystemExit(f"train.py: epoch {epoch}: the training loss is not finite ({train_loss})")
        print(f"epoch {epoch} samples_per_second {samples / seconds:.1f} epoch_seconds {seconds:.3f} "
              f"train_loss {train_loss:.6f} train_accuracy {int(correct) / samples:.6f} "
              f"test_loss {test_loss:.6f} test_accuracy {test_accuracy:.6f} "
              f"iteration {iteration} learning_rate {learning_rate:.6g} beta {beta:.6g}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
