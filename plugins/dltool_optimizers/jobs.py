"""Jobs of ``dltool optimizers``: what each command does once its options are parsed.

NumPy, torch and matplotlib are imported inside the jobs. Only the jobs read the CLI
session; the math (:mod:`dltool.nn.optimizers`, :mod:`dltool.nn.schedules`,
:mod:`dltool.data.minibatches`, :mod:`dltool.nn.training`, :mod:`dltool_optimizers.search`)
gets the device and the thread width as arguments.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from dltool.errors import DltoolError
from dltool.runs import METRICS

OPTIMIZERS = ("gd", "momentum", "rmsprop", "adam")
NOTES_SEED = 3  # the notes' np.random.seed(3) for the moons comparison
MAX_BATCHES = 100_000  # minibatches: rows of the table
# fields of Settings / Schedule → the options that set them (errors name the option typed)
TRAIN_OPTIONS = {
    "learning_rate": "--lr",
    "epochs": "--epochs",
    "batch_size": "--batch-size",
    "beta1": "--beta1",
    "beta2": "--beta2",
    "epsilon": "--epsilon",
}
SCHEDULE_OPTIONS = {
    "kind": "--kind",
    "lr0": "--lr0",
    "decay_rate": "--decay-rate",
    "interval": "--interval",
    "base": "--base",
    "k": "--k",
    "values": "--values",
}


def _session():
    """Return the current dltool session."""
    from dltool.context import current

    return current()


def _seed(default: int = 1) -> int:
    """Return the global --seed, or ``default``."""
    seed = _session().seed
    return default if seed is None else seed


def _fresh_run(command: str, out: Path | None, exist_ok: bool):
    """Return a new run folder; an earlier run's results in a reused ``--out`` go first.

    With ``--exist-ok`` this run writes over the earlier one: its results, cost curves
    (``costs_<optimizer>.json`` of optimizers this run may not train) and plots go, so none
    is taken for this run's.
    """
    run = _session().run_dir("optimizers", command, out, exist_ok)
    return run.clear("results.json", METRICS, "compare.png", "schedule.png", "costs_*.json")


def values(p: dict) -> dict:
    """Return the options ``p`` with each choice (an Enum) as its value."""
    return {k: v.value if isinstance(v, Enum) else v for k, v in p.items()}


def _schedule(kind, lr0, decay_rate, interval, base, k, values, options=SCHEDULE_OPTIONS):
    """Return the Schedule for the options, or raise a DltoolError naming the bad option."""
    from dltool.nn.optimizers import HyperparameterError
    from dltool.nn.schedules import Schedule

    vals: tuple = ()
    if values is not None and kind != "manual":
        flag = options["kind"]
        raise DltoolError(
            f"--values is used only by {flag} manual, not {flag} {kind}",
            hint=f"add {flag} manual, or leave --values out",
        )
    if kind == "manual":
        if not values:
            raise DltoolError(
                "a manual schedule needs --values", hint="e.g. --values 0.1,0.05,0.01"
            )
        try:
            vals = tuple(float(v) for v in values.split(",") if v.strip())
        except ValueError:
            raise DltoolError(
                f"--values '{values}' is not a list of numbers", hint="e.g. --values 0.1,0.05,0.01"
            ) from None
        lr0 = vals[0] if vals else lr0
    try:
        return Schedule(kind, lr0, decay_rate, base, k, interval, vals)
    except HyperparameterError as exc:
        raise exc.cli_error(options) from None


def _settings(**kwargs):
    """Return training Settings(**kwargs); a value out of range is a DltoolError."""
    from dltool.nn.optimizers import HyperparameterError
    from dltool.nn.training import Settings

    try:
        return Settings(**kwargs)
    except HyperparameterError as exc:
        raise exc.cli_error(TRAIN_OPTIONS) from None


def minibatches(m: int, size: int, seed: int, show: int) -> None:
    """Run ``optimizers minibatches``: the batches of one shuffle of m examples."""
    from dltool.data import minibatches as mb

    s = _session()
    n_batches = -(-m // size)
    if n_batches > MAX_BATCHES:
        raise DltoolError(
            f"--m {m:,} in batches of {size:,} makes {n_batches:,} batches, more than the "
            f"{MAX_BATCHES:,} a table shows",
            hint=f"use --size {-(-m // MAX_BATCHES):,} or more, or a smaller --m",
        )
    rows = []
    for i, idx in enumerate(mb.batch_indices(m, size, seed), start=1):
        first = ", ".join(str(int(j)) for j in idx[:show]) + (" …" if idx.size > show else "")
        rows.append({"batch": i, "size": int(idx.size), "first examples": first})
    s.reporter.table(f"Mini-batches of m = {m}, size {size}", rows, key="batches")
    full, rest = divmod(m, size)
    kind = "stochastic GD" if size == 1 else "batch GD" if size >= m else "mini-batch GD"
    s.reporter.result("full_batches", full, "full batches")
    s.reporter.result("last_batch", rest if rest else size, "last batch size")
    s.reporter.result("kind", kind, "this is")


def schedule(sched: dict, epochs: int, every: int, out: Path | None, exist_ok: bool) -> None:
    """Run ``optimizers schedule``: α per epoch as a table (or --json) and a plot."""
    from dltool_optimizers import plots

    s = _session()
    args = [sched[k] for k in ("kind", "lr0", "decay_rate", "interval", "base", "k", "values")]
    decay = _schedule(*args)
    if sched["kind"] == "exponential" and sched["decay_rate"] != 1.0:
        s.reporter.warn("--decay-rate is not used by exponential decay (its rate is --base)")
    lrs = [decay.lr(e) for e in range(epochs)]
    step = every if every > 0 else max(1, epochs // 20)
    shown = range(epochs) if s.reporter.json_mode else sorted({*range(0, epochs, step), epochs - 1})
    run = _fresh_run("schedule", out, exist_ok)
    run.write_config({**sched, "epochs": epochs, "every": every})
    rows = [{"epoch": e, "learning_rate": lrs[e]} for e in shown]
    s.reporter.table(f"{sched['kind']} schedule, α₀ = {decay.lr0:g}", rows, key="schedule")
    png = plots.schedule_figure(run.file("schedule.png"), list(range(epochs)), lrs, _title(decay))
    s.reporter.result("final_lr", lrs[-1], f"α at epoch {epochs - 1}")
    s.reporter.result("plot", str(png), "plot")


def _title(sched) -> str:
    """Return a one-line formula for the schedule."""
    e = "e" if sched.interval == 1 else f"⌊epoch/{sched.interval}⌋"
    return {
        "constant": f"α = {sched.lr0:g}",
        "inverse": f"α = {sched.lr0:g} / (1 + {sched.decay_rate:g}·{e})",
        "staircase": f"α = {sched.lr0:g} / (1 + {sched.decay_rate:g}·{e})",
        "exponential": f"α = {sched.base:g}^{e} · {sched.lr0:g}",
        "sqrt": f"α = {sched.k:g}/√{e} · {sched.lr0:g}",
        "manual": f"manual: {', '.join(f'{v:g}' for v in sched.values)}",
    }[sched.kind]


def _parse_names(text: str) -> list[str]:
    """Return the comma-separated optimizer names, each known and listed once."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if n not in OPTIMIZERS]
    if not names or bad:
        raise DltoolError(
            f"unknown optimizer '{bad[0] if bad else text}'", hint=f"use {','.join(OPTIMIZERS)}"
        )
    if len(set(names)) != len(names):
        raise DltoolError(
            f"--optimizers '{text}' lists an optimizer twice",
            hint=f"name each at most once, e.g. {','.join(OPTIMIZERS)}",
        )
    return names


