"""``dltool style`` as a user runs it: real photos, tiny sizes, every output and bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from dltool_style import memory, vgg
from PIL import Image

FAST = ("--size", "48", "--iterations", "3")


def _png(path):
    return np.asarray(Image.open(path))


def test_transfer_writes_every_output(cli, photos, tmp_path):
    out = tmp_path / "painted.png"
    res = cli(
        "--json",
        "--seed",
        "1",
        "style",
        "transfer",
        photos / "content.png",
        photos / "style.jpg",
        photos / "texture.png",
        "--style-blend",
        "3,1",
        "--save-every",
        "2",
        "-o",
        out,
        "--tv-weight",
        "0.5",
        *FAST,
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    run = tmp_path / "runs" / "style" / "transfer" / "1"
    assert doc["run_dir"] == str(run) and doc["result"] == str(out) and doc["size"] == "48x32"
    costs = {r["cost"]: r for r in doc["costs"]}
    assert costs["J"]["last"] < costs["J"]["first"] and costs["J_tv"]["first"] > 0
    assert _png(out).shape == (32, 48, 3)
    np.testing.assert_array_equal(_png(out), _png(run / "result.png"))
    assert (run / "iter_00002.png").is_file() and not (run / "iter_00003.png").exists()
    side = _png(run / "side_by_side.png")
    assert side.shape[1] > 3 * side.shape[0]  # content | style | texture | result
    assert _png(run / "cost.png").shape[2] == 4
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in rows] == [1, 2, 3]
    assert rows[0]["J"] == pytest.approx(
        10 * rows[0]["J_content"] + 40 * rows[0]["J_style"] + 0.5 * rows[0]["J_tv"], rel=1e-5
    )
    config = (run / "config.yaml").read_text()
    assert "style_blend: 3,1" in config and "texture.png" in config


def test_config_file_flags_win_and_unknown_keys_fail(cli, photos, tmp_path):
    cfg = tmp_path / "run.yaml"
    cfg.write_text("iterations: 2\nlr: 0.05\ninit: content\nsize: 40\npreserve_colors: true\n")
    res = cli(
        "--json",
        "style",
        "transfer",
        photos / "content.png",
        photos / "style.jpg",
        "--config",
        cfg,
        "--size",
        "60",
        "--out",
        tmp_path / "r",
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["size"] == "60x40"
    assert len((tmp_path / "r" / "metrics.jsonl").read_text().splitlines()) == 2
    assert "lr: 0.05" in (tmp_path / "r" / "config.yaml").read_text()
    cfg.write_text("iterations: 2\nlearning_rate: 0.1\n")
    res = cli("style", "transfer", photos / "content.png", photos / "style.jpg", "--config", cfg)
    assert res.exit_code == 1 and "unknown key 'learning_rate'" in res.stderr


def test_demo_needs_no_files(cli, tmp_path):
    res = cli("--json", "style", "transfer", "--demo", "--size", "48", "--iterations", "2")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["size"] == "48x32"
    config = (tmp_path / "runs" / "style" / "transfer" / "1" / "config.yaml").read_text()
    assert "content: demo:chelsea" in config and "- demo:immunohistochemistry" in config


def test_layers_lists_both_networks(cli):
    res = cli("--json", "style", "layers", "--net", "vgg19", "--size", "64")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    rows = {r["layer"]: r for r in doc["layers"]}
    assert len(rows) == 21 and rows["conv4_2"]["default"] == "content"
    assert rows["conv5_1"]["stride"] == 16 and rows["conv5_1"]["n_C"] == 512
    res = cli("--json", "style", "layers")
    rows = {r["layer"]: r for r in json.loads(res.stdout)["layers"]}
    assert rows["blocks.6.expand"]["default"] == "content" and rows["head"]["n_C"] == 1280
    assert rows["stem"]["default"].startswith("style")


def test_layers_shapes_on_meta_match_a_real_forward_and_any_size_is_free(cli):
    from dltool_style import features
    from dltool_style.jobs import layer_rows

    real = features.efficientnet_lite0(pretrained=False)
    meta = features.efficientnet_lite0("meta", pretrained=False)
    assert layer_rows(meta, 67) == layer_rows(real, 67)
    res = cli("--json", "style", "layers", "--size", "100000")  # 120 GB as a real forward
    assert res.exit_code == 0, res.output
    rows = {r["layer"]: r for r in json.loads(res.stdout)["layers"]}
    assert rows["head"]["n_H x n_W"] == "3125x3125"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["notes.txt", "style.jpg"], "notes.txt is not an image"),
        (["content.png", "missing.jpg"], "missing.jpg does not exist"),
        (["tiny.png", "style.jpg"], "tiny.png is 20x16 pixels; the network needs at least 32"),
        (["content.png"], "give a CONTENT image and at least one STYLE image"),
        (["content.png", "style.jpg", "--style-layers", "conv1_1:1"], "no layer 'conv1_1'"),
        (["content.png", "style.jpg", "--content-layer", "block9"], "no layer 'block9'"),
        (["content.png", "style.jpg", "--style-blend", "1,2"], "2 weight(s) for 1 style image(s)"),
        (
            ["content.png", "style.jpg", "--content-weight", "0", "--style-weight", "0"],
            "nothing to transfer",
        ),
        (["content.png", "style.jpg", "--style-layers", "stem:nan"], "must be finite"),
        (["content.png", "style.jpg", "--net", "vgg19"], "--net vgg19 needs --weights"),
        (["content.png", "style.jpg", "-o", "nowhere/x.png"], "folder nowhere does not exist"),
        (["content.png", "style.jpg", "-o", "s.gif"], "unknown output format '.gif'"),
        (["content.png", "style.jpg", "-o", "content.png"], "is an input of this command"),
        (["content.png", "style.jpg", "--demo"], "give either --demo or image files"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(cli, fails, photos, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(photos)
    before = (photos / "content.png").read_bytes()
    fails(cli("style", "transfer", *FAST, *args, "--out", tmp_path / "r"), message)
    assert not (tmp_path / "r").exists()
    assert (photos / "content.png").read_bytes() == before


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--size", "16"], "--size"),
        (["--size", "1000000000000"], "--size"),
        (["--iterations", "0"], "--iterations"),
        (["--iterations", "1000000000000"], "--iterations"),
        (["--save-every", "-1"], "--save-every"),
        (["--noise-ratio", "2"], "--noise-ratio"),
        (["--style-weight", "-1"], "--style-weight"),
        (["--style-weight", "inf"], "--style-weight"),
        (["--content-weight", "nan"], "--content-weight"),
        (["--tv-weight", "inf"], "--tv-weight"),
        (["--noise-ratio", "nan"], "--noise-ratio"),
        (["--lr", "0"], "--lr"),
        (["--lr", "inf"], "--lr"),
        (["--lr", "nan"], "--lr"),
        (["--lr", "1e12"], "--lr"),
        (["--optimizer", "sgd"], "--optimizer"),
        (["--init", "zeros"], "--init"),
        (["--net", "resnet"], "--net"),
    ],
)
def test_out_of_range_options_are_usage_errors(cli, photos, tmp_path, args, option):
    res = cli("style", "transfer", photos / "content.png", photos / "style.jpg", *args)
    assert res.exit_code == 2 and f"Invalid value for '{option}'" in res.stderr
    assert not (tmp_path / "runs").exists()


def test_layers_size_is_bounded(cli):
    res = cli("style", "layers", "--size", "1000000000000")
    assert res.exit_code == 2 and "Invalid value for '--size'" in res.stderr


@pytest.mark.parametrize("kind", ["empty", "folder", "unreadable", "truncated"])
def test_unreadable_image_arguments_leave_nothing(cli, fails, photos, tmp_path, monkeypatch, kind):
    bad = tmp_path / "bad.png"
    if kind == "empty":
        bad.write_bytes(b"")
    elif kind == "folder":
        bad.mkdir()
    elif kind == "truncated":
        bad.write_bytes((photos / "content.png").read_bytes()[:200])
    else:
        from PIL import Image

        bad.write_bytes((photos / "content.png").read_bytes())
        real = Image.open

        def denied(path, *a, **k):
            if str(path) == str(bad):
                raise PermissionError(13, "Permission denied", str(path))
            return real(path, *a, **k)

        monkeypatch.setattr(Image, "open", denied)
    out = tmp_path / "o.png"
    for args in ((bad, photos / "style.jpg"), (photos / "content.png", bad)):
        res = cli("style", "transfer", *args, *FAST, "-o", out)
        fails(res, str(bad))
        assert "hint: give a JPEG, PNG" in res.stderr
        assert not out.exists() and not (tmp_path / "runs").exists()


def test_output_jpeg_and_quiet_prints_only_the_result(cli, photos, tmp_path):
    out = tmp_path / "Painted.JPG"
    args = ("style", "transfer", photos / "content.png", photos / "style.jpg", *FAST)
    res = cli("-q", *args, "-o", out, "--out", tmp_path / "r")
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines() == [f"result: {out}", f"run_dir: {tmp_path / 'r'}"]
    with Image.open(out) as img:
        assert img.format == "JPEG" and img.size == (48, 32)
    with Image.open(tmp_path / "r" / "result.png") as img:
        assert img.format == "PNG"


def test_out_holding_a_run_is_refused_unless_exist_ok(cli, fails, photos, tmp_path):
    args = ("style", "transfer", photos / "content.png", photos / "style.jpg", *FAST)
    assert cli(*args, "--out", tmp_path / "r").exit_code == 0
    first = (tmp_path / "r" / "result.png").read_bytes()
    fails(cli(*args, "--init", "content", "--out", tmp_path / "r"), "already holds a run")
    assert (tmp_path / "r" / "result.png").read_bytes() == first
    res = cli(*args, "--init", "content", "--out", tmp_path / "r", "--exist-ok")
    assert res.exit_code == 0, res.output
    assert "init: content" in (tmp_path / "r" / "config.yaml").read_text()
    assert (tmp_path / "r" / "result.png").read_bytes() != first


def test_demo_images_by_name_or_demo_prefix(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = cli("style", "transfer", "chelsea", "g.png", *FAST)
    assert res.exit_code == 1 and "image g.png does not exist" in res.stderr
    assert "demo:NAME" in res.stderr and "chelsea" in res.stderr
    res = cli("--json", "style", "transfer", "chelsea", "demo:brick", *FAST)
    assert res.exit_code == 0, res.output
    res = cli("style", "transfer", "demo:nope", "demo:brick", *FAST)
    assert res.exit_code == 1 and "no demo image 'nope'" in res.stderr


def test_unknown_layer_error_lists_the_layers(cli, photos):
    res = cli(
        "style",
        "transfer",
        photos / "content.png",
        photos / "style.jpg",
        "--style-layers",
        "conv4_2",
    )
    assert res.exit_code == 1
    assert "hint: layers of efficientnet-lite0: stem, blocks.0.dw" in res.stderr


def test_weights_of_another_network_are_rejected(cli, photos, tmp_path):
    convs = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]  # VGG-16's numbering
    torch.save({f"features.{i}.weight": torch.zeros(1) for i in convs}, tmp_path / "vgg16.pth")
    res = cli(
        "style",
        "transfer",
        photos / "content.png",
        photos / "style.jpg",
        "--net",
        "vgg19",
        "--weights",
        tmp_path / "vgg16.pth",
    )
    assert res.exit_code == 1 and "is not a VGG-19 state dict (13 conv weights" in res.stderr
    ours = tmp_path / "effnet.pth"
    from dltool.nn.efficientnet import load_efficientnet_lite0

    torch.save(load_efficientnet_lite0(pretrained=False).state_dict(), ours)
    res = cli("style", "layers", "--net", "vgg19", "--weights", ours)
    assert res.exit_code == 1 and "is not a VGG-19 state dict (0 conv weights" in res.stderr


class _Payload:
    """Unpickling this makes a folder: the proof that a loader ran code from a file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        import os

        return (os.mkdir, (self.marker,))


