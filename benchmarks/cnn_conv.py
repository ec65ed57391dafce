"""cnn convolution speed (issue 5): NumPy loop vs NumPy vectorized vs torch conv2d, fwd + bwd.

Case: ``A_prev`` (64, 56, 56, 64), f = 3, 64 filters, stride 1, pad 1, float32, the same
thread count for NumPy's BLAS and torch. Targets: vectorized ≥ 100× faster than the loop
version (the loop is timed on a smaller batch and spatial size with the same f, n_C_prev and
n_C, and extrapolated linearly in m·n_H·n_W, the number of windows it visits), and within 3×
of ``torch.nn.functional.conv2d`` forward + backward.

    .venv/bin/python benchmarks/cnn_conv.py [--threads 1] [--repeats 3] [--quick]

Recorded 2026-11-28 01:00 UTC on the shared 2-core machine (load average ≈ 4.5 from other
jobs, so read the ratios), medians of 3, after the im2col was chunked into a reused buffer:

    $ .venv/bin/python benchmarks/cnn_conv.py --threads 1
    loop (2, 12, 12, 64) fwd+bwd            0.41 s   -> extrapolated to (64, 56, 56, 64): 283 s
    vectorized (64, 56, 56, 64) fwd+bwd     1.22 s   (fwd 0.36 s, bwd 0.96 s)
    torch conv2d fwd+bwd                    1.05 s
    vectorized vs loop: 232x faster   vectorized / torch: 1.16x

    $ .venv/bin/python benchmarks/cnn_conv.py --threads 2
    vectorized vs loop: 158x faster   vectorized / torch: 1.38x

Before chunking (one 462 MB column matrix built in forward and again in backward, its pages
faulted in each time) the same case took 1.9–2.8 s: 1.5–2.9× torch, 91–162× the loop.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time


def median_time(fn, repeats: int, warmup: int = 1) -> float:
    """Return the median wall time of ``fn()`` over ``repeats`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="m = 8 instead of 64")
    args = parser.parse_args()

    import numpy as np
    import torch
    from dltool_cnn import conv
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    m = 8 if args.quick else 64
    rng = np.random.default_rng(0)
    A = rng.standard_normal((m, 56, 56, 64), dtype=np.float32)
    W = rng.standard_normal((3, 3, 64, 64), dtype=np.float32) * np.float32(0.05)
    b = np.zeros((1, 1, 1, 64), np.float32)
    hp = {"stride": 1, "pad": 1}
    small = A[:2, :12, :12]  # 2·12·12 = 288 windows × 64 filters

    def loop_small():
        Z, cache = conv.conv_forward_loop(small, W, b, **hp)
        conv.conv_backward_loop(Z, cache)

    def vectorized():
        Z, cache = conv.conv_forward(A, W, b, **hp)
        conv.conv_backward(Z, cache)

    with threadpool_limits(args.threads):
        t_loop_small = median_time(loop_small, args.repeats, warmup=0)
        t_vec = median_time(vectorized, args.repeats)
        t0 = time.perf_counter()
        Z, cache = conv.conv_forward(A, W, b, **hp)
        t_fwd = time.perf_counter() - t0
        conv.conv_backward(Z, cache)
        t_bwd = time.perf_counter() - t0 - t_fwd

    At = torch.from_numpy(A).permute(0, 3, 1, 2).contiguous().requires_grad_()
    Wt = torch.from_numpy(W).permute(3, 2, 0, 1).contiguous().requires_grad_()
    bt = torch.zeros(64, requires_grad=True)

    def torch_conv():
        Zt = torch.nn.functional.conv2d(At, Wt, bt, padding=1)
        Zt.backward(torch.ones_like(Zt))

    t_torch = median_time(torch_conv, args.repeats)
    t_loop = t_loop_small * (m * 56 * 56) / (2 * 12 * 12)
    print(f"threads {args.threads}; python {platform.python_version()}; torch {torch.__version__}")
    print(f"loop (2, 12, 12, 64) fwd+bwd        {t_loop_small:8.2f} s"
          f"   -> extrapolated to ({m}, 56, 56, 64): {t_loop:8.0f} s")  # fmt: skip
    print(f"vectorized ({m}, 56, 56, 64) fwd+bwd {t_vec:8.2f} s"
          f"   (fwd {t_fwd:.2f} s, bwd {t_bwd:.2f} s)")  # fmt: skip
    print(f"torch conv2d fwd+bwd               {t_torch:8.2f} s")
    print(f"vectorized vs loop: {t_loop / t_vec:.0f}x faster   "
          f"vectorized / torch: {t_vec / t_torch:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
