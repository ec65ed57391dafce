"""cnn follows the house command convention (issue 14): one input vocabulary, -o FILE in the
format its suffix names, --out a run folder, Enums that complete, -q compact output."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import check_failure as _fail
from dltool_support import run_dltool
from PIL import Image


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """A folder with two photos (PNG) and a text file that is not an image."""
    from skimage import data

    folder = tmp_path_factory.mktemp("photos")
    Image.fromarray(data.chelsea()).save(folder / "chelsea.png")
    Image.fromarray(data.coffee()).save(folder / "coffee.png")
    (folder / "notes.txt").write_text("not an image")
    return folder


def test_predict_takes_a_folder_and_a_glob(run_json, photos):
    by_folder = run_json("predict", "efficientnet-lite0", str(photos), "-k", "1")["predictions"]
    by_glob = run_json("predict", "efficientnet-lite0", f"{photos}/*.png", "-k", "1")
    assert by_folder == by_glob["predictions"]
    names = [str(photos / "chelsea.png"), str(photos / "coffee.png")]
    assert [r["image"] for r in by_folder] == names
    assert by_folder[0]["class"] == "Egyptian cat"


def test_predict_quiet_prints_one_line_per_image(cli, photos):
    res = cli("-q", "--threads", "1", "cnn", "predict", "efficientnet-lite0", str(photos))
    assert res.exit_code == 0, res.stderr
    rows = [line for line in res.stdout.splitlines() if ".png" in line]
    assert len(rows) == 2 and "Egyptian cat" in rows[0]
    assert "rank" not in res.stdout  # one summary table: image, class, probability


def test_predict_a_glob_that_matches_nothing(run, photos):
    _fail(run("predict", "efficientnet-lite0", f"{photos}/*.bmp"), "no file matches")


def _shapes_folder(root, per_class=4, size=32):
    from dltool_cnn.data import shapes

    data = shapes(size, n=3 * per_class, seed=1)
    for k, name in enumerate(("circle", "square")):
        (root / name).mkdir(parents=True)
        for i, img in enumerate(data.X[data.y == k][:per_class]):
            Image.fromarray((img * 255).astype(np.uint8)).save(root / name / f"{i}.png")
    return root


def test_train_then_predict_a_run_folder_or_number_on_a_folder(run_json, run, tmp_path):
    data = _shapes_folder(tmp_path / "data")
    doc = run_json("train", "--data", str(data), "--epochs", "1", "--batch-size", "4")
    run_dir = doc["run_dir"]
    assert run_dir.endswith("runs/cnn/train/1")
    by_folder = run_json("predict", run_dir, str(data / "circle"), "-k", "1")["predictions"]
    assert len(by_folder) == 4
    assert run_json("predict", "1", str(data / "circle"), "-k", "1")["predictions"] == by_folder
    resumed = run_json("train", "--resume", "1", "--epochs", "2")  # no other option needed
    assert [row["epoch"] for row in resumed["epochs"]] == [1, 2]


def test_a_second_train_into_the_same_out_is_refused(run_json, run, tmp_path):
    data, out = _shapes_folder(tmp_path / "data", per_class=3), tmp_path / "run"
    args = ("train", "--data", str(data), "--epochs", "1", "--batch-size", "4", "--out", str(out))
    run_json(*args)
    _fail(run(*args), "already holds a run")
    assert run_json(*args, "--exist-ok")["run_dir"] == str(out)


@pytest.mark.parametrize("suffix, fmt", [(".jpg", "JPEG"), (".JPG", "JPEG"), (".png", "PNG")])
def test_conv_output_is_written_in_its_suffix_format(run_json, tmp_path, suffix, fmt):
    out = tmp_path / f"e{suffix}"
    doc = run_json("conv", "coins", "--filter", "sobel", "-o", str(out))
    assert doc["wrote"] == str(out)
    with Image.open(out) as img:
        assert img.format == fmt and img.size == (382, 301)
    assert not (tmp_path / "runs").exists()  # -o writes one file, no run folder


def test_augment_grid_as_jpeg(run_json, tmp_path):
    out = tmp_path / "grid.jpg"
    run_json("augment", "coffee", "-n", "2", "--size", "32", "-o", str(out))
    with Image.open(out) as img:
        assert img.format == "JPEG"


def test_run_folder_outputs_keep_the_input_stem_and_suffix_case(run_json, tmp_path):
    from skimage import data

    photo = tmp_path / "Cat.JPG"
    Image.fromarray(data.chelsea()[::4, ::4]).save(photo, format="JPEG")
    run_json("conv", str(photo), "--out", str(tmp_path / "c"))
    with Image.open(tmp_path / "c" / "Cat.JPG") as img:
        assert img.format == "JPEG"
    assert (tmp_path / "c" / "config.yaml").is_file()
    run_json("augment", str(photo), "-n", "2", "--size", "32", "--out", str(tmp_path / "a"))
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == ["Cat_1.JPG", "Cat_2.JPG", "Cat_grid.png", "config.yaml", "run.json"]


def test_conv_run_folder_is_never_silently_replaced(run_json, run, tmp_path):
    out = tmp_path / "c"
    run_json("conv", "coins", "--out", str(out))
    _fail(run("conv", "coins", "--filter", "sobel", "--out", str(out)), "already holds a run")
    run_json("conv", "coins", "--filter", "sobel", "--out", str(out), "--exist-ok")
    assert "filter: sobel" in (out / "config.yaml").read_text()


def test_conv_refuses_o_and_out_together(run, tmp_path):
    _fail(run("conv", "coins", "-o", str(tmp_path / "a.png"), "--out", str(tmp_path / "r")),
          "both given")  # fmt: skip


def test_shape_is_a_hidden_alias_of_shapes(run_json, cli):
    args = ("--input", "32x32x3", "--layers", "conv:f=3,c=4")
    assert run_json("shape", *args) == run_json("shapes", *args)
    commands = [line.split()[0] for line in cli("cnn", "--help").stdout.splitlines()
                if line.startswith("  ") and line.split()]  # fmt: skip
    assert "shapes" in commands and "shape" not in commands


def test_train_help_shows_help_and_defaults_for_every_option(cli):
    text = " ".join(cli("cnn", "train", "--help").stdout.split())
    for expected in ("Epochs to train. [default: 5; 1<=x<=10000]",
                     "Images per mini-batch. [default: 64; 1<=x<=4096]",
                     "Learning rate (positive, finite). [default: 0.001; 0.0<x<=10.0]",
                     "Share of the images kept for dev. [default: 0.2; 0.01<=x<=0.9]",
                     "--model <lenet5|alexnet|vgg16|resnet18|resnet34|resnet50|googlenet>",
                     "--optimizer <adam|sgd>"):  # fmt: skip
        assert expected in text


def _complete(words: str) -> list[str]:
    cword = len(words.split()) - (0 if words.endswith(" ") else 1)
    env = {"_DLTOOL_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    res = run_dltool(env=env)
    assert res.returncode == 0, res.stderr
    return res.stdout.split()


def test_choice_options_complete_in_bash():
    assert _complete("dltool cnn train --model ") == [
        "lenet5", "alexnet", "vgg16", "resnet18", "resnet34", "resnet50", "googlenet"
    ]  # fmt: skip
    assert _complete("dltool cnn train --optimizer ") == ["adam", "sgd"]
    assert _complete("dltool cnn train --pretrained ") == ["efficientnet-lite0"]
    assert _complete("dltool cnn train --freeze n") == ["none"]
    assert _complete("dltool cnn train --augment mirror,c") == ["mirror,crop", "mirror,color"]
    assert _complete("dltool cnn conv x --filter sobel") == ["sobel-x", "sobel-y", "sobel"]
    assert _complete("dltool cnn summary res") == ["resnet18", "resnet34", "resnet50"]


@pytest.mark.parametrize("command", ["conv", "augment"])
def test_an_output_that_is_the_input_is_refused_and_the_input_kept(run, tmp_path, command):
    from skimage import data

    photo = tmp_path / "cat.png"
    Image.fromarray(data.chelsea()[::4, ::4]).save(photo)
    before = photo.read_bytes()
    extra = ("-n", "2", "--size", "32") if command == "augment" else ()
    _fail(run(command, str(photo), *extra, "-o", str(photo)), "is an input of this command")
    link = tmp_path / "link.png"
    link.symlink_to(photo)
    _fail(run(command, str(photo), *extra, "-o", str(link)), "is an input of this command")
    assert photo.read_bytes() == before
