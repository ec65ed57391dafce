"""optimizers speed figures (issue 4), medians of several runs, thread counts stated.

1. ``dltool optimizers tune --workers 2`` against ``--workers 1``: trials per minute of the
   same search (moons, 300 examples, 2-layer networks, 1500 epochs of mini-batches of 32, so
   a trial takes 1–3 s; 24 trials, so start-up and the final plot weigh little). Every
   worker — and the single in-process runner — uses one BLAS thread. Target: ≥ 1.7× with
   2 workers on 2 cores.
   Control: two separate ``--workers 1`` searches started together, which shows how much
   parallel speed the machine can give at that moment (other jobs share its cores).
2. One Adam step on 10 million float32 parameters in 4 arrays (1000×4000, 4000,
   2000×2998, 4000 … as a network's W/b), ``dltool.nn.optimizers.Optimizer('adam')`` (NumPy,
   in place, cache-sized blocks, one thread) against ``torch.optim.Adam(foreach=True)`` on
   CPU with 1 torch thread, then with all cores for reference. Target: NumPy ≤ 2× torch.

    .venv/bin/python benchmarks/optimizers_speed.py [--repeats 5] [--trials 8] [--skip-tune]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SPACE = """
data: {dataset: moons, samples: 300, noise: 0.2, split: "0.8,0.2"}
params:
  lr: {distribution: uniform, range: [1.0e-3, 0.1], scale: log}
  beta1: {distribution: uniform, range: [0.8, 0.99], scale: one_minus_log}
  units: {distribution: int, range: [8, 16]}
  optimizer: {distribution: choice, values: [momentum, adam]}
  layers: 2
  batch_size: 32
  epochs: 1500
"""


def tune_rate(workers: int, trials: int, space: Path, root: Path, copies: int = 1) -> float:
    """Return trials per minute of ``copies`` concurrent ``tune --workers`` runs (wall time)."""
    dltool = str(Path(sys.executable).parent / "dltool")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    t0 = time.perf_counter()
    procs = []
    for _ in range(copies):
        out = root / f"w{workers}-{time.monotonic_ns()}"
        args = ["--space", str(space), "--trials", str(trials), "--workers", str(workers)]
        cmd = [dltool, "--quiet", "optimizers", "tune", *args, "--out", str(out)]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, env=env))
    if any(p.wait() for p in procs):
        raise SystemExit("tune failed")
    return copies * trials / (time.perf_counter() - t0) * 60


def adam_figures(repeats: int) -> dict[str, float]:
    """Return median seconds per Adam step: NumPy (1 thread), torch 1 thread, torch all."""
    import numpy as np
    import torch
    from threadpoolctl import threadpool_limits

    from dltool.nn.optimizers import Optimizer

    shapes = [(1000, 4000), (4000, 1), (2000, 2998), (4, 1)]
    rng = np.random.default_rng(0)
    params = {f"W{i}": rng.standard_normal(s, dtype=np.float32) for i, s in enumerate(shapes)}
    grads = {"d" + k: rng.standard_normal(v.shape, dtype=np.float32) for k, v in params.items()}
    n = sum(v.size for v in params.values())
    assert abs(n - 10_000_000) < 10_000, n
    opt = Optimizer("adam", 1e-3)

    def numpy_step():
        opt.step(params, grads)

    tensors = [torch.from_numpy(v.copy()).requires_grad_() for v in params.values()]
    for t, g in zip(tensors, grads.values(), strict=True):
        t.grad = torch.from_numpy(g.copy())
    topt = torch.optim.Adam(tensors, lr=1e-3, foreach=True)

    def time_it(fn):
        for _ in range(2):
            fn()
        runs = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            runs.append(time.perf_counter() - t0)
        return statistics.median(runs)

    with threadpool_limits(1):
        t_np = time_it(numpy_step)
    cores = torch.get_num_threads()
    torch.set_num_threads(1)
    t_t1 = time_it(topt.step)
    torch.set_num_threads(cores)
    t_tn = time_it(topt.step)
    return {"numpy_1": t_np, "torch_1": t_t1, "torch_all": t_tn, "cores": cores, "n": n}


def main() -> None:
    """Print both figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--trials", type=int, default=24)
    ap.add_argument("--skip-tune", action="store_true")
    args = ap.parse_args()
    print(f"cpus: {os.cpu_count()}; load average: {os.getloadavg()[0]:.1f}")
    a = adam_figures(args.repeats)
    print(f"Adam step, {a['n']:,} float32 parameters (median of {args.repeats}):")
    print(f"  NumPy Optimizer('adam'), 1 thread      {1e3 * a['numpy_1']:8.1f} ms")
    print(
        f"  torch.optim.Adam(foreach), 1 thread    {1e3 * a['torch_1']:8.1f} ms"
        f"   NumPy/torch = {a['numpy_1'] / a['torch_1']:.2f}  (target ≤ 2)"
    )
    print(
        f"  torch.optim.Adam(foreach), {a['cores']} threads   {1e3 * a['torch_all']:8.1f} ms"
        f"   NumPy/torch = {a['numpy_1'] / a['torch_all']:.2f}"
    )
    if args.skip_tune:
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        space = root / "space.yaml"
        space.write_text(SPACE)
        rates = {1: [], 2: [], "pair": []}
        for _ in range(max(1, args.repeats // 2)):
            for w in (1, 2):  # interleaved, so load changes hit both alike
                rates[w].append(tune_rate(w, args.trials, space, root))
            rates["pair"].append(tune_rate(1, args.trials, space, root, copies=2))
    r1, r2 = statistics.median(rates[1]), statistics.median(rates[2])
    pair = statistics.median(rates["pair"])
    print(f"tune, {args.trials} trials, 1 BLAS thread per worker (median of {len(rates[1])}):")
    print(f"  --workers 1   {r1:6.1f} trials/min")
    print(f"  --workers 2   {r2:6.1f} trials/min   speed-up {r2 / r1:.2f}×  (target ≥ 1.7)")
    print(
        f"  control: two separate --workers 1 searches at once {pair:6.1f} trials/min, "
        f"{pair / r1:.2f}× one alone: the most this machine's free cores allow now"
    )


if __name__ == "__main__":
    main()