def _hidden_sizes(text: str) -> list[int]:
    """Return the hidden layer sizes in '5,2'."""
    try:
        sizes = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise DltoolError(f"--hidden '{text}' is not a list of integers", hint="e.g. 5,2") from None
    if not sizes or any(v < 1 for v in sizes):
        raise DltoolError(f"--hidden '{text}' needs positive layer sizes", hint="e.g. 5,2")
    return sizes


def _compare_settings(p: dict):
    """Return the Settings of ``compare`` (with its decay schedule) from the options."""
    args = {"learning_rate": p["lr"], "epochs": p["epochs"], "batch_size": p["batch_size"]}
    settings = _settings(**args, beta1=p["beta1"], beta2=p["beta2"], epsilon=p["epsilon"])
    # the schedule is checked (its options too) even when constant decay ignores it
    interval = p["interval"] or (1000 if p["decay"] == "staircase" else 1)
    options = {**SCHEDULE_OPTIONS, "kind": "--decay", "lr0": "--lr"}
    args = (p["decay"], p["lr"], p["decay_rate"], interval, 0.95, 1.0, p["values"])
    decay = _schedule(*args, options)
    if p["decay"] not in ("inverse", "staircase") and p["decay_rate"] != 1.0:
        _session().reporter.warn(f"--decay-rate is not used by --decay {p['decay']}")
    if p["decay"] != "constant":
        settings.schedule = decay
    return settings


