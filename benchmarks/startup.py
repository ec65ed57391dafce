"""Start-up figures: ``dltool --help`` and a bash completion request vs importing typer+rich+pluggy.

Target (issue 2): each median ≤ 1.5 × the anchor's median, all measured in this one
script on the same machine. Run: ``.venv/bin/python benchmarks/startup.py [--runs 15]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def wall(cmd: list[str], env: dict[str, str]) -> float:
    """Return the wall time of one execution of ``cmd``."""
    start = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    """Measure and print the medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    env = dict(os.environ)
    comp_env = {
        **env,
        "_DLTOOL_COMPLETE": "complete_bash",
        "COMP_WORDS": "dltool pl",
        "COMP_CWORD": "1",
    }
    dltool = str(BIN / "dltool")
    cases = {
        "anchor: python -c 'import typer, rich, pluggy'": (
            [sys.executable, "-c", "import typer, rich, pluggy"],
            env,
        ),
        "dltool --help": ([dltool, "--help"], env),
        "completion (bash): dltool pl<TAB>": ([dltool], comp_env),
    }
    medians = {}
    for cmd, e in cases.values():  # warm the file cache
        wall(cmd, e)
        wall(cmd, e)
    # interleave the cases so machine noise hits them alike
    samples: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(args.runs):
        for name, (cmd, e) in cases.items():
            samples[name].append(wall(cmd, e))
    anchor = None
    version = sys.version.split()[0]
    print(f"threads: n/a (start-up is single-threaded); runs: {args.runs}; python {version}")
    for name, ts in samples.items():
        medians[name] = statistics.median(ts)
        anchor = anchor or medians[name]
        ratio = medians[name] / anchor
        print(f"{name:48s} median {medians[name] * 1000:7.1f} ms   ratio {ratio:4.2f}")


if __name__ == "__main__":
    main()
