"""The rnn commands as a user runs them: train, resume, sample, gradcheck, shapes, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import dltool_rnn
import numpy as np
import pytest
from dltool_rnn import checkpoint
from dltool_support import DLTOOL, HEAVY

from dltool.cli import create_app
from dltool.plugins import PluginManager

TEXT = "the cat sat on the mat. the dog sat on the log. a cat and a dog met on the mat.\n" * 30
TINY = ["--hidden", "12", "--seq-len", "16", "--batch-size", "8", "--sample-every", "0"]


@pytest.fixture(scope="module")
def app():
    return create_app(PluginManager.from_modules({"rnn": dltool_rnn}))


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "cats.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def _json(result) -> dict:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _error(result) -> str:
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("error: ")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def _meta(path) -> dict:
    return checkpoint.load(path)[1]


@pytest.mark.parametrize("backend,cell", [("numpy", "gru"), ("torch", "lstm"), ("torch", "rnn")])
def test_train_learns_and_writes_a_run(app, invoke, text_file, tmp_path, backend, cell):
    out = tmp_path / f"run_{backend}"
    args = ["rnn", "train", str(text_file), "--cell", cell, "--backend", backend, *TINY]
    doc = _json(invoke(app, *args, "--epochs", "6", "--lr", "0.01", "--out", str(out), "--json"))
    assert doc["steps"] == 6 * ((len(TEXT) - len(TEXT) // 20 - 1) // 8 // 16)
    assert doc["val_loss"] < doc["unigram_loss"] - 0.5  # learnt more than letter frequencies
    assert len(doc["samples"]) == 3
    assert (out / "config.yaml").exists() and (out / "checkpoint.npz").exists()
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert rows and {"step", "loss", "grad_norm"} <= rows[0].keys()
    meta = _meta(out)
    assert meta["cell"] == cell and meta["step"] == doc["steps"] and meta["epoch"] == 6
    assert not list(out.glob("*.part"))


def test_resume_continues_and_sample_draws(app, invoke, text_file, tmp_path):
    out = tmp_path / "run"
    first = _json(
        invoke(
            app, "rnn", "train", str(text_file), *TINY, "--epochs", "1", "--out", str(out), "--json"
        )
    )
    again = _json(invoke(app, "rnn", "train", "--resume", str(out), "--epochs", "3", "--json"))
    assert again["steps"] == 3 * first["steps"]
    assert _meta(out)["epoch"] == 3
    done = invoke(app, "rnn", "train", "--resume", str(out), "--epochs", "2")
    assert "already trained 3 epochs" in _error(done)

    args = ["rnn", "sample", str(out), "-n", "4", "--prefix", "the ", "--max-len", "30"]
    a = _json(invoke(app, *args, "--seed", "7", "--json"))["samples"]
    b = _json(invoke(app, *args, "--seed", "7", "--json"))["samples"]
    c = _json(invoke(app, *args, "--seed", "8", "--json"))["samples"]
    assert a == b and a != c and len(a) == 4
    assert all(s.startswith("the ") and len(s) <= 34 and "\n" not in s for s in a)
    plain = invoke(app, *args)
    assert plain.exit_code == 0 and len(plain.stdout.splitlines()) == 4

    def chars_at(temperature):
        args = ["rnn", "sample", str(out / "checkpoint.npz"), "--max-len", "60", "--json"]
        doc = _json(invoke(app, *args, "--temperature", str(temperature)))
        return set("".join(doc["samples"]))

    assert len(chars_at(0.05)) < len(chars_at(3.0))  # cold: few likely characters


def test_resume_honours_config_values_equal_to_the_defaults(app, invoke, text_file, tmp_path):
    out = tmp_path / "run"
    args = ["rnn", "train", str(text_file), *TINY, "--backend", "numpy", "--out", str(out)]
    assert invoke(app, *args, "--epochs", "1", "--lr", "0.05").exit_code == 0
    config = tmp_path / "resume.yaml"
    config.write_text("lr: 0.01\nepochs: 2\n")  # 0.01 is --lr's default
    resume = ["rnn", "train", "--resume", str(out), "--config", str(config)]
    assert invoke(app, *resume).exit_code == 0
    assert _meta(out)["config"]["lr"] == 0.01 and _meta(out)["epoch"] == 2
    config.write_text("hidden: 128\nepochs: 3\n")  # the default, but not the run's 12
    assert "does not match the checkpoint" in _error(invoke(app, *resume))
    assert "does not match" in _error(invoke(app, *resume, "--hidden", "128"))


def test_bad_text_inputs(app, invoke, tmp_path):
    empty, binary, latin = tmp_path / "e.txt", tmp_path / "b.dat", tmp_path / "l.txt"
    empty.write_text("  \n")
    binary.write_bytes(bytes(range(256)) * 4)
    latin.write_bytes(("crème brûlée, café au lait. " * 40).encode("latin-1"))
    train = ["rnn", "train", *TINY, "--epochs", "1"]
    assert "is empty" in _error(invoke(app, *train, str(empty)))
    assert "looks binary" in _error(invoke(app, *train, str(binary)))
    assert "not valid utf-8" in _error(invoke(app, *train, str(latin)))
    assert "does not exist" in _error(invoke(app, *train, str(tmp_path / "none.txt")))
    assert "unknown encoding" in _error(invoke(app, *train, str(latin), "--encoding", "nope"))
    ok = invoke(app, *train, str(latin), "--encoding", "latin-1", "--out", str(tmp_path / "r"))
    assert ok.exit_code == 0, ok.stderr
    assert "û" in _meta(tmp_path / "r")["vocab"]
    short = tmp_path / "s.txt"
    short.write_text("hello world")
    msg = _error(invoke(app, "rnn", "train", str(short), "--seq-len", "64"))
    assert "--seq-len 64 is longer than the text (11 characters)" in msg
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").rglob("*.npz"))


def test_bad_model_inputs(app, invoke, text_file, tmp_path):
    out = tmp_path / "run"
    assert (
        invoke(
            app,
            "rnn",
            "train",
            str(text_file),
            *TINY,
            "--epochs",
            "1",
            "--cell",
            "gru",
            "--out",
            str(out),
        ).exit_code
        == 0
    )
    msg = _error(
        invoke(app, "rnn", "train", "--resume", str(out), "--cell", "lstm", "--epochs", "2")
    )
    assert "--cell lstm does not match the checkpoint, a gru model" in msg
    other = tmp_path / "other.txt"
    other.write_text("XYZ QRS " * 100)
    msg = _error(invoke(app, "rnn", "train", str(other), "--resume", str(out), "--epochs", "2"))
    assert "outside the model's vocabulary" in msg
    msg = _error(invoke(app, "rnn", "sample", str(out), "--prefix", "the ZOO"))
    assert "characters the model never saw: 'OZ'" in msg
    assert "not a dltool rnn checkpoint" in _error(invoke(app, "rnn", "sample", str(text_file)))
    assert "no checkpoint" in _error(invoke(app, "rnn", "sample", str(tmp_path / "nope")))
    assert "positive" in _error(invoke(app, "rnn", "sample", str(out), "--temperature", "0"))
    fake = tmp_path / "fake.npz"
    np.savez(fake, meta=np.array(json.dumps({"format": checkpoint.FORMAT, "cell": "lstm"})))
    assert "damaged checkpoint" in _error(invoke(app, "rnn", "sample", str(fake)))


def test_nan_loss_stops_and_keeps_the_last_checkpoint(app, invoke, text_file, tmp_path):
    out = tmp_path / "run"
    args = ["rnn", "train", str(text_file), *TINY, "--backend", "numpy", "--epochs", "1"]
    assert invoke(app, *args, "--out", str(out)).exit_code == 0
    before = (out / "checkpoint.npz").read_bytes()
    msg = _error(
        invoke(
            app,
            "rnn",
            "train",
            "--resume",
            str(out),
            "--epochs",
            "3",
            "--lr",
            "1e38",
            "--clip",
            "0",
        )
    )
    assert "became nan" in msg.lower() and "last checkpoint kept" in msg
    assert (out / "checkpoint.npz").read_bytes() == before


def test_fresh_run_in_a_reused_out_forgets_the_old_run(app, invoke, text_file, tmp_path):
    out = tmp_path / "run"
    args = ["rnn", "train", str(text_file), *TINY, "--backend", "numpy", "--out", str(out)]
    assert invoke(app, *args, "--epochs", "2").exit_code == 0
    assert len((out / "epochs.jsonl").read_text().splitlines()) == 2
    msg = _error(invoke(app, *args, "--epochs", "1", "--lr", "1e38", "--clip", "0"))
    assert "this run wrote none" in msg and "(step" not in msg  # the old checkpoint is not ours
    assert not (out / "epochs.jsonl").exists()
    assert invoke(app, *args, "--epochs", "1").exit_code == 0
    rows = [json.loads(line) for line in (out / "epochs.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1]


def test_gradcheck_and_shapes_commands(app, invoke):
    for cell in ("rnn", "gru", "lstm"):
        doc = _json(invoke(app, "rnn", "gradcheck", "--cell", cell, "--json"))
        assert doc["verdict"] in ("excellent", "ok") and doc["difference"] < 1e-6
        names = [r["parameter"] for r in doc["parameters"]]
        assert names[-1] == "by" and len(names) == {"rnn": 5, "gru": 8, "lstm": 10}[cell]
        assert all(r["max |numpy - autograd|"] < 1e-12 for r in doc["parameters"])
    two = _json(
        invoke(
            app,
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
        invoke(
            app,
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
    rnn_seq = _json(invoke(app, "rnn", "shapes", "--cell", "rnn", "--json"))["sequence"]
    formulas = {r["tensor"]: r["formula"] for r in rnn_seq}
    assert formulas["y_pred"].startswith("softmax(Wya a⟨t⟩)")  # the weight the code uses, no by


def test_builtin_corpus_trains(app, invoke, tmp_path):
    out = tmp_path / "run"
    doc = _json(
        invoke(
            app,
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
    while not (out / "metrics.jsonl").exists() and time.time() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "checkpoint saved" in err and "Traceback" not in err
    assert _meta(out)["step"] >= 10
