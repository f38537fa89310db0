#!/usr/bin/env python3
"""The L-Softmax layer step in PyTorch: the GPU timing the device kit compares the tornado pass with,
and a check that these formulas are the project's (README "The layer").

    f_ij = w_j . x_i                                               (j != y_i)
    f_iy = (beta w_y.x_i + |w_y||x_i| psi(theta)) / (1 + beta)     psi = (-1)^k cos(m theta) - 2k
    L    = mean_i ( log sum_j exp f_ij - f_iy )

c = cos(theta) = w_y.x_i / (|w_y||x_i|) clamped to [-1, 1]; k counts the thresholds cos(j pi/m),
j = 1..m-1, that c lies at or below; cos(m theta) by the binomial expansion in c; where a norm is 0
the plain target logit w_y.x_i is used. Backward is autograd's.

Commands:
  torch_step.py time --device cuda --shapes 256x512x10,1024x512x10000 --margins 1,4 [--warmup 10]
                [--reps 50] [--dtype float32] [--out torch-step.csv]
      median milliseconds per step (forward + backward, data on the device; torch.cuda.synchronize
      after each), the same with the host copies a JVM pass pays (X, W to the device, dX, dW back),
      and the three matrix products alone (cuBLAS: the ceiling); CSV on stdout and in --out.
  torch_step.py make-inputs DIR [--shape 24x6x5] [--seed 7]     X.npy, W.npy, y.npy (float64, int64)
  torch_step.py verify DIR EVAL_OUT:M:B [EVAL_OUT:M:B ...]
      compares the project's `eval` output in EVAL_OUT (logits, loss, dx, dw .npy, from DIR's inputs
      with margin M and beta B) with this file's formulas and autograd in float64; exits 1 above
      1e-9 relative error.

time_step(N, D, C, m, device, dtype) is the same entry point as benchmarks/torch-twin/lsoftmax.py.
"""
import argparse
import math
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def lsoftmax_logits(x, w, y, margin, beta):
    """The layer's logits f (N x C): X W^T with each row's target entry replaced by the margin logit."""
    logits = x @ w.t()
    rows = y.view(-1, 1)
    dot = logits.gather(1, rows).squeeze(1)
    w_y = w.index_select(0, y)
    norm_product = x.norm(dim=1) * w_y.norm(dim=1)
    nonzero = norm_product > 0
    c = (dot / torch.where(nonzero, norm_product, torch.ones_like(norm_product))).clamp(-1.0, 1.0)
    k = torch.zeros_like(c)
    for j in range(1, margin):
        k = k + (c <= math.cos(j * math.pi / margin)).to(c.dtype)
    # cos(m theta) = sum_n (-1)^n C(m, 2n) c^(m-2n) (1-c^2)^n, powers by multiplication (no 0 * c^-1)
    sin_squared = 1.0 - c * c
    cos_m = torch.zeros_like(c)
    for n in range(margin // 2 + 1):
        term = torch.full_like(c, float((-1) ** n * math.comb(margin, 2 * n)))
        for _ in range(margin - 2 * n):
            term = term * c
        for _ in range(n):
            term = term * sin_squared
        cos_m = cos_m + term
    sign = 1.0 - 2.0 * torch.remainder(k, 2.0)
    psi = sign * cos_m - 2.0 * k
    target = torch.where(nonzero, (beta * dot + norm_product * psi) / (1.0 + beta), dot)
    return logits.scatter(1, rows, target.view(-1, 1))


def lsoftmax_loss(x, w, y, margin, beta):
    return F.cross_entropy(lsoftmax_logits(x, w, y, margin, beta), y)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def draw(n, d, c, device, dtype, seed=1):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=generator, dtype=torch.float32).to(dtype)
    w = (0.05 * torch.randn(c, d, generator=generator, dtype=torch.float32)).to(dtype)
    y = torch.randint(0, c, (n,), generator=generator)
    return x, w, y


def median_ms(fn, device, warmup, reps):
    """(median, half inter-quartile range, first call) in ms of fn() followed by a synchronize."""
    times = []
    for i in range(warmup + reps):
        start = time.perf_counter()
        fn()
        sync(device)
        times.append((time.perf_counter() - start) * 1e3)
    first, measured = times[0], times[warmup:]
    quartiles = statistics.quantiles(measured, n=4) if len(measured) > 1 else [measured[0]] * 3
    return statistics.median(measured), (quartiles[2] - quartiles[0]) / 2, first


def time_step(N, D, C, m, device, dtype, warmup=10, reps=50, beta=0.0):
    """Median ms of one forward + backward step with X, W already on `device` (the twin's entry point)."""
    return measure(N, D, C, m, torch.device(device), dtype, warmup, reps, beta)["step_ms"]


