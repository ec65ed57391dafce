"""Anchor k-means (1 − IoU), YOLO label parsing, the synthetic dataset and their commands."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from dltool_yolo.anchors import kmeans, kmeans_torch, wh_iou
from dltool_yolo.labels import read_data_yaml, read_label_file, read_wh

from dltool.errors import DltoolError


def test_wh_iou_known_values():
    wh = np.array([[2.0, 2.0], [1.0, 4.0]])
    c = np.array([[2.0, 2.0], [4.0, 1.0]])
    np.testing.assert_allclose(wh_iou(wh, c), [[1.0, 2 / 6], [2 / 6, 1 / 7]])
    from dltool_yolo.boxes_torch import wh_iou as wh_iou_torch

    twin = wh_iou_torch(torch.from_numpy(wh), torch.from_numpy(c)).numpy()
    np.testing.assert_allclose(twin, [[1.0, 2 / 6], [2 / 6, 1 / 7]])


def test_kmeans_recovers_separated_clusters_and_matches_torch():
    rng = np.random.default_rng(0)
    centres = np.array([[0.05, 0.08], [0.2, 0.15], [0.5, 0.6]])
    wh = np.concatenate([c * rng.uniform(0.95, 1.05, (200, 2)) for c in centres])
    anchors, mean_iou, assign = kmeans(wh, 3, seed=1)
    np.testing.assert_allclose(anchors, centres, rtol=0.03)
    assert mean_iou > 0.9 and np.array_equal(np.bincount(assign), [200, 200, 200])
    t_anchors, t_iou, t_assign = kmeans_torch(torch.from_numpy(wh), 3, seed=1)
    np.testing.assert_allclose(t_anchors.numpy(), anchors, atol=1e-12)
    assert t_iou == pytest.approx(mean_iou, abs=1e-12)
    np.testing.assert_array_equal(t_assign.numpy(), assign)


def test_mean_iou_grows_with_k():
    wh = np.random.default_rng(2).uniform(0.02, 0.6, (300, 2))
    ious = [kmeans(wh, k, seed=0)[1] for k in (1, 3, 6)]
    assert ious[0] < ious[1] < ious[2]


def test_label_file_errors_name_file_and_line(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("0 0.5 0.5 0.2 0.2\n\n1 0.5 0.5 0.2\n")
    with pytest.raises(DltoolError, match=r"a.txt:3: expected 'class x_center"):
        read_label_file(f)
    f.write_text("0 0.5 0.5 0.2 x\n")
    with pytest.raises(DltoolError, match=r"a.txt:1: non-numeric"):
        read_label_file(f)
    f.write_text("0 0.5 0.5 1.2 0.3\n")
    with pytest.raises(DltoolError, match=r"a.txt:1: box values"):
        read_label_file(f)
    f.write_text("7 0.5 0.5 0.2 0.3\n")
    with pytest.raises(DltoolError, match=r"a.txt:1: class 7"):
        read_label_file(f, nc=4)
    f.write_text("2 0.5 0.25 0.2 0.3\n")
    np.testing.assert_allclose(read_label_file(f), [[2, 0.5, 0.25, 0.2, 0.3]])


def test_synth_then_anchors_commands(cli, fails, tmp_path):
    data = tmp_path / "syn"
    result = cli("yolo", "synth", str(data), "--n", "20", "--size", "64")
    assert result.exit_code == 0, result.output
    spec = read_data_yaml(data / "data.yaml")
    assert spec.names == ["circle", "square", "triangle", "cross"]
    pairs = spec.pairs("train") + spec.pairs("val")
    assert len(pairs) == 20 and all(lab.is_file() for _img, lab in pairs)
    wh = read_wh(data / "data.yaml")
    assert len(wh) >= 20 and np.all((wh > 0.1) & (wh < 0.6))
    again = cli("yolo", "synth", str(data), "--n", "5")
    fails(again, "already holds a dataset")
    out = tmp_path / "anch"
    result = cli("--json", "yolo", "anchors", str(data / "labels"), "--k", "3",
                    "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    ious = [row["mean_iou"] for row in doc["mean_iou"]]
    assert len(ious) == 3 and ious[0] < ious[2]
    assert (out / "anchors.png").stat().st_size > 0
    assert len(json.loads((out / "anchors.json").read_text())["anchors"]) == 3
    result = cli("yolo", "anchors", str(data / "labels"), "--k", "2",
                    "--out", str(tmp_path / "text"))  # fmt: skip
    assert "anchors line for the cfg: " in result.stdout and "=:" not in result.stdout
    result = cli("yolo", "anchors", str(data / "labels"), "--size", "400",
                    "--out", str(tmp_path / "neg"))  # fmt: skip
    fails(result, "positive multiple of 32, got 400")
    result = cli("yolo", "anchors", str(data / "labels"), "--size", "-416")
    assert result.exit_code == 2 and "Invalid value for '--size'" in result.stderr
    assert not (tmp_path / "neg").exists()


def test_anchors_bad_labels_one_line(cli, fails, tmp_path):
    (tmp_path / "l").mkdir()
    (tmp_path / "l" / "x.txt").write_text("0 0.5 0.5 0.1 0.1\nbad line\n")
    fails(cli("yolo", "anchors", str(tmp_path / "l")), "x.txt:2: expected")


@pytest.mark.parametrize(("fraction", "train", "val"), [(1.0, 1, 3), (0.0, 3, 1), (0.5, 2, 2)])
def test_synth_keeps_an_image_in_each_split(tmp_path, fraction, train, val):
    from dltool_yolo.synth import write_dataset

    splits = [s for s, _ in write_dataset(tmp_path / "d", 4, 32, fraction)]
    assert (splits.count("train"), splits.count("val")) == (train, val)
