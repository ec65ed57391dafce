"""Distributed and mixed-precision `rnn train` (issue 16): 2 gloo ranks equal one process.

Each rank trains on its half of the text streams (8 streams: 4 per rank) and DDP averages the
gradients, which is the one-process gradient of the mean loss. Tolerance: float32 training,
final weights, Adam moments and epoch losses equal to 1e-5 (measured: max |Δ| of the weights
~3.1e-7, the losses ~2.4e-7; the ranks sum their gradients in another order than one process).
Each 2-worker launch costs ~10-15 s of imports on 2 cores; every launch runs in its own session
and is killed as a group if it overruns, so a hang fails its test and leaves no worker behind.
"""

from __future__ import annotations

import json
import math
import os
import signal

import numpy as np
import pytest
from dltool_rnn import checkpoint
from dltool_support import LAUNCHED, finish_launch, launch_dltool, start_launch

TEXT = "the cat sat on the mat. the dog sat on the log. a cat and a dog met on the mat.\n" * 30
TINY = ["--hidden", "12", "--seq-len", "16", "--batch-size", "8", "--sample-every", "0"]


def _dltool(*args, cwd, timeout=180):
    """Run ``python -m dltool --quiet --threads 1 --seed 0 ARGS`` in its own session."""
    return launch_dltool(*args, cwd=cwd, timeout=timeout)


def _start(*args, cwd):
    """Start ``python -m dltool … --seed 0 ARGS`` in a session of its own."""
    return start_launch([*LAUNCHED, "--seed", "0", *args], cwd=cwd)


_finish = finish_launch


def _epochs(run) -> list[dict]:
    """Return the rows of the run's metrics.jsonl (one per epoch)."""
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def _same_model(a, b) -> None:
    """Assert two runs' checkpoints hold equal weights and Adam moments (1e-5) at one step."""
    pa, ma, va = checkpoint.load(a)
    pb, mb, vb = checkpoint.load(b)
    assert ma["step"] == mb["step"] and ma["adam_t"] == mb["adam_t"]
    for key in pa:
        np.testing.assert_allclose(pb[key], pa[key], rtol=0, atol=1e-5)
        np.testing.assert_allclose(vb["v"][key], va["v"][key], rtol=0, atol=1e-5)
        np.testing.assert_allclose(vb["s"][key], va["s"][key], rtol=0, atol=1e-5)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A folder with the text and the one-process reference run (2 epochs, no DDP)."""
    folder = tmp_path_factory.mktemp("rnn_ddp")
    (folder / "cats.txt").write_text(TEXT, encoding="utf-8")
    res = _dltool("rnn", "train", "cats.txt", *TINY, "--epochs", "2", "--out", "one", cwd=folder)
    assert res.returncode == 0, res.stderr
    return folder


def test_two_ranks_equal_one_process(workdir):
    """--nproc 2 (DDP, gloo, 8 streams = 2×4) reproduces --nproc 1: weights, moments, losses."""
    args = ("rnn", "train", "cats.txt", *TINY, "--epochs", "2", "--nproc", "2", "--out", "two")
    res = _dltool(*args, cwd=workdir)
    assert res.returncode == 0, res.stderr
    _same_model(workdir / "one", workdir / "two")
    one, two = _epochs(workdir / "one"), _epochs(workdir / "two")
    for key in ("train_loss", "mean_train_loss", "val_loss"):
        assert [r[key] for r in two] == pytest.approx([r[key] for r in one], abs=1e-5)
    assert {"lr", "seconds"} <= two[0].keys()
    record = json.loads((workdir / "two" / "run.json").read_text())
    assert record["best"]["metric"] == "val_loss" and record["best"]["mode"] == "min"
    assert record["best"]["value"] == pytest.approx(min(r["val_loss"] for r in one), abs=1e-5)


def test_resume_with_another_worker_count(workdir, cli, monkeypatch):
    """A run trained 1 epoch with --nproc 2 goes on with --nproc 1 to the one-process result."""
    args = ("rnn", "train", "cats.txt", *TINY, "--epochs", "1", "--nproc", "2", "--out", "mixed")
    res = _dltool(*args, cwd=workdir)
    assert res.returncode == 0, res.stderr
    monkeypatch.chdir(workdir)  # the run's config names cats.txt by its absolute path
    res = cli("--seed", "0", "rnn", "train", "--resume", "mixed", "--epochs", "2", "--nproc", "1")
    assert res.exit_code == 0, res.stderr
    _same_model(workdir / "one", workdir / "mixed")
    assert [r["epoch"] for r in _epochs(workdir / "mixed")] == [1, 2]


def test_ctrl_c_stops_every_rank_and_rank_0_saves(workdir):
    """Ctrl-C on a 2-worker run: the ranks agree to stop at one step, rank 0 saves, exit 130."""
    import time

    args = ("rnn", "train", "cats.txt", *TINY, "--epochs", "5000", "--nproc", "2", "--out", "cc")
    proc = _start(*args, cwd=workdir)
    deadline = time.time() + 120
    while not (workdir / "cc" / "steps.jsonl").exists() and time.time() < deadline:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)
    res = _finish(proc, timeout=60)
    assert res.returncode == 130, res.stderr
    assert res.stderr.count("checkpoint saved to") == 1, res.stderr
    _, meta, _ = checkpoint.load(workdir / "cc")
    assert meta["step"] >= 10


def test_amp_on_cpu_trains(cli, tmp_path):
    """--amp on CPU (bfloat16 autocast) runs; each epoch's loss is finite and falls."""
    path = tmp_path / "cats.txt"
    path.write_text(TEXT, encoding="utf-8")
    out = tmp_path / "amp"
    res = cli("rnn", "train", path, *TINY, "--epochs", "3", "--amp", "--out", out, "--json")
    assert res.exit_code == 0, res.stderr
    losses = [r["mean_train_loss"] for r in _epochs(out)]
    assert all(math.isfinite(v) for v in losses)
    assert losses[0] > losses[1] > losses[2]
    assert json.loads(res.stdout)["val_loss"] < json.loads(res.stdout)["unigram_loss"] - 0.3


