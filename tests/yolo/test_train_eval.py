"""The YOLO loss, AP/mAP on known cases, and synth → train → resume → evaluate → detect."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from dltool_yolo.cfg import parse_cfg, tiny_cfg
from dltool_yolo.darknet import Darknet
from dltool_yolo.evaluate import ImageResult, average_precision, evaluate
from dltool_yolo.loss import yolo_loss


def tiny(classes=2, size=64):
    torch.manual_seed(0)
    return Darknet(parse_cfg(tiny_cfg(classes, width=0.25, size=size, anchors=ANCHORS)))


ANCHORS = "4,4, 8,8, 12,12, 16,16, 24,24, 32,32"


def test_loss_gradient_vanishes_at_the_targets():
    """With logits set to the targets, d loss / d(t_x, t_y, t_w, t_h) is 0 at the matched cell."""
    model = tiny()
    target = torch.tensor([[0.0, 1.0, 0.30, 0.55, 0.25, 0.25]])  # 16×16 box: anchor 3 = head 0
    outs = [torch.zeros(1, 21, 2, 2), torch.zeros(1, 21, 4, 4)]
    cell = outs[0].view(1, 3, 7, 2, 2)[0, 0, :, 1, 0]  # anchor 3 → index 0 of head 0; (gj, gi)
    tx, ty = 0.30 * 2 - 0, 0.55 * 2 - 1
    cell[0], cell[1] = torch.logit(torch.tensor(tx)), torch.logit(torch.tensor(ty))
    cell[2] = cell[3] = 0.0  # ln(16/16)
    outs = [o.requires_grad_() for o in outs]
    loss, parts = yolo_loss(model, outs, target)
    loss.backward()
    grad = outs[0].grad.view(1, 3, 7, 2, 2)[0, 0, :, 1, 0]
    torch.testing.assert_close(grad[:4], torch.zeros(4), atol=1e-6, rtol=0)
    assert grad[4] < 0 and grad[6] < 0 < grad[5]  # raise objectness and class 1, lower class 0
    assert parts["box"] > 0 and parts["obj"] > 0 and parts["cls"] > 0


def test_overfits_one_image():
    model = tiny()
    x = torch.rand(1, 3, 64, 64)
    target = torch.tensor([[0.0, 0.0, 0.5, 0.5, 0.3, 0.2], [0.0, 1.0, 0.2, 0.8, 0.15, 0.15]])
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(40):
        loss, _ = yolo_loss(model, model(x), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0]


def test_average_precision_known_values():
    assert average_precision(np.array([0.5, 1.0]), np.array([1.0, 1.0])) == 1.0
    # ranked TP, FP, TP with 2 truths: recall .5,.5,1; precision 1,.5,.667
    ap = average_precision(np.array([0.5, 0.5, 1.0]), np.array([1.0, 0.5, 2 / 3]))
    assert ap == pytest.approx((51 * 1.0 + 50 * 2 / 3) / 101)  # COCO: 101 recall points


def test_evaluate_thresholds_and_classes():
    gt = np.array([[0, 0, 10, 10], [20, 20, 30, 30.0]])
    shifted = np.array([[0, 0, 10, 10], [22, 20, 32, 30.0]])  # second IoU = 80/120 = 0.667
    r = ImageResult(shifted, np.array([0.9, 0.8]), np.array([0, 1]), gt, np.array([0, 1]))
    out = evaluate([r], 3)
    assert out["ap"][0].tolist() == [1.0] * 10
    np.testing.assert_array_equal(out["ap"][1], [1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    assert np.isnan(out["ap"][2]).all()  # no truths of class 2: not counted
    assert out["map50"] == 1.0 and out["map50_95"] == pytest.approx((10 + 4) / 20)
    wrong = ImageResult(gt, np.array([0.9, 0.8]), np.array([1, 0]), gt, np.array([0, 1]))
    assert evaluate([wrong], 2)["map50"] == 0.0


@pytest.fixture(scope="module")
def trained(app, tmp_path_factory):
    """A synth dataset (12 images, 96 px) and a 1-epoch run of `yolo train` on it."""
    from typer.testing import CliRunner

    root = tmp_path_factory.mktemp("yolo_trained")
    runner = CliRunner()
    for args in (
        ["yolo", "synth", root / "syn", "--n", "12", "--size", "96"],
        ["yolo", "train", "--data", root / "syn" / "data.yaml", "--batch-size", "4",
         "--epochs", "1", "--out", root / "run"],
    ):  # fmt: skip
        result = runner.invoke(app, [str(a) for a in args], prog_name="dltool")
        assert result.exit_code == 0, result.output
    return root / "syn" / "data.yaml", root / "run"


@pytest.fixture
def run(trained, tmp_path):
    """A copy of the trained run, free to resume or damage."""
    return shutil.copytree(trained[1], tmp_path / "run")


def metrics(run):
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def cocoeval_map(folder):
    """Return pycocotools' AP@0.5 of an evaluate run's predictions.json on its ground_truth.json."""
    import contextlib
    import io

    pytest.importorskip("pycocotools")
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(folder / "ground_truth.json"))
        ev = COCOeval(gt, gt.loadRes(str(folder / "predictions.json")), "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats[1]


def test_synth_train_resume_evaluate_detect(cli, trained, run, tmp_path):
    """--resume RUN needs only --epochs; evaluate and detect take the run folder itself."""
    data, _ = trained
    for name in ("best.weights", "last.weights", "last.pt", "model.cfg", "curves.png",
                 "confusion_matrix.png"):  # fmt: skip
        assert (run / name).is_file(), name
    result = cli("yolo", "train", "--resume", run, "--epochs", "2")
    assert result.exit_code == 0, result.output
    rows = metrics(run)
    assert [r["epoch"] for r in rows] == [1, 2] and rows[1]["loss"] < rows[0]["loss"]
    assert all(0.0 <= r["precision"] <= 1.0 and 0.0 <= r["recall"] <= 1.0 for r in rows)
    assert "epochs: 2" in (run / "config.yaml").read_text()
    result = cli("--json", "yolo", "evaluate", "--data", data, "--weights", run,
                 "--out", tmp_path / "ev")  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert 0.0 <= doc["map50_95"] <= doc["map50"] <= 1.0
    assert [r["class"] for r in doc["per_class"]] == ["circle", "square", "triangle", "cross"]
    assert (tmp_path / "ev" / "pr_curve.png").is_file()
    assert (tmp_path / "ev" / "confusion_matrix.png").is_file()
    assert 0.0 <= doc["precision"] <= 1.0 and 0.0 <= doc["recall"] <= 1.0
    assert cocoeval_map(tmp_path / "ev") == pytest.approx(doc["map50"], abs=1e-3)
    old = cli("--json", "yolo", "eval", "--data", data, "--weights", run / "best.weights",
              "--out", tmp_path / "ev2")  # fmt: skip
    assert old.exit_code == 0 and json.loads(old.stdout)["map50"] == doc["map50"]
    image = next((data.parent / "images" / "val").glob("*.png"))
    result = cli("yolo", "detect", image, "--weights", run, "--out", tmp_path / "d")
    assert result.exit_code == 0 and "image 1/1" in result.stdout, result.output
    assert "at shape (1, 3, 128, 128)" in result.stdout  # the run's own input size
    assert "size: 128" in (tmp_path / "d" / "config.yaml").read_text()
    result = cli("--json", "yolo", "detect", image, "--weights", run, "--score-threshold",
                 "0.001", "--out", tmp_path / "j")  # fmt: skip
    found = {d["class"] for d in json.loads(result.stdout)["images"][0]["detections"]}
    assert found and found <= {"circle", "square", "triangle", "cross"}  # the run's names


def test_detect_weights_without_names_of_a_non_coco_model(cli, fails, run, tmp_path):
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(run / "last.weights", alone / "w.weights")
    image = tmp_path / "x.png"
    from PIL import Image

    Image.new("RGB", (40, 30)).save(image)
    result = cli("yolo", "detect", image, "--weights", alone / "w.weights")
    fails(result, "no cfg for")
    result = cli("yolo", "detect", image, "--weights", alone / "w.weights",
                 "--cfg", run / "model.cfg")  # fmt: skip
    fails(result, "predicts 4 classes: pass their names with --names")
    fails(cli("yolo", "detect", image, "--weights", tmp_path), "holds no config.yaml")


def test_detect_refuses_non_finite_weights(cli, fails, run, tmp_path):
    from dltool_yolo.darknet import build, load_weights, save_weights

    model = build(run / "model.cfg")
    load_weights(model, run / "best.weights")
    with torch.no_grad():
        model.convs()[0].conv.weight[0, 0, 0, 0] = float("nan")
    save_weights(model, run / "best.weights")
    image = tmp_path / "x.png"
    from PIL import Image

    Image.new("RGB", (40, 30)).save(image)
    fails(cli("yolo", "detect", image, "--weights", run), "holds NaN or inf")


def test_resume_drops_rows_logged_after_last_pt_and_a_half_written_line(cli, run):
    """A run killed after logging epoch 2 but before its last.pt resumes from epoch 1."""
    lines = (run / "metrics.jsonl").read_text()
    late = json.dumps(metrics(run)[0] | {"epoch": 2, "loss": 123.0})
    (run / "metrics.jsonl").write_text(lines + late + "\n" + '{"epoch": 3, "lo')
    result = cli("yolo", "train", "--resume", run, "--epochs", "2")
    assert result.exit_code == 0, result.output
    rows = metrics(run)
    assert [r["epoch"] for r in rows] == [1, 2] and rows[1]["loss"] != 123.0


def test_training_report_passes_over_lines_that_are_not_metric_rows(tmp_path):
    from dltool_yolo.jobs import _metric_rows

    path = tmp_path / "metrics.jsonl"
    good = {"epoch": 1, "loss": 2.0, "map50": 0.1, "map50_95": 0.05}
    path.write_text(
        json.dumps(good) + '\n{"epoch": 2, "lo\n[1]\n\n' + json.dumps(good | {"epoch": 2})
    )
    assert [r["epoch"] for r in _metric_rows(path)] == [1, 2]


def test_resume_refuses_changed_options_by_flag(cli, fails, trained, run, tmp_path):
    data, _ = trained
    args = ["yolo", "train", "--resume", run, "--epochs", "3"]
    fails(cli(*args, "--lr", "0.01"), "--lr 0.01 differs from the resumed run's 0.002")
    other = tmp_path / "other.yaml"
    other.write_text(data.read_text())
    fails(cli(*args, "--data", other), "--data")
    (tmp_path / "c.yaml").write_text("batch_size: 2\n")
    fails(cli(*args, "--config", tmp_path / "c.yaml"), "--batch-size 2 differs")
    assert [r["epoch"] for r in metrics(run)] == [1]
    result = cli("yolo", "train", "--resume", run, "--epochs", "2", "--data", data, "--lr", "2e-3")
    assert result.exit_code == 0, result.output  # the same values again are no change


class Payload:
    """Unpickling this runs os.makedirs(marker): what a crafted checkpoint could run."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        import os

        return (os.makedirs, (self.marker,))


