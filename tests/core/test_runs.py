"""The run lifecycle of the core: never replacing a run, the one resume rule, safe checkpoints."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from dltool import checkpoints
from dltool.errors import DltoolError
from dltool.runs import RunDir, find_run, read_config, resume_options


def test_out_holding_a_run_is_refused_unless_exist_ok(tmp_path):
    first = RunDir.create("p", "c", tmp_path / "run")
    first.write_config({"lr": 0.1})
    with pytest.raises(DltoolError, match="already holds a run") as err:
        RunDir.create("p", "c", tmp_path / "run")
    assert "--exist-ok" in err.value.hint
    again = RunDir.create("p", "c", tmp_path / "run", exist_ok=True)
    assert again.path == tmp_path / "run" and not again.created
    (tmp_path / "file").write_text("x")
    with pytest.raises(DltoolError, match="is a file"):
        RunDir.create("p", "c", tmp_path / "file")
    with pytest.raises(DltoolError, match="lies under .*file, a file"):
        RunDir.create("p", "c", tmp_path / "file" / "run")


def test_find_run_takes_a_folder_a_file_inside_or_a_number(tmp_path):
    run = RunDir.create("p", "c")
    run.write_config({"epochs": 2, "lr": 0.1})
    (run.path / "last.pt").write_bytes(b"x")
    number = run.path.name
    assert find_run(run.path, "p", "c") == run.path
    assert find_run(run.path / "last.pt", "p", "c") == run.path
    assert find_run(number, "p", "c") == run.path
    with pytest.raises(DltoolError, match="does not exist"):
        find_run(tmp_path / "nope", "p", "c")
    assert read_config(run.path) == {"epochs": 2, "lr": 0.1}


def test_resume_keeps_the_run_options_and_refuses_changes_by_name():
    saved = {"epochs": 2, "lr": 0.1, "model": "lenet5"}
    params = {"epochs": 5, "lr": 0.001, "model": "lenet5", "resume": "runs/x"}
    resumed = resume_options(saved, params, {"epochs": "--epochs", "resume": "--resume"})
    assert resumed["epochs"] == 5 and resumed["lr"] == 0.1
    with pytest.raises(DltoolError, match="--lr 0.001 differs from the resumed run's 0.1"):
        resume_options(saved, params, {"lr": "--lr"})
    same = resume_options(saved, {**params, "lr": 0.1}, {"lr": "--lr"})  # same value: fine
    assert same["epochs"] == 2


def test_npz_checkpoints_round_trip_and_refuse_other_files(tmp_path):
    arrays = {"W1": np.arange(6.0).reshape(2, 3)}
    checkpoints.save_npz(tmp_path / "m.npz", arrays, {"layers": [3, 2]}, "t/1")
    got, meta = checkpoints.load_npz(tmp_path / "m.npz", "t/1", "test model")
    np.testing.assert_array_equal(got["W1"], arrays["W1"])
    assert meta == {"format": "t/1", "layers": [3, 2]}
    with pytest.raises(DltoolError, match="format 't/1', expected 'u/1'"):
        checkpoints.load_npz(tmp_path / "m.npz", "u/1", "test model")
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    os.replace(tmp_path / "obj.npy", tmp_path / "obj.npz")
    with pytest.raises(DltoolError, match="is not a test model"):
        checkpoints.load_npz(tmp_path / "obj.npz", "t/1", "test model")


class _Payload:
    def __reduce__(self):
        return (os.system, ("touch " + os.environ["DLTOOL_PWNED"],))


def test_torch_checkpoint_with_code_is_refused_and_runs_nothing(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    monkeypatch.setenv("DLTOOL_PWNED", str(marker))
    torch.save({"format": "t/1", "model": {}, "extra": _Payload()}, tmp_path / "evil.pt")
    with pytest.raises(DltoolError, match="refused, as loading it could run code"):
        checkpoints.load_torch(tmp_path / "evil.pt", "t/1", "test checkpoint")
    assert not marker.exists()
    checkpoints.save_torch(tmp_path / "ok.pt", {"model": {"w": torch.ones(2)}, "epoch": 3}, "t/1")
    state = checkpoints.load_torch(tmp_path / "ok.pt", "t/1", "test checkpoint")
    assert state["epoch"] == 3 and torch.equal(state["model"]["w"], torch.ones(2))
    (tmp_path / "junk.pt").write_bytes(b"hello")
    with pytest.raises(DltoolError, match="junk.pt is not a test checkpoint"):
        checkpoints.load_torch(tmp_path / "junk.pt", "t/1", "test checkpoint")
    with pytest.raises(DltoolError, match="NaN or inf"):
        checkpoints.require_finite({"w": torch.tensor([1.0, float("nan")])}, "f", "test")


def test_failed_start_leaves_no_run_folder(tmp_path, monkeypatch, invoke, fake_app):
    from dltool.context import Session

    session = Session()
    run = session.run_dir("p", "c")
    run.write_config({"a": 1})
    session.discard_failed_runs()
    assert not run.path.exists()
    kept = session.run_dir("p", "c", tmp_path / "kept")
    kept.write_config({"a": 1})
    (kept.path / "last.pt").write_bytes(b"x")
    session.discard_failed_runs()
    assert (kept.path / "config.yaml").exists()


def test_resumed_rows_after_the_checkpoint_are_dropped(tmp_path):
    run = RunDir(tmp_path)
    rows = [{"epoch": 1}, {"epoch": 2}, {"epoch": 3}]
    (tmp_path / "metrics.jsonl").write_text(
        "".join(f'{{"epoch": {r["epoch"]}}}\n' for r in rows) + '{"epoch": 4'
    )
    run.drop_rows_after("epoch", 2)
    assert (tmp_path / "metrics.jsonl").read_text() == '{"epoch": 1}\n{"epoch": 2}\n'


def test_finite_float_refuses_nan_inf_and_the_open_bound():
    import typer
    from typer.testing import CliRunner

    from dltool.commands import positive_float

    app = typer.Typer()

    @app.command()
    def main(lr: float = typer.Option(0.1, "--lr", click_type=positive_float(), help="rate")):
        print(lr)

    runner = CliRunner()
    assert runner.invoke(app, ["--lr", "0.5"]).stdout.strip() == "0.5"
    for bad in ("0", "-1", "nan", "inf", "-inf"):
        assert runner.invoke(app, ["--lr", bad]).exit_code == 2, bad


def test_positive_float_takes_an_upper_bound():
    import typer
    from typer.testing import CliRunner

    from dltool.commands import positive_float

    app = typer.Typer()

    @app.command()
    def main(lr: float = typer.Option(0.1, "--lr", click_type=positive_float(10), help="rate")):
        print(lr)

    runner = CliRunner()
    assert runner.invoke(app, ["--lr", "10"]).stdout.strip() == "10.0"
    assert runner.invoke(app, ["--lr", "1e12"]).exit_code == 2
    assert "0<x<=10" in runner.invoke(app, ["--help"]).stdout


def test_resume_does_not_bring_back_the_old_runs_resume_or_out():
    saved = {"epochs": 2, "resume": None, "out": "old", "lr": 0.1}
    params = {"epochs": 3, "resume": "runs/x", "out": None, "lr": 0.1}
    resumed = resume_options(saved, params, {"epochs": "--epochs", "resume": "--resume"})
    assert resumed == {"epochs": 3, "resume": "runs/x", "out": None, "lr": 0.1}


def test_a_plugin_with_one_command_is_still_a_group():
    import typer

    from dltool.commands import plugin_app

    app = plugin_app("Only one command.")

    @app.command()
    def hello() -> None:
        """Say hello."""

    command = typer.main.get_command(app)
    assert list(command.commands) == ["hello"]
    assert command.help == "Only one command."


def test_an_output_that_is_an_input_is_refused(tmp_path):
    from dltool.runs import check_not_input

    src = tmp_path / "in.png"
    src.write_bytes(b"x")
    (tmp_path / "link.png").symlink_to(src)
    for out in (src, tmp_path / "link.png", tmp_path / "." / "in.png"):
        with pytest.raises(DltoolError, match="is an input of this command"):
            check_not_input(out, [src])
    check_not_input(tmp_path / "out.png", [src, None])


def test_out_with_resume_is_refused_everywhere():
    saved = {"epochs": 2, "lr": 0.1}
    with pytest.raises(DltoolError, match="--out does not apply to --resume"):
        resume_options(saved, {"epochs": 2, "out": "new"}, {"out": "--out"})
