"""Experiment logs from the core: results.csv, curves.png, run.json and `dltool runs`."""

from __future__ import annotations

import csv
import json

import pytest

from dltool import runlog
from dltool.runs import RunDir

TEXT = "the cat sat on the mat. the dog sat on the log.\n" * 20
RNN = ["--hidden", "8", "--seq-len", "16", "--batch-size", "8", "--sample-every", "0"]


def _csv(path):
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def _same_rows(folder):
    """Assert results.csv holds metrics.jsonl's rows under the union of their keys."""
    rows, table = _jsonl(folder / "metrics.jsonl"), _csv(folder / "results.csv")
    assert len(table) == len(rows) > 0
    assert list(table[0]) == runlog.header_of(rows)
    for row, line in zip(rows, table, strict=True):
        for key, value in row.items():
            assert float(line[key]) == pytest.approx(float(value)), key
    return rows, table


def test_basicnn_train_writes_results_csv_curves_and_run_json(cli, tmp_path):
    out = tmp_path / "b"
    args = ["--quiet", "basicnn", "train", "--dataset", "moons", "--epochs", "300", "--out", out]
    res = cli(*args)
    assert res.exit_code == 0, res.stderr
    rows, _ = _same_rows(out)
    assert rows[-1]["epoch"] == 300
    assert (out / "curves.png").read_bytes()[:4] == b"\x89PNG"
    record = json.loads((out / "run.json").read_text())
    assert record["plugin"] == "basicnn" and record["command"] == "train"
    assert record["status"] == "finished" and record["epochs"] == 300
    assert record["started"] <= record["finished"]


def test_rnn_train_writes_results_csv_and_curves(cli, tmp_path):
    text = tmp_path / "cats.txt"
    text.write_text(TEXT)
    out = tmp_path / "r"
    res = cli("--quiet", "rnn", "train", text, *RNN, "--epochs", "2", "--out", out)
    assert res.exit_code == 0, res.stderr
    _, table = _same_rows(out)
    assert {"epoch", "train_loss", "val_loss", "lr", "time"} <= table[0].keys()  # epoch rows
    assert (out / "curves.png").stat().st_size > 0
    assert json.loads((out / "run.json").read_text())["status"] == "finished"


def test_a_new_key_widens_the_header_and_resume_rebuilds(tmp_path):
    run = RunDir.create("p", "c", tmp_path / "x")
    run.write_config({"epochs": 3})
    run.log_metrics(epoch=1, loss=2.0)
    run.log_metrics(epoch=2, loss=1.5)
    run.log_metrics(epoch=3, loss=1.0, map50=0.25)
    table = _csv(tmp_path / "x" / "results.csv")
    assert list(table[0]) == ["epoch", "loss", "time", "map50"]  # time: added by the core
    assert [r["map50"] for r in table] == ["", "", "0.25"]
    run.best("map50", 0.25)
    run.best("map50", 0.1)  # not better
    run.finish("interrupted")
    record = runlog.read_record(tmp_path / "x")
    assert record["status"] == "interrupted" and record["epochs"] == 3
    assert record["best"] == {"metric": "map50", "value": 0.25, "mode": "max"}
    assert (tmp_path / "x" / "curves.png").is_file()

    again = RunDir(tmp_path / "x")  # --resume from the checkpoint of epoch 2
    again.drop_rows_after("epoch", 2)
    assert [r["epoch"] for r in _csv(tmp_path / "x" / "results.csv")] == ["1", "2"]
    again.log_metrics(epoch=3, loss=0.9)
    again.finish("finished")
    assert [r["loss"] for r in _csv(tmp_path / "x" / "results.csv")] == ["2.0", "1.5", "0.9"]
    record = runlog.read_record(tmp_path / "x")
    assert record["status"] == "finished" and record["resumed"] and record["best"]["value"] == 0.25


@pytest.mark.parametrize(
    "exc,status",
    [(None, "finished"), (KeyboardInterrupt(), "interrupted"), (RuntimeError(), "failed")],
)
def test_recording_gives_each_exit_its_status(tmp_path, exc, status):
    with pytest.raises(type(exc)) if exc else _nothing(), runlog.recording():
        run = RunDir.create("p", "c", tmp_path / "x")
        run.write_config({"epochs": 1})
        assert runlog.read_record(tmp_path / "x")["status"] == "running"
        run.log_metrics(step=1, loss=1.0)
        if exc:
            raise exc
    assert runlog.read_record(tmp_path / "x")["status"] == status


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_a_failed_start_leaves_no_run_folder(cli, tmp_path):
    res = cli("basicnn", "train", "--dataset", "csv", "--data", tmp_path / "missing.csv")
    assert res.exit_code in (1, 2)
    assert not list((tmp_path / "runs").rglob("run.json"))


def test_runs_lists_newest_first_and_shows_one(cli, tmp_path):
    from conftest import check_failure

    for epochs in ("20", "30"):
        res = cli("--quiet", "basicnn", "train", "--dataset", "moons", "--epochs", epochs)
        assert res.exit_code == 0, res.stderr
    first = tmp_path / "runs" / "basicnn" / "train" / "1"
    record = json.loads((first / "run.json").read_text())
    (first / "run.json").write_text(json.dumps({**record, "started": "2000-01-01T00:00:00+0000"}))
    doc = json.loads(cli("runs", "--json").stdout)["runs"]
    assert [(r["run"], r["epochs"], r["status"]) for r in doc] == [
        ("2", 30, "finished"),
        ("1", 20, "finished"),
    ]
    assert doc[0]["plugin"] == "basicnn" and doc[0]["command"] == "train"
    shown = json.loads(cli("runs", "show", "basicnn/train/2", "--json").stdout)
    assert {"option": "epochs", "value": 30} in shown["config"]
    assert {"metric": "epoch", "value": 30} in shown["metrics"]
    assert shown["run"][0]["path"].endswith("2")
    table = cli("runs")
    assert table.exit_code == 0 and "basicnn" in table.stdout and "finished" in table.stdout
    check_failure(cli("runs", "show", tmp_path / "nope"), "does not exist")
    check_failure(cli("runs", "show", tmp_path), "holds no config.yaml")


def test_runs_with_no_runs_says_so(cli):
    res = cli("runs")
    assert res.exit_code == 0 and "no runs under" in res.stdout
