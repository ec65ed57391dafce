"""Experiment logs per epoch: the console line, the time column and TensorBoard events."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys

import numpy as np
import pytest

from dltool import runlog, tensorboard
from dltool.runs import RunDir

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402


class Reporter:
    """Collects what the runs print through the command's reporter."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.warnings: list[str] = []

    def info(self, text: str) -> None:
        self.lines.append(text)

    def warn(self, text: str) -> None:
        self.warnings.append(text)


def _events(folder):
    """Return the run's TensorBoard events read back as TensorBoard reads them."""
    acc = EventAccumulator(str(folder / "tensorboard"), size_guidance={"images": 0})
    acc.Reload()
    return acc


def _train(run, epochs, first=1, steps=2):
    """Log a fake training: ``steps`` step rows then one epoch row per epoch (fixed numbers)."""
    for epoch in range(first, epochs + 1):
        for k in range(steps):
            run.log_metrics(step=(epoch - 1) * steps + k, loss=1.0 / (epoch + k))
        run.log_metrics(epoch=epoch, train_loss=1.0 / epoch, dev_acc=0.5 + epoch / 100, lr=1e-3)


def test_epoch_line_has_each_number_to_four_digits():
    row = {"epoch": 3, "train_loss": 0.41234, "box": 2, "dev_acc": 0.93111, "lr": 0.001}
    row |= {"name": "x", "time": 12.345}
    assert runlog.epoch_line(row, 10) == (
        "epoch 3/10  train_loss 0.4123  box 2  dev_acc 0.9311  lr 0.001  time 12.3s"
    )
    assert runlog.epoch_line({"epoch": 1, "loss": 123456.0}) == "epoch 1  loss 1.235e+05"
    assert runlog.curve_columns(["epoch", "loss", "time"], [["1", "0.5", "0.1"]]) == (
        "epoch",
        ["loss"],
    )  # curves.png has no time panel


def test_one_line_per_epoch_time_column_and_events(tmp_path):
    rep = Reporter()
    with runlog.recording(lambda: rep):
        run = RunDir.create("p", "train", tmp_path / "r")
        run.write_config({"epochs": 3, "lr": 1e-3})
        _train(run, 3)
        run.log_images("predictions", np.full((2, 4, 5, 3), 200, np.uint8), step=3)
    assert len(rep.lines) == 3 and not rep.warnings
    for epoch, line in enumerate(rep.lines, 1):
        assert re.fullmatch(
            rf"epoch {epoch}/3  train_loss \S+  dev_acc \S+  lr 0\.001  time \d+\.\ds", line
        ), line
    assert "dev_acc 0.52  " in rep.lines[1]
    with (tmp_path / "r" / "results.csv").open(newline="") as f:
        table = list(csv.DictReader(f))
    assert list(table[0]) == ["step", "loss", "time", "epoch", "train_loss", "dev_acc", "lr"]
    times = [float(r["time"]) for r in table]
    assert times == sorted(times) and times[0] >= 0
    acc = _events(tmp_path / "r")
    assert sorted(acc.Tags()["scalars"]) == sorted(["loss", "time", "train_loss", "dev_acc", "lr"])
    epochs = [r for r in table if r["epoch"]]
    assert [(e.step, e.value) for e in acc.Scalars("train_loss")] == [
        (int(r["epoch"]), pytest.approx(float(r["train_loss"]))) for r in epochs
    ]
    assert [e.step for e in acc.Scalars("loss")] == [0, 1, 2, 3, 4, 5]
    (image,) = acc.Images("predictions")
    assert (image.step, image.width, image.height) == (3, 2 * 5, 4)  # one grid of the 2


def test_resume_goes_on_in_time_and_in_a_new_events_file(tmp_path):
    rep = Reporter()
    with runlog.recording(lambda: rep):
        run = RunDir.create("p", "train", tmp_path / "r")
        run.write_config({"epochs": 4})
        _train(run, 3, steps=0)
    with runlog.recording(lambda: rep):
        again = RunDir(tmp_path / "r")  # --resume from the checkpoint of epoch 2
        again.drop_rows_after("epoch", 2)
        _train(again, 4, first=3, steps=0)
    assert [line.split("  ")[0] for line in rep.lines] == [
        "epoch 1/4", "epoch 2/4", "epoch 3/4", "epoch 3/4", "epoch 4/4",
    ]  # fmt: skip
    rows = [json.loads(x) for x in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4]
    assert rows[2]["time"] >= rows[1]["time"]  # the resumed run goes on from epoch 2's time
    assert len(list((tmp_path / "r" / "tensorboard").glob("events.out.tfevents.*"))) == 2
    acc = _events(tmp_path / "r")
    assert [e.step for e in acc.Scalars("train_loss")] == [1, 2, 3, 4]  # the old 3 purged


