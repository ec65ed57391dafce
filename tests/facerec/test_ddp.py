"""Distributed `facerec train` (issue 16): 2 gloo ranks on CPU, and mixed precision.

What is equal and what is not. Every rank draws the same P×K batches and augmentation and
embeds its share (rows r, r + W, …); the triplets are mined over the gathered global batch,
so the loss, the mining and the gradient are the one-process ones. Batch norm is the
exception: each rank normalizes with its own share's statistics (torch's SyncBatchNorm has
no CPU kernel), so the FaceNet encoder (which has batch norm) trains close to, not equal to,
one process. The equivalence is therefore shown on ``train.fit`` with the same network
without batch norm: 2 ranks = 1 process, per-step losses and weights to 1e-5 (float32),
with shares of 5 and 4 rows (uneven) and both mining modes. The CLI test shows `--nproc 2`
trains the real encoder, only rank 0 writes, and the loss falls.

This file is also the worker of the fit-level test: ``python test_ddp.py OUT`` (under
torchrun) trains and saves each rank's result to OUT.rank<r>.pt. Launches run in their own
session and are killed as a group on overrun.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

PARAMS = {"seed": 0, "lr": 1e-3, "epochs": 2, "people_per_batch": 3,
          "images_per_person": 3, "margin": 0.2}  # fmt: skip
# 4 people × 4 images, P = 3, K = 3: batches of 9 rows (shares 5 + 4) and 6 rows (3 + 3)


def _bare_encoder() -> torch.nn.Module:
    """Return a small FaceNet whose batch norms are identities (seeded)."""
    from dltool_facerec.facenet import FaceNet

    torch.manual_seed(0)
    model = FaceNet(width=8, blocks=(1, 1))
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, torch.nn.BatchNorm2d):
                setattr(module, name, torch.nn.Identity())
    return model


def _data() -> tuple[np.ndarray, np.ndarray]:
    """Return seeded chips (16, 96, 96, 3) uint8 and labels: 4 people × 4 images."""
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (4, 1, 96, 96, 3))  # one look per person
    noise = rng.integers(-40, 41, (4, 4, 96, 96, 3))
    chips = np.clip(base + noise, 0, 255).astype(np.uint8).reshape(16, 96, 96, 3)
    return chips, np.repeat(np.arange(4), 4)


def _fit(mining: str, here=None, device=None) -> dict:
    """Train the bare encoder 2 epochs; return its weights and per-step losses."""
    from dltool_facerec.train import fit

    from dltool import distributed

    device = device or torch.device("cpu")
    chips, labels = _data()
    net = _bare_encoder()
    model = distributed.wrap(net, here, device) if here is not None else net
    steps, rows = [], []
    fit(chips, labels, {**PARAMS, "mining": mining}, device, model, rows,
        lambda **m: steps.append(m["loss"]), None, None, here)  # fmt: skip
    return {"model": net.state_dict(), "steps": torch.tensor(steps, dtype=torch.float64)}


def _worker(out: str) -> None:
    """Run both minings as one rank of the torchrun group; save this rank's results."""
    from dltool import distributed

    torch.set_num_threads(1)
    here, device = distributed.join(torch.device("cpu"))
    result = {m: _fit(m, here, device) for m in ("batch-all", "semi-hard")}
    torch.save(result, f"{out}.rank{here.rank}.pt")
    distributed.exit_if_joined(0)


def _launch(args: list[str], timeout: float = 180) -> subprocess.CompletedProcess:
    """Run ``python ARGS`` in its own session; on overrun kill its tree and fail."""
    from dltool_support import finish_launch, start_launch  # here: torchrun runs this file too

    return finish_launch(start_launch(args, env={"OMP_NUM_THREADS": "1"}), timeout)


