"""`yolo train` streams its data (issue 16): DataLoader workers, DDP ranks, --amp, epoch logs.

A 16-image synth set at 64 px (4 val, 12 train images: whole global batches of 4, so the
DistributedSampler of 2 ranks pads nothing) and a 64 px YOLOv3-tiny at width 0.25.
The DDP test trains a cfg without batch norm (torch's SyncBatchNorm does not run on CPU, and
without it each rank would normalise its own half of the batch): 2 gloo ranks with global
batch 4 equal one process with batch 4 to 1e-5 (float32; the ranks sum their gradients in
another order). Every launch runs in its own session and is killed as a group on overrun.
"""

from __future__ import annotations

import json
import os

import pytest
import torch
from dltool_support import LAUNCHED, finish_launch, start_launch

ARGS = ["--epochs", "2", "--batch-size", "4", "--cfg-anchors"]


def _start(*args, cwd=None):
    """Start ``python -m dltool --quiet --threads 1 --seed 0 ARGS`` in a session of its own."""
    return start_launch([*LAUNCHED, "--seed", "0", *args], cwd=cwd)


def _finish(proc, timeout=240):
    """Wait for ``proc`` (240 s: yolo's launch is the slowest); kill its tree on overrun."""
    return finish_launch(proc, timeout)


