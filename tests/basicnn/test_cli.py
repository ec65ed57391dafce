"""basicnn commands through the CLI: outputs, run directories and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from conftest import check_failure as _fail

LOGS = ("run.json", "results.csv", "curves.png", "tensorboard")  # the core's experiment logs


@pytest.fixture
def run(cli):
    def _run(*args):
        return cli("--quiet", "basicnn", *args)

    return _run


def _usage(result, text):
    """Assert a usage error (exit 2) whose message holds ``text``."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.output + result.stderr
    assert text in result.stderr, result.stderr
    return result


@pytest.fixture
def csv_file(tmp_path):
    rng = np.random.RandomState(0)
    X = rng.randn(120, 3)
    y = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    lines = ["a,b,c,label"] + [f"{r[0]},{r[1]},{r[2]},{t}" for r, t in zip(X, y, strict=True)]
    path = tmp_path / "data.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_train_writes_run_directory_and_reports_accuracy(run, tmp_path):
    out = tmp_path / "r"
    res = run("train", "--dataset", "moons", "--epochs", "300", "--lr", "0.3", "--out", str(out))
    assert res.exit_code == 0, res.stderr
    for name in ("config.yaml", "metrics.jsonl", "model.npz", "cost.png", "decision_boundary.png"):
        assert (out / name).stat().st_size > 0, name
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["layers"] == "2,20,7,5,1" and config["dataset"] == "moons"
    metrics = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert metrics[-1]["epoch"] == 300 and metrics[-1]["cost"] < metrics[0]["cost"]
    assert "train" in res.stdout and "dev" in res.stdout and "test" in res.stdout
    results = json.loads((out / "results.json").read_text())
    assert results["accuracy"][0]["accuracy_%"] > 85 and results["seed"] == 1
    again = run("train", "--config", str(out / "config.yaml"), "--out", str(tmp_path / "again"))
    assert again.exit_code == 0, again.stderr
    assert json.loads((tmp_path / "again" / "results.json").read_text()) == results


def test_train_is_reproducible_and_backends_agree(app, invoke, tmp_path):
    costs = []
    for i, backend in enumerate(("numpy", "numpy", "torch")):
        out = tmp_path / f"r{i}"
        args = ["--quiet", "--seed", "3", "--json", "basicnn", "train", "--dataset", "circles"]
        args += ["--epochs", "40", "--keep-prob", "0.8", "--l2", "0.1", "--batch-size", "64"]
        res = invoke(app, *args, "--backend", backend, "--out", str(out))
        assert res.exit_code == 0, res.stderr
        costs.append(json.loads(res.stdout)["final_cost"])
    assert costs[0] == costs[1]
    assert costs[2] == pytest.approx(costs[0], rel=1e-9)


def test_train_on_digits_softmax_and_predict(run, tmp_path):
    out = tmp_path / "d"
    res = run("train", "--dataset", "digits", "--layers", "64,16,10", "--epochs", "20",
              "--batch-size", "128", "--lr", "0.2", "--out", str(out))  # fmt: skip
    assert res.exit_code == 0, res.stderr
    assert not (out / "decision_boundary.png").exists()
    pred = run("predict", str(out / "model.npz"), "digits", "-o", str(tmp_path / "p.csv"))
    assert pred.exit_code == 0, pred.stderr
    lines = (tmp_path / "p.csv").read_text().splitlines()
    assert lines[0] == "row,predicted,probability,label" and len(lines) == 1798
    acc = np.mean([row.split(",")[1] == row.split(",")[3] for row in lines[1:]])
    assert acc > 0.8


def test_csv_train_predict_json(run, app, invoke, csv_file, tmp_path):
    out = tmp_path / "c"
    res = run("train", "--data", str(csv_file), "--target", "label", "--layers", "3,4,1",
              "--epochs", "200", "--lr", "0.5", "--out", str(out))  # fmt: skip
    assert res.exit_code == 0, res.stderr
    pred = invoke(app, "--json", "basicnn", "predict", str(out / "model.npz"), str(csv_file))
    assert pred.exit_code == 0, pred.stderr
    doc = json.loads(pred.stdout)
    assert len(doc["predictions"]) == 120 and doc["accuracy_%"] > 90
    assert {r["predicted"] for r in doc["predictions"]} <= {"no", "yes"}
    features_only = tmp_path / "f.csv"
    features_only.write_text("c,a,b\n0.1,2.0,1.0\n0.0,-2.0,-1.0\n")  # other column order
    pred = invoke(app, "--json", "basicnn", "predict", str(out / "model.npz"), str(features_only))
    assert [r["predicted"] for r in json.loads(pred.stdout)["predictions"]] == ["yes", "no"]


