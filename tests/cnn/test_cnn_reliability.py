"""cnn under hostile or broken input: crafted pickles, NaN/inf learning rates and weights,
oversized options, and every file argument missing, empty or a folder (issue 15)."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest
import torch
from conftest import check_failure as _fail
from dltool_cnn import train as T
from PIL import Image


def _folder(root, per_class=4, size=32):
    """Write DIR/circle, DIR/square of generated shapes."""
    from dltool_cnn.data import shapes

    data = shapes(size, n=3 * per_class, seed=1)
    for k, name in enumerate(("circle", "square")):
        (root / name).mkdir(parents=True)
        for i, img in enumerate(data.X[data.y == k][:per_class]):
            Image.fromarray((img * 255).astype(np.uint8)).save(root / name / f"{i}.png")
    return root


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished one-epoch lenet5 run on a small folder: (run folder, an image)."""
    import dltool_cnn
    from typer.testing import CliRunner

    from dltool.cli import create_app
    from dltool.plugins import PluginManager

    root = tmp_path_factory.mktemp("trained")
    data, out = _folder(root / "data"), root / "run"
    app = create_app(PluginManager.from_modules({"cnn": dltool_cnn}))
    args = ["--quiet", "--threads", "1", "cnn", "train", "--data", str(data), "--epochs", "1",
            "--batch-size", "4", "--out", str(out)]  # fmt: skip
    res = CliRunner().invoke(app, args, env={"DLTOOL_RUNS": str(root / "runs")})
    assert res.exit_code == 0, res.stderr
    return out, next((data / "circle").iterdir())


