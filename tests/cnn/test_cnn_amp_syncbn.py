"""cnn train --amp (autocast bfloat16 on CPU) and --sync-bn (issue 16).

Measured (seed 0, digits, LeNet-5, batch 32, lr 0.003, 1 thread): train loss per epoch
float32 1.3532 / 0.3004 / 0.1517, --amp 1.3541 / 0.3011 / 0.1519 (dev 0.922 both after 3).
The test trains 2 epochs and holds each --amp epoch's loss within 0.02 of float32's (measured
difference ≤ 0.001), both falling by more than half.
"""

from __future__ import annotations

import json

import pytest
import torch
from conftest import check_failure as _fail
from dltool_cnn import models
from dltool_cnn import train as T

from dltool import distributed

ARGS = ("--data", "digits", "--epochs", "2", "--batch-size", "32", "--lr", "0.003")


def test_amp_loss_falls_like_float32(run_json, tmp_path):
    plain = run_json("train", *ARGS, "--out", str(tmp_path / "f32"))["epochs"]
    amp = run_json("train", *ARGS, "--amp", "--out", str(tmp_path / "amp"))["epochs"]
    for rows in (plain, amp):
        losses = [r["train_loss"] for r in rows]
        assert losses[1] < 0.5 * losses[0]
    for a, b in zip(plain, amp, strict=True):
        assert b["train_loss"] == pytest.approx(a["train_loss"], abs=0.02)
        assert b["dev_acc"] == pytest.approx(a["dev_acc"], abs=0.03)
    state = T.load_checkpoint(tmp_path / "amp" / "last.pt")
    assert state["config"]["amp"] is True and state["scaler"] == {}  # no scaler for bfloat16
    assert all(v.dtype == torch.float32 for v in state["model"].values() if v.is_floating_point())


def test_sync_bn_converts_batch_norm():
    net = models.resnet18(num_classes=2)
    warned = []
    two = distributed.Dist(0, 2, 0, True)
    synced = distributed.sync_batchnorm(net, two, warned.append, "resnet18")
    assert not warned
    kinds = {type(m) for m in synced.modules()}
    assert torch.nn.SyncBatchNorm in kinds and torch.nn.BatchNorm2d not in kinds
    assert synced.state_dict().keys() == models.resnet18(num_classes=2).state_dict().keys()
    assert distributed.has_batchnorm(net)
    assert distributed.has_batchnorm(models.resnet50(num_classes=2))
    assert not distributed.has_batchnorm(models.lenet5())
    assert not distributed.has_batchnorm(models.googlenet())
    lenet = models.lenet5()
    assert distributed.sync_batchnorm(lenet, two, warned.append, "lenet5") is lenet
    assert warned == ["--sync-bn: lenet5 has no batch norm layers; it trains as without --sync-bn"]


def test_sync_bn_on_cpu_ranks_is_one_line_and_warnings(run, tmp_path):
    res = _fail(run("train", "--sync-bn", "--nproc", "2", "--out", str(tmp_path / "r")),
                "--sync-bn needs CUDA")  # fmt: skip
    assert not (tmp_path / "r").exists()
    res = run("train", "--sync-bn", "--epochs", "1", "--dev-fraction", "0.5",
              "--image-size", "32", "--out", str(tmp_path / "one"))  # fmt: skip
    assert res.exit_code == 0, res.stderr
    assert "lenet5 has no batch norm layers" in res.stderr
    record = json.loads((tmp_path / "one" / "run.json").read_text())
    assert record["best"]["metric"] == "dev_acc"
