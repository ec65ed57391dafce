"""The rnn commands as a user runs them: train, resume, sample, gradcheck, shapes, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml
from dltool_rnn import charmodel, checkpoint
from dltool_rnn.train import NumpyBackend
from dltool_support import DLTOOL, HEAVY

from dltool.errors import DltoolError
from dltool.nn.optimizers import Optimizer

TEXT = "the cat sat on the mat. the dog sat on the log. a cat and a dog met on the mat.\n" * 30
TINY = ["--hidden", "12", "--seq-len", "16", "--batch-size", "8", "--sample-every", "0"]


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "cats.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def _json(result) -> dict:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _error(result, code: int = 1) -> str:
    """Return the one error line of a failed command (exit ``code``, a hint, no traceback)."""
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("error: ")]
    assert len(lines) == 1, result.stderr
    if code == 1:
        assert result.stderr.strip().splitlines()[-1].startswith("hint: "), result.stderr
    return lines[0]


def _meta(path) -> dict:
    return checkpoint.load(path)[1]


@pytest.mark.parametrize("backend,cell", [("numpy", "gru"), ("torch", "lstm"), ("torch", "rnn")])
def test_train_learns_and_writes_a_run(cli, text_file, tmp_path, backend, cell):
    out = tmp_path / f"run_{backend}"
    args = ["rnn", "train", str(text_file), "--cell", cell, "--backend", backend, *TINY]
    doc = _json(cli(*args, "--epochs", "6", "--lr", "0.01", "--out", str(out), "--json"))
    assert doc["steps"] == 6 * ((len(TEXT) - len(TEXT) // 20 - 1) // 8 // 16)
    assert doc["val_loss"] < doc["unigram_loss"] - 0.5  # learnt more than letter frequencies
    assert len(doc["samples"]) == 3
    assert (out / "config.yaml").exists() and (out / "checkpoint.npz").exists()
    rows = [json.loads(line) for line in (out / "steps.jsonl").read_text().splitlines()]
    assert rows and {"step", "loss", "grad_norm"} <= rows[0].keys()
    epochs = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in epochs] == [1, 2, 3, 4, 5, 6]
    assert {"train_loss", "val_loss", "lr", "time"} <= epochs[0].keys()
    meta = _meta(out)
    assert meta["cell"] == cell and meta["step"] == doc["steps"] and meta["epoch"] == 6
    assert not list(out.glob("*.part"))


def test_resume_continues_and_sample_draws(cli, text_file, tmp_path):
    out = tmp_path / "run"
    first = _json(
        cli("rnn", "train", str(text_file), *TINY, "--epochs", "1", "--out", str(out), "--json")
    )
    again = _json(cli("rnn", "train", "--resume", str(out), "--epochs", "3", "--json"))
    assert again["steps"] == 3 * first["steps"]
    assert _meta(out)["epoch"] == 3
    done = cli("rnn", "train", "--resume", str(out), "--epochs", "2")
    assert "already trained 3 epochs" in _error(done)

    args = ["rnn", "sample", str(out), "-n", "4", "--prefix", "the ", "--max-len", "30"]
    a = _json(cli(*args, "--seed", "7", "--json"))["samples"]
    b = _json(cli(*args, "--seed", "7", "--json"))["samples"]
    c = _json(cli(*args, "--seed", "8", "--json"))["samples"]
    assert a == b and a != c and len(a) == 4
    assert all(s.startswith("the ") and len(s) <= 34 and "\n" not in s for s in a)
    plain = cli(*args)
    assert plain.exit_code == 0 and len(plain.stdout.splitlines()) == 4

    def chars_at(temperature):
        args = ["rnn", "sample", str(out / "checkpoint.npz"), "--max-len", "60", "--json"]
        doc = _json(cli(*args, "--temperature", str(temperature)))
        return set("".join(doc["samples"]))

    assert len(chars_at(0.05)) < len(chars_at(3.0))  # cold: few likely characters


def test_resume_keeps_the_runs_options_and_refuses_changes(cli, text_file, tmp_path):
    out = tmp_path / "run"
    args = ["rnn", "train", str(text_file), *TINY, "--backend", "numpy", "--out", str(out)]
    assert cli(*args, "--epochs", "1", "--lr", "0.05").exit_code == 0
    config = tmp_path / "resume.yaml"
    config.write_text("lr: 0.05\nepochs: 2\n")  # the run's own value may be repeated
    resume = ["rnn", "train", "--resume", str(out), "--config", str(config)]
    assert cli(*resume).exit_code == 0
    saved = yaml.safe_load((out / "config.yaml").read_text())
    assert saved["lr"] == 0.05 and saved["hidden"] == 12 and saved["epochs"] == 2
    assert _meta(out)["epoch"] == 2
    config.write_text("lr: 0.01\nepochs: 3\n")  # --lr's default, but not the run's 0.05
    assert "--lr 0.01 differs from the resumed run's 0.05" in _error(cli(*resume))
    config.write_text("hidden: 128\nepochs: 3\n")  # the default, but not the run's 12
    assert "--hidden 128 differs" in _error(cli(*resume))
    again = ["rnn", "train", "--resume", str(out), "--epochs", "3"]
    assert "--lr 0.01 differs" in _error(cli(*again, "--lr", "0.01"))
    assert "--backend torch differs" in _error(cli(*again, "--backend", "torch"))
    step = _meta(out)["step"]
    assert _meta(out)["epoch"] == 2  # nothing trained by the refused resumes
    doc = _json(cli(*again, "--max-steps", "3", "--json"))  # a limit of this invocation only
    assert doc["steps"] == _meta(out)["step"] == step + 3


def test_bad_text_inputs(cli, tmp_path):
    empty, binary, latin = tmp_path / "e.txt", tmp_path / "b.dat", tmp_path / "l.txt"
    empty.write_text("  \n")
    binary.write_bytes(bytes(range(256)) * 4)
    latin.write_bytes(("crème brûlée, café au lait. " * 40).encode("latin-1"))
    train = ["rnn", "train", *TINY, "--epochs", "1"]
    assert "is empty" in _error(cli(*train, str(empty)))
    assert "looks binary" in _error(cli(*train, str(binary)))
    assert "not valid utf-8" in _error(cli(*train, str(latin)))
    assert "does not exist" in _error(cli(*train, str(tmp_path / "none.txt")))
    assert "unknown encoding" in _error(cli(*train, str(latin), "--encoding", "nope"))
    ok = cli(*train, str(latin), "--encoding", "latin-1", "--out", str(tmp_path / "r"))
    assert ok.exit_code == 0, ok.stderr
    assert "û" in _meta(tmp_path / "r")["vocab"]
    short = tmp_path / "s.txt"
    short.write_text("hello world")
    msg = _error(cli("rnn", "train", str(short), "--seq-len", "64"))
    assert "--seq-len 64 is longer than the text (11 characters)" in msg
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").rglob("*.npz"))


def test_bad_model_inputs(cli, text_file, tmp_path):
    out = tmp_path / "run"
    args = ["rnn", "train", str(text_file), *TINY, "--epochs", "1", "--cell", "gru"]
    assert cli(*args, "--out", out).exit_code == 0
    msg = _error(cli("rnn", "train", "--resume", out, "--cell", "lstm", "--epochs", "2"))
    assert "--cell lstm differs from the resumed run's gru" in msg
    other = tmp_path / "other.txt"
    other.write_text("XYZ QRS " * 100)
    msg = _error(cli("rnn", "train", other, "--resume", out, "--epochs", "2"))
    assert f"text_file {other} differs from the resumed run's {text_file}" in msg
    text_file.write_text("XYZ QRS " * 100)  # the run's own text, changed since
    msg = _error(cli("rnn", "train", "--resume", out, "--epochs", "2"))
    assert "outside the model's vocabulary" in msg
    msg = _error(cli("rnn", "sample", out, "--prefix", "the ZOO"))
    assert "characters the model never saw: 'OZ'" in msg
    junk = tmp_path / "junk.npz"
    junk.write_text("not a zip")
    assert "junk.npz is not a dltool rnn checkpoint" in _error(cli("rnn", "sample", junk))
    assert "does not exist" in _error(cli("rnn", "sample", tmp_path / "nope"))
    assert "holds no config.yaml" in _error(cli("rnn", "sample", tmp_path))
    assert "not in the range x>0.0" in _error(cli("rnn", "sample", out, "--temperature", "0"), 2)
    assert "not a finite number" in _error(cli("rnn", "sample", out, "--temperature", "inf"), 2)
    fake = tmp_path / "fake.npz"
    np.savez(fake, meta=np.array(json.dumps({"format": checkpoint.FORMAT, "cell": "lstm"})))
    assert "damaged checkpoint" in _error(cli("rnn", "sample", fake))


def test_sample_takes_any_file_of_the_run_and_refuses_nonfinite_weights(cli, text_file, tmp_path):
    out = tmp_path / "run"
    assert cli("rnn", "train", text_file, *TINY, "--epochs", "1", "--out", out).exit_code == 0
    one = cli("rnn", "sample", out / "config.yaml", "-n", "2", "--json")
    assert _json(one)["checkpoint"] == str(out / "checkpoint.npz")
    params, meta, _ = checkpoint.load(out)
    params["by"][3, 0] = np.nan
    bad = tmp_path / "bad.npz"
    checkpoint.save(bad, params, meta)
    assert "parameter by holds NaN or inf" in _error(cli("rnn", "sample", bad))
    msg = _error(cli("rnn", "sample", out, "-n", "100000", "--max-len", "1000"))
    assert "100,000,000 characters, more than 10,000,000" in msg


def test_crafted_metadata_cannot_make_the_check_build_a_huge_model(tmp_path):
    params = charmodel.init_model("rnn", 4, 3, 1, dtype=np.float32)
    meta = {"cell": "rnn", "vocab": "abcd", "hidden": 10**9, "layers": 1}
    checkpoint.save(tmp_path / "c.npz", params, meta)
    with pytest.raises(DltoolError, match="do not match a rnn model with 4 characters"):
        checkpoint.load(tmp_path / "c.npz")


@pytest.mark.parametrize("lr", ["inf", "nan", "0", "-1", "1e12"])
def test_meaningless_learning_rates_are_usage_errors(cli, text_file, tmp_path, lr):
    res = cli("rnn", "train", text_file, *TINY, "--lr", lr)
    assert res.exit_code == 2 and "--lr" in res.stderr, res.stderr
    assert not list(tmp_path.glob("**/config.yaml"))  # no run folder was started


@pytest.mark.parametrize(
    "args",
    [
        ["--clip", "nan"],
        ["--time-limit", "inf"],
        ["--val-fraction", "nan"],
        ["--epochs", str(10**12)],
    ],
)
def test_nonfinite_floats_and_endless_epochs_are_usage_errors(cli, text_file, args):
    res = cli("rnn", "train", text_file, *TINY, *args)
    assert res.exit_code == 2 and args[0] in res.stderr, res.stderr


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf"])
def test_sample_temperature_must_be_positive_and_finite(cli, tmp_path, value):
    res = cli("rnn", "sample", tmp_path, "--temperature", value)
    assert res.exit_code == 2 and "--temperature" in res.stderr, res.stderr


def _diverge_after(monkeypatch, steps: int, how: str) -> None:
    """Make the NumPy backend's loss NaN (or its weights inf) from step ``steps + 1`` on."""
    calls = {"n": 0}
    real_loss, real_step = NumpyBackend.loss_and_grads, Optimizer.step

    def loss_and_grads(self, X, Y, state):
        loss, grads, state = real_loss(self, X, Y, state)
        calls["n"] += 1
        return (float("nan") if how == "loss" and calls["n"] > steps else loss), grads, state

    def step(self, params, grads):
        real_step(self, params, grads)
        if how == "weights" and calls["n"] > steps:
            params["by"][0, 0] = np.inf

    monkeypatch.setattr(NumpyBackend, "loss_and_grads", loss_and_grads)
    monkeypatch.setattr(Optimizer, "step", step)


