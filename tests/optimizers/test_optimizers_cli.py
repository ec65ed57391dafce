"""The optimizers commands end to end: tables, PNGs, search, resume, workers, bad input."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import yaml
from conftest import check_failure as _fail
from dltool_optimizers import search
from dltool_optimizers.compare import compare
from dltool_optimizers.problem import DataSpec, prepare

from dltool.nn.schedules import Schedule
from dltool.nn.training import Settings

SPACE = """
data: {dataset: moons, samples: 120, noise: 0.2, split: "0.75,0.25"}
params:
  lr: {distribution: uniform, range: [1.0e-3, 0.3], scale: log}
  beta1: {distribution: uniform, range: [0.8, 0.99], scale: one_minus_log}
  units: {distribution: int, range: [3, 12]}
  batch_size: {distribution: int, range: [16, 64], scale: log}
  optimizer: {distribution: choice, values: [momentum, adam]}
  layers: 1
  epochs: 15
"""


@pytest.fixture
def run(cli):
    def _run(*args):
        return cli("--quiet", "optimizers", *args)

    return _run


@pytest.fixture
def space(tmp_path):
    path = tmp_path / "space.yaml"
    path.write_text(SPACE)
    return path


def _ok(result):
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def _usage(result, text):
    """Assert a usage error (exit 2) whose message holds ``text``."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.output + result.stderr
    assert text in result.stderr, result.stderr
    return result


def test_minibatches_table(run):
    res = _ok(run("--json", "minibatches", "--m", "148", "--size", "64"))
    doc = json.loads(res.stdout)
    assert [b["size"] for b in doc["batches"]] == [64, 64, 20]
    assert doc["full_batches"] == 2 and doc["last_batch"] == 20
    assert _ok(run("--json", "minibatches", "--m", "5", "--size", "1")).stdout.count('"size"') == 5
    _usage(run("minibatches", "--m", "10", "--size", "0"), "'--size': 0 is not in the range")


def test_schedule_json_and_plot(run, tmp_path):
    out = tmp_path / "s"
    res = _ok(
        run(
            "--json",
            "schedule",
            "--kind",
            "exponential",
            "--lr0",
            "0.1",
            "--decay-rate",
            "1",
            "--epochs",
            "100",
            "--interval",
            "10",
            "--out",
            str(out),
        )
    )
    doc = json.loads(res.stdout)
    lrs = [r["learning_rate"] for r in doc["schedule"]]
    assert len(lrs) == 100 and lrs[9] == pytest.approx(0.1) and lrs[10] == pytest.approx(0.095)
    assert lrs[99] == pytest.approx(0.1 * 0.95**9)
    assert (out / "schedule.png").stat().st_size > 1000
    res = _ok(
        run(
            "--json",
            "schedule",
            "--kind",
            "manual",
            "--values",
            "0.1,0.01",
            "--epochs",
            "3",
            "--interval",
            "2",
            "--out",
            str(out),
            "--exist-ok",
        )
    )
    assert [r["learning_rate"] for r in json.loads(res.stdout)["schedule"]] == [0.1, 0.1, 0.01]
    _usage(run("schedule", "--kind", "cosine"), "'cosine' is not one of 'constant'")
    _usage(run("schedule", "--lr0", "0"), "'--lr0': 0.0 is not in the range 0.0<x<=10.0")
    _usage(run("schedule", "--kind", "staircase", "--interval", "0"), "'--interval': 0 is not in")


@pytest.mark.parametrize(
    "args,text",
    [
        (["--lr0", "1e12"], "'--lr0': 1000000000000.0 is not in the range 0.0<x<=10.0"),
        (["--lr0", "nan"], "'--lr0': 'nan' is not a finite number"),
        (["--decay-rate", "1e12"], "is not in the range 0.0<=x<=100.0"),
        (["--decay-rate", "-1"], "is not in the range 0.0<=x<=100.0"),
        (["--kind", "manual", "--values", "0.1", "--decay-rate", "nan"], "not a finite number"),
        (["--k", "1e12"], "'--k': 1000000000000.0 is not in the range 0.0<x<=10.0"),
        (["--kind", "constant", "--k", "inf"], "'--k': inf is not in the range"),
        (["--base", "nan"], "'--base': 'nan' is not a finite number"),
    ],
)
def test_schedule_numbers_out_of_range_are_usage_errors(run, args, text):
    _usage(run("schedule", *args), text)