def test_resume_runs_no_code_from_a_crafted_checkpoint(cli, fails, run, tmp_path):
    marker = tmp_path / "pwned"
    state = torch.load(run / "last.pt", weights_only=True)
    torch.save(state | {"extra": Payload(marker)}, run / "last.pt")
    result = cli("yolo", "train", "--resume", run, "--epochs", "2")
    fails(result, "refused, as loading it could run code")
    assert not marker.exists()


def test_resume_refuses_done_damaged_and_incomplete_runs(cli, fails, run):
    """Each broken --resume gives one error line and one hint, not a traceback."""
    args = ["yolo", "train", "--resume", run]
    fails(cli(*args, "--epochs", "1"), "has trained 1 epoch(s) already")
    (run / "model.cfg").rename(run / "moved.cfg")
    fails(cli(*args, "--epochs", "5"), "model.cfg to resume")
    (run / "moved.cfg").rename(run / "model.cfg")
    torch.save([1, 2], run / "last.pt")
    fails(cli(*args, "--epochs", "5"), "is not a yolo training checkpoint")
    (run / "last.pt").write_bytes(b"PK\x03\x04 truncated")
    fails(cli(*args, "--epochs", "5"), "is not a yolo training checkpoint")
    (run / "last.pt").unlink()
    fails(cli(*args, "--epochs", "5"), "holds no last.pt")
    fails(cli("yolo", "train", "--epochs", "5"), "give --data")
    fails(cli("yolo", "train", "--resume", run.parent / "nothere", "--epochs", "5"), "nothere")


