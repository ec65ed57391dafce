"""Distributed `cnn train` (issue 16): 2 gloo ranks on CPU equal one process; faults end the job.

Each 2-worker launch costs ~5-10 s of imports, so there are two: the equivalence run and the
fault run. Tolerance: float32 training, per-step losses and final weights equal to 1e-5
(measured: ~5e-7 and ~1.3e-7; the ranks sum their gradients in another order than one process).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from dltool import distributed
from dltool.errors import DltoolError

ARGS = ["--data", "digits", "--epochs", "2", "--batch-size", "32"]  # 1438 train: 44×32 + 30


def _dltool(*args, env=None, cwd=None):
    """Run ``python -m dltool --quiet --threads 1 --seed 0 ARGS`` in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "dltool", "--quiet", "--threads", "1", "--seed", "0", *args],
        capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})}, cwd=cwd,
    )  # fmt: skip


def test_two_ranks_equal_one_process(run, tmp_path):
    """--nproc 2 (DDP, gloo, global batch 32 = 2×16) reproduces --nproc 1 (no DDP)."""
    res = run("--seed", "0", "train", *ARGS, "--nproc", "1", "--out", str(tmp_path / "one"))
    assert res.exit_code == 0, res.stderr
    two = _dltool("cnn", "train", *ARGS, "--nproc", "2", "--out", str(tmp_path / "two"))
    assert two.returncode == 0, two.stderr
    a = torch.load(tmp_path / "one" / "last.pt", weights_only=True)
    b = torch.load(tmp_path / "two" / "last.pt", weights_only=True)
    assert len(a["step_losses"]) == len(b["step_losses"]) == 2 * 45
    torch.testing.assert_close(b["step_losses"], a["step_losses"], rtol=0, atol=1e-5)
    assert a["model"].keys() == b["model"].keys()  # rank 0 saves the module, not DDP's wrapper
    for key, value in a["model"].items():
        torch.testing.assert_close(b["model"][key], value, rtol=0, atol=1e-5)
    assert [r["train_loss"] for r in b["history"]] == pytest.approx(
        [r["train_loss"] for r in a["history"]], abs=1e-5
    )
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == sorted(
        p.name for p in (tmp_path / "one").iterdir()
    )


def test_dead_worker_ends_the_job_with_one_line(tmp_path):
    """Rank 1 killed after joining: the agent stops rank 0; one error line names rank 1."""
    res = _dltool("cnn", "train", *ARGS, "--nproc", "2", "--out", str(tmp_path / "r"),
                  env={distributed.FAULT_ENV: "1"})  # fmt: skip
    assert res.returncode == 1, res.stderr
    errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, res.stderr
    assert "rank 1 (killed by SIGKILL)" in errors[0]
    assert not (tmp_path / "r" / "last.pt").exists()


def test_nproc_checks():
    """--nproc 0 is refused; more workers than cores is a warning; the batch must split."""
    with pytest.raises(DltoolError, match="--nproc 0"):
        distributed.check_nproc(0)
    warned = []
    cores = os.cpu_count() or 1
    assert distributed.check_nproc(cores + 1, warned.append) == cores + 1
    assert len(warned) == 1 and "CPU cores" in warned[0]
    two = distributed.Dist(1, 2, 1, True)
    assert distributed.rank_batch(32, two) == 16
    with pytest.raises(DltoolError, match="does not split evenly"):
        distributed.rank_batch(33, two)


def test_nproc_zero_refused_by_the_cli(run):
    res = run("train", "--nproc", "0")
    assert res.exit_code == 2
    assert "--nproc" in res.stderr


def test_shards_make_the_global_batches():
    """Rank r's batch k is its half of one-process batch k (same permutation, sampler)."""
    import numpy as np
    from dltool_cnn.data import Batches, ImageSet

    n = 22
    data = ImageSet(np.arange(n, dtype=np.float32).reshape(n, 1, 1, 1), np.arange(n), ["x"])
    one = Batches(data, 4, None, 7)
    ranks = [Batches(data, 2, None, 7, (r, 2)) for r in range(2)]
    for epoch in (0, 1):
        for b in (one, *ranks):
            b.epoch = epoch
        got = list(zip(*[[y.tolist() for _, y in b] for b in ranks], strict=True))
        want = [y.tolist() for _, y in one]
        assert [sorted(a + b) for a, b in got] == [sorted(w) for w in want]
    assert len(ranks[0]) == len(one) == 6