@pytest.mark.parametrize("how", ["torch", "pickle"])
def test_crafted_pickle_weights_run_nothing(cli, fails, photos, tmp_path, how):
    import pickle

    marker, weights = tmp_path / "pwned", tmp_path / "vgg19.pth"
    state = {"features.0.weight": torch.zeros(1), "evil": _Payload(marker)}
    if how == "torch":
        torch.save(state, weights)
    else:
        weights.write_bytes(pickle.dumps(state))
    args = ("--net", "vgg19", "--weights", weights)
    res = cli("style", "transfer", photos / "content.png", photos / "style.jpg", *FAST, *args)
    fails(res, f"{weights} holds pickled Python objects, not a plain state dict")
    fails(cli("style", "layers", *args), "holds pickled Python objects")
    assert not marker.exists() and not (tmp_path / "runs").exists()


def test_non_finite_vgg_weights_are_refused(cli, fails, photos, tmp_path):
    state = {f"features.{k}": v for k, v in vgg.vgg19_features().state_dict().items()}
    state["features.2.weight"][0, 0, 0, 0] = float("nan")
    torch.save(state, tmp_path / "vgg19.pth")
    args = ("--net", "vgg19", "--weights", tmp_path / "vgg19.pth")
    res = cli("style", "transfer", photos / "content.png", photos / "style.jpg", *FAST, *args)
    fails(res, "parameter features.2.weight holds NaN or inf")
    assert not (tmp_path / "runs").exists()
    res = cli("style", "layers", "--net", "vgg19", "--weights", tmp_path)
    fails(res, "is a folder, not a weights file")