@pytest.mark.parametrize("how", ["loss", "weights"])
def test_nonfinite_training_stops_and_keeps_the_last_finite_checkpoint(
    cli, text_file, tmp_path, monkeypatch, how
):
    out = tmp_path / "run"
    args = ["rnn", "train", text_file, *TINY, "--backend", "numpy", "--epochs", "3"]
    _diverge_after(monkeypatch, 12 if how == "loss" else 14, how)  # 14: inf just before a save
    msg = _error(cli(*args, "--checkpoint-every", "5", "--out", out))
    what = {"loss": "loss became nan at step 13", "weights": "weights became NaN or inf after"}
    assert what[how] in msg and f"last checkpoint kept: {out / 'checkpoint.npz'} (step 10)" in msg
    assert checkpoint.load(out)[1]["step"] == 10  # and finite, or load would refuse it


def test_a_run_diverging_at_once_keeps_no_checkpoint(cli, text_file, tmp_path, monkeypatch):
    out = tmp_path / "run"
    args = ["rnn", "train", text_file, *TINY, "--backend", "numpy", "--out", out]
    _diverge_after(monkeypatch, 0, "loss")  # NaN from the first step on
    msg = _error(cli(*args, "--checkpoint-every", "1"))
    assert "training stopped, last checkpoint kept: this run wrote none" in msg
    assert not (out / "checkpoint.npz").exists()


