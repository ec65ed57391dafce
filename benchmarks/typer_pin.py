"""Re-check the ``typer>=0.28,<0.29`` pin: dltool with the newest Typer vs the pinned one.

Installs the newest Typer (or ``--typer VERSION``) from PyPI into a temporary ``--target``
folder, with only those of its requirements the venv does not already satisfy, then times
``dltool --help`` and a bash completion request (``dltool pl<TAB>``) with the pinned Typer
(the venv) and with the new one (that folder first on PYTHONPATH), interleaved, medians, plus
the anchor ``python -c "import typer, rich, pluggy"`` under each. It also runs a few commands
under both and says whether their output is the same. Results go in benchmarks/README.md
("Typer pin"); pyproject.toml's comment on the pin points there.

Run: ``.venv/bin/python benchmarks/typer_pin.py [--runs 21] [--typer 0.29.2]``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from packaging.requirements import Requirement

BIN = Path(sys.executable).parent
COMPLETE = {"_DLTOOL_COMPLETE": "complete_bash", "COMP_WORDS": "dltool pl", "COMP_CWORD": "1"}
SAME_OUTPUT = [
    ["--help"],
    ["plugins", "--json"],
    ["completion", "show", "bash"],
    ["yolo", "--help"],
    ["wordvec", "similar", "--help"],
]


def pip_target(spec: str, target: Path) -> None:
    """Install ``spec`` alone (no dependencies) into ``target``."""
    cmd = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--upgrade"]
    cmd += ["--disable-pip-version-check", "--target", str(target), spec]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def target_version(name: str, target: Path) -> str | None:
    """Return the version of distribution ``name`` installed in ``target``, or None."""
    dists = importlib.metadata.distributions(path=[str(target)])
    found = [d.version for d in dists if _norm(d.metadata["Name"]) == _norm(name)]
    return found[0] if found else None


def _norm(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def venv_version(name: str) -> str | None:
    """Return the version of ``name`` installed in this venv, or None."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def install_newest(spec: str, target: Path) -> list[str]:
    """Install ``spec`` and its requirements the venv lacks into ``target``; return what was."""
    pip_target(spec, target)
    todo = [Requirement(spec)]
    added: list[str] = []
    while todo:
        req = todo.pop()
        version = target_version(req.name, target)
        if version is None:
            have = venv_version(req.name)
            if have is not None and req.specifier.contains(have, prereleases=True):
                continue
            pip_target(str(req), target)
            version = target_version(req.name, target)
            added.append(f"{req.name} {version}")
        meta = next(
            d
            for d in importlib.metadata.distributions(path=[str(target)])
            if _norm(d.metadata["Name"]) == _norm(req.name)
        )
        for line in meta.requires or []:
            sub = Requirement(line)
            if sub.marker is None or sub.marker.evaluate({"extra": ""}):
                todo.append(sub)
    return added


def wall(cmd: list[str], env: dict[str, str]) -> float:
    """Return the wall time of one execution of ``cmd``."""
    start = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def output(cmd: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """Return the exit code, stdout and first stderr line of ``cmd``."""
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    return done.returncode, done.stdout, (done.stderr.splitlines() or [""])[0]


def cases(target: Path) -> dict[str, tuple[list[str], dict[str, str]]]:
    """Return the timed commands: anchor, --help and completion under each Typer."""
    base = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    new = {**base, "PYTHONPATH": str(target)}
    anchor = [sys.executable, "-c", "import typer, rich, pluggy"]
    dltool = [str(BIN / "dltool")]
    out = {}
    for label, env in (("pinned", base), ("newest", new)):
        out[f"{label}: anchor import typer, rich, pluggy"] = (anchor, env)
        out[f"{label}: dltool --help"] = ([*dltool, "--help"], env)
        out[f"{label}: completion dltool pl<TAB>"] = (dltool, {**env, **COMPLETE})
    return out


def measure(timed: dict[str, tuple[list[str], dict[str, str]]], runs: int) -> dict[str, float]:
    """Return the median wall time of each case, interleaved so noise hits them alike."""
    for cmd, env in timed.values():  # warm the file cache
        wall(cmd, env)
        wall(cmd, env)
    samples: dict[str, list[float]] = {k: [] for k in timed}
    for _ in range(runs):
        for name, (cmd, env) in timed.items():
            samples[name].append(wall(cmd, env))
    return {name: statistics.median(ts) for name, ts in samples.items()}


def main() -> None:
    """Install, check behaviour, measure and print the medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--typer", default="", help="Typer version to try (default: newest)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dltool-typer-") as tmp:
        target = Path(tmp)
        added = install_newest(f"typer=={args.typer}" if args.typer else "typer", target)
        newest = target_version("typer", target)
        timed = cases(target)
        print(f"python {sys.version.split()[0]}; runs: {args.runs}; single-threaded start-up")
        print(f"pinned typer {venv_version('typer')}; newest typer {newest}")
        print(f"installed into the temporary folder: {', '.join(added) or 'nothing else'}")
        base_env = timed["pinned: dltool --help"][1]
        new_env = timed["newest: dltool --help"][1]
        for argv in SAME_OUTPUT:
            cmd = [str(BIN / "dltool"), *argv]
            old, new = output(cmd, base_env), output(cmd, new_env)
            verdict = "same output" if old == new else f"DIFFERS: exit {old[0]} vs {new[0]}"
            print(f"dltool {' '.join(argv):28s} {verdict} {new[2] if new != old else ''}")
        comp = [output(c, e) for c, e in (v for k, v in timed.items() if "completion" in k)]
        same = "same output" if comp[0] == comp[1] else "DIFFERS"
        print(f"{'completion dltool pl<TAB>':35s} {same}")
        medians = measure(timed, args.runs)
    anchor = medians["pinned: anchor import typer, rich, pluggy"]
    for name, med in medians.items():
        print(f"{name:42s} median {med * 1000:7.1f} ms   / pinned anchor {med / anchor:4.2f}")
    for what in ("dltool --help", "completion dltool pl<TAB>"):
        ratio = medians[f"newest: {what}"] / medians[f"pinned: {what}"]
        print(f"newest / pinned, {what}: {ratio:.2f}x")


if __name__ == "__main__":
    main()
