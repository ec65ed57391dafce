"""Data-parallel scaling of ``cnn train`` on this machine (issue 16), medians of several runs.

LeNet-5 on the built-in digits (1,438 training images), global batch 64 (``--batch-size``),
float32, 3 epochs;
the figure is the training throughput (images/s over all ranks, the ``images_per_s`` column of
``metrics.jsonl``, epochs 2 and 3, so process start-up and the first epoch's warm-up are out):

1. ``--nproc 2`` (two gloo ranks, 1 thread each) against one process with 2 threads — the
   scaling figure on 2 cores;
2. DDP at one rank (``torchrun --nproc-per-node 1``, 1 thread) against one process without DDP
   (1 thread) — DDP's own overhead. Target: ≤ 5 %.

The configurations run interleaved, ``--repeats`` rounds, so a noisy neighbour hits them all.

    .venv/bin/python benchmarks/ddp_scaling.py [--repeats 3] [--epochs 3] [--batch-size 64]

At one rank dltool trains the bare model (``distributed.wrap``: nothing to average), so
figure 2 is the cost of the launcher and the group, not of DDP's gradient hooks.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

TRAIN = ["cnn", "train", "--model", "lenet5", "--data", "digits"]
CONFIGS = {
    "1 process, 2 threads": (["-m", "dltool", "--threads", "2"], []),
    "--nproc 2, 1 thread each": (["-m", "dltool", "--threads", "1"], ["--nproc", "2"]),
    "1 process, 1 thread (no DDP)": (["-m", "dltool", "--threads", "1"], []),
    "DDP at 1 rank (torchrun), 1 thread": (
        [
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc-per-node",
            "1",
            "-m",
            "dltool",
            "--threads",
            "1",
        ],
        [],
    ),  # fmt: skip
}


def throughput(argv0: list[str], extra: list[str], epochs: int, batch: int, out: Path) -> float:
    """Train once; return the mean images/s of epochs 2.. (all ranks together)."""
    cmd = [sys.executable, *argv0, "--quiet", "--seed", "0", *TRAIN, "--epochs", str(epochs),
           "--batch-size", str(batch), *extra, "--out", str(out)]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(cmd, check=True, capture_output=True, env=env, timeout=600)
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return statistics.mean(r["images_per_s"] for r in rows[1:])


def main() -> None:
    """Run the configurations interleaved and print each median with its ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64, help="the global batch")
    args = parser.parse_args()
    results: dict[str, list[float]] = {name: [] for name in CONFIGS}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            for i, (name, (argv0, extra)) in enumerate(CONFIGS.items()):
                out = Path(tmp) / f"{r}-{i}"
                results[name].append(throughput(argv0, extra, args.epochs, args.batch_size, out))
    med = {name: statistics.median(v) for name, v in results.items()}
    print(f"cpu cores: {os.cpu_count()}; batch {args.batch_size}; repeats: {args.repeats}; "
          f"epochs: {args.epochs} "
          f"(throughput of epochs 2..{args.epochs}); load {os.getloadavg()[0]:.1f}")  # fmt: skip
    for name, value in med.items():
        spread = ", ".join(f"{v:.0f}" for v in results[name])
        print(f"{name:38s} median {value:7.0f} images/s   runs: {spread}")
    names = list(CONFIGS)
    print(f"scaling: --nproc 2 / 1 process 2 threads = {med[names[1]] / med[names[0]]:.2f}x")
    overhead = 1 - med[names[3]] / med[names[2]]
    print(f"DDP overhead at 1 rank: {overhead * 100:+.1f} % (target <= 5 %)")


if __name__ == "__main__":
    main()
