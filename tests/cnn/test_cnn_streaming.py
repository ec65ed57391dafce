"""cnn train on image folders read per batch (issue 16): train/ and val/, --workers, bad trees.

A tiny ImageFolder tree (2 classes x 12 train + 4 val PNGs of generated shapes, 24 px) is
written by the tests. The DataLoader's batches equal the in-memory path's (same sampler
order, same augmentation seeds), so --workers 0 and --workers 2 give identical weights.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from conftest import check_failure as _fail
from dltool_cnn import data as D
from dltool_support import launch_dltool
from PIL import Image

CLASSES = ("circle", "square")


def _write(root, per_class, seed, classes=CLASSES, size=24):
    """Write root/<class>/<i>.png, ``per_class`` generated shapes of each class."""
    made = D.shapes(size, n=3 * per_class, seed=seed)
    for k, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i, img in enumerate(made.X[made.y == k % 3][:per_class]):
            Image.fromarray((img * 255).astype(np.uint8)).save(root / name / f"{i}.png")
    return root


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """DIR/train/<class>/*.png (12 each) and DIR/val/<class>/*.png (4 each)."""
    root = tmp_path_factory.mktemp("tree")
    _write(root / "train", 12, seed=1)
    _write(root / "val", 4, seed=2)
    return root


ARGS = ("--model", "lenet5", "--epochs", "2", "--batch-size", "8", "--lr", "0.01",
        "--augment", "mirror,color")  # fmt: skip


def test_train_val_tree_same_weights_with_0_and_2_workers(run_json, tree, tmp_path):
    docs = {}
    for workers in (0, 2):
        out = tmp_path / f"w{workers}"
        docs[workers] = run_json("train", "--data", str(tree), *ARGS, "--workers", str(workers),
                                 "--out", str(out))  # fmt: skip
    a = torch.load(tmp_path / "w0" / "last.pt", weights_only=True)
    b = torch.load(tmp_path / "w2" / "last.pt", weights_only=True)
    for key, value in a["model"].items():
        assert torch.equal(b["model"][key], value), key
    assert torch.equal(a["step_losses"], b["step_losses"]) and len(a["step_losses"]) == 2 * 3
    cm = json.loads((tmp_path / "w0" / "confusion.json").read_text())
    assert cm["classes"] == list(CLASSES) and np.sum(cm["matrix"]) == 8  # all of val/
    rows = [
        json.loads(line) for line in (tmp_path / "w0" / "metrics.jsonl").read_text().splitlines()
    ]
    assert [r["lr"] for r in rows] == [0.01, 0.01]
    assert 0 < rows[0]["time"] < rows[1]["time"]  # seconds since the run began
    record = json.loads((tmp_path / "w0" / "run.json").read_text())
    assert record["best"]["metric"] == "dev_acc"
    assert record["best"]["value"] == max(r["dev_acc"] for r in rows)
    assert docs[0]["best_dev_acc"] == docs[2]["best_dev_acc"]


@pytest.mark.parametrize("shard", [(0, 1), (1, 2)])
def test_folder_batches_equal_the_in_memory_batches(tmp_path, shard):
    root = _write(tmp_path / "d", 6, seed=3)
    memory = D.split(D.folder(root, 24), 0.25, seed=0)[0]  # the path before streaming
    stream = D.folder_sets(root, 24, 3, 0.25, seed=0)[0]  # 9 train images, read per batch
    in_memory = D.Batches(memory, 2, ["mirror", "color"], 7, shard)
    streamed = D.FolderBatches(stream, 2, ["mirror", "color"], 7, shard, workers=0)
    for epoch in (0, 1):
        in_memory.epoch = streamed.epoch = epoch
        pairs = list(zip(in_memory, streamed, strict=True))
        assert len(pairs) == len(streamed) == len(in_memory) == (5 if shard[1] == 1 else 3)
        for (xa, ya), (xb, yb) in pairs:  # xa: (m, 3, 24, 24)
            assert torch.equal(xa, xb) and torch.equal(ya, yb)


def test_folder_stats_equal_the_in_memory_stats(tmp_path):
    root = _write(tmp_path / "d", 4, seed=4)
    mean, std = D.channel_stats(D.folder(root, 24))  # (3,) over all pixels in memory
    files = sorted(root.glob("*/*.png"))
    f_mean, f_std = D.channel_stats(D.FolderSet(files, np.zeros(8, int), list(CLASSES), 3, 24))
    np.testing.assert_allclose(f_mean, mean, atol=2e-5)  # NumPy sums in float32: ~6e-6 off
    np.testing.assert_allclose(f_std, std, atol=2e-5)


