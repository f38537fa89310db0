#!/usr/bin/env python3
"""The L-Softmax head of lsoftmax-tornado in PyTorch, with the project's exact formulas.

X is N x D (rows are samples), W is C x D (row j is class j's weight), labels are N ints; with
c = cos(theta) = w_y.x / (|w_y||x|), margin m and annealing weight beta:

    f_ij = w_j . x_i                                                 (j != y_i)
    f_iy = (beta w_y.x_i + |w_y||x_i| psi(theta)) / (1 + beta)       psi = (-1)^k cos(m theta) - 2k
    L    = mean_i ( log sum_j exp f_ij - f_iy )

As in org.lsoftmax.math.LSoftmaxMath and the jvm pass:
  * k = floor(m theta / pi) is the number of thresholds cos(j pi / m), j = 1..m-1, that c is <= to
    (no acos);
  * cos(m theta) by the binomial expansion sum_n (-1)^n C(m,2n) c^(m-2n) (1-c^2)^n, powers by
    repeated multiplication;
  * c is clamped to [-1, 1];
  * where |x_i| = 0 or |w_y| = 0 the target logit is the plain w.x (= 0);
  * the logits are a float product X W^T (cuBLAS / the CPU BLAS); the target dot and norms are
    recomputed per sample in float64 (``margin_dtype``), as the jvm pass does ("float32 data,
    float64 per-sample margin math").

The backward pass is PyTorch's autograd through these formulas (the project computes the same
derivative in closed form: the plain dX = G W, dW = G^T X plus a target-column correction).

Use from Python::

    head = build_head(feature_dim=64, classes=10, margin=4)       # W ~ N(0, 1/D)
    loss = head(features, labels, beta)                            # mean cross-entropy
    loss.backward()

    time_step(1024, 512, 10000, 4, "cuda", torch.float32)         # one forward+backward of the head

From the command line::

    python3 lsoftmax.py check                  # forward, loss and gradients vs a float64 numpy version
    python3 lsoftmax.py check --java           # ... and vs `bin/lsoftmax eval --pass reference`
    python3 lsoftmax.py time --n 1024 --d 512 --c 10000 --m 4 --device cpu --dtype float32
"""

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

MAX_MARGIN = 16


# ----------------------------------------------------------------------------------------------
# The head
# ----------------------------------------------------------------------------------------------

def margin_thresholds(margin):
    """cos(j pi / m) for j = 1..m-1, computed exactly as LSoftmaxMath.marginK does (j * pi / m)."""
    return [math.cos(j * math.pi / margin) for j in range(1, margin)]


def _powers(base, exponent):
    """[None, base^1, ..., base^exponent] by repeated multiplication (LSoftmaxMath.pow, whose leading
    1.0 * base is exact and therefore skipped; base^0 is None: a factor of one is left out)."""
    result = [None, base]
    for _ in range(exponent - 1):
        result.append(result[-1] * base)
    return result[:exponent + 1]


