"""``dltool optimizers``: compare, schedule, tune, minibatches.

Module-level imports stay light (typer only); NumPy, torch and matplotlib are imported
inside the commands. The math lives in :mod:`dltool.nn.optimizers`,
:mod:`dltool.nn.schedules`, :mod:`dltool.data.minibatches` and :mod:`dltool.nn.training`.
"""

from __future__ import annotations

from pathlib import Path

import typer

from dltool.errors import DltoolError
from dltool.nn.schedules import KINDS

app = typer.Typer(
    help="Compare GD/momentum/RMSprop/Adam, plot lr decay, random hyperparameter search.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

DATASETS = "planar|moons|circles|spirals|blobs|digits"
OPTIMIZERS = ("gd", "momentum", "rmsprop", "adam")
NOTES_SEED = 3  # the notes' np.random.seed(3) for the moons comparison
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


def _choices(*names: str):
    """Return a shell-completion function offering ``names``."""
    return lambda incomplete: [n for n in names if n.startswith(incomplete)]


@app.callback()
def main() -> None:
    """Mini-batches, momentum, RMSprop, Adam, learning-rate decay and random search."""


def _session():
    """Return the current dltool session."""
    from dltool.context import current

    return current()


def _seed(default: int = 1) -> int:
    """Return the global --seed, or ``default``."""
    seed = _session().seed
    return default if seed is None else seed


def _schedule(kind, lr0, decay_rate, interval, base, k, values, options=SCHEDULE_OPTIONS):
    """Return the Schedule for the options, or raise a DltoolError naming the bad option."""
    from dltool.nn.optimizers import HyperparameterError
    from dltool.nn.schedules import Schedule

    vals: tuple = ()
    if kind == "manual":
        if not values:
            raise DltoolError(
                "a manual schedule needs --values", hint="e.g. --values 0.1,0.05,0.01"
            )
        try:
            vals = tuple(float(v) for v in values.split(",") if v.strip())
        except ValueError:
            raise DltoolError(f"--values '{values}' is not a list of numbers") from None
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


@app.command()
def minibatches(
    m: int = typer.Option(148, "--m", help="Number of training examples m."),
    size: int = typer.Option(64, "--size", help="Mini-batch size."),
    seed: int = typer.Option(0, "--shuffle-seed", help="Seed of the permutation shown."),
    show: int = typer.Option(8, "--show", help="Example indices shown per batch."),
) -> None:
    """Show how m examples are shuffled and cut into mini-batches of --size."""
    from dltool.data import minibatches as mb

    s = _session()
    if m < 1:
        raise DltoolError(f"--m must be at least 1, got {m}")
    if size < 1:
        raise DltoolError(f"--size must be at least 1, got {size}")
    if show < 0:
        raise DltoolError(f"--show must be ≥ 0, got {show}")
    batches = mb.batch_indices(m, size, seed)
    rows = []
    for i, idx in enumerate(batches, start=1):
        first = ", ".join(str(int(j)) for j in idx[:show]) + (" …" if idx.size > show else "")
        rows.append({"batch": i, "size": int(idx.size), "first examples": first})
    s.reporter.table(f"Mini-batches of m = {m}, size {size}", rows, key="batches")
    full, rest = divmod(m, size)
    kind = "stochastic GD" if size == 1 else "batch GD" if size >= m else "mini-batch GD"
    s.reporter.result("full_batches", full, "full batches")
    s.reporter.result("last_batch", rest if rest else size, "last batch size")
    s.reporter.result("kind", kind, "this is")


@app.command()
def schedule(
    kind: str = typer.Option(
        "inverse", "--kind", help="|".join(KINDS) + ".", autocompletion=_choices(*KINDS)
    ),
    lr0: float = typer.Option(0.1, "--lr0", help="Initial learning rate α₀."),
    decay_rate: float = typer.Option(1.0, "--decay-rate", help="inverse/staircase: α₀/(1+r·e)."),
    epochs: int = typer.Option(100, "--epochs", help="Epochs shown."),
    interval: int = typer.Option(1, "--interval", help="Epochs per step: e = ⌊epoch/interval⌋."),
    base: float = typer.Option(0.95, "--base", help="exponential: α = base^e · α₀."),
    k: float = typer.Option(1.0, "--k", help="sqrt: α = k/√e · α₀."),
    values: str | None = typer.Option(None, "--values", help="manual: α per step, e.g. 0.1,0.05"),
    every: int = typer.Option(0, "--every", help="Table row every N epochs (default ~20 rows)."),
    out: Path | None = typer.Option(None, "--out", help="Run directory (default runs/…/N)."),
) -> None:
    """Print a learning-rate decay schedule (table or --json) and plot it."""
    from dltool_optimizers import plots

    s = _session()
    if epochs < 1:
        raise DltoolError(f"--epochs must be at least 1, got {epochs}")
    sched = _schedule(kind, lr0, decay_rate, interval, base, k, values)
    if kind == "exponential" and decay_rate != 1.0:
        s.reporter.warn("--decay-rate is not used by exponential decay (its rate is --base)")
    lrs = [sched.lr(e) for e in range(epochs)]
    step = every if every > 0 else max(1, epochs // 20)
    shown = range(epochs) if s.reporter.json_mode else sorted({*range(0, epochs, step), epochs - 1})
    rows = [{"epoch": e, "learning_rate": lrs[e]} for e in shown]
    s.reporter.table(f"{kind} schedule, α₀ = {sched.lr0:g}", rows, key="schedule")
    run = s.run_dir("optimizers", "schedule", out)
    png = plots.schedule_figure(run.file("schedule.png"), list(range(epochs)), lrs, _title(sched))
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
        raise DltoolError(f"--optimizers '{text}' lists an optimizer twice")
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


@app.command()
def compare(
    ctx: typer.Context,
    dataset: str = typer.Option(
        "moons",
        "--dataset",
        "-d",
        help=f"{DATASETS}.",
        autocompletion=_choices(*DATASETS.split("|")),
    ),
    data: Path | None = typer.Option(None, "--data", help="Your CSV/NPZ file (one row each)."),
    target: str | None = typer.Option(None, "--target", help="Label column (CSV) or array (NPZ)."),
    samples: int = typer.Option(300, "--samples", help="Examples of a generated data set."),
    noise: float = typer.Option(0.2, "--noise", help="Noise of a generated data set."),
    split: str = typer.Option("0.8,0.2", "--split", help="Train,dev fractions."),
    optimizers: str = typer.Option("gd,momentum,adam", "--optimizers", help="Comma-separated."),
    hidden: str = typer.Option("5,2", "--hidden", help="Hidden layer sizes (notes: 5,2)."),
    lr: float = typer.Option(0.0007, "--lr", help="Learning rate α (notes: 0.0007)."),
    batch_size: int = typer.Option(64, "--batch-size", help="Mini-batch size."),
    epochs: int = typer.Option(5000, "--epochs", help="Passes over the training set."),
    beta1: float = typer.Option(0.9, "--beta1", help="Momentum β / Adam β₁."),
    beta2: float = typer.Option(0.999, "--beta2", help="RMSprop/Adam β₂."),
    epsilon: float = typer.Option(1e-8, "--epsilon", help="ε of RMSprop/Adam."),
    decay: str = typer.Option(
        "constant", "--decay", help="|".join(KINDS) + ".", autocompletion=_choices(*KINDS)
    ),
    decay_rate: float = typer.Option(1.0, "--decay-rate", help="Rate of inverse/staircase decay."),
    interval: int | None = typer.Option(
        None, "--interval", help="Epochs per decay step (default 1000 for staircase, else 1)."
    ),
    values: str | None = typer.Option(None, "--values", help="manual decay: α per step."),
    backend: str = typer.Option(
        "numpy",
        "--backend",
        help="numpy (reference) or torch.optim.",
        autocompletion=_choices("numpy", "torch"),
    ),
    out: Path | None = typer.Option(None, "--out", help="Run directory (default runs/…/N)."),
    config: Path | None = typer.Option(None, "--config", help="YAML file of these options."),
) -> None:
    """Train the same network (same init, same batches) with each optimizer; table + PNG.

    Defaults follow the notes' moons experiment: layers 2-5-2-1, α = 0.0007, mini-batches
    of 64, β = 0.9, β₁ = 0.9, β₂ = 0.999, ε = 1e-8, seed 3 (global --seed overrides).
    """
    from dltool.config import resolve_config

    p = resolve_config(ctx, config)
    _compare_command(p)


def _compare_command(p: dict) -> None:
    """Run ``optimizers compare`` with resolved options ``p``."""
    from dltool.nn.training import NonFiniteCost
    from dltool_optimizers import plots
    from dltool_optimizers.compare import compare, rows
    from dltool_optimizers.problem import DataSpec, prepare

    s = _session()
    names = _parse_names(p["optimizers"])
    hidden = _hidden_sizes(p["hidden"])
    settings = _settings(
        learning_rate=p["lr"],
        epochs=p["epochs"],
        batch_size=p["batch_size"],
        beta1=p["beta1"],
        beta2=p["beta2"],
        epsilon=p["epsilon"],
    )
    if p["backend"] not in ("numpy", "torch"):
        raise DltoolError(f"unknown backend '{p['backend']}'", hint="use numpy or torch")
    if p["decay"] != "constant":
        interval = p["interval"] or (1000 if p["decay"] == "staircase" else 1)
        options = {**SCHEDULE_OPTIONS, "kind": "--decay", "lr0": "--lr"}
        args = (p["decay"], p["lr"], p["decay_rate"], interval, 0.95, 1.0, p["values"])
        settings.schedule = _schedule(*args, options)
    seed = _seed(NOTES_SEED)
    spec = DataSpec(
        p["dataset"],
        p["samples"],
        p["noise"],
        3,
        None if p["data"] is None else str(p["data"]),
        p["target"],
        p["split"],
        seed,
    )
    if p["samples"] < 4:
        raise DltoolError(f"--samples must be at least 4, got {p['samples']}")
    problem = prepare(spec)
    dims = [problem.n_x, *hidden, problem.n_y]
    run = s.run_dir("optimizers", "compare", p["out"])
    run.write_config(p)
    s.reporter.info(
        f"{problem.ds.name}: {problem.y_train.size} train / {problem.y_dev.size} dev, "
        f"layers {dims}, {p['epochs']} epochs of mini-batches of {p['batch_size']}, "
        f"backend {p['backend']}"
    )
    device = s.device if p["backend"] == "torch" else None
    with s.reporter.progress(len(names), "optimizers") as bar:

        def done(o):
            run.log_metrics(optimizer=o.name, seconds=o.seconds, **o.metrics)
            bar.advance(1, **{o.name: round(o.metrics["final_cost"], 4)})

        try:
            outcomes = compare(problem, dims, names, settings, seed, p["backend"], device, done)
        except NonFiniteCost as exc:
            raise DltoolError(
                f"the cost became {exc.cost} at epoch {exc.epoch}",
                hint=f"--lr {p['lr']:g} is too large for one of the optimizers; "
                f"try --lr {p['lr'] / 10:g}",
            ) from None
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


SPACE_EXAMPLE = """\b
Search space YAML (scales: linear, log, one_minus_log), e.g.:
  data: {dataset: moons, samples: 300, noise: 0.2, split: "0.8,0.2"}
  params:
    lr: {distribution: uniform, range: [1.0e-4, 1], scale: log}
    beta1: {distribution: uniform, range: [0.9, 0.999], scale: one_minus_log}
    layers: {distribution: int, range: [1, 3]}
    units: {distribution: int, range: [3, 30]}
    batch_size: {distribution: int, range: [16, 128], scale: log}
    optimizer: {distribution: choice, values: [momentum, adam]}
    epochs: 200
"""


@app.command(epilog=SPACE_EXAMPLE)
def tune(
    space: Path = typer.Option(..., "--space", help="Search space YAML (see below)."),
    trials: int = typer.Option(30, "--trials", help="Trials per round."),
    workers: int = typer.Option(1, "--workers", help="Parallel worker processes."),
    coarse_to_fine: int = typer.Option(
        0, "--coarse-to-fine", help="Extra rounds, each zoomed on the best quarter so far."
    ),
    resume: Path | None = typer.Option(
        None, "--resume", help="Run directory of a search to go on."
    ),
    top: int = typer.Option(10, "--top", help="Rows shown in the table (results.json has all)."),
    out: Path | None = typer.Option(None, "--out", help="Run directory (default runs/…/N)."),
) -> None:
    """Random search (no grid) over a YAML space, coarse to fine, resumable, parallel."""
    _tune_command(space, trials, workers, coarse_to_fine, resume, top, out)


def _load_space(path: Path):
    """Return the parsed search space at ``path``."""
    import yaml

    from dltool_optimizers.search import parse_space

    if not path.is_file():
        raise DltoolError(f"search space {path} does not exist")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DltoolError(f"cannot read {path} as YAML: {exc}") from None
    return parse_space(doc)


def _open_search(sp, seed, trials, resume, out):
    """Return the run directory: a new one, or ``resume`` after checking it is this search."""
    import json

    s = _session()
    fingerprint = sp.fingerprint(seed, trials)
    if resume is not None:
        meta_path = resume / "search.json"
        if not meta_path.is_file():
            raise DltoolError(f"{resume} is not a tune run directory (no search.json)")
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError) as exc:
            raise DltoolError(f"cannot read {meta_path}: {exc}") from None
        if not isinstance(meta, dict):
            raise DltoolError(f"{meta_path} is not a search record (not a JSON object)")
        if meta.get("fingerprint") != fingerprint:
            raise DltoolError(
                f"{resume} holds another search (other space, seed or --trials)",
                hint="resume with the same --space, --trials and --seed, or start a new run",
            )
        from dltool.runs import RunDir

        return RunDir(resume)
    run = s.run_dir("optimizers", "tune", out)
    if (run.path / "search.json").exists():
        raise DltoolError(f"{run.path} already holds a search", hint=f"use --resume {run.path}")
    run.write_json("search.json", {"fingerprint": fingerprint, "seed": seed, "trials": trials})
    return run


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


def _tune_command(space, trials, workers, rounds, resume, top, out) -> None:
    """Run ``optimizers tune``."""
    import os

    from dltool import atomic
    from dltool_optimizers import plots, search

    s = _session()
    if trials < 1:
        raise DltoolError(f"--trials must be at least 1, got {trials}")
    if workers < 1:
        raise DltoolError(f"--workers must be at least 1, got {workers}")
    if rounds < 0:
        raise DltoolError(f"--coarse-to-fine must be ≥ 0, got {rounds}")
    if top < 0:
        raise DltoolError(f"--top must be ≥ 0, got {top}")
    sp = _load_space(space)
    seed = _seed()
    from dltool_optimizers.problem import DataSpec, prepare

    prepare(DataSpec(**{"seed": seed, **sp.data}))  # bad data fail here, before any trial
    sp.data = {"seed": seed, **sp.data}
    run = _open_search(sp, seed, trials, resume, out)
    trials_dir = run.file("trials")
    trials_dir.mkdir(exist_ok=True)
    run.write_config(
        {
            "space": str(space),
            "trials": trials,
            "workers": workers,
            "coarse_to_fine": rounds,
            "seed": seed,
        }
    )
    atomic.write_text(run.file("space.yaml"), space.read_text(encoding="utf-8"))
    names = list(sp.params)
    total = trials * (rounds + 1)
    before = len(search.load_finished(trials_dir))
    if before:
        s.reporter.info(f"resuming {run.path}: {before} finished trials kept")
    s.reporter.info(
        f"{total} trials ({rounds + 1} round(s) of {trials}), {workers} worker(s), "
        f"1 BLAS thread each (of {os.cpu_count()} CPUs)"
    )
    best = {"dev": None}
    try:
        with s.reporter.progress(total, "trials") as bar:
            bar.advance(min(before, total))

            def on_done(t):
                acc = t["metrics"].get("dev_acc")
                if acc is not None and (best["dev"] is None or acc > best["dev"]):
                    best["dev"] = acc
                run.log_metrics(trial=t["id"], status=t["status"], **t["metrics"])
                bar.advance(1, last=t["id"], dev=acc, best=best["dev"])

            ranked, axes = search.search(sp, seed, trials, rounds, workers, trials_dir, on_done)
    except KeyboardInterrupt:
        n = len(search.load_finished(trials_dir))
        s.reporter.warn(
            f"interrupted: {n} finished trials kept in {trials_dir}; go on with --resume {run.path}"
        )
        raise
    rows = [_trial_row(t, names) for t in ranked]
    run.write_json("results.json", {"ranked": ranked, "zoomed_axes": axes})
    scales = {n: p.scale for n, p in sp.params.items()}
    png = plots.search_figure(
        run.file("search.png"),
        ranked,
        [n for n in names if sp.params[n].distribution != "choice"],
        scales,
    )
    shown = rows if s.reporter.json_mode else rows[:top]
    s.reporter.table(f"Trials by dev accuracy ({len(rows)} finished)", shown, key="trials")
    if ranked and ranked[0]["metrics"].get("dev_acc") is not None:
        s.reporter.result("best", ranked[0]["config"], "best configuration")
    s.reporter.result("plot", str(png), "plot")
    s.reporter.result("run_dir", str(run.path), "run directory")
