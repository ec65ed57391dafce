"""The YOLO loss, AP/mAP on known cases, and train → resume → eval → detect on synth data."""

from __future__ import annotations

import json

import dltool_yolo
import numpy as np
import pytest
import torch
from dltool_yolo.cfg import parse_cfg, tiny_cfg
from dltool_yolo.darknet import Darknet
from dltool_yolo.evaluate import ImageResult, average_precision, evaluate
from dltool_yolo.loss import yolo_loss


@pytest.fixture
def app():
    from dltool.cli import create_app
    from dltool.plugins import PluginManager

    return create_app(PluginManager.from_modules({"yolo": dltool_yolo}))


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
    assert ap == pytest.approx(0.5 * 1.0 + 0.5 * 2 / 3)


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


def test_train_resume_eval_detect(app, invoke, tmp_path):
    data = tmp_path / "syn"
    assert invoke(app, "yolo", "synth", str(data), "--n", "12", "--size", "96").exit_code == 0
    run = tmp_path / "run"
    args = ["yolo", "train", "--data", str(data / "data.yaml"), "--batch-size", "4"]
    result = invoke(app, *args, "--epochs", "1", "--out", str(run))
    assert result.exit_code == 0, result.output
    for name in ("best.weights", "last.weights", "last.pt", "model.cfg", "curves.png"):
        assert (run / name).is_file(), name
    assert "mAP@0.5:" in result.stdout
    result = invoke(app, *args, "--epochs", "2", "--resume", str(run))
    assert result.exit_code == 0, result.output
    rows = [json.loads(ln) for ln in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2] and rows[1]["loss"] < rows[0]["loss"]
    yaml_path, best = str(data / "data.yaml"), str(run / "best.weights")
    result = invoke(
        app,
        "--json",
        "yolo",
        "eval",
        "--data",
        yaml_path,
        "--weights",
        best,
        "--out",
        str(tmp_path / "ev"),
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert 0.0 <= doc["map50_95"] <= doc["map50"] <= 1.0
    assert [r["class"] for r in doc["per_class"]] == ["circle", "square", "triangle", "cross"]
    assert (tmp_path / "ev" / "pr_curve.png").is_file()
    image = next((data / "images" / "val").glob("*.png"))
    files = ["--cfg", str(run / "model.cfg"), "--weights", str(run / "last.weights")]
    files += ["--names", str(run / "classes.names"), "--size", "128"]
    result = invoke(app, "yolo", "detect", str(image), *files, "--out", str(tmp_path / "d"))
    assert result.exit_code == 0 and "image 1/1" in result.stdout
    result = invoke(app, "yolo", "detect", str(image), *files[:4])
    assert result.exit_code == 1 and "predicts 4 classes: pass their names" in result.stderr


def test_eval_class_count_mismatch(app, invoke, tmp_path):
    data = tmp_path / "syn"
    assert invoke(app, "yolo", "synth", str(data), "--n", "4", "--size", "64").exit_code == 0
    (tmp_path / "m.cfg").write_text(tiny_cfg(2, 0.25, 64))
    from dltool_yolo.darknet import build, save_weights

    save_weights(build(tmp_path / "m.cfg"), tmp_path / "m.weights")
    files = ["--weights", str(tmp_path / "m.weights"), "--cfg", str(tmp_path / "m.cfg")]
    result = invoke(app, "yolo", "eval", "--data", str(data / "data.yaml"), *files)
    assert result.exit_code == 1 and "predicts 2 classes" in result.stderr
    missing = ["--weights", str(tmp_path / "nothere.weights")]
    result = invoke(app, "yolo", "eval", "--data", str(data / "data.yaml"), *missing)
    assert result.exit_code == 1 and "nothere.weights not found" in result.stderr


def test_resume_refuses_done_damaged_and_incomplete_runs(app, invoke, tmp_path):
    """Each broken --resume gives one error line, not a traceback."""
    run = tmp_path / "run"
    run.mkdir()
    keys = {"model": {}, "optimizer": {}, "epoch": 3, "best_map": 0.0, "params": {}}
    torch.save(keys, run / "last.pt")
    args = ["yolo", "train", "--data", str(tmp_path / "data.yaml"), "--resume", str(run)]
    result = invoke(app, *args, "--epochs", "3")
    assert result.exit_code == 1 and "trained 3 epoch(s) already" in result.stderr
    assert "Traceback" not in result.output
    result = invoke(app, *args, "--epochs", "5")
    assert result.exit_code == 1 and "cannot read" in result.stderr and "model.cfg" in result.stderr
    (run / "last.pt").write_bytes((run / "last.pt").read_bytes()[:200])
    result = invoke(app, *args, "--epochs", "5")
    assert result.exit_code == 1 and "not a readable checkpoint" in result.stderr
    torch.save([1, 2], run / "last.pt")
    result = invoke(app, *args, "--epochs", "5")
    assert result.exit_code == 1 and "not a dltool yolo checkpoint" in result.stderr


def test_resume_after_a_crash_repeats_the_unbroken_run(app, invoke, tmp_path, monkeypatch):
    """last.pt keeps the shuffle/flip generator: a resumed run draws what an unbroken one does."""
    import dltool_yolo.jobs as fit_module

    from dltool.errors import DltoolError

    data = tmp_path / "syn"
    assert invoke(app, "yolo", "synth", str(data), "--n", "10", "--size", "64").exit_code == 0
    args = ["yolo", "train", "--data", str(data / "data.yaml"), "--batch-size", "3"]
    args += ["--cfg-anchors", "--epochs", "3"]
    assert invoke(app, *args, "--out", str(tmp_path / "whole")).exit_code == 0
    score, calls = fit_module._score, []

    def crash_in_epoch_2(*a):
        calls.append(1)
        if len(calls) == 2:
            raise DltoolError("simulated crash in epoch 2")
        return score(*a)

    monkeypatch.setattr(fit_module, "_score", crash_in_epoch_2)
    result = invoke(app, *args, "--out", str(tmp_path / "broken"))
    assert result.exit_code == 1 and "simulated crash" in result.stderr
    monkeypatch.setattr(fit_module, "_score", score)
    result = invoke(app, *args, "--resume", str(tmp_path / "broken"))
    assert result.exit_code == 0, result.output

    def rows(run):
        return [
            json.loads(ln) for ln in (tmp_path / run / "metrics.jsonl").read_text().splitlines()
        ]

    assert [r["epoch"] for r in rows("broken")] == [1, 2, 3]
    for a, b in zip(rows("whole"), rows("broken"), strict=True):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-5)


def test_resume_refuses_changed_options(app, invoke, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    params = {"data": str(tmp_path / "data.yaml"), "lr": 0.002, "batch_size": 16, "cfg": "small"}
    keys = {"model": {}, "optimizer": {}, "epoch": 1, "best_map": 0.0, "params": params}
    torch.save(keys, run / "last.pt")
    (run / "model.cfg").write_text(tiny_cfg(4, 0.25, 64))
    args = ["yolo", "train", "--resume", str(run), "--epochs", "3"]
    result = invoke(app, *args, "--data", str(tmp_path / "other.yaml"), "--lr", "0.01")
    assert result.exit_code == 1 and "--resume continues" in result.stderr
    assert "--lr 0.01 (the run's: 0.002)" in result.stderr and "other.yaml" in result.stderr
    (tmp_path / "c.yaml").write_text("batch_size: 4\n")
    result = invoke(app, *args, "--data", str(tmp_path / "data.yaml"), "--config",
                    str(tmp_path / "c.yaml"))  # fmt: skip
    assert result.exit_code == 1 and "--batch-size 4 (the run's: 16)" in result.stderr