def test_vgg19_from_state_dict_file(cli, photos, tmp_path):
    torch.manual_seed(0)
    state = {f"features.{k}": v for k, v in vgg.vgg19_features().state_dict().items()}
    torch.save(state, tmp_path / "vgg19.pth")
    res = cli(
        "--json",
        "style",
        "transfer",
        photos / "content.png",
        photos / "style.jpg",
        "--net",
        "vgg19",
        "--weights",
        tmp_path / "vgg19.pth",
        "--size",
        "48",
        "--iterations",
        "2",
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["content_layer"] == "conv4_2"


def test_memory_refusal_and_force(cli, photos, monkeypatch, tmp_path):
    monkeypatch.setattr(memory, "available_bytes", lambda device: 1024**2)
    args = ("style", "transfer", photos / "content.png", photos / "style.jpg", *FAST)
    res = cli(*args, "--out", tmp_path / "a")
    assert res.exit_code == 1 and "needs about" in res.stderr and "--force" in res.stderr
    assert not (tmp_path / "a").exists()
    res = cli(*args, "--force", "--out", tmp_path / "b")
    assert res.exit_code == 0, res.output


def test_non_finite_cost_keeps_last_good_image(cli, fails, photos, tmp_path):
    res = cli(
        "style",
        "transfer",
        photos / "content.png",
        photos / "style.jpg",
        "--style-weight",
        "1e39",
        "--out",
        tmp_path / "r",
        *FAST,
    )
    fails(res, "the cost became inf at iteration 1; stopped and kept the last good image")
    assert "hint: lower the learning rate" in res.stderr
    assert _png(tmp_path / "r" / "result.png").shape == (32, 48, 3)


def test_transfer_help_imports_nothing_heavy():
    probe = (
        "import sys; sys.argv=['dltool','style','transfer','--help']\n"
        "from dltool.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('torch','numpy','PIL','matplotlib','scipy') if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert "--preserve-colors" in run.stdout and run.stdout.strip().endswith("[]")


def test_demo_names_from_scikit_image_and_scikit_learn(cli, tmp_path):
    res = cli(
        "--json", "style", "transfer", "demo:china", "demo:brick", *FAST, "--out", tmp_path / "r"
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["size"] == "48x32"  # china.jpg is 640x427
    assert "demo:brick" in (tmp_path / "r" / "config.yaml").read_text()
    res = cli("style", "transfer", "demo:china", "demo:monet")
    assert res.exit_code == 1 and "no demo image 'monet'" in res.stderr and "gravel" in res.stderr


def test_ctrl_c_keeps_the_last_image(cli, photos, tmp_path, monkeypatch):
    from dltool_style import transfer

    real, calls = transfer.costs, [0]

    def interrupted(*args):
        calls[0] += 1
        if calls[0] == 3:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(transfer, "costs", interrupted)
    res = cli(
        "style",
        "transfer",
        photos / "content.png",
        photos / "style.jpg",
        *FAST,
        "--out",
        tmp_path / "r",
    )
    assert res.exit_code == 130
    assert "interrupted; kept the last image" in res.stderr
    assert _png(tmp_path / "r" / "result.png").shape == (32, 48, 3)
    assert len((tmp_path / "r" / "metrics.jsonl").read_text().splitlines()) == 2