def metrics(run) -> list[dict]:
    """Return the epoch rows of a run's metrics.jsonl."""
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A 16-image synth set at 64 px, a 64 px tiny cfg and the same cfg without batch norm."""
    from dltool_yolo.cfg import tiny_cfg
    from dltool_yolo.synth import write_dataset

    root = tmp_path_factory.mktemp("yolo_stream")
    for _ in write_dataset(root / "syn", 16, 64, 0.25, seed=0):
        pass
    cfg = tiny_cfg(4, 0.25, 64)
    (root / "t.cfg").write_text(cfg)
    (root / "nobn.cfg").write_text(cfg.replace("batch_normalize=1", "batch_normalize=0"))
    return root


@pytest.fixture(scope="module")
def run0(app, data):
    """A 2-epoch run with --workers 0 (in-process)."""
    from typer.testing import CliRunner

    args = ["yolo", "train", "--data", data / "syn" / "data.yaml", "--cfg", data / "t.cfg", *ARGS]
    result = CliRunner().invoke(app, [str(a) for a in [*args, "--out", data / "w0"]])
    assert result.exit_code == 0, result.output
    return data / "w0"


def test_dataset_draws_depend_on_seed_epoch_and_image_only(data):
    from dltool_yolo.dataset import YoloDataset, collate
    from dltool_yolo.labels import read_data_yaml

    pairs = read_data_yaml(data / "syn" / "data.yaml").labelled("train")
    a, b = YoloDataset(pairs, 64, 4, seed=3), YoloDataset(pairs, 64, 4, seed=3)
    flips = []
    for epoch in (0, 1):
        a.epoch = b.epoch = epoch
        for i in (5, 0, 5):  # order of the calls does not matter
            (xa, la), (xb, lb) = a[i], b[i]
            assert torch.equal(xa, xb) and torch.equal(la, lb)
        flips.append([int(not torch.equal(a[i][0], a.load(i)[0])) for i in range(len(a))])
    assert flips == [[1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 1], [1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 1, 1]]
    image, lab = a.load(2)
    assert image.shape == (3, 64, 64) and image.dtype == torch.uint8 and lab.shape[1] == 5
    batch = collate([a[0], a[1]])
    assert batch.images.shape == (2, 3, 64, 64) and float(batch.images.max()) <= 1.0
    assert batch.targets[:, 0].tolist() == [0.0] * len(a[0][1]) + [1.0] * len(a[1][1])


def test_two_reading_workers_train_exactly_as_the_main_process(cli, data, run0):
    """--workers 2 reads the same batches (same seed): identical losses, parts, lr and mAP."""
    args = ["yolo", "train", "--data", data / "syn" / "data.yaml", "--cfg", data / "t.cfg", *ARGS]
    result = cli(*args, "--workers", "2", "--out", data / "w2")
    assert result.exit_code == 0, result.output
    rows0, rows2 = metrics(run0), metrics(data / "w2")
    keys = ("loss", "box_loss", "obj_loss", "cls_loss", "lr", "map50", "map50_95")
    assert [[r[k] for k in keys] for r in rows0] == [[r[k] for k in keys] for r in rows2]
    a = torch.load(run0 / "last.pt", weights_only=True)["model"]
    b = torch.load(data / "w2" / "last.pt", weights_only=True)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_epoch_rows_best_metric_and_coco_predictions(run0):
    rows = metrics(run0)
    assert [r["epoch"] for r in rows] == [1, 2]
    first = rows[0]
    parts = first["box_loss"] + first["obj_loss"] + first["cls_loss"]
    assert first["loss"] == pytest.approx(parts, rel=1e-5)
    assert first["loss"] == pytest.approx(54.2555, abs=1e-3)  # seed 0 (conftest: 1 thread)
    assert rows[1]["lr"] < rows[0]["lr"] < 2e-3
    for key in ("precision", "recall", "map50", "map50_95"):
        assert 0.0 <= first[key] <= 1.0
    record = json.loads((run0 / "run.json").read_text())
    assert record["best"]["metric"] == "map50"
    assert record["best"]["value"] == max(r["map50"] for r in rows)
    header = (run0 / "results.csv").read_text().splitlines()[0].split(",")
    assert {"box_loss", "obj_loss", "cls_loss", "lr", "map50_95"} <= set(header)
    predictions = json.loads((run0 / "predictions.json").read_text())
    truth = json.loads((run0 / "ground_truth.json").read_text())
    assert len(truth["images"]) == 4 and {p["image_id"] for p in predictions} <= {0, 1, 2, 3}
    assert torch.load(run0 / "last.pt", weights_only=True)["seed"] == 0
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    board = EventAccumulator(str(run0 / "tensorboard"), size_guidance={"images": 0})
    board.Reload()
    assert [s.step for s in board.Images("val predictions")] == [1, 2]  # 4 val images a step
    assert board.Scalars("map50")[-1].value == pytest.approx(rows[-1]["map50"], abs=1e-6)


def test_amp_on_cpu_trains_with_a_finite_falling_loss(cli, data, tmp_path):
    """bfloat16 autocast on CPU: the loss stays finite and falls; last.pt keeps the scaler."""
    args = ["yolo", "train", "--data", data / "syn" / "data.yaml", "--cfg", data / "t.cfg"]
    result = cli(*args, "--epochs", "3", "--batch-size", "4", "--lr", "5e-3", "--amp",
                 "--out", tmp_path / "amp")  # fmt: skip
    assert result.exit_code == 0, result.output
    losses = [r["loss"] for r in metrics(tmp_path / "amp")]
    assert all(torch.isfinite(torch.tensor(losses))) and losses[2] < losses[1] < losses[0]
    assert "scaler" in torch.load(tmp_path / "amp" / "last.pt", weights_only=True)


def test_two_gloo_ranks_equal_one_process(cli, data, tmp_path):
    """No batch norm (nobn.cfg): per-epoch losses, parts and final weights agree to 1e-5.

    The one-process reference runs in-process (seed 0, conftest's one thread), as the workers.
    """
    train = ["yolo", "train", "--data", str(data / "syn" / "data.yaml"),
             "--cfg", str(data / "nobn.cfg"), *ARGS]  # fmt: skip
    one = cli("--seed", "0", *train, "--out", tmp_path / "one")
    assert one.exit_code == 0, one.output
    two = _finish(_start(*train, "--nproc", "2", "--out", str(tmp_path / "two")))
    assert two.returncode == 0, two.stderr
    keys = ("loss", "box_loss", "obj_loss", "cls_loss")
    for a, b in zip(metrics(tmp_path / "one"), metrics(tmp_path / "two"), strict=True):
        assert [b[k] for k in keys] == pytest.approx([a[k] for k in keys], abs=1e-5)
    a = torch.load(tmp_path / "one" / "last.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "two" / "last.pt", weights_only=True)["model"]
    assert a.keys() == b.keys()  # rank 0 saves the network, not DDP's wrapper
    for key, value in a.items():
        torch.testing.assert_close(b[key], value, rtol=0, atol=1e-5)


def test_bad_workers_sync_bn_and_damaged_images(cli, fails, data, tmp_path, monkeypatch):
    import shutil

    args = ["yolo", "train", "--data", data / "syn" / "data.yaml", "--cfg", data / "t.cfg"]
    result = cli(*args, "--workers", "-1", "--out", tmp_path / "r")
    assert result.exit_code == 2 and "--workers" in result.stderr
    fails(cli(*args, "--sync-bn", "--nproc", "2", "--out", tmp_path / "r"),
          "--sync-bn needs CUDA")  # fmt: skip
    assert not (tmp_path / "r").exists()
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    result = cli(*args, "--workers", "3", "--epochs", "1", "--out", tmp_path / "many")
    assert result.exit_code == 0 and "--workers 3 starts more loader processes" in result.stderr
    copy_ = shutil.copytree(data / "syn", tmp_path / "syn")
    png = sorted((copy_ / "images" / "train").glob("*.png"))[0]
    png.write_bytes(png.read_bytes()[:120])  # the header reads, the pixels do not
    result = cli("yolo", "train", "--data", copy_ / "data.yaml", "--cfg", data / "t.cfg",
                 "--workers", "2", "--out", tmp_path / "bad")  # fmt: skip
    fails(result, f"{png} is not a readable image")


def test_ctrl_c_keeps_the_last_finished_epoch_and_says_how_to_resume(cli, data, tmp_path,
                                                                     monkeypatch):  # fmt: skip
    import dltool_yolo.jobs as jobs

    score, calls = jobs._score, []

    def interrupt_in_epoch_2(*a):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return score(*a)

    monkeypatch.setattr(jobs, "_score", interrupt_in_epoch_2)
    out = tmp_path / "r"
    args = ["yolo", "train", "--data", data / "syn" / "data.yaml", "--cfg", data / "t.cfg"]
    result = cli(*args, *ARGS, "--out", out)
    assert result.exit_code == 130
    said = " ".join(result.stderr.split())  # Rich wraps long lines
    assert f"interrupted in epoch 2: {out}/last.pt keeps the last finished epoch" in said
    assert f"dltool yolo train --resume {out}" in said
    assert torch.load(out / "last.pt", weights_only=True)["epoch"] == 1