@pytest.mark.parametrize(("lr", "code"), [("nan", 1), ("0", 1), ("inf", 2), ("-1", 2)])
def test_train_refuses_meaningless_learning_rates(cli, fails, trained, tmp_path, lr, code):
    data, _ = trained
    result = cli("yolo", "train", "--data", data, "--lr", lr, "--out", tmp_path / "r")
    if code == 1:
        fails(result, f"--lr must be a positive finite number, got {float(lr)}")
    else:
        assert result.exit_code == 2 and "Invalid value for '--lr'" in result.stderr
    assert not (tmp_path / "r").exists()


def test_non_finite_loss_stops_training_keeping_the_last_checkpoint(
    cli, fails, trained, tmp_path, monkeypatch
):
    import dltool_yolo.jobs as jobs

    from dltool.checkpoints import load_torch

    data, _ = trained
    loss, calls = jobs.yolo_loss, []

    def nan_in_epoch_2(model, out, targets):
        calls.append(1)
        value, parts = loss(model, out, targets)
        return (value * float("nan"), parts) if len(calls) > 3 else (value, parts)

    monkeypatch.setattr(jobs, "yolo_loss", nan_in_epoch_2)  # 10 train images: 3 steps/epoch
    out = tmp_path / "r"
    result = cli("yolo", "train", "--data", data, "--batch-size", "4", "--epochs", "3",
                 "--out", out)  # fmt: skip
    fails(result, "the loss became nan at epoch 2, step 1: training stopped")
    assert "last.pt keeps epoch 1" in result.stderr
    assert load_torch(out / "last.pt", jobs.CHECKPOINT, "ckpt")["epoch"] == 1
    assert [r["epoch"] for r in metrics(out)] == [1]


