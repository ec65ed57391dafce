"""Peak RSS of one `yolo train` epoch on 1,000 and on 10,000 `yolo synth` images (issue 16).

`yolo train` reads its images per batch through a DataLoader, so its memory should not grow
with the dataset. Target: the two peaks within 10 % of each other.

Each dataset is written once by ``dltool yolo synth`` (64 px images) under ``--root``; both
hold the same number of val images (``--val``, 200), so that what differs is the train split
alone. Each measurement is one fresh ``dltool --threads T --seed 0 --quiet yolo train``
process, 1 epoch of a 64 px YOLOv3-tiny at width 0.25 (``--cfg-anchors``), batch 32; its peak
resident set (``os.wait4``'s ``ru_maxrss``, which covers the DataLoader workers it waited
for) is recorded. The sizes alternate run by run; the median of ``--runs`` runs is reported.

``--tree DIR`` runs the dltool of another checkout (its ``dltool`` and ``plugins`` folders
first on PYTHONPATH), e.g. the commit before the DataLoader, which loaded whole splits.

    .venv/bin/python benchmarks/yolo_data_rss.py [--runs 3] [--threads 1] [--workers 0]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

DLTOOL = [sys.executable, "-m", "dltool"]


def synth(root: Path, n: int, val: int, size: int) -> Path:
    """Write (once) a synth dataset of ``n`` images, ``val`` of them val; return data.yaml."""
    data = root / f"syn{n}"
    if not (data / "data.yaml").is_file():
        shutil.rmtree(data, ignore_errors=True)
        args = ["--quiet", "yolo", "synth", str(data), "--n", str(n), "--size", str(size)]
        subprocess.run([*DLTOOL, *args, "--val-fraction", str(val / n)], check=True)
    return data / "data.yaml"


def write_cfg(root: Path, size: int) -> Path:
    """Write the tiny cfg trained here (4 classes, width 0.25, ``size`` px); return its path."""
    from dltool_yolo.cfg import tiny_cfg

    path = root / "tiny.cfg"
    path.write_text(tiny_cfg(4, 0.25, size))
    return path


def peak_kib(args: list[str], env: dict) -> tuple[int, float]:
    """Run ``dltool ARGS``; return its peak RSS (KiB, its waited-for children included), seconds."""
    start = time.perf_counter()
    proc = subprocess.Popen([*DLTOOL, *args], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read()
    if proc.returncode != 0:
        sys.exit(f"dltool {' '.join(args)} failed:\n{err[-2000:]}")
    return usage.ru_maxrss, time.perf_counter() - start


def main() -> None:
    """Measure and print the median peak RSS per dataset size and their ratio."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--val", type=int, default=200)
    p.add_argument("--image", type=int, default=64, help="synth image side and cfg input size")
    p.add_argument("--root", type=Path, default=Path("/tmp/dltool_yolo_rss"))
    p.add_argument("--tree", type=Path, default=None, help="another checkout's dltool to run")
    a = p.parse_args()
    a.root.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    if a.tree is not None:
        tree = a.tree.resolve()
        env["PYTHONPATH"] = os.pathsep.join([str(tree), str(tree / "plugins")])
    data = {n: synth(a.root, n, a.val, a.image) for n in a.sizes}
    cfg = write_cfg(a.root, a.image)
    peaks: dict[int, list[int]] = {n: [] for n in a.sizes}
    for r in range(a.runs):
        for n in a.sizes:
            out = a.root / "runs" / f"{n}-{r}"
            shutil.rmtree(out, ignore_errors=True)
            args = ["--threads", str(a.threads), "--seed", "0", "--quiet", "yolo", "train",
                    "--data", str(data[n]), "--cfg", str(cfg), "--cfg-anchors", "--epochs", "1",
                    "--batch-size", "32", "--out", str(out)]  # fmt: skip
            if a.tree is None:
                args += ["--workers", str(a.workers)]
            kib, seconds = peak_kib(args, env)
            peaks[n].append(kib)
            print(f"run {r + 1}: {n:>6} images  peak {kib / 1024:7.1f} MiB  {seconds:6.1f} s",
                  flush=True)  # fmt: skip
    which = f"tree {a.tree}" if a.tree else f"workers {a.workers}"
    print(f"threads {a.threads}, {which}, {a.image} px, val {a.val} images, runs {a.runs}")
    base = statistics.median(peaks[a.sizes[0]])
    for n in a.sizes:
        med = statistics.median(peaks[n])
        print(f"{n:>6} images  median peak RSS {med / 1024:7.1f} MiB  ratio {med / base:.3f}")


if __name__ == "__main__":
    main()
