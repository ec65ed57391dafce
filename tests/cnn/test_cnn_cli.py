"""cnn commands through the CLI: tables, PNGs, training runs, resume, predict and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from conftest import check_failure as _fail
from PIL import Image


@pytest.fixture(scope="module")
def camera(tmp_path_factory):
    from skimage import data

    path = tmp_path_factory.mktemp("img") / "camera.png"
    Image.fromarray(data.camera()[::4, ::4]).save(path)  # 128 x 128 grayscale
    return path


@pytest.fixture
def not_image(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("this is not a PNG\n")
    return path


@pytest.fixture
def truncated(tmp_path, camera):
    path = tmp_path / "cut.png"
    path.write_bytes(camera.read_bytes()[:400])
    return path


def _folder(root, classes=("circle", "square"), per_class=10, size=24):
    """Write an image folder DIR/<class>/*.png of generated shapes."""
    from dltool_cnn.data import shapes

    data = shapes(size, n=3 * per_class, seed=1)
    for k, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i, img in enumerate(data.X[data.y == k][:per_class]):
            Image.fromarray((img * 255).astype(np.uint8)).save(root / name / f"{i}.png")
    return root


def test_models_lists_counts(run_json):
    doc = run_json("models")
    counts = {row["name"]: row["parameters"] for row in doc["models"]}
    assert counts["resnet50"] == 25_557_032 and counts["lenet5"] == 60_850
    assert len(counts) == 7


def test_summary_rows_add_up_and_use_the_notes_notation(run_json):
    doc = run_json("summary", "lenet5")
    assert doc["parameters"] == 60_850
    assert sum(r["parameters"] for r in doc["layers"]) == 60_850
    first = doc["layers"][0]
    assert first["notation"] == "[5, 1]" and first["output (H x W x C)"] == "28 x 28 x 6"
    doc = run_json("summary", "resnet18", "--input", "3x64x64")
    assert doc["layers"][-1]["output (H x W x C)"] == "1000"
    assert doc["parameters"] == 11_689_512


def test_summary_bad_input_says_smallest(run):
    _fail(run("summary", "vgg16", "--input", "3x100x100"), "cannot take")
    res = run("summary", "alexnet", "--input", "3x64x64")
    assert "smallest input it takes is 3x227x227" in res.stderr
    res = run("summary", "resnet")  # a usage error: the choices are listed
    assert res.exit_code == 2 and "resnet50" in res.stderr
    _fail(run("summary", "lenet5", "--input", "32x32"), "not CxHxW")


def test_shape_calculator_steps(run_json, run):
    doc = run_json("shapes", "--input", "32x32x3", "--layers",
                   "conv:f=5,s=1,c=6; pool:f=2,s=2; conv:f=3,p=same,c=16; fc:n=10")  # fmt: skip
    steps = doc["steps"]
    assert steps[1]["formula"] == "⌊(32 + 2·0 − 5)/1⌋ + 1 = 28"
    assert steps[2]["output (H x W x C)"] == "14 x 14 x 6"
    assert steps[3]["output (H x W x C)"] == "14 x 14 x 16"
    assert doc["output"] == [10]
    assert doc["parameters"] == (5 * 5 * 3 + 1) * 6 + (9 * 6 + 1) * 16 + (14 * 14 * 16 + 1) * 10
    res = run("shape", "--input", "6x6x1", "--layers", "conv:f=3,s=2; conv:f=3")
    _fail(res, "layer 2 (conv): no output")
    _fail(run("shape", "--input", "6x6x1", "--layers", "conv:f=4,p=same"), "odd f")
    _fail(run("shapes", "--input", "6x6x1", "--layers", "dense:n=3"), "unknown kind")
    _fail(run("shape", "--input", "6x6", "--layers", "conv:f=3,q=1"), "bad option 'q=1'")


def test_conv_writes_png_with_formula_size(run_json, camera, tmp_path):
    out = tmp_path / "edges.png"
    doc = run_json("conv", str(camera), "--filter", "sobel", "--stride", "2", "--pad", "1",
                   "-o", str(out))  # fmt: skip
    assert doc["output"] == "64x64x1"  # ⌊(128 + 2 − 3)/2⌋ + 1
    with Image.open(out) as img:
        assert img.format == "PNG" and img.size == (64, 64) and img.mode == "L"


def test_conv_bad_input(run, camera, not_image, truncated, tmp_path):
    out = tmp_path / "x.png"
    _fail(run("conv", str(not_image), "-o", str(out)), "not an image")
    _fail(run("conv", str(truncated), "-o", str(out)), "not a readable image")
    _fail(run("conv", str(tmp_path / "missing.png")), "does not exist")
    res = run("conv", str(camera), "--filter", "emboss")
    assert res.exit_code == 2 and "sobel" in res.stderr  # a usage error listing the filters
    assert not out.exists() and not (tmp_path / "runs").exists()


def test_augment_grid_and_bad_ops(run_json, run, camera, tmp_path):
    out = tmp_path / "grid.png"
    doc = run_json("augment", str(camera), "-n", "5", "--size", "64", "-o", str(out))
    assert len(doc["copies"]) == 5
    with Image.open(out) as img:
        assert img.size[0] > 300 and img.format == "PNG"
    _fail(run("augment", str(camera), "--ops", "mirror,zoom"), "unknown augmentation 'zoom'")


def test_train_folder_then_predict(run_json, tmp_path):
    data = _folder(tmp_path / "data")
    out = tmp_path / "run"
    doc = run_json("train", "--model", "lenet5", "--data", str(data), "--epochs", "2",
                   "--batch-size", "8", "--lr", "0.01", "--augment", "mirror,color",
                   "--out", str(out))  # fmt: skip
    assert [row["epoch"] for row in doc["epochs"]] == [1, 2]
    for name in ("best.pt", "last.pt", "curves.png", "confusion.png", "config.yaml"):
        assert (out / name).is_file(), name
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 2 and "dev_acc" in json.loads(lines[0])
    cm = json.loads((out / "confusion.json").read_text())
    assert cm["classes"] == ["circle", "square"] and np.sum(cm["matrix"]) == 4  # 20 % of 20
    assert doc["best_dev_acc"] == max(row["dev_acc"] for row in doc["epochs"])
    image = next((data / "square").iterdir())
    pred = run_json("predict", str(out), str(image), "-k", "2")["predictions"]
    assert [p["rank"] for p in pred] == [1, 2]
    assert abs(sum(p["probability"] for p in pred) - 1) < 1e-3


def test_train_digits_learns(run_json, tmp_path):
    doc = run_json("train", "--model", "lenet5", "--data", "digits", "--epochs", "1",
                   "--batch-size", "32", "--lr", "0.003", "--out", str(tmp_path / "d"))  # fmt: skip
    assert doc["best_dev_acc"] > 0.5  # ten classes: chance is 0.1


def test_interrupt_keeps_checkpoint_and_resume_continues(run, run_json, tmp_path, monkeypatch):
    from dltool_cnn import train as T

    real, calls = T.train_epoch, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(T, "train_epoch", interrupted)
    data, out = _folder(tmp_path / "data"), tmp_path / "run"
    args = ("train", "--data", str(data), "--epochs", "3", "--batch-size", "8", "--out", str(out))
    res = run(*args)
    assert res.exit_code == 130, res.stderr
    assert "--resume" in res.stderr
    state = T.load_checkpoint(out / "last.pt")
    assert state["epoch"] == 1 and state["interrupted"]
    monkeypatch.setattr(T, "train_epoch", real)
    doc = run_json("train", "--resume", str(out))
    assert [row["epoch"] for row in doc["epochs"]] == [1, 2, 3]
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 3
    _fail(run("train", "--resume", str(out)), "already finished 3")


def test_train_bad_data(run, tmp_path, not_image):
    one = tmp_path / "one"
    (one / "cat").mkdir(parents=True)
    _fail(run("train", "--data", str(one)), "1 class folder")
    empty = _folder(tmp_path / "empty")
    (empty / "dog").mkdir()
    _fail(run("train", "--data", str(empty)), "without images")
    bad = _folder(tmp_path / "bad")
    (bad / "circle" / "zz.png").write_bytes(not_image.read_bytes())
    _fail(run("train", "--data", str(bad)), "zz.png is not an image")
    _fail(run("train", "--data", str(tmp_path / "nowhere")), "does not exist")
    assert not (tmp_path / "runs").exists()  # no run directory for rejected input


def test_train_bad_options(run, tmp_path):
    for option, value in (("--model", "lenet"), ("--optimizer", "rmsprop"),
                          ("--pretrained", "efficientnet-b7")):  # fmt: skip
        res = run("train", option, value)
        assert res.exit_code == 2 and f"Invalid value for '{option}'" in res.stderr
    res = _fail(run("train", "--model", "alexnet", "--image-size", "64", "--data", "shapes"),
                "alexnet cannot take 64x64")  # fmt: skip
    assert "smallest input it takes is 227x227" in res.stderr
    _fail(run("train", "--augment", "blur"), "unknown augmentation")
    _fail(run("train", "--pretrained", "efficientnet-lite0", "--freeze", "x"), "--freeze 'x'")
    _fail(run("train", "--resume", str(tmp_path)), "holds no config.yaml")
    assert not list(tmp_path.iterdir())


def test_predict_bad_input(run, not_image, tmp_path):
    _fail(run("predict", "resnet18", str(not_image)), "has no trained weights")
    _fail(run("predict", str(tmp_path / "nope"), str(not_image)), "neither a run folder")
    fake = tmp_path / "fake.pt"
    fake.write_bytes(b"\x00" * 20)
    _fail(run("predict", str(fake), str(not_image)), "is not a dltool cnn checkpoint")


def test_predict_imagenet_with_pretrained_efficientnet(run_json, tmp_path):
    from skimage import data

    path = tmp_path / "chelsea.png"
    Image.fromarray(data.chelsea()).save(path)
    rows = run_json("predict", "efficientnet-lite0", str(path), "-k", "3")["predictions"]
    assert rows[0]["class"] == "Egyptian cat", rows  # ImageNet class 285
    assert rows[0]["probability"] > 0.3


def test_transfer_learning_trains_only_the_new_head(run_json, tmp_path):
    data, out = _folder(tmp_path / "data", per_class=6, size=32), tmp_path / "tl"
    doc = run_json("train", "--pretrained", "efficientnet-lite0", "--freeze", "backbone",
                   "--data", str(data), "--image-size", "32", "--epochs", "1",
                   "--batch-size", "8", "--out", str(out))  # fmt: skip
    assert doc["epochs"][0]["epoch"] == 1
    state = torch.load(out / "best.pt", weights_only=True)
    assert state["model"]["1.net._fc.weight"].shape == (2, 1280)
    from dltool.nn.efficientnet import load_efficientnet_lite0

    backbone = load_efficientnet_lite0().state_dict()
    key = "_blocks.3._depthwise_conv.weight"
    assert torch.equal(state["model"]["1.net." + key], backbone[key])  # frozen: unchanged
    image = next((data / "circle").iterdir())
    assert len(run_json("predict", str(out), str(image))["predictions"]) == 2


def test_conv_on_a_sample_and_no_output(run_json, run, tmp_path):
    doc = run_json("conv", "coins", "--filter", "vertical-edge", "-o", str(tmp_path / "c.png"))
    assert doc["input"] == "303x384x1" and doc["output"] == "301x382x1"
    tiny = tmp_path / "tiny.png"
    Image.fromarray(np.zeros((2, 2), np.uint8)).save(tiny)
    _fail(run("conv", str(tiny), "-o", str(tmp_path / "t.png")), "no output")
    _fail(run("conv", str(tiny), "--out", str(tmp_path / "run")), "no output")
    assert not (tmp_path / "t.png").exists() and not (tmp_path / "run").exists()


def test_train_reads_a_config_file(run_json, run, tmp_path):
    data = _folder(tmp_path / "data", per_class=5)
    cfg = tmp_path / "run.yaml"
    cfg.write_text(f"data: {data}\nepochs: 1\nbatch-size: 4\noptimizer: sgd\nlr: 0.01\n")
    doc = run_json("train", "--config", str(cfg), "--out", str(tmp_path / "r"))
    assert len(doc["epochs"]) == 1
    saved = (tmp_path / "r" / "config.yaml").read_text()
    assert "optimizer: sgd" in saved and "batch_size: 4" in saved
    cfg.write_text("epoch: 3\n")
    _fail(run("train", "--config", str(cfg)), "unknown key 'epoch'")


@pytest.mark.parametrize("flags", [("--stride", "600"), ("--color", "--stride", "1000")])
def test_conv_one_pixel_output_still_plots(run_json, camera, tmp_path, flags):
    out = tmp_path / "one"
    doc = run_json("conv", str(camera), *flags, "--out", str(out))
    assert doc["output"] in ("1x1x1", "1x1x3")
    for name in ("camera.png", "camera_figure.png"):
        with Image.open(out / name) as img:
            assert img.format == "PNG"


def test_train_dev_fraction_must_leave_training_images(run, tmp_path):
    data = _folder(tmp_path / "data", per_class=2, size=16)
    res = _fail(run("train", "--data", str(data), "--dev-fraction", "0.9"), "--dev-fraction 0.9")
    assert "leaving 0 to train" in res.stderr and "--dev-fraction 0.5 or less" in res.stderr
    assert not (tmp_path / "runs").exists()


def test_outputs_are_written_in_their_suffix_format_or_refused(run, camera, tmp_path):
    for command in ("conv", "augment"):
        out = tmp_path / f"{command}.gif"
        _fail(run(command, str(camera), "-o", str(out)), "unknown output format '.gif'")
        assert not out.exists()
        res = _fail(run(command, str(camera), "--out", str(tmp_path / "x.png")), "run folder")
        assert "-o " in res.stderr
    assert not (tmp_path / "runs").exists() and not (tmp_path / "x.png").exists()


def test_demo_images_by_name_or_demo_prefix(run_json, run, tmp_path):
    bare = run_json("conv", "coins", "-o", str(tmp_path / "a.png"))
    prefixed = run_json("conv", "demo:coins", "-o", str(tmp_path / "b.png"))
    assert bare["output"] == prefixed["output"] == "301x382x1"
    _fail(run("conv", "demo:nope", "-o", str(tmp_path / "c.png")), "no demo image 'nope'")
    res = _fail(run("conv", str(tmp_path / "nope.png")), "does not exist")
    assert "demo:NAME" in res.stderr


def test_fixed_size_models_name_the_sizes_they_take(run):
    res = _fail(run("summary", "vgg16", "--input", "3x256x256"), "cannot take")
    assert "smallest input it takes is 3x224x224, the largest 3x255x255" in res.stderr
    res = _fail(run("summary", "googlenet", "--input", "3x16x16"), "cannot take")
    assert "smallest input it takes is 3x31x31 (native" in res.stderr
    assert "largest" not in res.stderr
    res = _fail(run("train", "--model", "alexnet", "--image-size", "300"), "cannot take 300")
    assert "the largest 258x258 (--image-size 258)" in res.stderr


def test_train_data_file_is_not_a_folder(run, camera):
    res = _fail(run("train", "--data", str(camera)), "is a file, not a folder")
    assert "does not exist" not in res.stderr


def test_resume_restores_the_run_options_and_refuses_a_changed_lr(run, run_json, tmp_path):
    data, out = _folder(tmp_path / "data", per_class=3, size=16), tmp_path / "run"
    run_json("train", "--data", str(data), "--epochs", "1", "--batch-size", "4", "--lr", "0.01",
             "--optimizer", "sgd", "--out", str(out))  # fmt: skip
    res = _fail(run("train", "--resume", str(out), "--epochs", "2", "--lr", "0.5"), "--lr 0.5")
    assert "0.01" in res.stderr and "--epochs" in res.stderr
    res = _fail(run("train", "--resume", str(out), "--epochs", "2", "--batch-size", "7"),
                "--batch-size 7")  # fmt: skip
    doc = run_json("train", "--resume", str(out), "--epochs", "2", "--lr", "0.01")  # same: fine
    assert [row["epoch"] for row in doc["epochs"]] == [1, 2]
    saved = (out / "config.yaml").read_text()
    assert "batch_size: 4" in saved and "optimizer: sgd" in saved and "epochs: 2" in saved
    assert "warning" not in res.stdout