def test_train_and_anchors_refuse_a_dataset_without_labels(cli, fails, trained, tmp_path):
    """A data.yaml whose labels/ folder is missing: the same one line from train and anchors."""
    data, _ = trained
    copy_ = shutil.copytree(data.parent, tmp_path / "syn")
    shutil.rmtree(copy_ / "labels")
    message = "none of the 10 train images has a label file"
    trained_ = cli("yolo", "train", "--data", copy_ / "data.yaml", "--out", tmp_path / "r")
    anchors = cli("yolo", "anchors", copy_ / "data.yaml", "--out", tmp_path / "a")
    fails(trained_, message)
    fails(anchors, message)
    assert trained_.stderr == anchors.stderr
    assert not (tmp_path / "r").exists() and not (tmp_path / "a").exists()


def test_resume_after_a_crash_repeats_the_unbroken_run(cli, trained, tmp_path, monkeypatch):
    """Shuffles and flips depend on (seed, epoch, image): a resumed run draws the unbroken one's."""
    import dltool_yolo.jobs as jobs

    from dltool.errors import DltoolError

    data, _ = trained
    args = ["yolo", "train", "--data", data, "--batch-size", "3", "--cfg-anchors", "--epochs", "3"]
    assert cli(*args, "--out", tmp_path / "whole").exit_code == 0
    score, calls = jobs._score, []

    def crash_in_epoch_2(*a):
        calls.append(1)
        if len(calls) == 2:
            raise DltoolError("simulated crash in epoch 2")
        return score(*a)

    monkeypatch.setattr(jobs, "_score", crash_in_epoch_2)
    result = cli(*args, "--out", tmp_path / "broken")
    assert result.exit_code == 1 and "simulated crash" in result.stderr
    monkeypatch.setattr(jobs, "_score", score)
    result = cli("yolo", "train", "--resume", tmp_path / "broken", "--epochs", "3")
    assert result.exit_code == 0, result.output
    assert [r["epoch"] for r in metrics(tmp_path / "broken")] == [1, 2, 3]
    for a, b in zip(metrics(tmp_path / "whole"), metrics(tmp_path / "broken"), strict=True):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-5)


def test_evaluate_class_count_mismatch(cli, fails, trained, tmp_path):
    data, _ = trained
    (tmp_path / "m.cfg").write_text(tiny_cfg(2, 0.25, 64))
    from dltool_yolo.darknet import build, save_weights

    save_weights(build(tmp_path / "m.cfg"), tmp_path / "m.weights")
    files = ["--weights", tmp_path / "m.weights", "--cfg", tmp_path / "m.cfg"]
    fails(cli("yolo", "evaluate", "--data", data, *files), "predicts 2 classes")
    missing = ["--weights", tmp_path / "nothere.weights"]
    fails(cli("yolo", "evaluate", "--data", data, *missing), "nothere.weights not found")


def test_train_on_an_unreadable_image_leaves_no_run_folder(cli, fails, trained, tmp_path):
    data, _ = trained
    copy_ = shutil.copytree(data.parent, tmp_path / "syn")
    next((copy_ / "images" / "train").glob("*.png")).write_bytes(b"not a png")
    result = cli("yolo", "train", "--data", copy_ / "data.yaml", "--out", tmp_path / "r")
    fails(result, "is not an image Pillow can read")
    assert not (tmp_path / "r").exists()


def test_train_starts_from_the_weights_of_a_run(cli, trained, tmp_path):
    """--weights of train takes a training run too (its best.weights), like detect's."""
    data, run = trained
    args = ["yolo", "train", "--data", data, "--batch-size", "4", "--epochs", "1"]
    result = cli(*args, "--weights", run, "--out", tmp_path / "r")
    assert result.exit_code == 0, result.output
    first = metrics(run)[0]["loss"]
    assert metrics(tmp_path / "r")[0]["loss"] < first  # it goes on from trained weights
