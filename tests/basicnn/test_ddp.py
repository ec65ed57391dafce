"""Distributed and mixed-precision `basicnn train --backend torch` (issue 16).

2 gloo ranks equal one process: each rank takes positions r, r+2, … of every global batch
(and those columns of the dropout masks) and weights its loss by its share, so uneven shares
(the last batch of 159 - 3·48 = 15 examples: 8 + 7) still give the one-process gradient.
Tolerance: float32 training, final weights and epoch costs equal to 1e-5 (measured: max |Δ| of
the weights 1.2e-7, costs 2e-8). The 2-worker launch runs in its own session (~15-25 s of
imports on 2 busy cores) and is killed as a group if it overruns.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from dltool_basicnn import checkpoint
from dltool_support import launch_dltool

ARGS = ["-d", "moons", "--samples", "199", "--epochs", "3", "--batch-size", "48"]
ARGS += ["--keep-prob", "0.8", "--l2", "0.1", "--optimizer", "adam", "--lr", "0.01"]
ARGS += ["--backend", "torch", "--dtype", "float32"]


def _dltool(*args, cwd, timeout=180):
    """Run ``python -m dltool --quiet --threads 1 --seed 0 ARGS`` in its own session."""
    return launch_dltool(*args, cwd=cwd, timeout=timeout)


def _rows(run) -> list[dict]:
    """Return the run's metrics rows."""
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_two_ranks_equal_one_process(cli, tmp_path):
    """--nproc 2 (DDP, gloo; dropout, L2, Adam, an uneven last batch) = one process to 1e-5."""
    one = tmp_path / "one"
    res = cli("--quiet", "--threads", "1", "--seed", "0", "basicnn", "train", *ARGS, "--out", one)
    assert res.exit_code == 0, res.stderr
    two = _dltool("basicnn", "train", *ARGS, "--nproc", "2", "--out", "two", cwd=tmp_path)
    assert two.returncode == 0, two.stderr
    pa, _ = checkpoint.load_model(one)
    pb, meta = checkpoint.load_model(tmp_path / "two")
    assert meta["epoch"] == 3 and pa.keys() == pb.keys()
    for key, value in pa.items():
        np.testing.assert_allclose(pb[key], value, rtol=0, atol=1e-5)
    a, b = _rows(one), _rows(tmp_path / "two")
    assert [r["cost"] for r in b] == pytest.approx([r["cost"] for r in a], abs=1e-5)
    assert [r["dev_acc"] for r in b] == [r["dev_acc"] for r in a]
    assert all(r["lr"] == 0.01 for r in b)
    best = json.loads((tmp_path / "two" / "run.json").read_text())["best"]
    assert best == {"metric": "dev_acc", "value": max(r["dev_acc"] for r in a), "mode": "max"}


def test_amp_on_cpu_trains(cli, tmp_path):
    """--amp on CPU (bfloat16 autocast) runs; the cost is finite and falls epoch by epoch."""
    out = tmp_path / "amp"
    args = ["-d", "moons", "--samples", "300", "--epochs", "5", "--batch-size", "32"]
    args += ["--optimizer", "adam", "--lr", "0.01", "--backend", "torch", "--dtype", "float32"]
    res = cli("--quiet", "--seed", "0", "basicnn", "train", *args, "--amp", "--out", out)
    assert res.exit_code == 0, res.stderr
    costs = [r["cost"] for r in _rows(out)]
    assert len(costs) == 5 and all(math.isfinite(c) for c in costs)
    assert all(a > b for a, b in zip(costs, costs[1:], strict=False))


@pytest.mark.parametrize(
    "flags,text",
    [
        (("--nproc", "2"), "--nproc needs --backend torch"),
        (("--amp", "--dtype", "float32"), "--amp needs --backend torch"),
        (("--amp", "--backend", "torch"), "--amp needs --dtype float32"),
    ],
)
def test_bad_combinations_are_one_line(cli, fails, tmp_path, flags, text):
    """--nproc > 1 / --amp on the NumPy backend, --amp in float64: one line, nothing written."""
    out = tmp_path / "run"
    res = cli("basicnn", "train", "-d", "moons", "--epochs", "2", *flags, "--out", out)
    fails(res, text)
    assert not out.exists()