def test_resume_drops_metric_rows_written_after_the_checkpoint(cli, text_file, tmp_path):
    out = tmp_path / "run"
    args = ["rnn", "train", text_file, *TINY, "--backend", "numpy", "--out", out]
    assert cli(*args, "--epochs", "1", "--checkpoint-every", "20").exit_code == 0
    step = _meta(out)["step"]
    with open(out / "steps.jsonl", "a") as fh:  # what a run killed after its checkpoint left
        fh.write(json.dumps({"step": step + 10, "loss": 9.0}) + "\n" + '{"step": ')
    with open(out / "metrics.jsonl", "a") as fh:
        fh.write(json.dumps({"epoch": 2, "step": 2 * step, "train_loss": 9.0}) + "\n")
    assert cli("rnn", "train", "--resume", out, "--epochs", "2").exit_code == 0
    for name in ("steps.jsonl", "metrics.jsonl"):
        rows = [json.loads(line) for line in (out / name).read_text().splitlines()]
        steps = [r["step"] for r in rows]
        assert steps == sorted(set(steps)) and 9.0 not in [r.get("loss") for r in rows], name
    epochs = [
        json.loads(line)["epoch"] for line in (out / "metrics.jsonl").read_text().splitlines()
    ]
    assert epochs == [1, 2]