def measure(n, d, c, margin, device, dtype, warmup, reps, beta=0.0):
    x_host, w_host, y_host = draw(n, d, c, device, dtype)
    x = x_host.to(device).requires_grad_(True)
    w = w_host.to(device).requires_grad_(True)
    y = y_host.to(device)

    def step():
        x.grad = None
        w.grad = None
        lsoftmax_loss(x, w, y, margin, beta).backward()

    step_ms, step_iqr, first = median_ms(step, device, warmup, reps)
    result = {"step_ms": step_ms, "step_iqr_ms": step_iqr, "first_step_ms": first}
    if device.type == "cuda":
        xh, wh = x_host.pin_memory(), w_host.pin_memory()
        dx_host, dw_host = torch.empty_like(x_host).pin_memory(), torch.empty_like(w_host).pin_memory()

        def step_with_copies():
            xd = xh.to(device, non_blocking=True).requires_grad_(True)
            wd = wh.to(device, non_blocking=True).requires_grad_(True)
            lsoftmax_loss(xd, wd, y, margin, beta).backward()
            dx_host.copy_(xd.grad, non_blocking=True)
            dw_host.copy_(wd.grad, non_blocking=True)

        result["copies_ms"], result["copies_iqr_ms"], _ = median_ms(step_with_copies, device, warmup, reps)
    g = torch.randn(n, c, dtype=dtype, device=device)
    xd, wd = x.detach(), w.detach()

    def three_products():
        xd @ wd.t()
        g @ wd
        g.t() @ xd

    result["gemm3_ms"], _, _ = median_ms(three_products, device, warmup, reps)
    return result


def command_time(args):
    device = torch.device(args.device)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            print("torch_step.py: CUDA is not available to this torch", file=sys.stderr)
            return 2
        torch.backends.cuda.matmul.allow_tf32 = False  # float32 products, as the tornado pass computes
        torch.backends.cudnn.allow_tf32 = False
        name = torch.cuda.get_device_name(device)
    else:
        name = "cpu (%d threads)" % torch.get_num_threads()
    dtype = getattr(torch, args.dtype)
    header = ("shape,margin,device,dtype,step_ms,step_iqr_ms,copies_ms,copies_iqr_ms,gemm3_ms,first_step_ms,"
              "step_gflops,gemm3_gflops,reps,torch,device_name")
    rows = [header]
    print(header, flush=True)
    for shape in args.shapes.split(","):
        n, d, c = (int(v) for v in shape.split("x"))
        for margin in (int(m) for m in args.margins.split(",")):
            r = measure(n, d, c, margin, device, dtype, args.warmup, args.reps, args.beta)
            flops = 6.0 * n * d * c
            row = "%s,%d,%s,%s,%.4f,%.4f,%s,%s,%.4f,%.1f,%.2f,%.2f,%d,%s,%s" % (
                shape, margin, device.type, args.dtype, r["step_ms"], r["step_iqr_ms"],
                "%.4f" % r["copies_ms"] if "copies_ms" in r else "",
                "%.4f" % r["copies_iqr_ms"] if "copies_iqr_ms" in r else "",
                r["gemm3_ms"], r["first_step_ms"], flops / (r["step_ms"] * 1e6), flops / (r["gemm3_ms"] * 1e6),
                args.reps, torch.__version__, name.replace(",", " "))
            rows.append(row)
            print(row, flush=True)
            if args.out:  # rewritten after every row: a cut run keeps what it measured
                with open(args.out, "w") as f:
                    f.write("\n".join(rows) + "\n")
    return 0


def command_make_inputs(args):
    import numpy as np
    n, d, c = (int(v) for v in args.shape.split("x"))
    rng = np.random.default_rng(args.seed)
    np.save(args.dir + "/X.npy", rng.standard_normal((n, d)))
    np.save(args.dir + "/W.npy", rng.standard_normal((c, d)))
    np.save(args.dir + "/y.npy", rng.integers(0, c, n).astype(np.int64))
    return 0


def command_verify(args):
    import numpy as np
    failed = 0
    for case in args.cases:
        eval_out, margin, beta = case.rsplit(":", 2)
        margin, beta = int(margin), float(beta)
        x = torch.from_numpy(np.load(args.dir + "/X.npy")).double().requires_grad_(True)
        w = torch.from_numpy(np.load(args.dir + "/W.npy")).double().requires_grad_(True)
        y = torch.from_numpy(np.load(args.dir + "/y.npy")).long()
        logits = lsoftmax_logits(x, w, y, margin, beta)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        expected = {name: np.load("%s/%s.npy" % (eval_out, name)) for name in ("logits", "loss", "dx", "dw")}
        ours = {"logits": logits.detach().numpy(), "loss": loss.detach().numpy(), "dx": x.grad.numpy(), "dw": w.grad.numpy()}
        errors = []
        for name in ours:
            scale = max(float(np.abs(expected[name]).max()), 1e-300)
            errors.append("%s %.1e" % (name, float(np.abs(ours[name] - expected[name]).max()) / scale))
        worst = max(float(e.split()[1]) for e in errors)
        ok = worst <= 1e-9
        failed += 0 if ok else 1
        print("torch_step.py verify m=%d beta=%g: max relative error %s: %s (tolerance 1e-9)"
              % (margin, beta, ", ".join(errors), "ok" if ok else "FAILED"))
    return 1 if failed else 0


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("time")
    t.add_argument("--device", default="cuda")
    t.add_argument("--shapes", default="256x512x10,256x512x1000,1024x512x10000,256x64x10")
    t.add_argument("--margins", default="1,4")
    t.add_argument("--beta", type=float, default=0.0)
    t.add_argument("--warmup", type=int, default=10)
    t.add_argument("--reps", type=int, default=50)
    t.add_argument("--dtype", default="float32")
    t.add_argument("--out")
    m = sub.add_parser("make-inputs")
    m.add_argument("dir")
    m.add_argument("--shape", default="24x6x5")
    m.add_argument("--seed", type=int, default=7)
    v = sub.add_parser("verify")
    v.add_argument("dir")
    v.add_argument("cases", nargs="+", metavar="EVAL_OUT:M:B")
    args = parser.parse_args(argv)
    return {"time": command_time, "make-inputs": command_make_inputs, "verify": command_verify}[args.command](args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