def cos_m_theta(c, margin):
    """cos(m theta) from c = cos(theta) by the binomial expansion (LSoftmaxMath.cosMTheta), term by
    term in the Java order, so that in float64 the value is bit-identical to the Java one."""
    sin_squared = 1.0 - c * c
    c_powers = _powers(c, margin)
    s_powers = _powers(sin_squared, margin // 2)
    total = c_powers[margin]  # n = 0: 1 * 1 * c^m * (1-c^2)^0
    binomial = float(margin * (margin - 1)) / 2.0  # C(m, 2n), updated incrementally as in the Java loop
    sign = -1.0  # (-1)^n
    n = 1
    while 2 * n <= margin:
        if margin > 2 * n:
            total = total + (sign * binomial) * c_powers[margin - 2 * n] * s_powers[n]
        else:  # c^0
            total = total + (sign * binomial) * s_powers[n]
        binomial = binomial * (margin - 2 * n) * (margin - 2 * n - 1) / ((2.0 * n + 1.0) * (2.0 * n + 2.0))
        sign = -sign
        n += 1
    return total


_THRESHOLDS = {}


def margin_k(c, margin):
    """k = floor(m theta / pi): the number of thresholds cos(j pi / m), j = 1..m-1, that c lies at or
    below (LSoftmaxMath.marginK), as one sorted search: count(t >= c) = (m-1) - count(t < c)."""
    key = (margin, c.device, c.dtype)
    ascending = _THRESHOLDS.get(key)
    if ascending is None:
        ascending = torch.tensor(sorted(margin_thresholds(margin)), dtype=c.dtype, device=c.device)
        _THRESHOLDS[key] = ascending
    return (margin - 1) - torch.searchsorted(ascending, c.detach().contiguous())


def psi(c, margin):
    """psi = (-1)^k cos(m theta) - 2k, with k from margin_k (differentiable in c)."""
    k = margin_k(c, margin)
    cos_m = cos_m_theta(c, margin)
    return torch.where((k & 1) == 1, -cos_m, cos_m) - (2 * k).to(c.dtype)


def lsoftmax_logits(x, w, labels, beta, margin, margin_dtype=torch.float64):
    """Margin logits (N x C): the plain logits X W^T with the target column replaced by
    (beta w_y.x + |w_y||x| psi) / (1 + beta); the plain w.x where a norm is zero."""
    logits = x @ w.t()
    if margin == 1:
        return logits  # psi = cos(theta): the target logit is exactly w.x, plain softmax
    x64 = x.to(margin_dtype)
    w_target = w.index_select(0, labels).to(margin_dtype)
    # the three dots of the jvm pass, in margin_dtype: w.x, |x|^2, |w|^2
    dot = (x64 * w_target).sum(dim=1)
    x_squares = (x64 * x64).sum(dim=1)
    w_squares = (w_target * w_target).sum(dim=1)
    # sqrt of 1 where a norm is 0: that row keeps its plain logit, and no 0 * inf reaches the gradient
    x_positive = x_squares > 0
    w_positive = w_squares > 0
    norm_product = (torch.sqrt(torch.where(x_positive, x_squares, torch.ones_like(x_squares)))
                    * torch.sqrt(torch.where(w_positive, w_squares, torch.ones_like(w_squares))))
    has_angle = x_positive & w_positive & (norm_product > 0)
    c = torch.clamp(dot / norm_product, -1.0, 1.0)
    target = (beta * dot + norm_product * psi(c, margin)) / (1.0 + beta)
    target = torch.where(has_angle, target, dot)
    return logits.scatter(1, labels.view(-1, 1), target.to(logits.dtype).view(-1, 1))


def lsoftmax_loss(x, w, labels, beta, margin, margin_dtype=torch.float64):
    """Mean softmax cross-entropy of the margin logits."""
    return torch.nn.functional.cross_entropy(lsoftmax_logits(x, w, labels, beta, margin, margin_dtype), labels)


class LSoftmaxHead(torch.nn.Module):
    """The head: class weights W (C x D) and the margin loss. ``forward(x, labels, beta)`` returns
    the mean loss; ``plain_logits(x)`` the prediction logits X W^T (the margin is a training device)."""

    def __init__(self, feature_dim, classes, margin, device=None, dtype=torch.float32, margin_dtype=torch.float64):
        super().__init__()
        if not 1 <= margin <= MAX_MARGIN:
            raise ValueError(f"margin must be in [1, {MAX_MARGIN}], got {margin}")
        self.margin = margin
        self.margin_dtype = margin_dtype
        self.weight = torch.nn.Parameter(torch.zeros(classes, feature_dim, device=device, dtype=dtype))

    def forward(self, x, labels, beta):
        return lsoftmax_loss(x, self.weight, labels, beta, self.margin, self.margin_dtype)

    def plain_logits(self, x):
        return x @ self.weight.t()


def build_head(feature_dim, classes, margin, device=None, dtype=torch.float32, generator=None,
               margin_dtype=torch.float64):
    """An LSoftmaxHead with the project's init: W ~ N(0, 1/D), so |w_j| is about 1."""
    head = LSoftmaxHead(feature_dim, classes, margin, device, dtype, margin_dtype)
    with torch.no_grad():
        init = torch.empty(classes, feature_dim, dtype=torch.float64)
        init.normal_(0.0, math.sqrt(1.0 / feature_dim), generator=generator)
        head.weight.copy_(init)
    return head


# ----------------------------------------------------------------------------------------------
# Timing one step of the head alone
# ----------------------------------------------------------------------------------------------

def _synchronize(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def time_step(N, D, C, m, device="cpu", dtype=torch.float32, beta=0.0, rounds=5, min_round_seconds=0.2,
              warmup=3, seed=1, margin_dtype=torch.float64):
    """Times one forward+backward step of the head alone (margin logits, mean loss, dL/dX and dL/dW)
    on random input, N x D features, C classes, margin m.

    Runs ``warmup`` steps, chooses a step count per round so that a round lasts about
    ``min_round_seconds``, then times ``rounds`` rounds of back-to-back steps (synchronising the
    device at both ends of each round). Returns a dict: seconds (median per step over the rounds),
    per-round seconds per step, steps per round, and GFLOP/s counted as 6 N D C (the three matrix
    products, the project's convention).
    """
    if isinstance(dtype, str):
        dtype = getattr(torch, dtype)
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(N, D, generator=generator, dtype=torch.float64).to(device=device, dtype=dtype)
    x.requires_grad_(True)
    head = build_head(D, C, m, device=device, dtype=dtype, generator=generator, margin_dtype=margin_dtype)
    labels = torch.randint(0, C, (N,), generator=generator).to(device)

    def step():
        x.grad = None
        head.weight.grad = None
        loss = head(x, labels, beta)
        loss.backward()
        return loss

    for _ in range(warmup):
        step()
    _synchronize(device)
    steps = 1
    while True:
        start = time.perf_counter()
        for _ in range(steps):
            step()
        _synchronize(device)
        elapsed = time.perf_counter() - start
        if elapsed >= min_round_seconds or steps >= 1 << 20:
            break
        steps *= 2
    per_step = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        _synchronize(device)
        per_step.append((time.perf_counter() - start) / steps)
    seconds = statistics.median(per_step)
    return {
        "N": N, "D": D, "C": C, "m": m, "device": str(device), "dtype": str(dtype).replace("torch.", ""),
        "seconds": seconds, "round_seconds": per_step, "steps_per_round": steps,
        "gflops": 6.0 * N * D * C / seconds / 1e9,
    }


# ----------------------------------------------------------------------------------------------
# Self-check against a float64 numpy implementation (forward, loss, and the README's gradients)
# ----------------------------------------------------------------------------------------------

def numpy_reference(x, w, labels, beta, margin):
    """float64 numpy version of the project's reference pass: (logits, loss, dX, dW)."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    n = x.shape[0]
    thresholds = margin_thresholds(margin)
    logits = x @ w.T
    cross = np.zeros(n)
    radial = np.zeros(n)
    has_angle = np.zeros(n, dtype=bool)
    for i in range(n):
        y = labels[i]
        x_norm = math.sqrt(float(np.dot(x[i], x[i])))
        w_norm = math.sqrt(float(np.dot(w[y], w[y])))
        if x_norm * w_norm > 0.0:
            has_angle[i] = True
            dot = float(np.dot(x[i], w[y]))
            c = max(-1.0, min(1.0, dot / (x_norm * w_norm)))
            k = sum(1 for t in thresholds if c <= t)
            cos_m, d_cos_m = _scalar_cos_m(c, margin)
            sign = -1.0 if k % 2 else 1.0
            psi_value = sign * cos_m - 2.0 * k
            d_psi = sign * d_cos_m
            logits[i, y] = (beta * dot + x_norm * w_norm * psi_value) / (1.0 + beta)
            cross[i] = d_psi - 1.0
            radial[i] = psi_value - c * d_psi
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_sum_exp = np.log(np.exp(shifted).sum(axis=1)) + logits.max(axis=1)
    loss = float(np.mean(log_sum_exp - logits[np.arange(n), labels]))
    probabilities = np.exp(logits - log_sum_exp[:, None])
    g = probabilities.copy()
    g[np.arange(n), labels] -= 1.0
    g /= n
    dx = g @ w
    dw = g.T @ x
    for i in range(n):
        if not has_angle[i]:
            continue
        y = labels[i]
        x_norm = math.sqrt(float(np.dot(x[i], x[i])))
        w_norm = math.sqrt(float(np.dot(w[y], w[y])))
        s = g[i, y] / (1.0 + beta)
        dx[i] += s * (cross[i] * w[y] + radial[i] * w_norm / x_norm * x[i])
        dw[y] += s * (cross[i] * x[i] + radial[i] * x_norm / w_norm * w[y])
    return logits, loss, dx, dw


def _scalar_cos_m(c, margin):
    """cos(m theta) and its derivative in c, term by term (LSoftmaxMath.cosMTheta, dCosMThetaDCos)."""
    s2 = 1.0 - c * c
    value = 0.0
    derivative = 0.0
    for n in range(margin // 2 + 1):
        coefficient = (-1.0) ** n * math.comb(margin, 2 * n)
        p = margin - 2 * n
        value += coefficient * c ** p * s2 ** n
        term = 0.0
        if p > 0:
            term += p * c ** (p - 1) * s2 ** n
        if n > 0:
            term += c ** p * n * s2 ** (n - 1) * (-2.0 * c)
        derivative += coefficient * term
    return value, derivative


def _random_case(rng, n, d, classes, margin):
    """Random X, W, labels with every branch k represented and one zero row of X."""
    w = rng.standard_normal((classes, d))
    labels = rng.integers(0, classes, n)
    x = rng.standard_normal((n, d)) * rng.uniform(0.1, 3.0, (n, 1))
    # steer rows towards angles spread over [0, pi] to the target weight, so every k occurs
    for i in range(n):
        wy = w[labels[i]] / np.linalg.norm(w[labels[i]])
        other = x[i] - np.dot(x[i], wy) * wy
        other /= max(np.linalg.norm(other), 1e-300)
        theta = rng.uniform(0.0, math.pi)
        x[i] = np.linalg.norm(x[i]) * (math.cos(theta) * wy + math.sin(theta) * other)
    x[0] = 0.0  # zero norm: plain logit
    return x, w, labels


def _relative_error(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


def self_check(trials=3, seed=7, java=False, verbose=True):
    """Compares the torch head (float64 and float32) with the float64 numpy version: margin logits,
    loss, and autograd's dX, dW against the closed-form gradients. With ``java``, also the numpy
    version against `bin/lsoftmax eval --pass reference`. Returns True when all agree."""
    rng = np.random.default_rng(seed)
    ok = True
    worst = {}
    for margin in range(1, 9):
        for beta in (0.0, 1.0, 1000.0):
            for _ in range(trials):
                n, d, classes = int(rng.integers(2, 40)), int(rng.integers(2, 20)), int(rng.integers(2, 12))
                x, w, labels = _random_case(rng, n, d, classes, margin)
                ref_logits, ref_loss, ref_dx, ref_dw = numpy_reference(x, w, labels, beta, margin)
                for dtype, tolerance in ((torch.float64, 1e-9), (torch.float32, 2e-4)):
                    xt = torch.tensor(x, dtype=dtype, requires_grad=True)
                    wt = torch.tensor(w, dtype=dtype, requires_grad=True)
                    yt = torch.tensor(labels, dtype=torch.long)
                    logits = lsoftmax_logits(xt, wt, yt, beta, margin)
                    loss = torch.nn.functional.cross_entropy(logits, yt)
                    loss.backward()
                    errors = {
                        "logits": _relative_error(logits.detach().numpy(), ref_logits),
                        "loss": abs(loss.item() - ref_loss) / max(abs(ref_loss), 1e-30),
                        "dx": _relative_error(xt.grad.numpy(), ref_dx),
                        "dw": _relative_error(wt.grad.numpy(), ref_dw),
                    }
                    finite = all(np.all(np.isfinite(t)) for t in (logits.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()))
                    key = (str(dtype).replace("torch.", ""), margin)
                    worst[key] = max(worst.get(key, 0.0), max(errors.values()))
                    if not finite or max(errors.values()) > tolerance:
                        ok = False
                        print(f"MISMATCH {key} beta={beta} N={n} D={d} C={classes}: {errors}", file=sys.stderr)
    if verbose:
        for (dtype, margin), error in sorted(worst.items()):
            print(f"torch {dtype:7s} vs numpy float64, m={margin}: worst relative error {error:.2e}")
    if java:
        ok = _check_against_java(rng, verbose) and ok
    if verbose:
        print("self-check " + ("passed" if ok else "FAILED"))
    return ok


def _check_against_java(rng, verbose):
    """numpy float64 vs the project's reference pass through `bin/lsoftmax eval` (a few cases)."""
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    launcher = os.path.join(root, "bin", "lsoftmax")
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        for margin, beta in ((1, 0.0), (2, 0.0), (3, 1.0), (4, 0.0), (4, 1000.0), (7, 5.0)):
            x, w, labels = _random_case(rng, 31, 9, 6, margin)
            np.save(os.path.join(folder, "X.npy"), x)
            np.save(os.path.join(folder, "W.npy"), w)
            np.save(os.path.join(folder, "y.npy"), labels.astype(np.int64))
            out = os.path.join(folder, "out")
            run = subprocess.run([launcher, "eval", "--x", os.path.join(folder, "X.npy"), "--w", os.path.join(folder, "W.npy"),
                            "--y", os.path.join(folder, "y.npy"), "--margin", str(margin), "--beta", str(beta),
                            "--pass", "reference", "--out", out], check=False, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
            if run.returncode != 0:
                print(run.stdout, file=sys.stderr)
                raise RuntimeError(f"bin/lsoftmax eval failed with exit code {run.returncode} (output above)")
            ref = numpy_reference(x, w, labels, beta, margin)
            java = [np.load(os.path.join(out, f)) for f in ("logits.npy", "loss.npy", "dx.npy", "dw.npy")]
            errors = [_relative_error(j, r) for j, r in zip(java, ref)]
            if verbose:
                print(f"numpy float64 vs bin/lsoftmax eval --pass reference, m={margin} beta={beta:g}: "
                      f"worst relative error {max(errors):.2e}")
            if max(errors) > 1e-12:
                ok = False
                print(f"MISMATCH against java m={margin} beta={beta}: logits/loss/dx/dw {errors}", file=sys.stderr)
    return ok


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="forward, loss and gradients against a float64 numpy version")
    check.add_argument("--trials", type=int, default=3)
    check.add_argument("--seed", type=int, default=7)
    check.add_argument("--java", action="store_true", help="also compare with bin/lsoftmax eval --pass reference")
    timing = commands.add_parser("time", help="time one forward+backward step of the head")
    timing.add_argument("--n", type=int, default=1024)
    timing.add_argument("--d", type=int, default=512)
    timing.add_argument("--c", type=int, default=10000)
    timing.add_argument("--m", type=int, default=4)
    timing.add_argument("--device", default="cpu")
    timing.add_argument("--dtype", default="float32", choices=["float32", "float64", "float16", "bfloat16"])
    timing.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: leave as is)")
    args = parser.parse_args(argv)
    if args.command == "check":
        return 0 if self_check(args.trials, args.seed, args.java) else 1
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    result = time_step(args.n, args.d, args.c, args.m, args.device, getattr(torch, args.dtype))
    print(f"head N {result['N']} D {result['D']} C {result['C']} m {result['m']} device {result['device']} "
          f"dtype {result['dtype']} seconds_per_step {result['seconds']:.6g} gflops {result['gflops']:.1f} "
          f"steps_per_round {result['steps_per_round']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