def compare(ctx, config: Path | None) -> None:
    """Run ``optimizers compare``: one network, one start, one batch order, each optimizer."""
    from dltool.config import resolve_config
    from dltool.nn.training import check_training_memory
    from dltool_optimizers.problem import DataSpec, prepare

    s = _session()
    p = values(resolve_config(ctx, config))
    names = _parse_names(p["optimizers"])
    hidden = _hidden_sizes(p["hidden"])
    settings = _compare_settings(p)
    seed = _seed(NOTES_SEED)
    data = None if p["data"] is None else str(p["data"])
    spec = DataSpec(p["dataset"], p["samples"], p["noise"], 3, data, p["target"], p["split"], seed)
    problem = prepare(spec)
    dims = [problem.n_x, *hidden, problem.n_y]
    m = problem.y_train.size
    check_training_memory(dims, m, p["batch_size"], "float64", p["force"], "--hidden")
    run = _fresh_run("compare", p["out"], p["exist_ok"])
    run.write_config({k: v for k, v in p.items() if k not in ("exist_ok", "force")})
    s.reporter.info(
        f"{problem.ds.name}: {problem.y_train.size} train / {problem.y_dev.size} dev, "
        f"layers {dims}, {p['epochs']} epochs of mini-batches of {p['batch_size']}, "
        f"backend {p['backend']}"
    )
    outcomes = _run_compare(run, problem, dims, names, settings, seed, p)
    _report_compare(run, outcomes, problem, dims, seed, p)


def _run_compare(run, problem, dims, names, settings, seed, p):
    """Train with each optimizer under a progress bar; return the outcomes."""
    from dltool.nn.training import NonFiniteCost
    from dltool_optimizers.compare import compare as train_each

    s = _session()
    device = s.device if p["backend"] == "torch" else None
    with s.reporter.progress(len(names), "optimizers") as bar:

        def done(o):
            run.log_metrics(optimizer=o.name, seconds=o.seconds, **o.metrics)
            bar.advance(1, **{o.name: round(o.metrics["final_cost"], 4)})

        try:
            args = (problem, dims, names, settings, seed, p["backend"], device, done)
            return train_each(*args, threads=s.threads)
        except NonFiniteCost as exc:
            raise DltoolError(
                f"the cost became {exc.cost} at epoch {exc.epoch}",
                hint=f"--lr {p['lr']:g} is too large for one of the optimizers; "
                f"try --lr {p['lr'] / 10:g}",
            ) from None


def _report_compare(run, outcomes, problem, dims, seed, p) -> None:
    """Write results.json, the cost files and compare.png; print the table and the best."""
    from dltool_optimizers import plots
    from dltool_optimizers.compare import rows

    s = _session()
    table = rows(outcomes)
    run.write_json("results.json", {"layers": dims, "seed": seed, "results": table})
    for o in outcomes:
        run.write_json(f"costs_{o.name}.json", o.costs)
    title = f"{problem.ds.name}, layers {dims}, batch {p['batch_size']}, α = {p['lr']:g}"
    png = plots.compare_figure(run.file("compare.png"), outcomes, problem, "relu", title)
    s.reporter.table("Optimizers (same init, same mini-batches)", table, key="results")
    best = max(outcomes, key=lambda o: (o.metrics["dev_acc"], -o.metrics["final_cost"]))
    s.reporter.result("best", best.name, "best dev accuracy")
    s.reporter.result("plot", str(png), "plot")
    s.reporter.result("run_dir", str(run.path), "run directory")