def test_values_without_manual_decay_is_refused(run):
    _fail(run("schedule", "--kind", "inverse", "--values", "0.1"), "--values is used only by")
    _fail(run("compare", "--values", "0.1"), "--values is used only by --decay manual")


def test_compare_adam_beats_gd_and_writes_one_png(run, tmp_path):
    out = tmp_path / "c"
    res = _ok(
        run(
            "--json",
            "compare",
            "--optimizers",
            "gd,momentum,rmsprop,adam",
            "--epochs",
            "300",
            "--out",
            str(out),
        )
    )
    rows = {r["optimizer"]: r for r in json.loads(res.stdout)["results"]}
    assert list(rows) == ["gd", "momentum", "rmsprop", "adam"]
    assert rows["adam"]["final_cost"] < 0.8 * rows["gd"]["final_cost"]
    assert rows["adam"]["train_acc_%"] > rows["gd"]["train_acc_%"]
    assert (out / "compare.png").stat().st_size > 5000
    assert len(json.loads((out / "costs_adam.json").read_text())) == 300


@pytest.mark.parametrize(
    "args,text",
    [
        (["--noise", "1e12"], "'--noise': 1000000000000.0 is not in the range 0.0<=x<=5.0"),
        (["--lr", "1e12"], "'--lr': 1000000000000.0 is not in the range 0.0<x<=10.0"),
        (["--epsilon", "1e12"], "'--epsilon': 1000000000000.0 is not in the range 0.0<x<=1.0"),
        # --decay-rate is checked even when the (default) constant decay does not use it
        (["--decay-rate", "nan"], "'--decay-rate': 'nan' is not a finite number"),
        (["--decay-rate", "inf"], "'--decay-rate': inf is not in the range"),
        (["--decay-rate", "1e12"], "is not in the range 0.0<=x<=100.0"),
        (["--decay-rate", "-1"], "'--decay-rate': -1.0 is not in the range 0.0<=x<=100.0"),
        (["--interval", "0"], "'--interval': 0 is not in the range x>=1"),
    ],
)
def test_compare_numbers_out_of_range_are_usage_errors(run, args, text):
    _usage(run("compare", *args), text)


def test_compare_warns_about_an_unused_decay_rate(cli, tmp_path):
    res = cli("optimizers", "compare", "--samples", "20", "--epochs", "1", "--decay-rate", "0.5",
              "--out", tmp_path / "c")  # fmt: skip
    assert res.exit_code == 0, res.stderr
    assert "--decay-rate is not used by --decay constant" in res.stderr


def test_compare_bad_input(run):
    _fail(run("compare", "--optimizers", "gd,adamw"), "unknown optimizer 'adamw'")
    _usage(run("compare", "--lr", "0"), "--lr")
    _usage(run("compare", "--lr", "-0.1"), "--lr")
    _usage(run("compare", "--beta1", "1"), "'--beta1': 1.0 is not in the range 0.0<=x<1.0")
    _usage(run("compare", "--beta2", "-0.5"), "'--beta2': -0.5 is not in the range 0.0<=x<1.0")
    _usage(run("compare", "--beta2", "nan"), "'--beta2': 'nan' is not a finite number")
    _usage(run("compare", "--batch-size", "0"), "'--batch-size': 0 is not in the range x>=1")
    _usage(run("compare", "--epochs", "0"), "'--epochs': 0 is not in the range 1<=x<=")
    _usage(run("compare", "--samples", "3"), "'--samples': 3 is not in the range 4<=x<=")
    for command, flag in (("compare", "--beta1"), ("compare", "--batch-size"),
                          ("schedule", "--interval")):  # fmt: skip
        shown = " ".join(run(command, "--help").stdout.split()).split(flag, 1)[1][:200]
        assert "<" in shown or ">=" in shown, shown  # the range is in --help
    _usage(run("compare", "--dataset", "nope"), "'nope' is not one of 'planar'")
    _usage(run("compare", "--lr", "nan"), "'--lr': 'nan' is not a finite number")
    _usage(run("compare", "--lr", "inf"), "'--lr': inf is not in the range 0.0<x<=10.0")
    _usage(run("compare", "--epsilon", "inf"), "'--epsilon': inf is not in the range 0.0<x<=1.0")
    _usage(run("compare", "--decay", "inverse", "--decay-rate", "nan"), "not a finite number")
    _fail(run("compare", "--split", "1,0", "--epochs", "2"), "leaves no dev examples")
    _usage(run("minibatches", "--show", "-1"), "'--show': -1 is not in the range x>=0")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("{split: 0.8}", 'data.split must be fractions such as "0.8,0.2", got 0.8'),
        ("{samples: abc}", "data.samples must be a whole number, got 'abc'"),
        ("{noise: [1]}", "data.noise must be a number"),
        ("{dataset: 3}", "data.dataset must be a data set name"),
        ("{split: '1,0'}", "leaves no dev examples"),
    ],
)
def test_tune_rejects_bad_data(run, tmp_path, data, message):
    path = tmp_path / "bad.yaml"
    path.write_text(f"data: {data}\nparams:\n  units: {{distribution: int, range: [2, 4]}}\n")
    out = tmp_path / "never"
    _fail(run("tune", "--space", str(path), "--trials", "2", "--out", str(out)), message)
    assert not out.exists()


