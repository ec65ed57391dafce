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


def test_demo_needs_no_files(cli):
    res = cli("--json", "style", "transfer", "--demo", "--size", "48", "--iterations", "2")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["size"] == "48x32"


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
    from dltool_style.cli import _layer_rows

    real = features.efficientnet_lite0(pretrained=False)
    meta = features.efficientnet_lite0("meta", pretrained=False)
    assert _layer_rows(meta, 67) == _layer_rows(real, 67)
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
        (["content.png", "style.jpg", "--noise-ratio", "2"], "--noise-ratio must be between"),
        (["content.png", "style.jpg", "--lr", "0"], "--lr must be a finite number > 0"),
        (["content.png", "style.jpg", "--optimizer", "sgd"], "--optimizer must be one of"),
        (["content.png", "style.jpg", "--size", "16"], "--size must be at least 32"),
        (["content.png", "style.jpg", "--net", "vgg19"], "--net vgg19 needs --weights"),
        (["content.png", "style.jpg", "--net", "resnet"], "unknown network 'resnet'"),
        (["content.png", "style.jpg", "-o", "nowhere/x.png"], "folder nowhere does not exist"),
        (
            ["content.png", "style.jpg", "-o", "s.jpg"],
            "--output s.jpg: the image is written as PNG",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_1(cli, photos, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(photos)
    res = cli("style", "transfer", *FAST, *args, "--out", tmp_path / "r")
    assert res.exit_code == 1, res.output
    assert message in res.stderr and "Traceback" not in res.output
    assert not (tmp_path / "r" / "result.png").exists()


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


def test_non_finite_cost_keeps_last_good_image(cli, photos, tmp_path):
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
    assert res.exit_code == 1
    assert (
        "the cost became inf at iteration 1" in res.stderr
        and "lower the learning rate" in res.stderr
    )
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