def _trial_row(t: dict, names: list[str]) -> dict:
    """Return one results-table row for trial ``t``."""
    m = t["metrics"]
    row = {"trial": t["id"]}
    for n in names:
        v = t["config"][n]
        row[n] = float(f"{v:.4g}") if isinstance(v, float) else v
    row["dev_acc_%"] = None if m.get("dev_acc") is None else round(m["dev_acc"], 2)
    row["train_acc_%"] = None if m.get("train_acc") is None else round(m["train_acc"], 2)
    row["dev_cost"] = None if m.get("dev_cost") is None else round(m["dev_cost"], 4)
    row["status"] = t["status"]
    return row


def _load_space(path: Path):
    """Return the parsed search space at ``path``."""
    import yaml

    from dltool_optimizers.search import parse_space

    if not path.is_file():
        raise DltoolError(
            f"search space {path} does not exist", hint="give a YAML file; --help shows one"
        )
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DltoolError(
            f"cannot read {path} as YAML: {exc}", hint="--help shows a search space"
        ) from None
    return parse_space(doc)


def _search_record(run_path: Path) -> dict:
    """Return the run's search.json (fingerprint, seed, trials)."""
    import json

    meta_path = run_path / "search.json"
    if not meta_path.is_file():
        raise DltoolError(
            f"{run_path} is not a tune run directory (no search.json)",
            hint="give a run folder of 'dltool optimizers tune'",
        )
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError) as exc:
        raise DltoolError(f"cannot read {meta_path}: {exc}", hint="start a new search") from None
    if not isinstance(meta, dict):
        raise DltoolError(
            f"{meta_path} is not a search record (not a JSON object)", hint="start a new search"
        )
    return meta


def _open_search(sp, seed: int, p: dict, run_path: Path | None):
    """Return the run directory: a new one, or the resumed one after checking it is this search."""
    from dltool.runs import RunDir

    fingerprint = sp.fingerprint(seed, p["trials"])
    if run_path is not None:
        if _search_record(run_path).get("fingerprint") != fingerprint:
            raise DltoolError(
                f"{run_path} holds another search (other space, seed or --trials)",
                hint="resume with the run's own --space, --trials and --seed, or start a new run",
            )
        return RunDir(run_path)
    run = _session().run_dir("optimizers", "tune", p["out"], p["exist_ok"])
    for old in [*run.file("trials").glob("*.json"), run.file("results.json")]:
        old.unlink(missing_ok=True)  # --exist-ok: this search replaces the one there
    run.write_json("search.json", {"fingerprint": fingerprint, "seed": seed, "trials": p["trials"]})
    return run


def _tune_options(ctx, resume: str | None) -> tuple[dict, Path, int, Path | None]:
    """Return (options, space file, seed, resumed run or None) of ``tune``."""
    p = values(dict(ctx.params))
    seed = _seed()
    if resume is None:
        if p["space"] is None:
            raise DltoolError("a new search needs --space FILE", hint="--help shows a space")
        return p, Path(p["space"]), seed, None
    from dltool.commands import resumed_options

    may_change = ("workers", "top", "coarse_to_fine", "space")
    run_path, p = resumed_options(ctx, p, resume, "optimizers", "tune", None, may_change)
    saved = _search_record(run_path).get("seed")
    if _session().seed is not None and seed != saved:
        raise DltoolError(
            f"--seed {seed} differs from the resumed run's {saved}",
            hint="--resume keeps the run's own options; leave --seed out",
        )
    given = ctx.params["space"]
    return p, Path(given) if given else run_path / "space.yaml", saved, run_path


def _check_space_memory(sp, problem) -> None:
    """Refuse a space whose largest network (most layers × units, largest batch) would not fit."""
    from dltool.nn.training import check_training_memory
    from dltool_optimizers.search import largest

    units, layers = int(largest(sp, "units")), int(largest(sp, "layers"))
    dims = [problem.n_x, *[units] * layers, problem.n_y]
    hint = "lower the space's largest units, layers or batch_size"
    batch = int(largest(sp, "batch_size"))
    check_training_memory(dims, problem.y_train.size, batch, hint=hint)