@pytest.mark.parametrize("decay", [None, Schedule("exponential", 0.01, base=0.5)])
def test_same_batches_and_torch_backend_follow_numpy(decay):
    problem = prepare(DataSpec("moons", 80, 0.2, split="0.75,0.25", seed=0))
    s = Settings("relu", 0.01, 5, 16, schedule=decay)
    names = ["gd", "momentum", "rmsprop", "adam"]
    ours = compare(problem, [2, 4, 1], names, s, seed=0)
    again = compare(problem, [2, 4, 1], names, s, seed=0)
    ref = compare(problem, [2, 4, 1], names, s, seed=0, backend="torch", device="cpu")
    for a, b, t in zip(ours, again, ref, strict=True):
        assert a.costs == b.costs  # same init, same batches: the run is reproducible
        np.testing.assert_allclose(a.costs, t.costs, rtol=1e-10)
        for k in a.params:
            np.testing.assert_allclose(a.params[k], t.params[k], rtol=1e-9, atol=1e-12)


def test_sampling_scales():
    lr = search.parse_param("lr", {"distribution": "uniform", "range": [1e-4, 1], "scale": "log"})
    beta = search.parse_param(
        "beta1", {"distribution": "uniform", "range": [0.9, 0.999], "scale": "one_minus_log"}
    )
    units = search.parse_param("units", {"distribution": "int", "range": [2, 5]})
    rng = np.random.RandomState(0)
    lrs = np.array([lr.sample(rng) for _ in range(4000)])
    betas = np.array([beta.sample(rng) for _ in range(4000)])
    counts = np.histogram(np.log10(lrs), bins=4, range=(-4, 0))[0]
    assert lrs.min() >= 1e-4 and lrs.max() <= 1 and counts.min() > 850  # ~1000 per decade
    assert betas.min() >= 0.9 and betas.max() <= 0.999
    assert 0.4 < np.mean(betas < 0.99) < 0.6  # as many in [0.9, 0.99] as in [0.99, 0.999]
    assert {units.sample(rng) for _ in range(200)} == {2, 3, 4, 5}


def test_zoom_shrinks_around_the_best_trials():
    sp = search.parse_space(
        {"params": {"lr": {"distribution": "uniform", "range": [1e-4, 1], "scale": "log"}}}
    )
    finished = [
        {"id": f"t{i}", "round": 0, "config": {"lr": lr}, "metrics": {"dev_acc": acc}}
        for i, (lr, acc) in enumerate(
            [
                (1e-4, 50),
                (1e-2, 90),
                (2e-2, 91),
                (0.5, 60),
                (1e-3, 70),
                (3e-3, 80),
                (0.2, 55),
                (5e-4, 52),
            ]
        )
    ]
    lo, hi = search.zoom(sp, finished, {})["lr"]
    # best quarter: lr 1e-2 and 2e-2; padded by 5% of the 4 decades (0.2) on each side
    assert lo == pytest.approx(-2.2) and hi == pytest.approx(np.log10(2e-2) + 0.2)