def test_bad_trees_are_one_line(run, tree, tmp_path):
    odd = tmp_path / "odd"
    _write(odd / "train", 3, seed=1)
    _write(odd / "val", 2, seed=2, classes=("circle", "star"))
    _fail(run("train", "--data", str(odd)), "val/ class 'star' has no folder in train/")
    half = tmp_path / "half"
    _write(half / "train", 3, seed=1)
    _fail(run("train", "--data", str(half)), "has a train/ folder but no val/ folder")
    assert not (tmp_path / "runs").exists()


def test_unreadable_image_is_one_line_before_the_run_and_in_a_worker(run, tmp_path):
    root = _write(tmp_path / "d", 5, seed=5)
    whole = (root / "circle" / "0.png").read_bytes()
    (root / "circle" / "0.png").write_bytes(whole[: len(whole) // 2])  # header kept, pixels cut
    _fail(run("train", "--data", str(root), "--workers", "2", "--out", str(tmp_path / "r")),
          "0.png is not a readable image")  # fmt: skip
    assert not (tmp_path / "r").exists()  # the input statistics read it before the run began
    files = sorted(root.glob("*/*.png"))
    batches = D.FolderBatches(D.FolderSet(files, np.zeros(10, int), list(CLASSES), 3, 24),
                              4, None, 0, workers=2)  # fmt: skip
    with pytest.raises(D.DltoolError) as caught:
        list(batches)
    assert "0.png is not a readable image" in str(caught.value)
    assert "\n" not in str(caught.value) and "Caught" not in str(caught.value)


def test_workers_options(run, run_json, tree, tmp_path):
    res = run("train", "--workers", "-1")
    assert res.exit_code == 2 and "--workers" in res.stderr
    cfg = tmp_path / "c.yaml"
    cfg.write_text("workers: two\n")
    res = run("train", "--config", str(cfg))
    assert res.exit_code in (1, 2) and "workers" in res.stderr and "Traceback" not in res.stderr
    out = tmp_path / "r"
    run_json("train", "--data", str(tree), "--epochs", "1", "--batch-size", "8", "--out", str(out))
    doc = run_json("train", "--resume", str(out), "--epochs", "2", "--workers", "1")
    assert [r["epoch"] for r in doc["epochs"]] == [1, 2]  # --workers may change on resume


def test_two_ranks_on_a_folder_equal_one_process(tree, tmp_path):
    """--nproc 2 --workers 1 (gloo, each rank's DataLoader) reproduces one process to 1e-5."""
    args = ("cnn", "train", "--data", str(tree), *ARGS)
    assert _launch(*args, "--out", str(tmp_path / "one")) == 0
    assert _launch(*args, "--nproc", "2", "--workers", "1", "--out", str(tmp_path / "two")) == 0
    a = torch.load(tmp_path / "one" / "last.pt", weights_only=True)
    b = torch.load(tmp_path / "two" / "last.pt", weights_only=True)
    assert len(a["step_losses"]) == 2 * 3  # 24 train images, batch 8 (2 x 4 per rank)
    torch.testing.assert_close(b["step_losses"], a["step_losses"], rtol=0, atol=1e-5)
    for key, value in a["model"].items():  # measured max |Δ| 4.5e-7
        torch.testing.assert_close(b["model"][key], value, rtol=0, atol=1e-5)


def _launch(*args, timeout=180) -> int:
    """Run ``python -m dltool --quiet --threads 1 --seed 0 ARGS`` in its own session; exit 0."""
    res = launch_dltool(*args, timeout=timeout)
    assert res.returncode == 0, res.stderr
    return res.returncode