def test_two_ranks_equal_one_process_without_batch_norm(tmp_path):
    """fit on 2 gloo ranks (uneven shares, global mining) = fit in one process, to 1e-5."""
    out = tmp_path / "fit"
    res = _launch(["-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                   __file__, str(out)])  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    ranks = [torch.load(f"{out}.rank{r}.pt", weights_only=True) for r in (0, 1)]
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        one = {m: _fit(m) for m in ("batch-all", "semi-hard")}
    finally:
        torch.set_num_threads(before)
    for mining, ref in one.items():
        assert len(ref["steps"]) == 4 and bool(torch.isfinite(ref["steps"]).all())
        for rank in ranks:
            got = rank[mining]
            torch.testing.assert_close(got["steps"], ref["steps"], rtol=0, atol=1e-5)
            for key, value in ref["model"].items():
                torch.testing.assert_close(got["model"][key], value, rtol=0, atol=1e-5, msg=key)
    for key, value in ranks[0]["batch-all"]["model"].items():  # DDP keeps the ranks equal
        torch.testing.assert_close(ranks[1]["batch-all"]["model"][key], value, rtol=0, atol=0)


def _rows(run: Path) -> list[dict]:
    """Return the run's metrics rows."""
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_nproc_2_trains_the_encoder_and_only_rank_0_writes(faces_dir, tmp_path):
    """`facerec train --nproc 2`: one run folder, one row per epoch, the loss falls."""
    from dltool_facerec.facenet import load_encoder

    out = tmp_path / "two"
    res = _launch(["-m", "dltool", "--quiet", "--threads", "1", "--seed", "0", "facerec",
                   "train", "--data", str(faces_dir), "--epochs", "3", "--nproc", "2",
                   "--out", str(out)])  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    rows = _rows(out)
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    losses = [r["loss"] for r in rows]
    assert losses[-1] < losses[0], losses
    assert all(0 <= r["auc"] <= 1 and r["lr"] == 1e-3 for r in rows)
    assert json.loads((out / "run.json").read_text())["best"]["metric"] == "auc"
    assert load_encoder(out / "encoder.pt")[1]["dim"] == 128
    assert sorted(p.name for p in tmp_path.iterdir()) == ["two"]  # nothing else written


def test_amp_trains_on_cpu_like_float32(cli, faces_dir, tmp_path):
    """--amp (bfloat16 autocast on CPU): finite losses within 0.005 of the float32 run's
    (measured: 3e-4 apart), active triplets falling as they do in float32."""
    runs = {}
    for name, flags in (("fp32", ()), ("amp", ("--amp",))):
        res = cli("--threads", "1", "--seed", "0", "facerec", "train", "--data", str(faces_dir),
                  "--epochs", "3", *flags, "--out", str(tmp_path / name))  # fmt: skip
        assert res.exit_code == 0, res.stderr
        runs[name] = _rows(tmp_path / name)
    amp, fp32 = runs["amp"], runs["fp32"]
    assert all(np.isfinite([r["loss"] for r in amp]))
    assert [r["loss"] for r in amp] == pytest.approx([r["loss"] for r in fp32], abs=5e-3)
    assert amp[-1]["active"] < amp[0]["active"] and fp32[-1]["active"] < fp32[0]["active"]
    assert (tmp_path / "amp" / "encoder.pt").is_file()


if __name__ == "__main__":
    _worker(sys.argv[1])


def test_sync_bn_on_cpu_ranks_is_refused_and_one_process_warns(cli, faces_dir, tmp_path):
    """--sync-bn with 2 CPU ranks: one line before any worker; with one process: a warning."""
    args = ["facerec", "train", "--data", faces_dir, "--sync-bn"]
    res = cli(*args, "--nproc", "2", "--out", tmp_path / "two")
    assert res.exit_code == 1 and "--sync-bn needs CUDA" in res.stderr
    assert not (tmp_path / "two").exists()
    res = cli(*args, "--epochs", "1", "--out", tmp_path / "one")
    assert res.exit_code == 0, res.stderr
    assert "--sync-bn acts with --nproc > 1 or under torchrun" in res.stderr