def test_tune_sorted_results_files_and_resume(run, space, tmp_path):
    out = tmp_path / "t"
    res = _ok(
        run(
            "--json",
            "tune",
            "--space",
            str(space),
            "--trials",
            "4",
            "--coarse-to-fine",
            "1",
            "--out",
            str(out),
        )
    )
    doc = json.loads(res.stdout)
    accs = [r["dev_acc_%"] for r in doc["trials"]]
    assert len(accs) == 8 and accs == sorted(accs, reverse=True)
    files = sorted(p.name for p in (out / "trials").glob("*.json"))
    assert files == [f"r{r}-t00{i}.json" for r in (0, 1) for i in range(4)]
    trial = json.loads((out / "trials" / "r0-t000.json").read_text())
    assert set(trial["config"]) >= {"lr", "beta1", "units", "batch_size", "optimizer"}
    assert trial["status"] == "ok" and "dev_acc" in trial["metrics"]
    assert (out / "search.png").exists() and (out / "space.yaml").exists()
    kept = (out / "trials" / "r0-t001.json").read_text()
    (out / "trials" / "r1-t002.json").unlink()
    lines = len((out / "metrics.jsonl").read_text().splitlines())
    res = _ok(
        run(
            "--json",
            "tune",
            "--space",
            str(space),
            "--trials",
            "4",
            "--coarse-to-fine",
            "1",
            "--resume",
            str(out),
        )
    )
    assert len((out / "metrics.jsonl").read_text().splitlines()) == lines + 1  # only the lost one
    assert (out / "trials" / "r0-t001.json").read_text() == kept
    assert [r["trial"] for r in json.loads(res.stdout)["trials"]] == [
        r["trial"] for r in doc["trials"]
    ]


def test_tune_interrupted_keeps_finished_trials(run, space, tmp_path, monkeypatch):
    real, calls = search.run_trial, []

    def flaky(task):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(task)

    monkeypatch.setattr(search, "run_trial", flaky)
    out = tmp_path / "i"
    res = run("tune", "--space", str(space), "--trials", "5", "--out", str(out))
    assert res.exit_code == 130 and "--resume" in res.stderr
    assert len(list((out / "trials").glob("*.json"))) == 2
    monkeypatch.setattr(search, "run_trial", real)
    res = _ok(run("--json", "tune", "--space", str(space), "--trials", "5", "--resume", str(out)))
    assert len(json.loads(res.stdout)["trials"]) == 5


