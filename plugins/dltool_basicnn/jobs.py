"""Jobs of ``dltool basicnn``: what each command does once its options are parsed.

The seed (global ``--seed``, default 1) seeds the data generator, the split and NumPy's
global generator, which then draws W1 … WL, per-epoch permutations and dropout masks in that
order (see ``dltool.nn.network`` and ``dltool.nn.training``). NumPy, torch and matplotlib
are imported inside the jobs. Only the jobs read the CLI session; the math modules get the
device and the thread width as arguments.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from dltool.errors import DltoolError
from dltool.runs import check_not_input

DEFAULT_SEED = 1
NOT_SAVED = ("resume", "exist_ok", "force")  # options of one invocation, not of the run
# what basicnn commands write into a run folder besides config.yaml
RUN_FILES = ("model.npz", "metrics.jsonl", "results.json", "cost.png", "decision_boundary.png")
RUN_FILES += ("activations.png",)

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


def _session():
    """Return the current dltool session."""
    from dltool.context import current

    return current()


def _seed() -> int:
    """Return the global --seed, or the default 1."""
    seed = _session().seed
    return DEFAULT_SEED if seed is None else seed


def _fresh_run(command: str, out: Path | None, exist_ok: bool):
    """Return a new run folder; an earlier run's files in a reused ``--out`` go first.

    With ``--exist-ok`` this run writes over the earlier one: a model.npz (or results) the
    new run has not yet written must not be taken for its own when the new run fails.
    """
    return _session().run_dir("basicnn", command, out, exist_ok).clear(*RUN_FILES)


def values(p: dict) -> dict:
    """Return the options ``p`` with each choice (an Enum) as its value."""
    return {k: v.value if isinstance(v, Enum) else v for k, v in p.items()}


def options(ctx, config: Path | None) -> dict:
    """Return the command's options (flags > --config > defaults), choices as their values."""
    from dltool.config import resolve_config

    return values(resolve_config(ctx, config))


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
        raise DltoolError(
            f"{option} '{text}' is not a comma-separated list of integers",
            hint="e.g. --layers 2,20,7,5,1",
        ) from None
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


def _dims(p: dict, ds) -> list[int]:
    """Return the layer sizes of --layers (default n_x,20,7,5,n_y), checked against the data."""
    n_x, k = ds.X.shape[1], len(ds.classes)
    n_y = 1 if k == 2 else k
    dims = _parse_ints(p["layers"], "--layers") if p["layers"] else [n_x, 20, 7, 5, n_y]
    _check_layers(dims, n_x, k)
    return dims


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


def _plots(run, costs, ds, splits, params, hidden, mu, sigma, title, first=1) -> list[Path]:
    """Write the cost curve and, for 2-D data, the decision boundary; return their paths."""
    from dltool_basicnn import plots

    paths = [plots.cost_curve(run.file("cost.png"), costs, title, first)]
    if ds.X.shape[1] == 2:
        X, y = splits["train"]
        path = run.file("decision_boundary.png")
        paths.append(plots.decision_boundary(path, ds, X, y, params, hidden, mu, sigma))
    return paths


def _copy(params: dict) -> dict:
    """Return a copy of a parameter dict (the live one keeps changing)."""
    return {k: v.copy() for k, v in params.items()}