def test_a_finished_run_is_not_replaced_without_exist_ok(cli, text_file, tmp_path, monkeypatch):
    out = tmp_path / "run"
    args = ["rnn", "train", text_file, *TINY, "--backend", "numpy", "--out", out]
    assert cli(*args, "--epochs", "2").exit_code == 0
    before = (out / "checkpoint.npz").read_bytes()
    assert "already holds a run" in _error(cli(*args, "--epochs", "1"))
    assert (out / "checkpoint.npz").read_bytes() == before
    with monkeypatch.context() as patch:
        _diverge_after(patch, 0, "loss")
        msg = _error(cli(*args, "--epochs", "1", "--exist-ok"))
    assert "this run wrote none" in msg and "(step" not in msg  # the old checkpoint is not ours
    assert not (out / "metrics.jsonl").exists() and not (out / "checkpoint.npz").exists()
    assert not (out / "steps.jsonl").exists()  # no step rows of the earlier run either
    assert cli(*args, "--epochs", "1", "--exist-ok").exit_code == 0
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1]


def test_shapes_refuses_sizes_that_would_not_fit_before_any_work(cli, monkeypatch):
    from dltool_rnn import explain

    assert "not in the range" in cli("rnn", "shapes", "--T", "1000000000").stderr
    monkeypatch.setattr(explain, "shape_rows", lambda *a: pytest.fail("work started"))
    msg = _error(cli("rnn", "shapes", "--m", "100000", "--T", "100000"))
    assert "GiB of arrays, more than 1 GiB" in msg
    assert explain.shape_bytes("lstm", 3, 5, 2, 10, 7) < 2**20


