"""The scripts in examples/ run as a user would run them (a subprocess, tiny sizes), writing
only into the temporary folder they are given."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
from dltool_support import ROOT


def run_example(name: str, *args, cwd) -> str:
    """Run ``examples/NAME`` with ``args`` in ``cwd``; return its stdout (it must succeed)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "DLTOOL_RUNS": str(cwd / "runs")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / name), *map(str, args)],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_detect_objects(tmp_path):
    out = run_example("detect_objects.py", tmp_path / "out", "demo:astronaut", cwd=tmp_path)
    assert out.splitlines()[0].startswith("person")
    assert (tmp_path / "out" / "detections.png").stat().st_size > 0


def tiny_vectors(path):
    """Write a GloVe text file whose gendered pairs differ along axis 0 only."""
    rng = np.random.default_rng(0)
    pairs = [("woman", "man"), ("she", "he"), ("mother", "father"), ("queen", "king")]
    lines = []
    for female, male in pairs:
        base = rng.normal(size=6)
        base[0] = 0
        lines += [f"{female} {' '.join(map(str, base + [1.5, 0, 0, 0, 0, 0]))}",
                  f"{male} {' '.join(map(str, base - [1.5, 0, 0, 0, 0, 0]))}"]  # fmt: skip
    for word in ("doctor", "nurse", "engineer", "river"):
        lines.append(f"{word} {' '.join(map(str, rng.normal(size=6)))}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_debias_analogies(tmp_path):
    vectors = tiny_vectors(tmp_path / "tiny.txt")
    out = run_example("debias_analogies.py", tmp_path / "out", "--vectors", vectors, cwd=tmp_path)
    lines = out.splitlines()
    assert lines[0].startswith("debias report:")
    assert [x.split("   ")[0] for x in lines[1:]] == [
        "man : woman : doctor : ?", "he : she : engineer : ?", "father : mother : nurse : ?"
    ]  # fmt: skip
    assert (tmp_path / "out" / "config.yaml").is_file()


def test_char_lstm(tmp_path):
    out = run_example("char_lstm.py", tmp_path / "out", "--steps", "20", cwd=tmp_path)
    lines = out.splitlines()
    assert "'steps': 20" in lines[0]
    assert len(lines) == 4 and all(x.startswith("'") for x in lines[1:])


def test_verify_face(tmp_path):
    out = run_example("verify_face.py", tmp_path / "out", cwd=tmp_path)
    person, stranger = out.splitlines()
    assert person.startswith("demo:astronaut: distance 0.000") and person.endswith("same person")
    assert stranger.endswith("someone else")