def tune(ctx, resume: str | None) -> None:
    """Run ``optimizers tune``: random search, coarse to fine, resumable, parallel."""
    from dltool import atomic
    from dltool_optimizers.problem import DataSpec, prepare

    p, space_file, seed, run_path = _tune_options(ctx, resume)
    sp = _load_space(space_file)
    problem = prepare(DataSpec(**{"seed": seed, **sp.data}))  # bad data fail here
    _check_space_memory(sp, problem)  # before any trial
    sp.data = {"seed": seed, **sp.data}
    run = _open_search(sp, seed, p, run_path)
    text = space_file.read_text(encoding="utf-8")
    run.file("trials").mkdir(exist_ok=True)
    keys = ("trials", "workers", "coarse_to_fine")
    run.write_config({"space": str(space_file), **{k: p[k] for k in keys}, "seed": seed})
    if space_file != run.file("space.yaml"):
        atomic.write_text(run.file("space.yaml"), text)
    ranked, axes = _search(run, sp, seed, p)
    _report_tune(run, sp, ranked, axes, p["top"])


def _search(run, sp, seed: int, p: dict):
    """Run the search with a progress bar; Ctrl-C or SIGTERM keeps the finished trials."""
    import os

    from dltool.device import small_step_threads
    from dltool_optimizers import search

    s = _session()
    trials_dir = run.file("trials")
    rounds, workers = p["coarse_to_fine"], p["workers"]
    total = p["trials"] * (rounds + 1)
    threads = small_step_threads(s.threads)
    before = len(search.load_finished(trials_dir))
    if before:
        s.reporter.info(f"resuming {run.path}: {before} finished trials kept")
    s.reporter.info(
        f"{total} trials ({rounds + 1} round(s) of {p['trials']}), {workers} worker(s), "
        f"{threads} thread(s) each (of {os.cpu_count()} CPUs)"
    )
    best = {"dev": None}
    try:
        with s.reporter.progress(total, "trials") as bar, _terminate_as_interrupt():
            bar.advance(min(before, total))

            def on_done(t):
                acc = t["metrics"].get("dev_acc")
                if acc is not None and (best["dev"] is None or acc > best["dev"]):
                    best["dev"] = acc
                run.log_metrics(trial=t["id"], status=t["status"], **t["metrics"])
                bar.advance(1, last=t["id"], dev=acc, best=best["dev"])

            args = (sp, seed, p["trials"], rounds, workers, trials_dir, on_done, threads)
            return search.search(*args)
    except KeyboardInterrupt:
        n = len(search.load_finished(trials_dir))
        s.reporter.warn(
            f"interrupted: {n} finished trials kept in {trials_dir}; go on with --resume {run.path}"
        )
        raise


def _terminate_as_interrupt():
    """Return a context in which SIGTERM interrupts like Ctrl-C (main thread only)."""
    import contextlib
    import signal
    import threading

    @contextlib.contextmanager
    def handled():
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def interrupt(signum, frame):
            raise KeyboardInterrupt

        previous = signal.signal(signal.SIGTERM, interrupt)
        try:
            yield
        finally:
            signal.signal(signal.SIGTERM, previous)

    return handled()


def _report_tune(run, sp, ranked: list[dict], axes: dict, top: int) -> None:
    """Write results.json and search.png; print the best trials and the best configuration."""
    from dltool_optimizers import plots

    s = _session()
    names = list(sp.params)
    rows = [_trial_row(t, names) for t in ranked]
    run.write_json("results.json", {"ranked": ranked, "zoomed_axes": axes})
    scales = {n: q.scale for n, q in sp.params.items()}
    numeric = [n for n in names if sp.params[n].distribution != "choice"]
    png = plots.search_figure(run.file("search.png"), ranked, numeric, scales)
    shown = rows if s.reporter.json_mode else rows[:top]
    s.reporter.table(f"Trials by dev accuracy ({len(rows)} finished)", shown, key="trials")
    if ranked and ranked[0]["metrics"].get("dev_acc") is not None:
        s.reporter.result("best", ranked[0]["config"], "best configuration")
    s.reporter.result("plot", str(png), "plot")
    s.reporter.result("run_dir", str(run.path), "run directory")