@pytest.mark.parametrize("flag", [("--nproc", "2"), ("--amp",)])
def test_numpy_backend_refuses_torch_only_flags(cli, fails, tmp_path, flag):
    """--nproc > 1 and --amp need --backend torch: one line, exit 1, nothing written."""
    path = tmp_path / "cats.txt"
    path.write_text(TEXT, encoding="utf-8")
    out = tmp_path / "run"
    res = cli("rnn", "train", path, *TINY, "--backend", "numpy", *flag, "--out", out)
    fails(res, f"{flag[0]} needs --backend torch")
    assert not out.exists()


def test_streams_that_do_not_split_are_refused(cli, fails, tmp_path):
    """8 streams over 3 workers: refused before any worker starts."""
    path = tmp_path / "cats.txt"
    path.write_text(TEXT, encoding="utf-8")
    res = cli("rnn", "train", path, *TINY, "--nproc", "3", "--out", tmp_path / "run")
    fails(res, "do not split evenly over 3 workers")


def _backend_with_scaler(params, init_scale: float):
    """Return a TorchBackend whose Precision holds a CPU gradient scaler (as CUDA --amp does)."""
    import torch
    from dltool_rnn.train import TorchBackend

    from dltool.precision import Precision

    precision = Precision(torch.device("cpu"), False)
    precision.scaler = torch.amp.GradScaler("cpu", init_scale=init_scale)
    return TorchBackend(params, torch.device("cpu"), precision=precision)


def test_scaled_step_equals_the_plain_step_and_skips_overflow():
    """The rnn update as the scaler's optimizer: S = 16 gives the unscaled step (exact in
    float32, S a power of 2); S = inf overflows every gradient, so the step is skipped."""
    import torch
    from dltool_rnn import charmodel
    from dltool_rnn.optim import Adam
    from dltool_rnn.train import TorchBackend, clip

    rng = np.random.default_rng(0)
    params = charmodel.init_model("lstm", 6, 8, 1, rng, dtype=np.float32)
    X, Y = rng.integers(0, 6, (3, 7)), rng.integers(0, 6, (3, 7))
    results = []
    for backend in (TorchBackend(params, torch.device("cpu")), _backend_with_scaler(params, 16.0)):
        adam = Adam(lr=0.01)

        def update(loss, grads, backend=backend, adam=adam):
            grads, norm = clip(grads, "norm", 5.0)
            adam.step(backend.tensors(), grads)
            return norm

        loss, norm, _ = backend.train_step(X, Y, None, update)
        results.append((loss, norm, backend.to_flat()))
    (loss_a, norm_a, flat_a), (loss_b, norm_b, flat_b) = results
    assert loss_a == loss_b and norm_b == pytest.approx(norm_a, rel=1e-6)
    for key in flat_a:
        np.testing.assert_allclose(flat_b[key], flat_a[key], rtol=0, atol=1e-7)
    big = _backend_with_scaler(params, float("inf"))  # S·∇J: inf
    loss, norm, _ = big.train_step(X, Y, None, lambda *_: pytest.fail("overflow not skipped"))
    assert norm is None and math.isfinite(loss)
    for key, value in big.to_flat().items():
        np.testing.assert_array_equal(value, params[key])
