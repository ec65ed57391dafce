"""Benchmarks for the rnn plugin (not part of pytest).

1. NumPy LSTM forward + backward (``lstm.lstm_forward``/``lstm_backward``, the notes'
   reference) against ``torch.nn.LSTM`` forward + backward on CPU, float32, both
   libraries held to the same number of threads; T_x = 100, m = 64, n_x = 50, n_a = 128.
   The torch twin of the notes' cell (``cells_torch.Recurrent``) is timed as well.
2. The character model (``dltool rnn train``, torch backend, LSTM) on the built-in
   corpus for a fixed CPU budget (default 120 s): validation loss against the unigram
   baseline, plus sample output.

Run:  .venv/bin/python benchmarks/rnn_lstm.py [--threads 1] [--repeats 5] [--budget 120]
      [--skip-train]

Recorded (2-core shared CPU VM, other jobs running: load average 4-7, 1 thread, 2026-11-28):

    LSTM fwd+bwd, T_x=100 m=64 n_x=50 n_a=128, float32, 1 thread(s), median of 5:
      NumPy reference (lstm.py)          186.8 ms   1.13x nn.LSTM   (523.1 ms, 1.37x at load 7)
      torch.nn.LSTM                      165.6 ms   1.00x           (383.0 ms)
      torch twin (cells_torch.LSTMCell)  180.9 ms   1.09x           (576.0 ms, 1.50x)
    char-LSTM (128 units, seq 64, batch 32, Adam 1e-2, clip 5), built-in corpus,
    120 s budget: 622 steps, validation loss 1.737 vs unigram 3.071 nats/char
      sample: The asso the played to be upporting." air on ccerters for underters a proshces
              in this is. The quest is not into camp oft carcers housing Afgost is netwooned
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

T_X, M, N_X, N_A = 100, 64, 50, 128


def _timed(fn, repeats: int) -> float:
    """Return the median wall time of ``fn()`` over ``repeats`` runs (after one warm-up)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_lstm(threads: int, repeats: int) -> list[dict]:
    """Return timings of NumPy LSTM, torch.nn.LSTM and the torch twin, fwd + bwd."""
    import numpy as np
    import torch
    from dltool_rnn import cells_torch, lstm
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    p = lstm.init_parameters(N_A, N_X, rng=rng, dtype=np.float32)
    x = rng.standard_normal((N_X, M, T_X)).astype(np.float32)
    a0 = np.zeros((N_A, M), np.float32)
    da = rng.standard_normal((N_A, M, T_X)).astype(np.float32)

    def numpy_step():
        _, _, _, caches = lstm.lstm_forward(x, a0, p)
        lstm.lstm_backward(da, caches)

    module = torch.nn.LSTM(N_X, N_A)
    xt = torch.from_numpy(x.transpose(2, 1, 0).copy())  # (T_x, m, n_x)
    dat = torch.from_numpy(da.transpose(2, 1, 0).copy())

    def torch_step():
        module.zero_grad()
        out, _ = module(xt)
        out.backward(dat)

    twin = cells_torch.Recurrent(cells_torch.LSTMCell(N_X, N_A))
    xn, dan = torch.from_numpy(x), torch.from_numpy(da)

    def twin_step():
        twin.zero_grad()
        out, _ = twin(xn)
        out.backward(dan)

    with threadpool_limits(limits=threads), torch.no_grad():
        t_numpy = _timed(numpy_step, repeats)
    with threadpool_limits(limits=threads):
        t_torch = _timed(torch_step, repeats)
        t_twin = _timed(twin_step, repeats)
    return [
        {
            "implementation": "NumPy reference (lstm.py)",
            "ms": 1e3 * t_numpy,
            "vs nn.LSTM": t_numpy / t_torch,
        },
        {"implementation": "torch.nn.LSTM", "ms": 1e3 * t_torch, "vs nn.LSTM": 1.0},
        {
            "implementation": "torch twin (cells_torch.LSTMCell)",
            "ms": 1e3 * t_twin,
            "vs nn.LSTM": t_twin / t_torch,
        },
    ]


def bench_charmodel(budget: float, threads: int) -> dict:
    """Train the torch char-LSTM on the built-in corpus for ``budget`` seconds via the CLI."""
    dltool = str(Path(sys.executable).parent / "dltool")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        cmd = [
            dltool,
            "--threads",
            str(threads),
            "--json",
            "--quiet",
            "rnn",
            "train",
            "--backend",
            "torch",
            "--cell",
            "lstm",
            "--time-limit",
            str(budget),
            "--epochs",
            "100",
            "--out",
            str(out),
        ]
        start = time.process_time()
        run = subprocess.run(
            cmd, capture_output=True, text=True, env={**os.environ, "DLTOOL_RUNS": tmp}
        )
        if run.returncode != 0:
            raise SystemExit(run.stderr)
        doc = json.loads(run.stdout)
        sample = subprocess.run(
            [
                dltool,
                "--json",
                "rnn",
                "sample",
                str(out),
                "-n",
                "3",
                "--prefix",
                "The ",
                "--max-len",
                "160",
            ],
            capture_output=True,
            text=True,
        )
        doc["sample_prefix_The"] = json.loads(sample.stdout)["samples"]
        doc["parent_cpu_s"] = time.process_time() - start
        return doc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--budget", type=float, default=120.0)
    parser.add_argument("--skip-train", action="store_true")
    args = parser.parse_args()
    rows = bench_lstm(args.threads, args.repeats)
    print(
        f"LSTM fwd+bwd, T_x={T_X} m={M} n_x={N_X} n_a={N_A}, float32, "
        f"{args.threads} thread(s), median of {args.repeats}:"
    )
    for r in rows:
        print(f"  {r['implementation']:36s} {r['ms']:8.1f} ms   {r['vs nn.LSTM']:.2f}x nn.LSTM")
    if not args.skip_train:
        doc = bench_charmodel(args.budget, args.threads)
        print(
            f"char-LSTM, built-in corpus, {args.budget:.0f} s budget: {doc['steps']} steps, "
            f"val loss {doc['val_loss']:.3f} vs unigram {doc['unigram_loss']:.3f} nats/char"
        )
        for s in doc["sample_prefix_The"]:
            print("  sample:", s)


if __name__ == "__main__":
    main()
