"""``dltool basicnn``: train, predict, logreg, gradcheck, diagnose, activations.

Module-level imports stay light (typer only); NumPy, torch and matplotlib are imported
inside the commands. The seed (global ``--seed``, default 1) seeds the data generator, the
split and NumPy's global generator, which then draws W1 … WL, per-epoch permutations and
dropout masks in that order (see ``dltool.nn.network`` and ``dltool.nn.training``).
"""

from __future__ import annotations

from pathlib import Path

import typer

from dltool.errors import DltoolError

app = typer.Typer(
    help="Logistic regression and L-layer networks: train, predict, gradcheck, diagnose.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.callback()
def main() -> None:
    """Logistic regression and L-layer networks from the course notes ("Basic NN")."""


DEFAULT_SEED = 1
DATASETS = "planar|moons|circles|spirals|blobs|digits"


def _choices(*names: str):
    """Return a shell-completion function offering ``names``."""
    return lambda incomplete: [n for n in names if n.startswith(incomplete)]


COMPLETE_DATASET = _choices(*DATASETS.split("|"))
COMPLETE_ACTIVATION = _choices("relu", "tanh", "sigmoid", "leaky_relu")
COMPLETE_INIT = _choices("zeros", "random", "he", "xavier")
COMPLETE_BACKEND = _choices("numpy", "torch")
COMPLETE_DTYPE = _choices("float64", "float32")
COMPLETE_OPTIMIZER = _choices("gd", "momentum", "rmsprop", "adam")


def _session():
    """Return the current dltool session."""
    from dltool.context import current

    return current()


def _seed() -> int:
    """Return the global --seed, or the default 1."""
    seed = _session().seed
    return DEFAULT_SEED if seed is None else seed


# Settings fields → the options that set them (errors name the option the user typed)
OPTIONS = {
    "learning_rate": "--lr",
    "epochs": "--epochs",
    "batch_size": "--batch-size",
    "keep_prob": "--keep-prob",
    "lambd": "--l2 (λ)",
    "optimizer": "--optimizer",
    "beta1": "--beta1",
    "beta2": "--beta2",
}


def _settings(*args, **kwargs):
    """Return training Settings(*args, **kwargs); a value out of range is a DltoolError."""
    from dltool.nn.optimizers import HyperparameterError
    from dltool.nn.training import Settings

    try:
        return Settings(*args, **kwargs)
    except HyperparameterError as exc:
        raise exc.cli_error(OPTIONS) from None


def _parse_ints(text: str, option: str) -> list[int]:
    """Return the comma-separated positive integers in ``text``."""
    try:
        values = [int(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise DltoolError(f"{option} '{text}' is not a comma-separated list of integers") from None
    if len(values) < 2 or any(v < 1 for v in values):
        raise DltoolError(
            f"{option} '{text}' needs at least two positive sizes (input, …, output)",
            hint="e.g. --layers 2,20,7,5,1",
        )
    return values


def _load_data(p: dict, seed: int):
    """Return the Dataset chosen by --data/--target or --dataset and its options."""
    from dltool.data import datasets as data

    return data.load(
        p["dataset"], p["data"], p["target"], p["samples"], p["noise"], seed, p["classes"]
    )


def _prepare(p: dict, seed: int, transform=None):
    """Return (dataset, splits {name: (X (n_x, m), y)}, mu, sigma) standardized on train."""
    from dltool.data import datasets as data

    ds = _load_data(p, seed)
    if transform is not None:
        ds = transform(ds)
    splits, mu, sigma = data.standardized_splits(ds, p["split"], seed, p["standardize"])
    return ds, splits, mu, sigma


def _check_layers(dims: list[int], n_x: int, n_classes: int) -> None:
    """Raise unless dims start with n_x and end with 1 (two classes) or n_classes units."""
    if dims[0] != n_x:
        raise DltoolError(
            f"--layers starts with {dims[0]} but the data have {n_x} features",
            hint=f"the first size is the input size: --layers {n_x},{','.join(map(str, dims[1:]))}",
        )
    allowed = (1, 2) if n_classes == 2 else (n_classes,)
    if dims[-1] not in allowed:
        need = "1 (sigmoid) or 2 (softmax)" if n_classes == 2 else f"{n_classes} (softmax)"
        raise DltoolError(
            f"--layers ends with {dims[-1]} but the data have {n_classes} classes",
            hint=f"the output layer needs {need} units",
        )


def _meta(ds, dims, hidden, mu, sigma, target, extra) -> dict:
    """Return what predict needs to use a model file."""
    return {
        "layers": dims,
        "activation": hidden,
        "classes": ds.classes,
        "features": ds.features,
        "target": target,
        "named_features": Path(str(ds.name)).suffix.lower() != ".npz",
        "mean": mu.tolist(),
        "std": sigma.tolist(),
        **extra,
    }


def _accuracy_rows(splits, params, hidden) -> list[dict]:
    """Return one row per non-empty split: examples and accuracy in percent."""
    from dltool.nn import network

    rows = []
    for name, (X, y) in splits.items():
        if y.size:
            acc = network.accuracy(X, y, params, hidden)
            rows.append({"split": name, "examples": int(y.size), "accuracy_%": round(100 * acc, 2)})
    return rows


def _plots(run, costs, ds, splits, params, hidden, mu, sigma, title) -> list[Path]:
    """Write the cost curve and, for 2-D data, the decision boundary; return their paths."""
    from dltool_basicnn import plots

    paths = [plots.cost_curve(run.file("cost.png"), costs, title)]
    if ds.X.shape[1] == 2:
        X, y = splits["train"]
        path = run.file("decision_boundary.png")
        paths.append(plots.decision_boundary(path, ds, X, y, params, hidden, mu, sigma))
    return paths


def _copy(params: dict) -> dict:
    """Return a copy of a parameter dict (the live one keeps changing)."""
    return {k: v.copy() for k, v in params.items()}


def _train_loop(run, X, y, params, settings, backend, meta, fit_fn=None):
    """Run fit (or ``fit_fn``) with a progress bar, metrics and checkpoints; return (params, costs).

    A cost is measured before an update, so the weights after epoch e are only known to be
    good once epoch e + 1 reports a finite cost: a checkpoint of epoch e (0 = the initial
    weights) is written then. After a NaN/inf cost, model.npz holds the last checkpoint
    whose weights had a finite cost.
    """
    import numpy as np

    from dltool.nn.training import NonFiniteCost, fit
    from dltool_basicnn import model_io

    s = _session()
    every = max(1, settings.epochs // 100)
    pending = {"epoch": 0, "params": _copy(params)}  # newest checkpoint not yet verified
    saved = {"epoch": None}
    model_path = run.file("model.npz")

    def save(cost):
        meta_now = {**meta, "epoch": pending["epoch"], "cost": cost}
        model_io.save_model(model_path, pending["params"], meta_now)
        saved["epoch"], pending["params"] = pending["epoch"], None

    def on_epoch(epoch, cost, get_params):
        bar.advance(1, cost=cost)
        if pending["params"] is not None and pending["epoch"] == epoch - 1:
            save(cost)  # this epoch's finite cost was measured on those weights
        if epoch % every == 0 or epoch == settings.epochs:
            run.log_metrics(epoch=epoch, cost=cost)
            pending.update(epoch=epoch, params=_copy(get_params()))

    device = s.device if backend == "torch" else None
    try:
        with s.reporter.progress(settings.epochs, "training") as bar, np.errstate(all="ignore"):
            return (fit_fn or fit)(X, y, params, settings, backend, device, on_epoch)
    except KeyboardInterrupt:
        held = pending["params"]
        if held is not None and all(np.all(np.isfinite(v)) for v in held.values()):
            save(None)  # interrupted, not diverged: keep the newest weights
        raise
    except NonFiniteCost as exc:
        run.log_metrics(epoch=exc.epoch, cost=str(exc.cost))
        kept = (
            f"last good checkpoint (epoch {saved['epoch']}): {model_path}"
            if saved["epoch"] is not None
            else "no checkpoint was written yet"
        )
        raise DltoolError(
            f"the cost became {exc.cost} at epoch {exc.epoch}; training stopped, {kept}",
            hint=f"the learning rate {settings.learning_rate} is too large for this network: "
            f"try --lr {settings.learning_rate / 10:g}",
        ) from None


def _report_paths(key: str, paths: list[Path]) -> None:
    """Report file paths: a list under --json, one comma-separated line otherwise."""
    reporter = _session().reporter
    names = [str(x) for x in paths]
    reporter.result(key, names if reporter.json_mode else ", ".join(names), key)


def _check_choices(p: dict) -> None:
    """Raise a DltoolError for an unknown --backend or --dtype."""
    if p["backend"] not in ("numpy", "torch"):
        raise DltoolError(f"unknown backend '{p['backend']}'", hint="use numpy or torch")
    if p.get("dtype", "float64") not in ("float64", "float32"):
        raise DltoolError(f"unknown --dtype '{p['dtype']}'", hint="use float64 or float32")


DATA_HELP = f"Built-in data set: {DATASETS}."


@app.command()
def train(
    ctx: typer.Context,
    dataset: str = typer.Option(
        "planar", "--dataset", "-d", help=DATA_HELP, autocompletion=COMPLETE_DATASET
    ),
    data: Path | None = typer.Option(None, "--data", help="Your CSV/NPZ file (one row each)."),
    target: str | None = typer.Option(None, "--target", help="Label column (CSV) or array (NPZ)."),
    samples: int = typer.Option(400, "--samples", help="Examples of a generated data set."),
    noise: float = typer.Option(0.2, "--noise", help="Noise of a generated data set."),
    classes: int = typer.Option(3, "--classes", help="Classes of spirals/blobs."),
    split: str = typer.Option("0.8,0.1,0.1", "--split", help="Train,dev,test fractions."),
    standardize: bool = typer.Option(True, help="Standardize features with train mean/std."),
    layers: str | None = typer.Option(
        None, "--layers", help="Sizes n_x,n_1,…,n_L (default n_x,20,7,5,n_y)."
    ),
    activation: str = typer.Option(
        "relu",
        "--activation",
        help="relu|tanh|sigmoid|leaky_relu.",
        autocompletion=COMPLETE_ACTIVATION,
    ),
    init: str = typer.Option(
        "he", "--init", help="zeros|random|he|xavier.", autocompletion=COMPLETE_INIT
    ),
    init_scale: float = typer.Option(0.01, "--init-scale", help="Factor of --init random."),
    l2: float = typer.Option(0.0, "--l2", help="L2 strength λ (cost + λ/2m Σ‖W‖²)."),
    keep_prob: float = typer.Option(1.0, "--keep-prob", help="Dropout keep probability."),
    lr: float = typer.Option(0.1, "--lr", help="Learning rate α."),
    epochs: int = typer.Option(2500, "--epochs", "--iterations", help="Passes over the data."),
    batch_size: int | None = typer.Option(None, "--batch-size", help="Mini-batch (default m)."),
    optimizer: str = typer.Option(
        "gd", "--optimizer", help="gd|momentum|rmsprop|adam.", autocompletion=COMPLETE_OPTIMIZER
    ),
    beta1: float = typer.Option(0.9, "--beta1", help="Momentum β / Adam β₁."),
    beta2: float = typer.Option(0.999, "--beta2", help="RMSprop/Adam β₂."),
    backend: str = typer.Option(
        "numpy", "--backend", help="numpy (reference) or torch.", autocompletion=COMPLETE_BACKEND
    ),
    dtype: str = typer.Option(
        "float64", "--dtype", help="float64 or float32 arithmetic.", autocompletion=COMPLETE_DTYPE
    ),
    out: Path | None = typer.Option(None, "--out", help="Run directory (default runs/…/N)."),
    config: Path | None = typer.Option(None, "--config", help="YAML file of these options."),
) -> None:
    """Train an L-layer network (ReLU hidden layers, sigmoid/softmax output)."""
    from dltool.config import resolve_config

    p = resolve_config(ctx, config)
    _check_choices(p)
    settings = _settings(
        p["activation"],
        p["lr"],
        p["epochs"],
        p["batch_size"],
        p["keep_prob"],
        p["l2"],
        p["optimizer"],
        p["beta1"],
        p["beta2"],
    )
    _train_command(p, settings)


def _train_command(p: dict, settings) -> None:
    """Run ``basicnn train`` with resolved options ``p``."""

    from dltool.nn import init as initializers
    from dltool.nn import network
    from dltool.nn.training import initial_parameters
    from dltool_basicnn import model_io

    s = _session()
    seed = _seed()
    if p["activation"] not in network.HIDDEN:
        raise DltoolError(
            f"unknown activation '{p['activation']}'", hint=f"use {'|'.join(network.HIDDEN)}"
        )
    if p["init"] not in initializers.METHODS:
        raise DltoolError(
            f"unknown --init '{p['init']}'", hint=f"use {'|'.join(initializers.METHODS)}"
        )
    ds, splits, mu, sigma = _prepare(p, seed)
    n_x, k = ds.X.shape[1], len(ds.classes)
    n_y = 1 if k == 2 else k
    dims = _parse_ints(p["layers"], "--layers") if p["layers"] else [n_x, 20, 7, 5, n_y]
    _check_layers(dims, n_x, k)
    run = s.run_dir("basicnn", "train", p["out"])
    run.write_config({**p, "layers": ",".join(map(str, dims))})  # reusable with --config
    device = str(s.device) if p["backend"] == "torch" else "cpu (numpy)"
    params = initial_parameters(dims, seed, p["init"], p["init_scale"], p["dtype"])
    meta = _meta(ds, dims, p["activation"], mu, sigma, p["target"], {"seed": seed})
    X, y = splits["train"][0].astype(p["dtype"]), splits["train"][1]
    s.reporter.info(
        f"{ds.name}: {X.shape[1]} train / {splits['dev'][1].size} dev / "
        f"{splits['test'][1].size} test examples, layers {dims}, backend {p['backend']}"
    )
    params, costs = _train_loop(run, X, y, params, settings, p["backend"], meta)
    model_io.save_model(run.file("model.npz"), params, {**meta, "epoch": len(costs)})
    rows = _accuracy_rows(splits, params, p["activation"])
    info = {"seed": seed, "device": device, "layers": dims, "classes": ds.classes}
    run.write_json("results.json", {**info, "final_cost": costs[-1], "accuracy": rows})
    pngs = _plots(run, costs, ds, splits, params, p["activation"], mu, sigma, f"{dims}")
    s.reporter.table("Accuracy", rows, key="accuracy")
    s.reporter.result("final_cost", costs[-1], "final cost")
    s.reporter.result("model", str(run.file("model.npz")), "model file")
    _report_paths("plots", pngs)
    s.reporter.result("run_dir", str(run.path), "run directory")


def _predict_data(source: str, meta: dict, target: str | None, p: dict):
    """Return (Dataset, has_labels) for a file path or a built-in data set name."""
    from dltool.data import datasets as data

    path = Path(source)
    if source in data.BUILTIN and not path.exists():
        return _load_data({**p, "data": None, "dataset": source}, _seed()), True
    if path.suffix.lower() == ".csv" or path.suffix.lower() == ".txt":
        import csv

        if not path.exists():
            raise DltoolError(f"data file {path} does not exist")
        with open(path, newline="", encoding="utf-8", errors="replace") as fh:
            header = [h.strip() for h in next(csv.reader(fh), [])]
        label = target or (meta.get("target") if meta.get("target") in header else None)
        ds = data.read_file(path, label, require_target=False)
        return ds, label is not None
    label = target or "y"
    ds = data.read_file(path, label, require_target=False)
    return ds, ds.y.size > 0


def _align_features(ds, meta: dict, source: str):
    """Return X (m, n_x) in the model's feature order; raise when the data do not fit."""
    feats, n_x = meta["features"], meta["layers"][0]
    if ds.features == feats:
        return ds.X
    named = meta.get("named_features", True)  # NPZ-trained models only know the column count
    if named and Path(source).suffix.lower() in (".csv", ".txt"):
        missing = [f for f in feats if f not in ds.features]
        if missing:
            raise DltoolError(
                f"{source} lacks the model's feature column(s) {', '.join(missing[:5])}"
                + (" …" if len(missing) > 5 else ""),
                hint=f"the model was trained on {n_x} features: {', '.join(feats[:8])}",
            )
        return ds.X[:, [ds.features.index(f) for f in feats]]
    if ds.X.shape[1] != n_x:
        raise DltoolError(
            f"{source} has {ds.X.shape[1]} features but the model's input layer has {n_x}",
            hint="the model was trained on data of another shape",
        )
    return ds.X


def _model_label(name: str, meta: dict) -> str:
    """Return class ``name`` as the model names it: 'X' or 'not X' for a one-vs-rest model."""
    positive = meta.get("positive")
    if positive is None or name in meta["classes"]:
        return name
    return positive if name == positive else f"not {positive}"


@app.command()
def predict(
    model: Path = typer.Argument(..., help="Model file (model.npz) written by train or logreg."),
    data_source: str = typer.Argument(..., metavar="DATA", help=f"CSV/NPZ file or {DATASETS}."),
    target: str | None = typer.Option(None, "--target", help="Label column, to score accuracy."),
    out: Path | None = typer.Option(None, "--out", help="Write all predictions to this CSV."),
    limit: int = typer.Option(20, "--limit", help="Rows shown in the table (--out has all)."),
    samples: int = typer.Option(400, "--samples", help="Examples of a generated data set."),
    noise: float = typer.Option(0.2, "--noise", help="Noise of a generated data set."),
    classes: int = typer.Option(3, "--classes", help="Classes of spirals/blobs."),
) -> None:
    """Predict classes for DATA with a trained model."""
    import numpy as np

    from dltool import atomic
    from dltool.nn import network
    from dltool_basicnn import model_io

    s = _session()
    if limit < 0:
        raise DltoolError(f"--limit must be ≥ 0, got {limit}")
    params, meta = model_io.load_model(model)
    p = {"samples": samples, "noise": noise, "classes": classes, "target": None}
    ds, labelled = _predict_data(data_source, meta, target, p)
    X = _align_features(ds, meta, data_source)
    mu, sigma = np.asarray(meta["mean"]), np.asarray(meta["std"])
    with np.errstate(over="ignore", invalid="ignore"):
        A = network.predict_proba(((X - mu) / sigma).T, params, meta["activation"])  # (n_y, m)
    if not np.all(np.isfinite(A)):
        s.reporter.warn(f"{model} gives non-finite outputs: its parameters have diverged")
    idx = (A[0] > 0.5).astype(int) if A.shape[0] == 1 else np.argmax(A, axis=0)
    prob = np.where(idx == 1, A[0], 1 - A[0]) if A.shape[0] == 1 else A.max(axis=0)
    names = meta["classes"]
    rows = [
        {"row": i, "predicted": names[c], "probability": round(float(q), 4)}
        for i, (c, q) in enumerate(zip(idx, prob, strict=True))
    ]
    if labelled:
        truth = [_model_label(ds.classes[t], meta) for t in ds.y]
        for row, t in zip(rows, truth, strict=True):
            row["label"] = t
        acc = float(np.mean([r["predicted"] == r["label"] for r in rows]))
    if out is not None:
        cols = list(rows[0]) if rows else ["row", "predicted", "probability"]
        lines = [",".join(cols)] + [",".join(str(r[c]) for c in cols) for r in rows]
        atomic.write_text(out, "\n".join(lines) + "\n")
    shown = rows if s.reporter.json_mode else rows[:limit]
    s.reporter.table(f"Predictions ({len(rows)} examples)", shown, key="predictions")
    if len(shown) < len(rows):
        s.reporter.line(f"… {len(rows) - len(shown)} more rows (use --out FILE.csv or --json)")
    if labelled:
        s.reporter.result("accuracy_%", round(100 * acc, 2), "accuracy %")
    if out is not None:
        s.reporter.result("out", str(out), "predictions written to")


@app.command()
def logreg(
    ctx: typer.Context,
    dataset: str = typer.Option(
        "moons", "--dataset", "-d", help=DATA_HELP, autocompletion=COMPLETE_DATASET
    ),
    data: Path | None = typer.Option(None, "--data", help="Your CSV/NPZ file (one row each)."),
    target: str | None = typer.Option(None, "--target", help="Label column (CSV) or array (NPZ)."),
    positive: str | None = typer.Option(
        None, "--positive", help="With >2 classes: this class is 1, the others 0."
    ),
    samples: int = typer.Option(400, "--samples", help="Examples of a generated data set."),
    noise: float = typer.Option(0.2, "--noise", help="Noise of a generated data set."),
    classes: int = typer.Option(3, "--classes", help="Classes of spirals/blobs."),
    split: str = typer.Option("0.8,0.1,0.1", "--split", help="Train,dev,test fractions."),
    standardize: bool = typer.Option(True, help="Standardize features with train mean/std."),
    lr: float = typer.Option(0.1, "--lr", help="Learning rate α."),
    epochs: int = typer.Option(2000, "--epochs", "--iterations", help="Gradient-descent steps."),
    backend: str = typer.Option(
        "numpy", "--backend", help="numpy (reference) or torch.", autocompletion=COMPLETE_BACKEND
    ),
    out: Path | None = typer.Option(None, "--out", help="Run directory (default runs/…/N)."),
    config: Path | None = typer.Option(None, "--config", help="YAML file of these options."),
) -> None:
    """Logistic regression σ(wᵀx + b) trained by gradient descent."""
    from dltool.config import resolve_config

    p = resolve_config(ctx, config)
    _check_choices(p)
    _logreg_command(p, _settings("relu", p["lr"], p["epochs"]))


def _binary(ds, positive: str | None):
    """Return ``ds`` with two classes: unchanged, or ``positive`` vs the rest."""
    import numpy as np

    if positive is None:
        if len(ds.classes) > 2:
            raise DltoolError(
                f"logistic regression separates two classes; the data have {len(ds.classes)}",
                hint=f"pick one with --positive (one of {', '.join(ds.classes[:10])}) "
                "or use 'dltool basicnn train' (softmax)",
            )
        return ds
    if positive not in ds.classes:
        raise DltoolError(
            f"--positive '{positive}' is not a class", hint=f"classes: {', '.join(ds.classes)}"
        )
    ds.y = (ds.y == ds.classes.index(positive)).astype(np.int64)
    ds.classes = [f"not {positive}", positive]
    return ds


def _fit_logreg(X, y, params, settings, backend, device, on_epoch):
    """Fit σ(wᵀx + b) by the NumPy reference ``logreg.optimize`` under ``fit``'s contract."""
    import numpy as np

    from dltool_basicnn import logreg

    def as_params(w, b):
        return {"W1": w.T.copy(), "b1": np.array([[b]])}

    def on_step(i, cost, w, b):
        on_epoch(i + 1, cost, lambda: as_params(w, b))

    Y = y.reshape(1, -1).astype(np.float64)
    w, b = params["W1"].T.copy(), float(params["b1"][0, 0])
    w, b, costs = logreg.optimize(w, b, X, Y, settings.epochs, settings.learning_rate, on_step)
    return as_params(w, b), costs


def _logreg_command(p: dict, settings) -> None:
    """Run ``basicnn logreg`` with resolved options ``p``."""
    import numpy as np

    from dltool_basicnn import model_io

    s = _session()
    seed = _seed()
    ds, splits, mu, sigma = _prepare(p, seed, lambda d: _binary(d, p["positive"]))
    X, y = splits["train"]
    n_x = X.shape[0]
    run = s.run_dir("basicnn", "logreg", p["out"])
    run.write_config(p)
    extra = {"seed": seed, "kind": "logreg", "positive": p["positive"]}
    meta = _meta(ds, [n_x, 1], "relu", mu, sigma, p["target"], extra)
    params = {"W1": np.zeros((1, n_x)), "b1": np.zeros((1, 1))}  # the notes' zero start
    fit_fn = None if p["backend"] == "torch" else _fit_logreg
    params, costs = _train_loop(run, X, y, params, settings, p["backend"], meta, fit_fn)
    model_io.save_model(run.file("model.npz"), params, {**meta, "epoch": len(costs)})
    rows = _accuracy_rows(splits, params, "relu")
    info = {"seed": seed, "classes": ds.classes, "final_cost": costs[-1]}
    run.write_json("results.json", {**info, "accuracy": rows})
    pngs = _plots(run, costs, ds, splits, params, "relu", mu, sigma, "logistic regression")
    s.reporter.table("Accuracy", rows, key="accuracy")
    s.reporter.result("final_cost", costs[-1], "final cost")
    s.reporter.result("w", params["W1"].reshape(-1)[:10].round(4).tolist(), "w (first 10)")
    s.reporter.result("b", float(params["b1"][0, 0]), "b")
    s.reporter.result("model", str(run.file("model.npz")), "model file")
    _report_paths("plots", pngs)
    s.reporter.result("run_dir", str(run.path), "run directory")


@app.command()
def gradcheck(
    layers: str = typer.Option("4,5,3,1", "--layers", help="Sizes n_x,n_1,…,n_L."),
    examples: int = typer.Option(10, "--examples", help="Random examples m."),
    activation: str = typer.Option(
        "relu",
        "--activation",
        help="relu|tanh|sigmoid|leaky_relu.",
        autocompletion=COMPLETE_ACTIVATION,
    ),
    init: str = typer.Option(
        "xavier", "--init", help="zeros|random|he|xavier.", autocompletion=COMPLETE_INIT
    ),
    l2: float = typer.Option(0.0, "--l2", help="L2 strength λ."),
    keep_prob: float = typer.Option(1.0, "--keep-prob", help="Dropout keep probability."),
    break_backprop: bool = typer.Option(
        False, "--break-backprop", help="Use a wrong backward (dW1 with 2/m) to show detection."
    ),
    backend: str = typer.Option(
        "numpy",
        "--backend",
        help="numpy backward or torch autograd.",
        autocompletion=COMPLETE_BACKEND,
    ),
) -> None:
    """Check backprop against two-sided differences (ε = 1e-7) on a random network.

    Draw order after np.random.seed: X (n_x, m), labels, W1 … WL, then b1 … bL (N(0, 0.1²),
    so no ReLU input sits exactly on its kink), then the dropout masks.

    Exits 1 when the check fails (difference ≥ 1e-3), or, with --break-backprop, when the
    wrong backward pass goes undetected.
    """
    import numpy as np

    from dltool.nn import gradcheck as gc
    from dltool.nn import init as initializers
    from dltool.nn import network
    from dltool_basicnn import checking

    s = _session()
    dims = _parse_ints(layers, "--layers")
    _settings(keep_prob=keep_prob, lambd=l2)  # the training ranges of --keep-prob and --l2
    if examples < 1:
        raise DltoolError(f"--examples must be at least 1, got {examples}")
    if activation not in network.HIDDEN:
        raise DltoolError(
            f"unknown activation '{activation}'", hint=f"use {'|'.join(network.HIDDEN)}"
        )
    if init not in initializers.METHODS:
        raise DltoolError(f"unknown --init '{init}'", hint=f"use {'|'.join(initializers.METHODS)}")
    if backend not in ("numpy", "torch"):
        raise DltoolError(f"unknown backend '{backend}'", hint="use numpy or torch")
    n_params = sum(dims[k] * (dims[k - 1] + 1) for k in range(1, len(dims)))
    if n_params > 20000:
        raise DltoolError(
            f"the network has {n_params} parameters; gradient checking costs two forward "
            "passes per parameter",
            hint="check a smaller network (≤ 20000 parameters): the same code runs at any size",
        )
    np.random.seed(_seed())
    device = s.device if backend == "torch" else None
    result, params = checking.check_network(
        dims, activation, init, l2, keep_prob, examples, break_backprop, backend, device
    )
    rows = [
        {
            "parameter": k,
            "shape": "×".join(map(str, params[k].shape)),
            "difference": v,
            "band": gc.band(v),
        }
        for k, v in result.per_parameter.items()
    ]
    s.reporter.table("Gradient check (‖g − g_approx‖ / (‖g‖ + ‖g_approx‖))", rows, key="parameters")
    s.reporter.result("difference", result.difference, "overall difference")
    s.reporter.result("verdict", result.verdict, "verdict")
    failed = result.difference >= 1e-3
    if break_backprop:
        s.reporter.line(
            "the deliberately wrong backward pass was detected"
            if failed
            else "the deliberately wrong backward pass was NOT detected"
        )
    elif failed:
        s.reporter.line("backpropagation disagrees with the numerical gradient")
    if failed != break_backprop:
        s.reporter.flush()
        raise typer.Exit(1)


@app.command()
def diagnose(
    train_error: float = typer.Option(..., "--train-error", help="Training-set error, %."),
    dev_error: float = typer.Option(..., "--dev-error", help="Dev-set error, %."),
    human_error: float = typer.Option(0.0, "--human-error", help="Human/Bayes error proxy, %."),
    train_dev_error: float | None = typer.Option(
        None, "--train-dev-error", help="Error on held-out data from the training distribution."
    ),
    test_error: float | None = typer.Option(None, "--test-error", help="Test-set error, %."),
    threshold: float = typer.Option(2.0, "--threshold", help="Points that make a gap 'high'."),
) -> None:
    """Bias/variance diagnosis with the recommended next actions (errors in percent)."""
    from dltool_basicnn.diagnose import diagnose as run_diagnosis

    s = _session()
    named = {
        "--train-error": train_error,
        "--dev-error": dev_error,
        "--human-error": human_error,
        "--train-dev-error": train_dev_error,
        "--test-error": test_error,
    }
    for name, value in named.items():
        if value is not None and not 0 <= value <= 100:
            raise DltoolError(f"{name} must be a percentage in [0, 100], got {value}")
    if threshold < 0:
        raise DltoolError(f"--threshold must be ≥ 0, got {threshold}")
    if human_error > train_error:
        s.reporter.warn("human error above training error: the model beats the Bayes proxy")
    gaps, verdict = run_diagnosis(
        train_error, dev_error, human_error, train_dev_error, test_error, threshold
    )
    errors = [{"set": "human (Bayes proxy)", "error_%": human_error}]
    errors.append({"set": "train", "error_%": train_error})
    if train_dev_error is not None:
        errors.append({"set": "train-dev", "error_%": train_dev_error})
    errors.append({"set": "dev", "error_%": dev_error})
    if test_error is not None:
        errors.append({"set": "test", "error_%": test_error})
    s.reporter.table("Errors", errors, key="errors")
    rows = [
        {
            "gap": g.name,
            "between": g.between,
            "points": g.value,
            "high": g.high if s.reporter.json_mode else ("yes" if g.high else "no"),
            "next actions": "; ".join(g.actions) if g.high else "",
        }
        for g in gaps
    ]
    s.reporter.table("Bias / variance", rows, key="gaps")
    s.reporter.result("diagnosis", verdict, "diagnosis")


@app.command()
def activations(
    points: str = typer.Option("-2,-1,0,1,2", "--points", help="Values of z for the table."),
    span: float = typer.Option(6.0, "--range", help="Plot z from −range to +range."),
    out: Path | None = typer.Option(None, "--out", help="Run directory (default runs/…/N)."),
) -> None:
    """Table of each activation and its derivative at chosen points, plus a PNG plot."""
    import numpy as np

    from dltool.nn import activations as act
    from dltool_basicnn import plots

    s = _session()
    try:
        z = np.array([float(v) for v in points.split(",") if v.strip()])
    except ValueError:
        raise DltoolError(f"--points '{points}' is not a comma-separated list of numbers") from None
    if z.size == 0 or not np.all(np.isfinite(z)):
        raise DltoolError(f"--points '{points}' must hold finite numbers")
    if not (np.isfinite(span) and span > 0):
        raise DltoolError(f"--range must be a positive number, got {span}")
    col = z.reshape(-1, 1)
    sm = act.softmax(col, axis=0).reshape(-1)  # softmax over the points as one vector
    rows = []
    for i, zi in enumerate(z):
        row = {"z": float(zi)}
        for name in ("sigmoid", "tanh", "relu", "leaky_relu"):
            row[name] = float(act.activation(name)(np.array([zi]))[0])
            row[f"d_{name}"] = float(act.derivative(name)(np.array([zi]))[0])
        row["softmax"] = float(sm[i])
        row["d_softmax_ii"] = float(sm[i] * (1 - sm[i]))
        rows.append(row)
    s.reporter.table("Activations g(z) and g'(z) (softmax over all the points)", rows, key="values")
    run = s.run_dir("basicnn", "activations", out)
    path = plots.activations(run.file("activations.png"), span)
    s.reporter.result("plot", str(path), "plot")