class RunsCode:
    """Unpickling this calls os.system: what a crafted checkpoint would do."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _crafted(path, marker, base=None):
    """Write a checkpoint that runs ``touch marker`` when unpickled without weights_only."""
    state = dict(base or {"format": T.FORMAT, "config": {}, "model": {}})
    state["extra"] = RunsCode(marker)
    torch.save(state, path)
    return path


def test_crafted_checkpoint_runs_nothing_in_predict(run, tmp_path, trained):
    _, image = trained
    marker = tmp_path / "pwned"
    bad = _crafted(tmp_path / "model.pt", marker)
    res = _fail(run("predict", str(bad), str(image)), "refused, as loading it could run code")
    assert not marker.exists() and res.stdout == ""


def test_crafted_checkpoint_runs_nothing_in_resume(run, tmp_path, trained):
    out, _ = trained
    resumed = tmp_path / "run"
    resumed.mkdir()
    (resumed / "config.yaml").write_text((out / "config.yaml").read_text())
    marker = tmp_path / "pwned"
    _crafted(resumed / "last.pt", marker, T.load_checkpoint(out / "last.pt"))
    _fail(run("train", "--resume", str(resumed), "--epochs", "3"), "could run code")
    assert not marker.exists()
    assert sorted(p.name for p in resumed.iterdir()) == ["config.yaml", "last.pt"]


def test_checkpoints_hold_only_tensors_and_plain_values(trained):
    out, _ = trained
    for name in ("best.pt", "last.pt"):
        state = torch.load(out / name, weights_only=True)  # would raise on any other object
        assert state["format"] == T.FORMAT and state["config"]["model"] == "lenet5"
        assert state["classes"] == ["circle", "square"] and state["channels"] == 3
    assert "optimizer" in torch.load(out / "last.pt", weights_only=True)


@pytest.mark.parametrize("lr", ["inf", "nan", "0", "-1", "1e400", "1e12", "10.5"])
def test_meaningless_learning_rates_are_refused(run, tmp_path, lr):
    res = run("train", "--data", "shapes", "--lr", lr, "--out", str(tmp_path / "r"))
    if res.exit_code == 2:  # below the option's minimum: a usage error
        assert "--lr" in res.stderr
    else:
        _fail(res, f"--lr {lr if lr != '1e400' else 'inf'} is not a positive finite")
    assert not (tmp_path / "r").exists() and not (tmp_path / "runs").exists()


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e12", "0", "0.95"])
def test_dev_fractions_outside_the_range_are_usage_errors(run, tmp_path, value):
    res = run("train", "--data", "shapes", "--dev-fraction", value, "--out", str(tmp_path / "r"))
    assert res.exit_code == 2 and "--dev-fraction" in res.stderr, res.stderr
    assert "Traceback" not in res.stderr and "unexpected" not in res.stderr
    assert not (tmp_path / "r").exists() and not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    "line", ["lr: 1.0e+12", "lr: 1.0e12", "lr: .nan", "dev_fraction: .nan", "dev_fraction: 2"]
)
def test_config_file_numbers_are_checked_as_flags_are(run, tmp_path, line):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"data: shapes\nepochs: 1\n{line}\n")
    res = run("train", "--config", str(cfg), "--out", str(tmp_path / "r"))
    assert res.exit_code in (1, 2) and line.split(":")[0] in res.stderr, res.stderr
    assert "Traceback" not in res.stderr and "unexpected" not in res.stderr
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    ("key", "value", "text"),
    [
        ("lr", "1.0e+12", "--lr 1e+12 is not a positive finite learning rate up to 10"),
        ("dev_fraction", ".nan", "--dev-fraction nan is not a number from 0.01 to 0.9"),
    ],
)
def test_a_resumed_config_with_a_bad_number_is_refused(run, tmp_path, trained, key, value, text):
    import shutil

    import yaml

    out, _ = trained
    resumed = tmp_path / "run"
    resumed.mkdir()
    saved = yaml.safe_load((out / "config.yaml").read_text())
    (resumed / "config.yaml").write_text(
        yaml.safe_dump(saved).replace(f"{key}: {saved[key]}", f"{key}: {value}")
    )
    shutil.copy(out / "last.pt", resumed / "last.pt")
    _fail(run("train", "--resume", str(resumed), "--epochs", "3"), text)
    assert sorted(p.name for p in resumed.iterdir()) == ["config.yaml", "last.pt"]


def test_non_finite_loss_stops_and_keeps_the_last_finite_checkpoint(run, tmp_path, monkeypatch):
    real, calls = T.train_epoch, []

    def blow_up(model, loader, optimizer, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # epoch 2 diverges
            for group in optimizer.param_groups:
                group["lr"] = math.inf
        return real(model, loader, optimizer, *args, **kwargs)

    monkeypatch.setattr(T, "train_epoch", blow_up)
    data, out = _folder(tmp_path / "data"), tmp_path / "run"
    res = _fail(run("train", "--data", str(data), "--epochs", "3", "--batch-size", "2",
                    "--optimizer", "sgd", "--lr", "0.01", "--out", str(out)),
                "training diverged in epoch 2")  # fmt: skip
    assert "keeps the weights after epoch 1" in res.stderr and "smaller --lr" in res.stderr
    state = T.load_checkpoint(out / "last.pt")
    assert state["epoch"] == 1
    assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 1


def test_a_first_epoch_divergence_leaves_no_run(run, tmp_path, monkeypatch):
    real = T.train_epoch

    def blow_up(model, loader, optimizer, *args, **kwargs):
        for group in optimizer.param_groups:
            group["lr"] = math.inf
        return real(model, loader, optimizer, *args, **kwargs)

    monkeypatch.setattr(T, "train_epoch", blow_up)
    data = _folder(tmp_path / "data")
    res = _fail(run("train", "--data", str(data), "--epochs", "2", "--batch-size", "2",
                    "--optimizer", "sgd"), "diverged in epoch 1")  # fmt: skip
    assert "no checkpoint was written" in res.stderr
    assert list((tmp_path / "runs" / "cnn" / "train").iterdir()) == []  # the run is removed


def test_train_epoch_stops_at_a_non_finite_loss():
    from dltool_cnn.data import Batches, shapes
    from dltool_cnn.models import lenet5

    model = lenet5(num_classes=3, in_channels=3)
    optimizer = torch.optim.SGD(model.parameters(), lr=math.inf)
    loader = Batches(shapes(32, n=120, seed=0), 2, None, 0)  # 60 batches
    steps = []

    class Counter:
        def advance(self, n=1, **metrics):
            steps.append(n)

    stats = T.train_epoch(model, loader, optimizer, "cpu", Counter(), report_every=5)
    assert not math.isfinite(stats["loss"])
    assert stats["images"] == 10  # stopped at the first read-back (5 batches of 2)


def test_predict_refuses_non_finite_weights(run, tmp_path, trained):
    out, image = trained
    state = T.load_checkpoint(out / "best.pt")
    key = next(k for k, v in state["model"].items() if v.is_floating_point() and v.numel() > 1)
    state["model"][key] = state["model"][key].clone().fill_(float("nan"))
    state.pop("format")
    bad = tmp_path / "nan.pt"
    T.save_checkpoint(bad, state)
    res = _fail(run("predict", str(bad), str(image)), "holds NaN or inf")
    assert res.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ("train", "--image-size", "100000"),
        ("train", "--epochs", "1000000000000"),
        ("train", "--batch-size", "1000000000000"),
        ("conv", "coins", "--stride", "1000000000000"),
        ("conv", "coins", "--pad", "1000000000000"),
        ("augment", "coins", "--size", "1000000"),
        ("augment", "coins", "-n", "1000"),
        ("predict", "efficientnet-lite0", "coins", "--top", "1000000000000"),
    ],
)
def test_oversized_options_are_usage_errors(run, tmp_path, args):
    res = run(*args)
    assert res.exit_code == 2 and "is not in the range" in res.stderr, res.stderr
    assert not (tmp_path / "runs").exists()


def test_conv_refuses_a_padding_that_would_not_fit_in_memory(run, tmp_path):
    res = _fail(run("conv", "coins", "--color", "--pad", "10000"), "GiB")
    assert "--pad" in res.stderr
    assert not (tmp_path / "runs").exists()


@pytest.fixture
def bad_files(tmp_path):
    """{kind: path}: a missing file, an empty file and a folder."""
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    folder = tmp_path / "folder.png"
    folder.mkdir()
    return {"missing": tmp_path / "missing.png", "empty": empty, "folder": folder}


@pytest.mark.parametrize("kind", ["missing", "empty", "folder"])
@pytest.mark.parametrize(
    "template",
    [
        ("conv", "{}"),
        ("augment", "{}"),
        ("predict", "efficientnet-lite0", "{}"),
        ("predict", "{}", "coins"),
        ("train", "--resume", "{}"),
        ("train", "--config", "{}"),
        ("train", "--data", "{}"),
    ],
)
def test_every_file_argument_missing_empty_or_a_folder_is_one_clear_line(
    run, bad_files, tmp_path, kind, template
):
    path = str(bad_files[kind])
    if template == ("train", "--config", "{}") and kind == "empty":
        pytest.skip("an empty config file is an empty mapping: the defaults")
    args = [a.format(path) for a in template]
    if template[0] == "train" and "--data" not in template:
        args += ["--data", "shapes", "--epochs", "1"]
    res = _fail(run(*args), "")
    assert res.stdout == ""
    assert not (tmp_path / "runs").exists()


def test_a_folder_with_an_unreadable_image_is_predicted_without_it(cli, tmp_path, trained):
    out, image = trained
    folder = tmp_path / "imgs"
    folder.mkdir()
    (folder / "a.png").write_bytes(image.read_bytes())
    (folder / "b.png").write_text("not a picture")
    res = cli("--quiet", "--json", "--threads", "1", "cnn", "predict", str(out), str(folder))
    assert res.exit_code == 0, res.stderr
    assert "skipped" in res.stderr and "b.png" in res.stderr
    rows = json.loads(res.stdout)["predictions"]
    assert {r["image"] for r in rows} == {str(folder / "a.png")}


@pytest.mark.parametrize("data", ["digits", "shapes"])
def test_a_data_set_that_would_not_fit_in_memory_is_refused_before_loading(run, tmp_path, data):
    res = _fail(run("train", "--model", "resnet18", "--data", data, "--image-size", "1024"),
                "GiB in memory")  # fmt: skip
    assert "--image-size" in res.stderr
    assert not (tmp_path / "runs").exists()


def test_a_folder_data_set_is_measured_before_its_images_are_read(tmp_path, monkeypatch):
    from dltool_cnn import data as D

    from dltool.errors import DltoolError

    root = _folder(tmp_path / "data")
    monkeypatch.setattr(D, "MAX_DATA_BYTES", 3 * 8 * 32 * 32 * 3 * 4 - 1)  # 8 images: 1 too few
    monkeypatch.setattr(D, "load_image", lambda *a: pytest.fail("read before the check"))
    with pytest.raises(DltoolError, match="8 images of 32x32x3"):
        D.load(str(root), 32)


@pytest.mark.parametrize("command", ["conv", "augment"])
def test_a_folder_or_pattern_for_the_one_image_says_to_give_one_image(run, tmp_path, command):
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("a.png", "b.png"):
        Image.fromarray(np.zeros((20, 20, 3), np.uint8)).save(photos / name)
    res = _fail(run(command, str(photos)), f"cnn {command} takes one image, and")
    assert "is a folder" in res.stderr and f"such as {photos / 'a.png'}" in res.stderr
    res = _fail(run(command, str(photos / "*.png")), "is a pattern (2 matching files)")
    assert "give one image file" in res.stderr
    res = _fail(run(command, str(tmp_path / "none*.png")), "is a pattern (0 matching files)")
    assert "give one image file;" in res.stderr
    assert not (tmp_path / "runs").exists()