def test_config_file_and_flags(run, tmp_path):
    cfg = tmp_path / "run.yaml"
    cfg.write_text("epochs: 5\nlr: 0.05\nlayers: 2,3,1\ndataset: circles\n")
    out = tmp_path / "k"
    res = run("train", "--config", str(cfg), "--lr", "0.01", "--out", str(out))
    assert res.exit_code == 0, res.stderr
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["epochs"] == 5 and config["lr"] == 0.01 and config["layers"] == "2,3,1"
    cfg.write_text("epoch: 5\n")
    _fail(run("train", "--config", str(cfg)), "unknown key 'epoch'")


def test_logreg_binary_and_one_vs_rest(run, app, invoke, tmp_path):
    res = invoke(app, "--quiet", "--json", "basicnn", "logreg", "--dataset", "blobs",
                 "--classes", "2", "--epochs", "200", "--out", str(tmp_path / "l"))  # fmt: skip
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["accuracy"][0]["accuracy_%"] > 95 and len(doc["w"]) == 2
    _fail(run("logreg", "--dataset", "digits"), "logistic regression separates two classes")
    res = run("logreg", "--dataset", "digits", "--positive", "0", "--epochs", "50",
              "--out", str(tmp_path / "l2"))  # fmt: skip
    assert res.exit_code == 0, res.stderr


def test_gradcheck_passes_and_detects_broken_backprop(app, invoke):
    ok = invoke(app, "--json", "basicnn", "gradcheck", "--keep-prob", "0.8", "--l2", "0.3")
    assert ok.exit_code == 0, ok.stderr
    doc = json.loads(ok.stdout)
    assert doc["verdict"] == "excellent" and len(doc["parameters"]) == 6
    broken = invoke(app, "--json", "basicnn", "gradcheck", "--break-backprop")
    assert broken.exit_code == 0
    rows = {r["parameter"]: r["band"] for r in json.loads(broken.stdout)["parameters"]}
    assert rows["W1"] == "wrong" and rows["W2"] == "excellent"
    torch_ok = invoke(app, "--json", "basicnn", "gradcheck", "--backend", "torch")
    assert json.loads(torch_ok.stdout)["verdict"] == "excellent"
    torch_bad = invoke(
        app, "--json", "basicnn", "gradcheck", "--backend", "torch", "--break-backprop"
    )
    assert torch_bad.exit_code == 0 and json.loads(torch_bad.stdout)["verdict"] == "wrong"
    too_big = invoke(app, "basicnn", "gradcheck", "--layers", "784,256,10")
    _fail(too_big, "the network has 203530 parameters")


@pytest.mark.parametrize(
    "train,dev,expected",
    [("1", "11", "high variance;"), ("15", "16", "high bias;"), ("15", "30", "high bias and high")],
)
def test_diagnose_reproduces_the_notes_table(app, invoke, train, dev, expected):
    res = invoke(app, "--json", "basicnn", "diagnose", "--train-error", train, "--dev-error", dev)
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["diagnosis"].startswith(expected)
    assert {g["gap"] for g in doc["gaps"]} == {"avoidable bias", "variance"}


def test_diagnose_full_table(app, invoke):
    args = ["--train-error", "2", "--dev-error", "10", "--human-error", "1"]
    res = invoke(
        app, "basicnn", "diagnose", *args, "--train-dev-error", "2.5", "--test-error", "14"
    )
    assert res.exit_code == 0
    for text in ("data mismatch", "overfitting to dev", "bigger dev set", "error analysis"):
        assert text in res.stdout
    args = ["basicnn", "diagnose", "--train-error", "-1", "--dev-error", "2"]
    _usage(invoke(app, *args), "-1.0 is not in the range 0.0<=x<=100.0")
    args = ["basicnn", "diagnose", "--train-error", "nan", "--dev-error", "2"]
    _usage(invoke(app, *args), "Invalid value for '--train-error': 'nan' is not a finite number")


