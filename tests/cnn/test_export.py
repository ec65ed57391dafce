"""cnn export: a trained run (LeNet-5) and the ImageNet EfficientNet-Lite0 exported to ONNX
and TorchScript give torch's logits to 1e-4 on real photos; --dynamic at two batch sizes;
model.json describes the input and the weights."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from dltool_cnn.images import load_image
from dltool_cnn.jobs import _export_source

from dltool import exporting

pytest.importorskip("onnxruntime")
PHOTOS = ("camera", "coffee", "chelsea")


def _photos(channels: int, size: int) -> torch.Tensor:
    mode = "L" if channels == 1 else "RGB"
    x = np.stack([load_image(f"demo:{n}", mode, size) for n in PHOTOS])  # (n, H, W, C)
    return torch.from_numpy(x.transpose(0, 3, 1, 2).copy())  # (n, C, H, W)


def _runner(path, fmt):
    if fmt == "onnx":
        session = exporting.onnx_session(path, threads=1)
        return lambda x: exporting.run_onnx(session, x)
    module, _ = exporting.load_torchscript(path)

    def run(x):
        with torch.no_grad():
            return exporting.as_list(module(x))

    return run


@pytest.fixture(scope="module")
def lenet_run(tmp_path_factory):
    from typer.testing import CliRunner

    from dltool.cli import create_app

    out = tmp_path_factory.mktemp("cnn") / "run"
    res = CliRunner().invoke(create_app(), ["--quiet", "--threads", "1", "cnn", "train",
                             "--model", "lenet5", "--epochs", "1", "--out", str(out)])  # fmt: skip
    assert res.exit_code == 0, res.output
    return out


@pytest.mark.parametrize("fmt", exporting.FORMATS)
def test_a_trained_run_exports_with_its_json(run_json, lenet_run, tmp_path, fmt):
    doc = run_json("export", str(lenet_run), "--format", fmt, "--out", str(tmp_path / "e"))
    path = tmp_path / "e" / f"model{exporting.SUFFIX[fmt]}"
    assert doc["file"] == str(path) and doc["max_abs_diff"] < 1e-4
    meta = json.loads((tmp_path / "e" / "model.json").read_text())
    assert meta["input"]["shape"] == [1, 1, 32, 32] and meta["names"] == [str(i) for i in range(10)]
    assert meta["normalisation"]["inside_model"] and len(meta["weights_sha256"]) == 64
    model, *_ = _export_source(str(lenet_run))
    x = _photos(1, 32)
    with torch.no_grad():
        want = model.eval()(x[:1])
    assert exporting.max_difference([want], _runner(path, fmt)(x[:1])) < 1e-4


@pytest.fixture(scope="module")
def efficientnet(tmp_path_factory):
    """EfficientNet-Lite0 (ImageNet) exported once with --dynamic: (model, {fmt: path})."""
    from dltool_cnn import export as ex

    model, classes, size, channels, weights, name = _export_source("efficientnet-lite0")
    meta = ex.metadata(model, classes, size, channels, weights, name)
    folder = tmp_path_factory.mktemp("effnet")
    paths = {}
    for fmt in exporting.FORMATS:
        paths[fmt] = folder / f"model{exporting.SUFFIX[fmt]}"
        info = ex.export_classifier(model, channels, size, fmt, paths[fmt], True, meta)
        if fmt == "onnx":
            assert info["dynamic_axes"] == ["batch"]
    return model.eval(), paths


@pytest.mark.parametrize("fmt", exporting.FORMATS)
def test_dynamic_efficientnet_on_photos_at_two_batch_sizes(efficientnet, fmt):
    model, paths = efficientnet
    run = _runner(paths[fmt], fmt)
    for n in (3, 1):
        x = _photos(3, 224)[:n]
        with torch.no_grad():
            want = model(x)
        got = run(x)
        assert exporting.as_list(got)[0].shape == (n, 1000)
        assert exporting.max_difference([want], got) < 1e-4
    assert int(want.argmax(1)[0]) == int(np.argmax(exporting.as_list(got)[0][0]))


def test_a_transfer_learned_run_exports_to_1e4(run_json, tmp_path):
    """cnn train --pretrained efficientnet-lite0 --freeze backbone (1 epoch, 8 images), exported."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for k, c in enumerate(("red", "blue")):
        (tmp_path / "data" / c).mkdir(parents=True)
        for i in range(4):
            a = rng.integers(0, 80, (40, 40, 3), dtype=np.uint8)
            a[..., 2 * k] += 150
            Image.fromarray(a).save(tmp_path / "data" / c / f"{i}.png")
    run_json("train", "--pretrained", "efficientnet-lite0", "--freeze", "backbone", "--data",
             str(tmp_path / "data"), "--epochs", "1", "--image-size", "32", "--batch-size", "8",
             "--out", str(tmp_path / "run"))  # fmt: skip
    doc = run_json("export", str(tmp_path / "run"), "--format", "onnx", "--out", tmp_path / "e")
    assert doc["results_dir"] == str(tmp_path / "e") and doc["max_abs_diff"] < 1e-4
    meta = json.loads((tmp_path / "e" / "model.json").read_text())
    assert meta["names"] == ["blue", "red"] and meta["input"]["shape"] == [1, 3, 32, 32]
    model, *_ = _export_source(str(tmp_path / "run"))
    run = _runner(tmp_path / "e" / "model.onnx", "onnx")
    for x in _photos(3, 32).split(1):  # a static graph: batch 1
        with torch.no_grad():
            want = model.eval()(x)
        assert exporting.max_difference([want], run(x)) < 1e-4
