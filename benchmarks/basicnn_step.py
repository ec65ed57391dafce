"""basicnn speed figures (issue 3), each a median of several runs, with an anchor.

1. One training step (forward, backward, update) of a 784-256-128-10 ReLU/softmax network
   on a batch of 1024, NumPy reference vs the torch twin on CPU, same dtype (float32) and
   the same thread count for BLAS and torch. Target: NumPy within 1.5× of torch.
2. The course-sized run: 12288-20-7-5-1, 209 examples, 2500 full-batch iterations with
   the NumPy reference in float64 (the notes') and float32 (``train --dtype float32``).
   The cat data are not shipped; random pixels in [0, 1] and random labels have the same
   shapes and cost the same. Target: under 30 s on 2 cores.

Anchor: a bare float32 GEMM (256×784 @ 784×1024) in NumPy and torch, timed the same way,
so the step times can be read against the machine's raw matrix speed.

    .venv/bin/python benchmarks/basicnn_step.py [--threads 2] [--repeats 7] [--quick]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time


def median_time(fn, repeats: int, inner: int = 1, warmup: int = 2) -> tuple[float, float]:
    """Return the medians over ``repeats`` of the mean wall and CPU time of ``inner`` calls (s).

    CPU time (this process, all threads) is what a run costs when it does not share its
    cores; wall time is what it took here, with whatever else the machine was running.
    """
    for _ in range(warmup):
        fn()
    walls, cpus = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(inner):
            fn()
        walls.append((time.perf_counter() - t0) / inner)
        cpus.append((time.process_time() - c0) / inner)
    return statistics.median(walls), statistics.median(cpus)


def step_figures(repeats: int):
    """Return (wall, cpu) times of the numpy step, torch step, numpy GEMM and torch GEMM."""
    import numpy as np
    import torch

    from dltool.nn import init, network
    from dltool.nn import network_torch as nt
    from dltool.nn import training as train

    dims, m = [784, 256, 128, 10], 1024
    np.random.seed(0)
    params = {k: v.astype(np.float32) for k, v in init.initialize_parameters(dims, "he").items()}
    X = np.random.rand(784, m).astype(np.float32)
    labels = np.random.randint(0, 10, m)
    Y = network.targets(labels, 10, dtype=np.float32)
    settings = train.Settings("relu", learning_rate=0.01)

    def numpy_step():
        train.step_numpy(X, Y, params, settings)

    model = nt.build(dims, "relu", 1.0, params, "cpu", torch.float32)
    Xt, yt = torch.from_numpy(X.T.copy()), torch.from_numpy(labels)

    def torch_step():
        J = nt.cost(model, model(Xt), yt)
        model.zero_grad(set_to_none=True)
        J.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= 0.01 * p.grad

    A, B = np.random.rand(256, 784).astype(np.float32), X
    At, Bt = torch.from_numpy(A), torch.from_numpy(B)
    t_np = median_time(numpy_step, repeats, inner=5)
    t_th = median_time(torch_step, repeats, inner=5)
    g_np = median_time(lambda: A @ B, repeats, inner=10)
    g_th = median_time(lambda: At @ Bt, repeats, inner=10)
    return t_np, t_th, g_np, g_th


def course_run(repeats: int, iterations: int, dtype: str) -> tuple[float, float]:
    """Return the median wall and CPU time (s) of the 12288-20-7-5-1 run over 209 examples."""
    import numpy as np

    from dltool.nn import init
    from dltool.nn import training as train

    def run():
        np.random.seed(1)
        X = np.random.rand(12288, 209).astype(dtype)
        labels = np.random.randint(0, 2, 209)
        params = init.initialize_parameters([12288, 20, 7, 5, 1], "he")
        params = {k: v.astype(dtype) for k, v in params.items()}
        train.fit(X, labels, params, train.Settings("relu", 0.0075, iterations))

    return median_time(run, repeats, warmup=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="BLAS and torch threads")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per figure")
    parser.add_argument("--quick", action="store_true", help="250 course iterations, 3 runs")
    args = parser.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np
    import torch
    from threadpoolctl import threadpool_info, threadpool_limits

    threadpool_limits(args.threads)
    torch.set_num_threads(args.threads)
    blas = ", ".join(f"{p['internal_api']}={p['num_threads']}" for p in threadpool_info())
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load average {load}")
    print(f"numpy {np.__version__}, torch {torch.__version__}; threads: torch="
          f"{torch.get_num_threads()}, {blas}")  # fmt: skip

    t_np, t_th, g_np, g_th = step_figures(args.repeats)
    print(f"anchor GEMM 256x784 @ 784x1024 float32 (wall / cpu): numpy {ms(g_np)}, "
          f"torch {ms(g_th)}")  # fmt: skip
    ratio, cpu_ratio = t_np[0] / t_th[0], t_np[1] / t_th[1]
    verdict = "PASS" if ratio <= 1.5 else "FAIL"
    print(f"step 784-256-128-10, batch 1024, float32 (wall / cpu): numpy {ms(t_np)}, "
          f"torch {ms(t_th)}; numpy/torch {ratio:.2f} wall, {cpu_ratio:.2f} cpu "
          f"(target <= 1.5: {verdict})")  # fmt: skip

    iterations = 250 if args.quick else 2500
    repeats = 3 if args.quick else max(3, args.repeats // 2)
    for dtype in ("float64", "float32"):
        wall, cpu = course_run(repeats, iterations, dtype)
        scale = 2500 / iterations
        v_wall = "PASS" if wall * scale < 30 else "FAIL"
        v_cpu = "PASS" if cpu * scale < 30 else "FAIL"
        print(f"course run 12288-20-7-5-1, m=209, {iterations} iterations, {dtype} numpy "
              f"(median of {repeats}): wall {wall:.2f} s, cpu {cpu:.2f} s")  # fmt: skip
        print(f"  for 2500 iterations: wall {wall * scale:.1f} s (target < 30 s: {v_wall}), "
              f"cpu {cpu * scale:.1f} s (target < 30 s: {v_cpu})")  # fmt: skip


def ms(t: tuple[float, float]) -> str:
    """Return 'wall / cpu ms' for a (wall, cpu) pair in seconds."""
    return f"{t[0] * 1e3:.2f} / {t[1] * 1e3:.2f} ms"


if __name__ == "__main__":
    main()