def test_tune_workers_match_one_worker(run, space, tmp_path):
    one, two = tmp_path / "w1", tmp_path / "w2"
    a = _ok(run("--json", "tune", "--space", str(space), "--trials", "4", "--out", str(one)))
    b = _ok(
        run(
            "--json",
            "tune",
            "--space",
            str(space),
            "--trials",
            "4",
            "--workers",
            "2",
            "--out",
            str(two),
        )
    )
    assert json.loads(a.stdout)["trials"] == json.loads(b.stdout)["trials"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lr: {distribution: gaussian, range: [0.1, 1]}", "unknown distribution 'gaussian'"),
        ("lr: {distribution: uniform, range: [1, 0.1], scale: log}", "inverted"),
        ("lr: {distribution: uniform, range: [0, 1], scale: log}", "positive range"),
        ("lr: {distribution: uniform, range: [-1, 1], scale: log}", "positive range"),
        ("beta1: {distribution: uniform, range: [0.9, 1.0]}", "out of range"),
        ("beta2: {distribution: choice, values: [0.9, 1.5]}", "out of range"),
        ("beta1: 1.0", "out of range"),
        ("batch_size: {distribution: int, range: [0, 64]}", "out of range"),
        ("batch_size: -8", "out of range"),
        ("lr: 0", "out of range"),
        ("lr: {distribution: uniform, range: [0.1, 1], scale: cubic}", "unknown scale"),
        ("momentum: 0.9", "unknown hyperparameter"),
        ("optimizer: {distribution: choice, values: [adam, lbfgs]}", "unknown optimizer"),
    ],
)
def test_tune_rejects_bad_spaces(run, tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(f"params:\n  {text}\n  units: {{distribution: int, range: [2, 4]}}\n")
    out = tmp_path / "never"
    _fail(run("tune", "--space", str(path), "--trials", "2", "--out", str(out)), message)
    assert not (out / "trials").exists()


def test_resume_of_another_search_is_refused_and_keeps_trials(run, space, tmp_path):
    out = tmp_path / "r"
    _ok(run("tune", "--space", str(space), "--trials", "2", "--out", str(out)))
    before = {p.name: p.read_text() for p in (out / "trials").glob("*.json")}
    other = tmp_path / "other.yaml"
    other.write_text(SPACE.replace("[3, 12]", "[3, 20]"))
    _fail(
        run("tune", "--space", str(other), "--trials", "2", "--resume", str(out)), "another search"
    )
    _fail(run("tune", "--trials", "3", "--resume", str(out)), "--trials 3 differs")
    _fail(run("tune", "--space", str(space), "--resume", str(tmp_path)), "holds no config.yaml")
    _fail(run("tune", "--space", str(space), "--out", str(out)), f"{out} already holds a run")
    assert {p.name: p.read_text() for p in (out / "trials").glob("*.json")} == before
    _fail(run("tune", "--space", str(tmp_path / "missing.yaml")), "does not exist")
    _usage(run("tune", "--space", str(space), "--workers", "0"), "'--workers': 0 is not in")
    _usage(run("tune", "--space", str(space), "--top", "-1"), "'--top': -1 is not in the range")
    listed = tmp_path / "listed"
    listed.mkdir()
    (listed / "config.yaml").write_text("trials: 30\n")
    _fail(run("tune", "--space", str(space), "--resume", str(listed)), "no search.json")
    (listed / "search.json").write_text("[1, 2]")
    _fail(run("tune", "--space", str(space), "--resume", str(listed)), "not a search record")


def test_help_does_not_import_heavy_modules():
    import subprocess

    code = (
        "import sys; from dltool.cli import main; sys.argv=['dltool','optimizers','--help'];\n"
        "try: main()\nexcept SystemExit: pass\n"
        "print([m for m in ('numpy','torch','matplotlib','scipy') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().endswith("[]"), out.stdout + out.stderr


def test_interrupted_pool_stops_its_workers(space):
    import multiprocessing

    import yaml

    sp = search.parse_space(yaml.safe_load(space.read_text()))
    sp.data = {"seed": 1, **sp.data}
    tasks = search.round_tasks(sp, 1, 0, 6, {})
    got = []

    def on_done(trial):
        got.append(trial)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        search.run_tasks(tasks, 2, on_done)
    assert len(got) == 1 and got[0]["status"] == "ok"
    assert not [p for p in multiprocessing.active_children() if "Process" in p.name]


# --- issue 14/15: bounded sizes, --exist-ok, resume with the run's own options, killed tune ---


def test_sizes_that_only_describe_work_are_bounded(run, tmp_path):
    from dltool_support import run_peak

    _usage(run("minibatches", "--m", "1000000000"), "1000000000 is not in the range")
    _fail(run("minibatches", "--m", "10000000", "--size", "1"), "makes 10,000,000 batches")
    _usage(run("schedule", "--epochs", "100000000"), "100000000 is not in the range")
    _usage(run("compare", "--samples", "100000000"), "100000000 is not in the range")
    res = _fail(run("compare", "--hidden", "100000,100000", "--out", tmp_path / "c"), "GiB of")
    assert "--force" in res.stderr and "--hidden" in res.stderr
    _usage(run("tune", "--trials", "100000000", "--space", "x.yaml"), "is not in the range")
    assert not (tmp_path / "c").exists()
    for args in (["minibatches", "--m", "10000000", "--size", "1"], ["compare", "--hidden",
                 "100000,100000", "--out", tmp_path / "c"]):  # fmt: skip
        result, peak_kib = run_peak("-q", "optimizers", *args)  # a fresh process: its own peak
        assert result.returncode == 1 and peak_kib < 1 << 20, (args, peak_kib)  # under 1 GiB


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("units: {distribution: int, range: [3, 1000000000]}", "out of range"),
        ("layers: 1000", "out of range"),
        ("epochs: 100000000", "out of range"),
    ],
)
def test_tune_bounds_the_space(run, tmp_path, text, message):
    path = tmp_path / "big.yaml"
    path.write_text(f"params:\n  {text}\n  lr: {{distribution: uniform, range: [0.01, 0.1]}}\n")
    _fail(run("tune", "--space", path, "--trials", "2", "--out", tmp_path / "never"), message)
    big = tmp_path / "samples.yaml"
    big.write_text(
        "data: {samples: 100000000}\nparams:\n  units: {distribution: int, range: [2, 4]}\n"
    )
    _fail(run("tune", "--space", big, "--trials", "2"), "--samples must be in [4, 1,000,000]")


def test_exist_ok_replaces_schedule_compare_and_tune_runs(run, space, tmp_path):
    for args in (["schedule", "--epochs", "5"], ["compare", "--epochs", "3", "--samples", "40"]):
        out = tmp_path / args[0]
        _ok(run(*args, "--out", out))
        _fail(run(*args, "--out", out), "already holds a run")
        _ok(run(*args, "--out", out, "--exist-ok"))
    out = tmp_path / "t"
    _ok(run("tune", "--space", space, "--trials", "3", "--out", out))
    res = _ok(run("--json", "tune", "--space", space, "--trials", "2", "--out", out, "--exist-ok"))
    assert len(json.loads(res.stdout)["trials"]) == 2
    assert sorted(p.name for p in (out / "trials").iterdir()) == ["r0-t000.json", "r0-t001.json"]