def test_a_run_written_over_another_drops_its_events(tmp_path):
    with runlog.recording(Reporter):
        run = RunDir.create("p", "train", tmp_path / "r")
        run.write_config({"epochs": 2})
        _train(run, 2, steps=0)
    with runlog.recording(Reporter):
        run = RunDir.create("p", "train", tmp_path / "r", exist_ok=True)
        run.write_config({"epochs": 1})
        run.log_metrics(epoch=1, other=2.0)
    assert len(list((tmp_path / "r" / "tensorboard").glob("events.out.tfevents.*"))) == 1
    assert _events(tmp_path / "r").Tags()["scalars"] == ["other", "time"]


def test_a_failed_start_takes_its_events_along(tmp_path):
    """A run whose command removed it (no config.yaml left) leaves no tensorboard/ folder."""
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine\n")
    with runlog.recording(Reporter):
        run = RunDir.create("p", "train", folder, exist_ok=True)
        run.log_metrics(epoch=1, loss=1.0)
    assert sorted(p.name for p in folder.iterdir()) == ["metrics.jsonl", "notes.txt"]


def test_without_tensorboard_one_warning_and_the_logs_go_on(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard.summary.writer.event_file_writer", None)
    monkeypatch.setattr(tensorboard, "_WARNED", set())
    rep = Reporter()
    with runlog.recording(lambda: rep):
        for name in ("a", "b"):
            run = RunDir.create("p", "train", tmp_path / name)
            run.write_config({"epochs": 2})
            _train(run, 2)
            run.log_images("sample", np.zeros((1, 2, 2, 3)), step=2)
    assert len(rep.warnings) == 1 and "tensorboard is not installed" in rep.warnings[0]
    assert len(rep.lines) == 4 and rep.lines[-1].startswith("epoch 2/2  train_loss 0.5")
    assert (tmp_path / "b" / "results.csv").is_file()
    assert not (tmp_path / "a" / "tensorboard").exists()


NO_TORCH = """
import sys
import numpy as np
from dltool import runlog
from dltool.runs import RunDir
with runlog.recording():
    run = RunDir.create("p", "train", sys.argv[1])
    run.write_config({"epochs": 2})
    for epoch in (1, 2):
        run.log_metrics(epoch=epoch, loss=1.0 / epoch)
    run.log_images("sample", np.zeros((2, 3, 3), np.float32), step=2)
print(",".join(m for m in ("torch", "tensorflow") if m in sys.modules))
"""


def test_events_are_written_without_importing_torch(tmp_path):
    """A NumPy-only command (basicnn train) must not pay torch's import for its events."""
    proc = subprocess.Popen(
        [sys.executable, "-c", NO_TORCH, str(tmp_path / "r")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("the logging script hung")
    assert proc.returncode == 0, err
    assert out.strip() == ""  # neither torch nor tensorflow was imported
    acc = _events(tmp_path / "r")
    assert [e.step for e in acc.Scalars("loss")] == [1, 2]
    assert acc.Images("sample")[0].width == 2 * 3  # grayscale floats, one grid


def test_log_images_refuses_a_wrong_shape(tmp_path):
    run = RunDir.create("p", "train", tmp_path / "r")
    with pytest.raises(ValueError, match=r"\(N, H, W, 3\)"):
        run.log_images("sample", np.zeros((2, 3)), step=0)


def test_a_command_prints_one_line_per_epoch_and_quiet_none(cli, tmp_path):
    args = ["basicnn", "train", "--dataset", "moons", "--epochs", "4"]
    res = cli(*args, "--out", tmp_path / "a")
    assert res.exit_code == 0, res.stderr
    rows = [json.loads(x) for x in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4]
    lines = [x for x in res.stderr.splitlines() if x.startswith("epoch ")]
    assert lines == [runlog.epoch_line(r, 4) for r in rows]
    assert lines[0].startswith("epoch 1/4  cost ") and lines[0].endswith("s")
    columns = {k for r in rows for k in r} - {"epoch"}
    assert sorted(_events(tmp_path / "a").Tags()["scalars"]) == sorted(columns)
    quiet = cli("--quiet", *args, "--out", tmp_path / "q")
    assert quiet.exit_code == 0 and "epoch" not in quiet.stderr