class Checkpoints:
    """Write ``model.npz`` of epoch e once epoch e + 1 measured a finite cost on its weights.

    A cost is measured before an update, so the weights after epoch e are only known to be
    good once epoch e + 1 reports a finite cost: a checkpoint of epoch e (``start`` = the
    weights training began from) is written then. After a NaN/inf cost, model.npz holds the
    last checkpoint whose weights had a finite cost.
    """

    def __init__(self, run, meta: dict, params: dict, start: int, epochs: int) -> None:
        self.run, self.meta, self.start = run, meta, start
        self.path = run.file("model.npz")
        self.every = max(1, epochs // 100)
        self.last = start + epochs
        self.pending = {"epoch": start, "params": _copy(params)}  # not yet verified
        self.saved: int | None = None
        self.columns = None  # (settings, evaluate): lr and dev metrics in each row

    def row(self, epoch: int, cost: float, params: dict) -> dict:
        """Return the metrics row of ``epoch``: cost (+ lr and dev metrics when set).

        The run adds the time (seconds of the run) to every row.
        """
        row = {"epoch": epoch, "cost": cost}
        if self.columns is None:
            return row
        settings, evaluate = self.columns
        row["lr"] = settings.lr(epoch - self.start)
        for key, value in evaluate(params).items():
            row[key] = value
            self.run.best(key, value, "max")
        return row

    def save(self, cost) -> None:
        """Write the pending checkpoint (its weights gave ``cost``)."""
        from dltool_basicnn import checkpoint

        epoch = self.pending["epoch"]
        checkpoint.save_model(self.path, self.pending["params"], {**self.meta, "epoch": epoch})
        self.saved, self.pending["params"] = epoch, None

    def on_epoch(self, epoch: int, cost: float, get_params) -> None:
        """Record epoch ``epoch`` (counted from the run's start) and its cost."""
        if self.pending["params"] is not None and self.pending["epoch"] == epoch - 1:
            self.save(cost)  # this epoch's finite cost was measured on those weights
        if epoch % self.every == 0 or epoch == self.last:
            params = _copy(get_params())
            self.run.log_metrics(**self.row(epoch, cost, params))
            self.pending.update(epoch=epoch, params=params)

    def keep_newest(self) -> None:
        """Save the newest weights after an interrupt (not a divergence) if they are finite."""
        import numpy as np

        held = self.pending["params"]
        if held is not None and all(np.all(np.isfinite(v)) for v in held.values()):
            self.save(None)

    def diverged(self, exc, lr: float) -> DltoolError:
        """Return the error for a NaN/inf cost, naming the checkpoint kept."""
        self.run.log_metrics(epoch=exc.epoch, cost=str(exc.cost))
        kept = (
            f"last good checkpoint (epoch {self.saved}): {self.path}"
            if self.saved is not None
            else "no checkpoint was written yet"
        )
        return DltoolError(
            f"the cost became {exc.cost} at epoch {exc.epoch}; training stopped, {kept}",
            hint=f"the learning rate {lr} is too large for this network: try --lr {lr / 10:g}",
        )


def _train_loop(run, X, y, params, settings, backend, meta, fit_fn=None, start=0, evaluate=None):
    """Run fit (or ``fit_fn``) with a progress bar, metrics and checkpoints; return (params, costs).

    ``start`` is the epoch the weights come from (a resumed run); ``settings.epochs`` more
    are trained. ``evaluate(params)`` -> {metric: value} adds dev metrics and lr to each
    metrics row (the best kept in run.json). ``run`` None (ranks other than 0): no files.
    """
    import numpy as np

    from dltool.nn.training import NonFiniteCost, fit

    s = _session()
    saver = Checkpoints(run, meta, params, start, settings.epochs) if run is not None else None
    if saver is not None and evaluate is not None:
        saver.columns = (settings, evaluate)

    def on_epoch(epoch, cost, get_params):
        bar.advance(1, cost=cost)
        if saver is not None:
            saver.on_epoch(start + epoch, cost, get_params)

    device = s.device if backend == "torch" else None
    try:
        with s.reporter.progress(settings.epochs, "training") as bar, np.errstate(all="ignore"):
            if fit_fn is not None:
                return fit_fn(X, y, params, settings, backend, device, on_epoch)
            return fit(X, y, params, settings, backend, device, on_epoch, s.threads)
    except KeyboardInterrupt:
        if saver is not None:
            saver.keep_newest()  # interrupted, not diverged: keep the newest weights
        raise
    except NonFiniteCost as exc:
        exc.epoch += start
        if saver is None:
            raise DltoolError(f"the cost became {exc.cost} at epoch {exc.epoch}",
                              hint="rank 0 reports the checkpoint kept") from None  # fmt: skip
        raise saver.diverged(exc, settings.learning_rate) from None


def _report_paths(key: str, paths: list[Path]) -> None:
    """Report file paths: a list under --json, one comma-separated line otherwise."""
    reporter = _session().reporter
    names = [str(x) for x in paths]
    reporter.result(key, names if reporter.json_mode else ", ".join(names), key)


def train(ctx, config: Path | None, resume: str | None) -> None:
    """Run ``basicnn train``: a new run, or ``--resume RUN`` with the run's own options."""
    p = options(ctx, config)
    run_path = None
    if resume is not None:
        from dltool.commands import resumed_options

        run_path, p = resumed_options(ctx, p, resume, "basicnn", "train", config)
    args = (p["activation"], p["lr"], p["epochs"], p["batch_size"], p["keep_prob"], p["l2"])
    settings = _settings(*args, p["optimizer"], p["beta1"], p["beta2"])
    _train(p, settings, run_path)


def _resume_point(run_path: Path, epochs: int) -> tuple[dict, dict]:
    """Return (params, meta) of the run's checkpoint; refuse a run already at ``epochs``."""
    from dltool_basicnn import checkpoint

    params, meta = checkpoint.load_model(run_path)
    if meta.get("epoch", 0) >= epochs:
        raise DltoolError(
            f"run {run_path} has already trained {meta.get('epoch')} epochs",
            hint=f"give --epochs above {meta.get('epoch')} to train it further",
        )
    return params, meta


def _open_run(p: dict, dims: list[int], run_path: Path | None, start: int):
    """Return the RunDir: a new run, or the resumed one (metrics cut at ``start``).

    Both write config.yaml: a resumed run keeps its own options with the new ``--epochs``,
    the total it is now trained for.
    """
    from dltool.runs import RunDir, read_config

    if run_path is None:
        run = _fresh_run("train", p["out"], p["exist_ok"])
        saved = {k: v for k, v in p.items() if k not in NOT_SAVED}
        run.write_config({**saved, "layers": ",".join(map(str, dims))})  # reusable with --config
        return run
    run = RunDir(run_path)
    run.drop_rows_after("epoch", start)  # rows logged after the checkpoint are trained again
    run.write_config({**read_config(run_path), "epochs": p["epochs"]})
    return run


def _check_parallel(p: dict) -> None:
    """Refuse --nproc > 1 or --amp on the NumPy backend, and --amp with float64 arithmetic."""
    flag = "--nproc" if p.get("nproc", 1) > 1 else "--amp" if p.get("amp") else None
    if flag and p["backend"] != "torch":
        raise DltoolError(f"{flag} needs --backend torch",
                          hint="the NumPy reference runs in one process, in --dtype")  # fmt: skip
    if p.get("amp") and p["dtype"] != "float32":
        raise DltoolError(
            f"--amp needs --dtype float32 (got {p['dtype']}): autocast leaves float64 as it is",
            hint="add --dtype float32",
        )


def _train(p: dict, settings, run_path: Path | None) -> None:
    """Train ``basicnn train``'s network from scratch or from the resumed run's checkpoint.

    ``--nproc N`` (torch): the checks run here, then N workers re-run the command line, each
    on its share of every mini-batch (DDP); rank 0 alone writes the run and reports.
    """
    from dltool import distributed

    s = _session()
    _check_parallel(p)
    nproc = distributed.check_nproc(p.get("nproc", 1), s.reporter.warn)
    params, meta, start, seed = None, None, 0, _seed()
    if run_path is not None:
        params, meta = _resume_point(run_path, p["epochs"])
        start, seed = meta["epoch"], meta["seed"]
    ds, splits, mu, sigma = _prepare(p, seed)
    dims = _dims(p, ds)
    batch = p["batch_size"] or nproc  # the full batch splits unevenly too (weighted shares)
    run = {"out": None if run_path else p["out"], "exist_ok": p["exist_ok"]}
    if distributed.spawned(nproc, batch, s, "basicnn train", run):
        return None
    with distributed.joined(s) as (here, device):
        if p["batch_size"]:
            distributed.rank_batch(p["batch_size"], here)
        _train_rank(p, settings, (run_path, params, start, seed), (ds, splits, mu, sigma, dims),
                    (here, device))  # fmt: skip


def _train_rank(p: dict, settings, resumed, data, where) -> None:
    """Train on this rank (``where``: Dist, device); rank 0 writes the model, results, plots."""
    from dataclasses import replace

    import numpy as np

    from dltool.nn.training import check_training_memory, initial_parameters
    from dltool_basicnn import checkpoint

    s = _session()
    (run_path, params, start, seed), (ds, splits, mu, sigma, dims) = resumed, data
    here, device = where
    check_training_memory(dims, splits["train"][1].size, p["batch_size"], p["dtype"], p["force"])
    run = _open_run(p, dims, run_path, start) if here.writer else None
    if params is None:
        params = initial_parameters(dims, seed, p["init"], p["init_scale"], p["dtype"])
    else:
        params = {k: v.astype(p["dtype"]) for k, v in params.items()}
        np.random.seed(seed + start)  # a resumed run draws its batches and masks afresh
    meta = _meta(ds, dims, p["activation"], mu, sigma, p["target"], {"seed": seed})
    X, y = splits["train"][0].astype(p["dtype"]), splits["train"][1]
    s.reporter.info(
        f"{ds.name}: {X.shape[1]} train / {splits['dev'][1].size} dev / "
        f"{splits['test'][1].size} test examples, layers {dims}, backend {p['backend']}"
        + (f", resumed at epoch {start}" if start else "")
    )
    more = replace(settings, epochs=p["epochs"] - start)
    fit_fn = _torch_fit(p, here, device) if p["backend"] == "torch" else None
    evaluate = _dev_accuracy(splits, p["activation"])
    params, costs = _train_loop(
        run, X, y, params, more, p["backend"], meta, fit_fn, start, evaluate
    )
    if run is None:
        return
    checkpoint.save_model(run.file("model.npz"), params, {**meta, "epoch": start + len(costs)})
    device = str(s.device) if p["backend"] == "torch" else "cpu (numpy)"
    info = {"seed": seed, "device": device, "layers": dims, "classes": ds.classes}
    rows = _accuracy_rows(splits, params, p["activation"])
    run.write_json("results.json", {**info, "final_cost": costs[-1], "accuracy": rows})
    pngs = _plots(run, costs, ds, splits, params, p["activation"], mu, sigma, f"{dims}", start + 1)
    _report_training(run, rows, costs[-1], pngs)


def _torch_fit(p: dict, here, device):
    """Return the torch backend's fit for ``_train_loop`` (DDP with ``here``, --amp)."""

    def fit_fn(X, y, params, settings, backend, _device, on_epoch):
        """Train ``params`` on X (n_x, m), labels y (m,) with train_torch.fit: (params, costs)."""
        from dltool_basicnn import train_torch

        threads = _session().threads
        return train_torch.fit(
            X, y, params, settings, device, on_epoch, threads, here, p.get("amp", False)
        )

    return fit_fn


def _dev_accuracy(splits: dict, hidden: str):
    """Return evaluate(params) -> {"dev_acc": accuracy on the dev split} ({} without one)."""

    def evaluate(params: dict) -> dict:
        """Return {"dev_acc": mean(predict(X_dev) = y_dev)} ({} for an empty dev split)."""
        from dltool.nn import network

        X, y = splits["dev"]
        return {"dev_acc": float(network.accuracy(X, y, params, hidden))} if y.size else {}

    return evaluate


def _report_training(run, rows: list[dict], final_cost: float, pngs: list[Path], extra=()) -> None:
    """Print the accuracy table, the final cost, ``extra`` results, the files written."""
    reporter = _session().reporter
    reporter.table("Accuracy", rows, key="accuracy")
    reporter.result("final_cost", final_cost, "final cost")
    for key, value, label in extra:
        reporter.result(key, value, label)
    reporter.result("model", str(run.file("model.npz")), "model file")
    _report_paths("plots", pngs)
    reporter.result("run_dir", str(run.path), "run directory")


def _predict_data(source: str, meta: dict, target: str | None, p: dict):
    """Return (Dataset, has_labels) for a file path or a built-in data set name."""
    from dltool.data import datasets as data

    path = Path(source)
    if source in data.BUILTIN and not path.exists():
        return _load_data({**p, "data": None, "dataset": source}, _seed()), True
    if path.suffix.lower() == ".csv" or path.suffix.lower() == ".txt":
        import csv

        data.check_data_file(path)
        try:
            with open(path, newline="", encoding="utf-8", errors="replace") as fh:
                header = [h.strip() for h in next(csv.reader(fh), [])]
        except OSError as exc:
            raise data.unreadable(path, exc) from None
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


def _check_output(output: Path | None, data_source: str) -> None:
    """Refuse an -o that is not a .csv, or that names the data being predicted."""
    from dltool.report import output_format

    if output is None:
        return
    output_format(output, {".csv": "csv"})
    check_not_input(output, [Path(data_source)])


def _prediction_rows(A, meta: dict) -> list[dict]:
    """Return one row per column of the output activations A (n_y, m)."""
    import numpy as np

    idx = (A[0] > 0.5).astype(int) if A.shape[0] == 1 else np.argmax(A, axis=0)
    prob = np.where(idx == 1, A[0], 1 - A[0]) if A.shape[0] == 1 else A.max(axis=0)
    names = meta["classes"]
    return [
        {"row": i, "predicted": names[c], "probability": round(float(q), 4)}
        for i, (c, q) in enumerate(zip(idx, prob, strict=True))
    ]


def _write_csv(path: Path, rows: list[dict]) -> None:
    """Write the prediction rows as CSV, atomically."""
    from dltool import atomic

    cols = list(rows[0]) if rows else ["row", "predicted", "probability"]
    lines = [",".join(cols)] + [",".join(str(r[c]) for c in cols) for r in rows]
    atomic.write_text(path, "\n".join(lines) + "\n")


def predict(model: Path, data_source: str, p: dict) -> None:
    """Run ``basicnn predict``: classes of DATA by a model file or the run folder that made it."""
    import numpy as np

    from dltool.nn import network
    from dltool_basicnn import checkpoint

    _check_output(p["output"], data_source)
    params, meta = checkpoint.load_model(model)
    ds, labelled = _predict_data(data_source, meta, p["target"], {**p, "target": None})
    X = _align_features(ds, meta, data_source)
    mu, sigma = np.asarray(meta["mean"]), np.asarray(meta["std"])
    with np.errstate(over="ignore", invalid="ignore"):
        A = network.predict_proba(((X - mu) / sigma).T, params, meta["activation"])  # (n_y, m)
    rows = _prediction_rows(A, meta)
    summary = {"examples": len(rows)}
    if labelled:
        truth = [_model_label(ds.classes[t], meta) for t in ds.y]
        for row, t in zip(rows, truth, strict=True):
            row["label"] = t
        summary["accuracy_%"] = round(
            100 * float(np.mean([r["predicted"] == r["label"] for r in rows])), 2
        )
    if p["output"] is not None:
        _write_csv(p["output"], rows)
    _report_predictions(rows, summary, p)


def _report_predictions(rows: list[dict], summary: dict, p: dict) -> None:
    """Print the predictions table (at most --limit rows; none under -q), accuracy, the file."""
    reporter = _session().reporter
    if reporter.json_mode or not reporter.quiet:
        shown = rows if reporter.json_mode else rows[: p["limit"]]
        reporter.table(f"Predictions ({len(rows)} examples)", shown, key="predictions")
        if len(shown) < len(rows):
            reporter.line(f"… {len(rows) - len(shown)} more rows (use -o FILE.csv or --json)")
    else:
        reporter.table("Predictions", [summary], key="summary")
    if "accuracy_%" in summary:
        reporter.result("accuracy_%", summary["accuracy_%"], "accuracy %")
    if p["output"] is not None:
        reporter.result("output", str(p["output"]), "predictions written to")


def logreg(ctx, config: Path | None) -> None:
    """Run ``basicnn logreg``: σ(wᵀx + b) from zeros by the notes' gradient descent."""
    import numpy as np

    from dltool_basicnn import checkpoint

    p = options(ctx, config)
    settings = _settings("relu", p["lr"], p["epochs"])
    seed = _seed()
    ds, splits, mu, sigma = _prepare(p, seed, lambda d: _binary(d, p["positive"]))
    X, y = splits["train"]
    n_x = X.shape[0]
    run = _fresh_run("logreg", p["out"], p["exist_ok"])
    run.write_config({k: v for k, v in p.items() if k not in NOT_SAVED})
    extra = {"seed": seed, "kind": "logreg", "positive": p["positive"]}
    meta = _meta(ds, [n_x, 1], "relu", mu, sigma, p["target"], extra)
    params = {"W1": np.zeros((1, n_x)), "b1": np.zeros((1, 1))}  # the notes' zero start
    fit_fn = None if p["backend"] == "torch" else _fit_logreg
    params, costs = _train_loop(run, X, y, params, settings, p["backend"], meta, fit_fn)
    checkpoint.save_model(run.file("model.npz"), params, {**meta, "epoch": len(costs)})
    rows = _accuracy_rows(splits, params, "relu")
    info = {"seed": seed, "classes": ds.classes, "final_cost": costs[-1]}
    run.write_json("results.json", {**info, "accuracy": rows})
    pngs = _plots(run, costs, ds, splits, params, "relu", mu, sigma, "logistic regression")
    w = ("w", params["W1"].reshape(-1)[:10].round(4).tolist(), "w (first 10)")
    _report_training(run, rows, costs[-1], pngs, [w, ("b", float(params["b1"][0, 0]), "b")])


def _check_network(p: dict, dims: list[int]) -> None:
    """Raise unless the network is small enough to check (ranges are the CLI's)."""
    n_params = sum(dims[k] * (dims[k - 1] + 1) for k in range(1, len(dims)))
    if n_params > 20000:
        raise DltoolError(
            f"the network has {n_params} parameters; gradient checking costs two forward "
            "passes per parameter",
            hint="check a smaller network (≤ 20000 parameters): the same code runs at any size",
        )


def gradcheck(p: dict) -> bool:
    """Run ``basicnn gradcheck``; return whether the outcome is the expected one."""
    import numpy as np

    from dltool.nn import gradcheck as gc
    from dltool_basicnn import checking

    s = _session()
    p = values(p)
    dims = _parse_ints(p["layers"], "--layers")
    _check_network(p, dims)
    np.random.seed(_seed())
    device = s.device if p["backend"] == "torch" else None
    args = (dims, p["activation"], p["init"], p["l2"], p["keep_prob"], p["examples"])
    result, params = checking.check_network(*args, p["break_backprop"], p["backend"], device)
    rows = [
        {"parameter": k, "shape": "×".join(map(str, params[k].shape))}
        | {"difference": v, "band": gc.band(v)}
        for k, v in result.per_parameter.items()
    ]
    s.reporter.table("Gradient check (‖g − g_approx‖ / (‖g‖ + ‖g_approx‖))", rows, key="parameters")
    s.reporter.result("difference", result.difference, "overall difference")
    s.reporter.result("verdict", result.verdict, "verdict")
    return _gradcheck_outcome(result.difference >= 1e-3, p["break_backprop"])


def _gradcheck_outcome(failed: bool, break_backprop: bool) -> bool:
    """Say what the check found; return True when that is what was expected."""
    s = _session()
    if break_backprop:
        found = "was detected" if failed else "was NOT detected"
        s.reporter.line(f"the deliberately wrong backward pass {found}")
    elif failed:
        s.reporter.line("backpropagation disagrees with the numerical gradient")
    if failed != break_backprop:
        s.reporter.flush()
        return False
    return True


def diagnose(errors: dict[str, float | None], threshold: float) -> None:
    """Run ``basicnn diagnose`` on the errors (flag → percent or None) and the threshold."""
    from dltool_basicnn.diagnose import diagnose as run_diagnosis

    s = _session()
    for name, value in errors.items():
        if value is not None and not 0 <= value <= 100:
            raise DltoolError(
                f"{name} must be a percentage in [0, 100], got {value}",
                hint="give the error rate in percent, e.g. 15 for 15 %",
            )
    train, dev, human = errors["--train-error"], errors["--dev-error"], errors["--human-error"]
    train_dev, test = errors["--train-dev-error"], errors["--test-error"]
    if human > train:
        s.reporter.warn("human error above training error: the model beats the Bayes proxy")
    gaps, verdict = run_diagnosis(train, dev, human, train_dev, test, threshold)
    named = [("human (Bayes proxy)", human), ("train", train), ("train-dev", train_dev)]
    named += [("dev", dev), ("test", test)]
    rows = [{"set": name, "error_%": v} for name, v in named if v is not None]
    s.reporter.table("Errors", rows, key="errors")
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


def _points(text: str):
    """Return the finite numbers of --points as an array."""
    import numpy as np

    try:
        z = np.array([float(v) for v in text.split(",") if v.strip()])
    except ValueError:
        raise DltoolError(
            f"--points '{text}' is not a comma-separated list of numbers", hint="e.g. -2,0,2"
        ) from None
    if z.size == 0 or not np.all(np.isfinite(z)):
        raise DltoolError(f"--points '{text}' must hold finite numbers", hint="e.g. -2,0,2")
    return z


def activations(points: str, span: float, out: Path | None, exist_ok: bool) -> None:
    """Run ``basicnn activations``: g(z), g'(z) at --points and a plot over ±--range."""
    import math

    import numpy as np

    from dltool.nn import activations as act
    from dltool_basicnn import plots

    s = _session()
    z = _points(points)
    if not (math.isfinite(span) and span > 0):
        raise DltoolError(f"--range must be a positive number, got {span}", hint="e.g. --range 6")
    sm = act.softmax(z.reshape(-1, 1), axis=0).reshape(-1)  # softmax over the points
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
    run = _fresh_run("activations", out, exist_ok)
    run.write_config({"points": points, "range": span})
    path = plots.activations(run.file("activations.png"), span)
    s.reporter.result("plot", str(path), "plot")