def test_tune_resume_needs_no_other_option(run, space, tmp_path):
    out = tmp_path / "t"
    _ok(run("tune", "--space", space, "--trials", "3", "--out", out))
    (out / "trials" / "r0-t001.json").unlink()
    space.unlink()  # the run keeps its own copy
    res = _ok(run("--json", "tune", "--resume", out, "--top", "1"))
    assert len(json.loads(res.stdout)["trials"]) == 3
    _fail(run("tune", "--resume", out, "--trials", "4"), "--trials 4 differs from the resumed")
    _fail(run("--seed", "7", "tune", "--resume", out), "--seed 7 differs from the resumed run's 1")
    _fail(run("tune"), "a new search needs --space FILE")


def _descendants(pid: int) -> set[int]:
    """Return the pids of every live descendant of ``pid`` (from /proc)."""
    from pathlib import Path

    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pids: set[int]) -> set[int]:
    """Return the pids that still exist and are not zombies."""
    from pathlib import Path

    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_killed_tune_leaves_no_process_behind(space, tmp_path, how):
    import signal
    import subprocess
    import time

    slow = tmp_path / "slow.yaml"
    slow.write_text(SPACE.replace("epochs: 15", "epochs: 3000"))
    out = tmp_path / "k"
    code = "import sys; from dltool.cli import main; sys.argv = ['dltool'] + sys.argv[1:]; main()"
    args = ["optimizers", "tune", "--space", slow, "--trials", "8", "--workers", "2", "--out", out]
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "-q", *map(str, args)],
        env={**__import__("os").environ, "DLTOOL_RUNS": str(tmp_path / "runs")},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while len(_descendants(proc.pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)  # the forkserver, its two workers (and the resource tracker)
        family = _descendants(proc.pid)
        assert len(family) >= 3, family
        proc.send_signal(getattr(signal, how))
        _, err = proc.communicate(timeout=30)
        deadline = time.monotonic() + 10
        while _alive(family) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(family)
        if how == "SIGTERM":
            assert proc.returncode in (130, 143) and "--resume" in err, err
            assert (out / "config.yaml").exists() and (out / "search.json").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_compare_memory_estimate_is_the_core_one_and_force_passes_it(run, tmp_path, monkeypatch):
    from dltool.nn import training

    args = ["compare", "--samples", "20", "--epochs", "1", "--hidden", "3", "--batch-size", "8"]
    monkeypatch.setattr(training, "MEMORY_LIMIT", 1)  # every network is above it
    _fail(run(*args, "--out", tmp_path / "a"), "training layers 2,3,1 on 16 examples needs about")
    assert not (tmp_path / "a").exists()
    _ok(run(*args, "--force", "--out", tmp_path / "b"))
    assert "force" not in yaml.safe_load((tmp_path / "b" / "config.yaml").read_text())


def test_exist_ok_compare_leaves_no_cost_curve_of_the_earlier_run(run, tmp_path):
    out = tmp_path / "c"
    args = ["compare", "--samples", "20", "--epochs", "2", "--out", out]
    _ok(run(*args, "--optimizers", "gd,adam"))
    assert (out / "costs_adam.json").is_file()
    _ok(run(*args, "--optimizers", "gd", "--exist-ok"))
    assert sorted(p.name for p in out.glob("costs_*.json")) == ["costs_gd.json"]
    assert [r["optimizer"] for r in json.loads((out / "results.json").read_text())["results"]] == [
        "gd"
    ]


def test_tune_refuses_a_space_whose_largest_network_would_not_fit(run, tmp_path):
    from dltool_support import run_peak

    space = tmp_path / "huge.yaml"
    space.write_text(
        "data: {dataset: moons, samples: 120}\n"
        "params:\n  units: {distribution: int, range: [2, 10000]}\n  layers: 100\n"
    )
    out = tmp_path / "never"
    res = _fail(run("tune", "--space", space, "--trials", "2", "--out", out), "GiB of memory")
    assert "training layers 2,10000,10000," in res.stderr and "largest units" in res.stderr
    assert not out.exists()
    result, peak_kib = run_peak("-q", "optimizers", "tune", "--space", space, "--out", out)
    assert result.returncode == 1 and peak_kib < 1 << 20  # refused before any trial