def test_activations_table_and_png(app, invoke, tmp_path):
    res = invoke(app, "--json", "basicnn", "activations", "--points", "-1,0,2", "--out",
                 str(tmp_path / "a"))  # fmt: skip
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    row = doc["values"][1]
    assert row["z"] == 0 and row["sigmoid"] == 0.5 and row["d_sigmoid"] == 0.25
    assert row["d_tanh"] == 1 and row["relu"] == 0
    assert sum(r["softmax"] for r in doc["values"]) == pytest.approx(1)
    assert (tmp_path / "a" / "activations.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- bad input: one line (plus hint), exit 1, nothing half-written ---------------------------


def test_layers_that_do_not_match_the_data(run):
    _fail(run("train", "--dataset", "moons", "--layers", "3,5,1"), "data have 2 features")
    _fail(run("train", "--dataset", "spirals", "--layers", "2,5,1"), "data have 3 classes")
    _fail(run("train", "--layers", "2,x,1"), "not a comma-separated list")


def test_csv_problems(run, tmp_path, csv_file):
    missing = tmp_path / "m.csv"
    missing.write_text("a,b,label\n1,2,0\n3,,1\n")
    _fail(run("train", "--data", str(missing), "--target", "label"), "line 3, column 'b': missing")
    text = tmp_path / "t.csv"
    text.write_text("a,b,label\n1,2,0\n3,abc,1\n")
    _fail(run("train", "--data", str(text), "--target", "label"), "'abc' is not a number")
    _fail(run("train", "--data", str(csv_file), "--target", "nope"), "has no column 'nope'")
    _fail(run("train", "--data", str(csv_file)), "say which column holds the labels")
    _fail(run("train", "--data", str(tmp_path / "none.csv"), "--target", "x"), "does not exist")


@pytest.mark.parametrize(
    "args,text",
    [
        (["--split", "0.5,0.1"], "--split '0.5,0.1' must be"),
        (["--config", "{cfg}"], "config key 'keep_prob' in"),
    ],
)
def test_bad_hyperparameters(run, tmp_path, args, text):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("keep_prob: 0\n")
    _fail(run("train", *[a.format(cfg=cfg) for a in args]), text)


@pytest.mark.parametrize(
    "command,args,text",
    [
        ("train", ["--keep-prob", "0"], "0.0 is not in the range 0.0<x<=1.0"),
        ("train", ["--keep-prob", "1.5"], "1.5 is not in the range 0.0<x<=1.0"),
        ("train", ["--keep-prob", "nan"], "'nan' is not a finite number"),
        ("train", ["--beta1", "1"], "1.0 is not in the range 0.0<=x<1.0"),
        ("train", ["--beta1", "-0.1"], "-0.1 is not in the range 0.0<=x<1.0"),
        ("train", ["--beta2", "nan"], "'nan' is not a finite number"),
        ("train", ["--beta2", "1"], "1.0 is not in the range 0.0<=x<1.0"),
        ("train", ["--epochs", "0"], "0 is not in the range 1<=x<=10000000"),
        ("train", ["--batch-size", "0"], "0 is not in the range x>=1"),
        ("logreg", ["--epochs", "0"], "0 is not in the range 1<=x<=10000000"),
        ("gradcheck", ["--keep-prob", "0"], "0.0 is not in the range 0.0<x<=1.0"),
        ("gradcheck", ["--keep-prob", "inf"], "inf is not in the range 0.0<x<=1.0"),
    ],
)
def test_ranges_are_usage_errors_shown_in_help(run, command, args, text):
    _usage(run(command, *args), text)
    help_text = " ".join(run(command, "--help").stdout.split())
    assert args[0] in help_text
    shown = help_text.split(args[0], 1)[1][:160]
    assert "<" in shown or ">=" in shown, shown  # the range is in --help


@pytest.mark.parametrize(
    "command,args,text",
    [
        ("train", ["--l2", "-0.1"], "-0.1 is not in the range 0.0<=x<=100.0"),
        ("train", ["--l2", "nan"], "'nan' is not a finite number"),
        ("train", ["--l2", "1e12"], "is not in the range 0.0<=x<=100.0"),
        ("train", ["--lr", "0"], "0.0 is not in the range 0.0<x<=10.0"),
        ("train", ["--lr", "nan", "--optimizer", "adam"], "'nan' is not a finite number"),
        ("train", ["--lr", "inf"], "inf is not in the range 0.0<x<=10.0"),
        ("train", ["--lr", "1e12"], "is not in the range 0.0<x<=10.0"),
        ("train", ["--noise", "1e12"], "is not in the range 0.0<=x<=5.0"),
        ("train", ["--init-scale", "nan"], "'nan' is not a finite number"),
        ("train", ["--init-scale", "inf"], "inf is not in the range 0.0<x<=10.0"),
        ("train", ["--init-scale", "1e12"], "is not in the range 0.0<x<=10.0"),
        ("train", ["--init-scale", "-1"], "is not in the range 0.0<x<=10.0"),
        ("logreg", ["--lr", "1e12"], "is not in the range 0.0<x<=10.0"),
        ("logreg", ["--lr", "nan"], "'nan' is not a finite number"),
        ("logreg", ["--noise", "1e12"], "is not in the range 0.0<=x<=5.0"),
        ("gradcheck", ["--l2", "1e12"], "is not in the range 0.0<=x<=100.0"),
        ("diagnose", ["--train-error", "1", "--dev-error", "2", "--threshold", "nan"], "finite"),
        ("diagnose", ["--train-error", "1", "--dev-error", "2", "--threshold", "inf"], "range"),
        ("diagnose", ["--train-error", "1", "--dev-error", "2", "--threshold", "1e12"], "range"),
        ("diagnose", ["--train-error", "nan", "--dev-error", "2"], "'nan' is not a finite"),
        ("activations", ["--range", "1e12"], "is not in the range 0.0<x<=100.0"),
        ("activations", ["--range", "nan"], "'nan' is not a finite number"),
    ],
)
def test_numbers_out_of_range_are_usage_errors(run, command, args, text):
    _usage(run(command, *args), text)


@pytest.mark.parametrize("value", ["nan", "inf", "1e12"])
def test_predict_refuses_bad_noise_even_for_a_file(run, tmp_path, csv_file, value):
    out = tmp_path / "m"
    ok = run("train", "--data", str(csv_file), "--target", "label", "--epochs", "2", "--out", out)
    assert ok.exit_code == 0, ok.stderr
    _usage(run("predict", str(out), str(csv_file), "--noise", value), "--noise")


def test_generated_noise_is_bounded_in_the_library():
    from dltool.data import datasets
    from dltool.errors import DltoolError

    with pytest.raises(DltoolError, match=r"--noise must be a number in \[0, 5\], got 1e\+12"):
        datasets.generate("moons", 30, 1e12, 0)
    assert datasets.generate("moons", 30, 5.0, 0).X.shape == (30, 2)


def test_training_settings_bound_lr_l2_and_epsilon():
    from dltool.nn.optimizers import HyperparameterError
    from dltool.nn.training import Settings

    for field, value in (("learning_rate", 1e12), ("lambd", 1e12), ("epsilon", 1e12)):
        with pytest.raises(HyperparameterError, match="must be"):
            Settings(**{field: value})
    assert Settings(learning_rate=10.0, lambd=100.0, epsilon=1.0).learning_rate == 10.0


@pytest.mark.parametrize("command", ["train", "logreg"])
def test_data_folder_and_missing_file_are_one_clear_line(run, tmp_path, command):
    folder = tmp_path / "adir.csv"
    folder.mkdir()
    res = _fail(run(command, "--data", str(folder), "--target", "y"), "is a folder")
    assert "Errno" not in res.stderr and "name a file inside it" in res.stderr
    (tmp_path / "f.txt").write_text("a file, not a folder\n")
    inside_a_file = str(tmp_path / "f.txt" / "x.csv")
    res = _fail(run(command, "--data", inside_a_file, "--target", "y"), "does not exist")
    assert "check the path" in res.stderr


def test_predict_data_folder_is_one_clear_line(run, tmp_path):
    out = tmp_path / "m"
    assert run("train", "--epochs", "2", "--samples", "30", "--out", out).exit_code == 0
    for name in ("adir.csv", "adir.npz", "adir"):
        (tmp_path / name).mkdir()
        res = _fail(run("predict", str(out), str(tmp_path / name)), "is a folder")
        assert "Errno" not in res.stderr


@pytest.mark.parametrize(
    "args,text",
    [
        (["--optimizer", "sgd"], "'sgd' is not one of 'gd', 'momentum'"),
        (["--activation", "gelu"], "'gelu' is not one of 'relu', 'tanh'"),
        (["--init", "orthogonal"], "'orthogonal' is not one of"),
        (["--dataset", "mnist"], "'mnist' is not one of 'planar'"),
        (["--backend", "jax"], "'jax' is not one of 'numpy', 'torch'"),
        (["--dtype", "float16"], "'float16' is not one of 'float64', 'float32'"),
        (["--samples", "100000000"], "100000000 is not in the range"),
        (["--classes", "1000000000"], "1000000000 is not in the range"),
        (["--epochs", "100000000"], "100000000 is not in the range"),
    ],
)
def test_choices_and_sizes_are_usage_errors(run, args, text):
    _usage(run("train", *args), text)


def test_model_file_problems(run, tmp_path, csv_file):
    out = tmp_path / "m"
    assert run("train", "--dataset", "moons", "--epochs", "3", "--out", str(out)).exit_code == 0
    model = out / "model.npz"
    _fail(
        run("predict", str(model), "digits"), "digits has 64 features but the model's input layer"
    )
    npz = tmp_path / "x.npz"
    np.savez(npz, X=np.zeros((4, 5)))
    _fail(run("predict", str(model), str(npz)), "has 5 features but the model's input layer has 2")
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(model.read_bytes()[:200])
    _fail(run("predict", str(corrupt), "moons"), "is not a basicnn model file (BadZipFile)")
    with np.load(model) as f:
        arrays = dict(f)
    arrays["W2"] = np.zeros((3, 3))
    other = tmp_path / "other.npz"
    np.savez(other, **arrays)
    _fail(run("predict", str(other), "moons"), "W2 has shape (3, 3)")
    _fail(run("predict", str(tmp_path / "absent.npz"), "moons"), "does not exist")
    arrays["W2"] = np.zeros((7, 20))
    arrays["meta"] = np.array("[1, 2]")
    np.savez(other, **arrays)
    _fail(run("predict", str(other), "moons"), "its metadata is a list, not a mapping")
    _usage(run("predict", str(model), "moons", "--limit", "-1"), "-1 is not in the range x>=0")


@pytest.fixture
def huge_csv(tmp_path):
    """Two features of size 1e300, unstandardized: the first step at --lr 10 overflows."""
    rng = np.random.RandomState(0)
    X = rng.randn(200, 2)
    rows = [f"{float(a) * 1e300!r},{float(b) * 1e300!r},{int(a + b > 0)}" for a, b in X]
    path = tmp_path / "huge.csv"
    path.write_text("a,b,label\n" + "\n".join(rows) + "\n")
    return path


def _diverging(huge_csv) -> list[str]:
    """Return the options that make training diverge at epoch 2 (with --lr at its maximum)."""
    return ["--data", str(huge_csv), "--target", "label", "--no-standardize", "--lr", "10"]


def test_nan_cost_stops_with_iteration_and_keeps_checkpoint(run, tmp_path, huge_csv):
    out = tmp_path / "n"
    res = _fail(run("train", *_diverging(huge_csv), "--epochs", "50",
                    "--out", str(out)), "the cost became nan at epoch 2")  # fmt: skip
    # the weights after epoch 1 gave the NaN of epoch 2: the kept ones are the initial weights
    assert "last good checkpoint (epoch 0)" in res.stderr and "try --lr" in res.stderr
    assert sorted(p.name for p in out.iterdir() if p.name not in LOGS) == [
        "config.yaml",
        "metrics.jsonl",
        "model.npz",
    ]
    ok = run("predict", str(out / "model.npz"), "moons")
    assert ok.exit_code == 0, ok.stderr
    assert "non-finite" not in ok.stderr


def test_checkpoint_after_divergence_predicts_finite_probabilities(app, invoke, tmp_path, huge_csv):
    out = tmp_path / "n"
    res = invoke(app, "--quiet", "basicnn", "train", *_diverging(huge_csv),
                 "--epochs", "50", "--out", str(out))  # fmt: skip
    assert res.exit_code == 1 and "last good checkpoint" in res.stderr, res.stderr
    pred = invoke(app, "--json", "basicnn", "predict", str(out / "model.npz"), "moons")
    assert pred.exit_code == 0, pred.stderr
    probs = [r["probability"] for r in json.loads(pred.stdout)["predictions"]]
    assert len(probs) == 400 and np.all(np.isfinite(probs))


def test_logreg_divergence_is_an_error(run, tmp_path, huge_csv):
    for backend in ("numpy", "torch"):
        out = tmp_path / backend
        res = _fail(run("logreg", *_diverging(huge_csv), "--epochs", "20", "--backend", backend,
                        "--out", str(out)), "the cost became nan at epoch 2")  # fmt: skip
        assert "last good checkpoint (epoch 0)" in res.stderr


def test_predict_scores_one_vs_rest_models(app, invoke, tmp_path):
    out = tmp_path / "o"
    res = invoke(app, "--quiet", "--json", "basicnn", "logreg", "--dataset", "blobs",
                 "--positive", "1", "--epochs", "200", "--out", str(out))  # fmt: skip
    assert res.exit_code == 0, res.stderr
    pred = invoke(app, "--json", "basicnn", "predict", str(out / "model.npz"), "blobs")
    doc = json.loads(pred.stdout)
    assert doc["accuracy_%"] > 95
    assert {r["label"] for r in doc["predictions"]} == {"1", "not 1"}


def test_npz_train_and_predict_from_csv(run, app, invoke, tmp_path):
    rng = np.random.RandomState(0)
    X = rng.randn(150, 3)
    species = np.array(["cat", "dog", "fish"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)]
    np.savez(tmp_path / "d.npz", X=X, species=species)
    out = tmp_path / "z"
    res = run("train", "--data", str(tmp_path / "d.npz"), "--target", "species",
              "--layers", "3,8,3", "--epochs", "300", "--lr", "0.3", "--out", str(out))  # fmt: skip
    assert res.exit_code == 0, res.stderr
    _fail(run("train", "--data", str(tmp_path / "d.npz")), "must hold arrays 'X' (m, n) and 'y'")
    csv = tmp_path / "d.csv"
    csv.write_text("p,q,r\n" + "".join(f"{a},{b},{c}\n" for a, b, c in X))
    pred = invoke(app, "--json", "basicnn", "predict", str(out / "model.npz"), str(csv))
    assert pred.exit_code == 0, pred.stderr
    got = [r["predicted"] for r in json.loads(pred.stdout)["predictions"]]
    assert np.mean(np.array(got) == species) > 0.85


def test_ctrl_c_exits_130_and_keeps_last_checkpoint(run, tmp_path, monkeypatch):
    from dltool_basicnn import checkpoint

    from dltool.nn import training as train

    real_step, calls = train.step_numpy, []

    def interrupted_step(*args):
        calls.append(1)
        if len(calls) == 57:
            raise KeyboardInterrupt
        return real_step(*args)

    monkeypatch.setattr(train, "step_numpy", interrupted_step)
    out = tmp_path / "i"
    res = run("train", "--dataset", "moons", "--epochs", "100", "--out", str(out))
    assert res.exit_code == 130 and "interrupted" in res.stderr
    params, meta = checkpoint.load_model(out / "model.npz")
    assert meta["epoch"] == 56 and params["W1"].shape == (20, 2)


def test_float32_training_follows_float64(app, invoke, tmp_path):
    costs = {}
    for dtype in ("float64", "float32"):
        args = ["--json", "-q", "basicnn", "train", "--dataset", "circles", "--epochs", "20"]
        res = invoke(app, *args, "--dtype", dtype, "--out", str(tmp_path / dtype))
        assert res.exit_code == 0, res.stderr
        costs[dtype] = json.loads(res.stdout)["final_cost"]
    assert costs["float32"] == pytest.approx(costs["float64"], rel=1e-4)


def test_logreg_backends_agree(app, invoke, tmp_path):
    costs = []
    for backend in ("numpy", "torch"):
        args = ["--json", "-q", "basicnn", "logreg", "--dataset", "moons", "--epochs", "50"]
        res = invoke(app, *args, "--backend", backend, "--out", str(tmp_path / backend))
        assert res.exit_code == 0, res.stderr
        costs.append(json.loads(res.stdout)["final_cost"])
    assert costs[1] == pytest.approx(costs[0], rel=1e-10)


def test_train_with_adam_and_both_backends(app, invoke, tmp_path):
    costs = {}
    for opt, backend in (
        ("gd", "numpy"),
        ("adam", "numpy"),
        ("adam", "torch"),
        ("momentum", "numpy"),
        ("momentum", "torch"),
    ):
        args = ["--json", "-q", "basicnn", "train", "--dataset", "moons", "--epochs", "30"]
        args += ["--lr", "0.01", "--batch-size", "64", "--optimizer", opt, "--backend", backend]
        res = invoke(app, *args, "--out", str(tmp_path / f"{opt}-{backend}"))
        assert res.exit_code == 0, res.stderr
        costs[opt, backend] = json.loads(res.stdout)["final_cost"]
    assert costs["adam", "numpy"] < 0.8 * costs["gd", "numpy"]
    assert costs["adam", "torch"] == pytest.approx(costs["adam", "numpy"], rel=1e-9)
    assert costs["momentum", "torch"] == pytest.approx(costs["momentum", "numpy"], rel=1e-9)
    _usage(invoke(app, "basicnn", "train", "--optimizer", "adagrad"), "'adagrad' is not one of")
    _usage(invoke(app, "basicnn", "train", "--beta1", "1"), "--beta1")


# --- issue 14/15: run folders, resume, bounds, safe model files ----------------------------


def test_predict_takes_the_run_folder_and_its_number(run, app, invoke, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run("train", "--dataset", "moons", "--epochs", "20").exit_code == 0
    folder = tmp_path / "runs" / "basicnn" / "train" / "1"
    by_file = invoke(app, "--json", "basicnn", "predict", str(folder / "model.npz"), "moons")
    by_folder = invoke(app, "--json", "basicnn", "predict", str(folder), "moons")
    by_number = invoke(app, "--json", "basicnn", "predict", "1", "moons")
    assert by_file.exit_code == 0, by_file.stderr
    assert json.loads(by_folder.stdout) == json.loads(by_file.stdout)
    assert json.loads(by_number.stdout) == json.loads(by_file.stdout)
    empty = tmp_path / "empty"
    empty.mkdir()
    _fail(run("predict", str(empty), "moons"), f"folder {empty} holds no model.npz")


def test_second_train_into_a_finished_run_is_refused_unless_exist_ok(run, tmp_path):
    out = tmp_path / "same"
    assert run("train", "--dataset", "moons", "--epochs", "5", "--out", out).exit_code == 0
    first = (out / "model.npz").read_bytes()
    _fail(run("train", "--dataset", "moons", "--epochs", "6", "--out", out), "already holds a run")
    assert (out / "model.npz").read_bytes() == first
    res = run("train", "--dataset", "moons", "--epochs", "6", "--out", out, "--exist-ok")
    assert res.exit_code == 0, res.stderr
    assert yaml.safe_load((out / "config.yaml").read_text())["epochs"] == 6
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["epoch"] for x in lines] == [1, 2, 3, 4, 5, 6]
    for command in ("logreg", "activations"):
        assert run(command, "--out", tmp_path / command).exit_code == 0
        _fail(run(command, "--out", tmp_path / command), "already holds a run")
        assert run(command, "--out", tmp_path / command, "--exist-ok").exit_code == 0


def test_a_failed_exist_ok_rerun_leaves_no_model_of_the_earlier_run(run, tmp_path, monkeypatch):
    from dltool.nn import training

    out = tmp_path / "d"
    assert (
        run("train", "-d", "moons", "--layers", "2,30,1", "--epochs", "5", "--out", out).exit_code
        == 0
    )
    assert (out / "model.npz").is_file() and (out / "cost.png").is_file()
    monkeypatch.setattr(training, "step_numpy", lambda *args: float("nan"))  # epoch 1 diverges
    res = _fail(run("train", "-d", "moons", "--layers", "2,4,1", "--epochs", "5", "--out", out,
                    "--exist-ok"), "no checkpoint was written yet")  # fmt: skip
    assert "cost became nan at epoch 1" in res.stderr
    assert sorted(p.name for p in out.iterdir() if p.name not in LOGS) == [
        "config.yaml",
        "metrics.jsonl",
    ]
    assert [json.loads(x)["epoch"] for x in (out / "metrics.jsonl").read_text().splitlines()] == [1]
    _fail(run("predict", out, "moons"), "holds no model.npz")  # not the 2,30,1 model of before


def test_resume_restores_the_run_and_only_epochs_may_change(run, app, invoke, tmp_path):
    out = tmp_path / "r"
    args = ["--dataset", "circles", "--epochs", "20", "--lr", "0.2", "--layers", "2,6,1"]
    assert run("train", *args, "--out", out).exit_code == 0
    _fail(run("train", "--resume", out, "--epochs", "40", "--lr", "0.3"), "--lr 0.3 differs")
    _fail(run("train", "--resume", out), "has already trained 20 epochs")
    res = invoke(app, "--json", "-q", "basicnn", "train", "--resume", out, "--epochs", "40")
    assert res.exit_code == 0, res.stderr
    assert json.loads((out / "results.json").read_text())["layers"] == [2, 6, 1]
    epochs = [json.loads(x)["epoch"] for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert epochs == list(range(1, 41))
    from dltool_basicnn import checkpoint

    assert checkpoint.load_model(out)[1]["epoch"] == 40
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["epochs"] == 40 and config["lr"] == 0.2 and config["out"] == str(out)
    _fail(run("train", "--resume", tmp_path / "nowhere", "--epochs", "9"), "does not exist")


def test_resume_after_a_half_written_metrics_line(run, tmp_path):
    out = tmp_path / "h"
    args = ["--dataset", "moons", "--epochs", "10", "--layers", "2,4,1", "--out", out]
    assert run("train", *args).exit_code == 0
    log = out / "metrics.jsonl"
    log.write_text(log.read_text() + '{"epoch": 11, "co')  # a run killed mid-write
    res = run("train", "--resume", out, "--epochs", "12")
    assert res.exit_code == 0, res.stderr
    epochs = [json.loads(x)["epoch"] for x in log.read_text().splitlines()]
    assert epochs == list(range(1, 13))
    assert yaml.safe_load((out / "config.yaml").read_text())["epochs"] == 12


def test_a_layer_size_beyond_memory_is_refused_at_once(run, tmp_path):
    from dltool_support import run_peak

    out = tmp_path / "big"
    args = ["train", "--layers", "2,100000,100000,1", "--epochs", "1", "--out", out]
    _fail(run(*args), "needs about 598.0 GiB")
    assert not out.exists()
    result, peak_kib = run_peak("-q", "basicnn", *args)  # a fresh process: its own peak
    assert result.returncode == 1 and "598.0 GiB" in result.stderr
    assert peak_kib < 1 << 20  # under 1 GiB: refused before any allocation


def test_one_memory_estimate_for_the_l_layer_network():
    from dltool.nn.training import training_bytes

    dims = [2, 100_000, 100_000, 1]
    weights = 100_000 * 3 + 100_000 * 100_001 + 100_001
    expected = 8 * (8 * weights + 4 * 320 * sum(dims) + 2 * 320 * 2)
    assert training_bytes(dims, 320, None) == training_bytes(dims, 320, 10**6) == expected
    assert training_bytes(dims, 320, 64, "float32") * 2 == training_bytes(dims, 320, 64)
    assert training_bytes(dims, 320, 64) < expected  # a smaller batch holds fewer activations


def test_generated_sets_are_bounded_in_the_data_layer_too():
    from dltool.data import datasets
    from dltool.errors import DltoolError

    with pytest.raises(DltoolError, match="--samples must be in"):
        datasets.generate("moons", 100_000_000, 0.2, 1)
    with pytest.raises(DltoolError, match="--classes must be in"):
        datasets.generate("spirals", 400, 0.2, 1, 1_000_000_000)
    with pytest.raises(DltoolError, match="--noise must be a number"):
        datasets.generate("moons", 400, float("nan"), 1)


def test_predict_refuses_non_finite_weights(run, tmp_path):
    from dltool_basicnn import checkpoint

    out = tmp_path / "m"
    assert run("train", "--dataset", "moons", "--epochs", "3", "--out", out).exit_code == 0
    params, meta = checkpoint.load_model(out)
    params["W2"][0, 0] = np.nan
    checkpoint.save_model(out / "model.npz", params, meta)
    _fail(run("predict", out, "moons"), "model parameter W2 holds NaN or inf")


def test_predict_output_is_a_csv_and_never_its_input(run, tmp_path, csv_file):
    out = tmp_path / "c"
    args = ["--data", csv_file, "--target", "label", "--layers", "3,4,1", "--epochs", "5"]
    assert run("train", *args, "--out", out).exit_code == 0
    _fail(run("predict", out, csv_file, "-o", tmp_path / "p.json"), "unknown output format")
    before = csv_file.read_text()
    _fail(run("predict", out, csv_file, "-o", csv_file), "is an input of this command")
    assert csv_file.read_text() == before and not (tmp_path / "p.json").exists()


def test_quiet_predict_prints_one_summary_table(cli, tmp_path):
    out = tmp_path / "q"
    trained = cli("-q", "basicnn", "train", "-d", "moons", "--epochs", "5", "--out", out)
    assert trained.exit_code == 0, trained.stderr
    res = cli("-q", "basicnn", "predict", out, "moons")
    assert res.exit_code == 0, res.stderr
    assert "examples" in res.stdout and "predicted" not in res.stdout
    assert res.stdout.count("\n") < 12


def test_cli_choices_match_the_math():
    from dltool_basicnn import cli

    from dltool.data import datasets
    from dltool.nn import init, network
    from dltool.nn.optimizers import NAMES

    assert [e.value for e in cli.Activation] == list(network.HIDDEN)
    assert [e.value for e in cli.Init] == list(init.METHODS)
    assert [e.value for e in cli.Optimizer] == list(NAMES)
    assert [e.value for e in cli.Dataset] == list(datasets.BUILTIN)
    assert cli.SAMPLES_MAX == datasets.MAX_SAMPLES and cli.CLASSES_MAX == datasets.MAX_CLASSES


def test_dataset_choices_come_from_one_light_list():
    import subprocess
    import sys

    from dltool_basicnn import cli as basicnn_cli
    from dltool_optimizers import cli as optimizers_cli

    from dltool.data import DATASETS, GENERATED, datasets

    assert datasets.BUILTIN is DATASETS and datasets.GENERATED is GENERATED
    assert [e.value for e in basicnn_cli.Dataset] == list(DATASETS)
    assert [e.value for e in optimizers_cli.Dataset] == list(DATASETS)
    code = "import sys, dltool.data; assert 'numpy' not in sys.modules, 'numpy imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_null_epochs_and_negative_seed_are_one_line_each(run, cli, tmp_path):
    cfg = tmp_path / "null.yaml"
    cfg.write_text("epochs: null\n")
    _fail(run("train", "--config", cfg, "--out", tmp_path / "n"), "needs a value, not null")
    assert not (tmp_path / "n").exists()
    res = cli("--seed", "-1", "basicnn", "train", "--epochs", "2")
    assert res.exit_code == 2 and "Traceback" not in res.output + res.stderr