def test_gradcheck_and_shapes_commands(cli):
    for cell in ("rnn", "gru", "lstm"):
        doc = _json(cli("rnn", "gradcheck", "--cell", cell, "--json"))
        assert doc["verdict"] in ("excellent", "ok") and doc["difference"] < 1e-6
        names = [r["parameter"] for r in doc["parameters"]]
        assert names[-1] == "by" and len(names) == {"rnn": 5, "gru": 8, "lstm": 10}[cell]
        assert all(r["max |numpy - autograd|"] < 1e-12 for r in doc["parameters"])
    two = _json(
        cli(
            "rnn",
            "gradcheck",
            "--cell",
            "gru",
            "--reset-after",
            "--layers",
            "2",
            "--n-a",
            "3",
            "--T",
            "3",
            "--json",
        )
    )
    assert "l1.bch" in [r["parameter"] for r in two["parameters"]]
    doc = _json(
        cli(
            "rnn",
            "shapes",
            "--cell",
            "lstm",
            "--n-x",
            "3",
            "--n-a",
            "5",
            "--m",
            "10",
            "--T",
            "7",
            "--json",
        )
    )
    step = {r["tensor"]: r["shape"] for r in doc["step"]}
    assert step["concat"] == "(8, 10)" and step["c_next"] == "(5, 10)"
    assert step["yt_pred"] == "(2, 10)" and step["dWf"] == "(5, 8)"
    seq = {r["tensor"]: r["shape"] for r in doc["sequence"]}
    assert seq["a"] == "(5, 10, 7)" and seq["dx"] == "(3, 10, 7)" and seq["dc0"] == "(5, 10)"
    rnn_seq = _json(cli("rnn", "shapes", "--cell", "rnn", "--json"))["sequence"]
    formulas = {r["tensor"]: r["formula"] for r in rnn_seq}
    assert formulas["y_pred"].startswith("softmax(Wya a⟨t⟩)")  # the weight the code uses, no by


def test_builtin_corpus_trains(cli, tmp_path):
    out = tmp_path / "run"
    doc = _json(
        cli(
            "rnn",
            "train",
            "--hidden",
            "8",
            "--max-steps",
            "3",
            "--val-fraction",
            "0",
            "--out",
            str(out),
            "--json",
        )
    )
    assert doc["steps"] == 3 and 2.5 < doc["unigram_loss"] < 3.5
    assert _meta(out)["text"] is None and len(_meta(out)["vocab"]) > 60


def test_help_is_light_and_ctrl_c_keeps_a_checkpoint(text_file, tmp_path):
    code = (
        "import sys\nfrom dltool.cli import main\n"
        "try:\n    main(['rnn', 'train', '--help'])\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.stdout.strip().endswith("[]"), run.stdout + run.stderr
    big = tmp_path / "big.txt"
    big.write_text(TEXT * 40)
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [
            DLTOOL,
            "rnn",
            "train",
            str(big),
            *TINY,
            "--epochs",
            "50",
            "--checkpoint-every",
            "100000",
            "--out",
            str(out),
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "DLTOOL_RUNS": str(tmp_path / "runs")},
    )
    deadline = time.time() + 120
    while not (out / "steps.jsonl").exists() and time.time() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        from dltool_support import kill_tree

        kill_tree(proc)
        pytest.fail("the interrupted training did not stop within 60 s")
    assert proc.returncode == 130, err
    assert "checkpoint saved" in err and "Traceback" not in err
    assert _meta(out)["step"] >= 10


@pytest.mark.parametrize(
    "args,text",
    [
        (["train", "{dir}"], "is a directory"),
        (["train", "{dir}/none.txt"], "does not exist"),
        (["train", "--config", "{dir}"], "cannot read config file"),
        (["train", "--config", "{dir}/none.yaml"], "does not exist"),
        (["train", "--resume", "{dir}/none"], "does not exist"),
        (["train", "--resume", "{dir}"], "holds no config.yaml"),
        (["sample", "{dir}"], "holds no config.yaml"),
        (["sample", "{dir}/none.npz"], "does not exist"),
    ],
)
def test_unusable_file_arguments_exit_1_with_a_hint(cli, tmp_path, args, text):
    result = cli("rnn", *[a.format(dir=tmp_path) for a in args])
    assert text in _error(result, 1)


def test_train_command_body_only_builds_options_and_calls_its_job():
    import inspect

    from dltool_rnn import cli, jobs

    source = inspect.getsource(cli)
    for logic in ("resolve_config", "resumed_options", "RUN_ONLY"):
        assert logic not in source, logic  # the resume rule and the merge live in jobs.py
    assert jobs.RUN_ONLY == ("max_steps", "time_limit")
