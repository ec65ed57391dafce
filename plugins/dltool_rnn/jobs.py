"""The ``dltool rnn`` command jobs: train (new or resumed), sample, gradcheck, shapes.

``train`` resolves the options (and, for ``--resume``, restores the run's own
through the core's one resume rule); the jobs check them, read the data, run the math with
the thread width the session asks for and report.
"""

from __future__ import annotations

import math
import time
from enum import Enum
from pathlib import Path

import numpy as np

from dltool.context import current
from dltool.device import small_step_threads, thread_limit
from dltool.errors import DltoolError
from dltool.runs import METRICS, RunDir
from dltool_rnn import charmodel, checkpoint, sampling
from dltool_rnn.corpus import Vocabulary, read_text
from dltool_rnn.optim import Adam
from dltool_rnn.train import (
    STEPS,
    NumpyBackend,
    TorchBackend,
    TrainState,
    fit,
    mean_loss,
    streams,
    unigram_loss,
)

MODEL_KEYS = ("cell", "hidden", "layers", "reset_after")
RUN_KEYS = ("resume", "out", "exist_ok", "config")  # where the run is, not what it does
RUN_ONLY = ("max_steps", "time_limit")  # limits of one invocation: a resume may change them
PARALLEL = ("nproc", "amp")  # torch backend only
FINITE = ("lr", "clip", "val_fraction", "time_limit")
SHAPES_BUDGET = 1 << 30  # bytes rnn shapes may allocate
SAMPLE_BUDGET = 10_000_000  # characters rnn sample may draw (-n × --max-len)


def plain_options(params: dict) -> dict:
    """Return ``params`` with choices as their values and TEXT_FILE as an absolute path."""
    out = {k: v.value if isinstance(v, Enum) else v for k, v in params.items()}
    text = out.get("text_file")
    out["text_file"] = None if text is None else str(Path(text).resolve())
    return out


def train(ctx, config: Path | None, resume: str | None, out: Path | None, exist_ok: bool) -> None:
    """Run ``rnn train``: options from flags > --config > defaults, or ``--resume RUN``'s own."""
    from dltool.commands import resumed_options
    from dltool.config import resolve_config

    params = plain_options(resolve_config(ctx, config, exclude=("out", "exist_ok", "resume")))
    run = None
    if resume is not None:
        may_change = ("epochs", *RUN_ONLY)
        run, resumed = resumed_options(ctx, params, resume, "rnn", "train", config, may_change)
        params = {**resumed, **{k: params[k] for k in RUN_ONLY}}
    _train(params, run, out, exist_ok)


def _check_numbers(params: dict) -> None:
    """Refuse NaN and infinite values of the float options (ranges are checked by the CLI)."""
    for key in FINITE:
        if not math.isfinite(params[key]):
            flag = "--" + key.replace("_", "-")
            raise DltoolError(
                f"{flag} must be a finite number, got {params[key]}",
                hint=f"see 'dltool rnn train --help' for {flag}",
            )
    if not params["lr"] > 0:
        raise DltoolError(f"--lr must be positive, got {params['lr']}", hint="e.g. --lr 0.01")


def _resume(params: dict, run: Path) -> tuple[dict, dict, dict]:
    """Return (params, meta, Adam moments) of the checkpoint of ``run``, checked against it."""
    saved, meta, moments = checkpoint.load(run)
    for key in MODEL_KEYS:
        if params[key] != meta.get(key, False if key == "reset_after" else None):
            raise DltoolError(
                f"{run}: config.yaml says {key} {params[key]} but {checkpoint.FILENAME} holds a "
                f"{meta['cell']} model with hidden {meta['hidden']}, layers {meta['layers']}",
                hint="the run folder is damaged; start a new run",
            )
    if str(params["text_file"]).startswith("built-in"):  # runs saved before 2025-06
        params["text_file"] = None
    return saved, meta, moments


def _prepare(params: dict, vocab: Vocabulary | None):
    """Return (vocab, data dict, unigram loss) for the text and settings in ``params``."""
    text, source = read_text(params["text_file"], params["encoding"])
    if vocab is None:
        vocab = Vocabulary(text)
    else:
        missing = vocab.missing(text)
        if missing:
            raise DltoolError(
                f"{source} has {len(missing)} characters outside the model's vocabulary "
                f"({''.join(missing[:20])!r}); the checkpoint was trained on other text",
                hint="resume with the text the run was trained on, or start a new run",
            )
    ids = np.array(vocab.encode(text), dtype=np.int64)
    T = params["seq_len"]
    if len(ids) - 1 < T:
        raise DltoolError(
            f"--seq-len {T} is longer than the text ({len(ids)} characters)",
            hint=f"use --seq-len {max(1, len(ids) - 1)} or less, or a longer text",
        )
    n_val = int(len(ids) * params["val_fraction"])
    if n_val < T + 1 or len(ids) - n_val - 1 < T:
        n_val = 0
    train_ids, val_ids = ids[: len(ids) - n_val], ids[len(ids) - n_val :]
    data = {"train": streams(train_ids, params["batch_size"], T)}
    data["val"] = streams(val_ids, params["batch_size"], T) if n_val else None
    baseline_ids = val_ids if n_val else train_ids
    return vocab, data, unigram_loss(train_ids, baseline_ids[1:], len(vocab)), source, len(ids)


def _check_backend(params: dict) -> None:
    """Refuse --nproc > 1 and --amp with the NumPy backend (one process, float32 arrays)."""
    if params["backend"] == "torch":
        return
    if params.get("nproc", 1) > 1:
        hint = "the NumPy reference runs in one process; add --backend torch"
        raise DltoolError("--nproc needs --backend torch", hint=hint)
    if params.get("amp"):
        hint = "the NumPy reference computes in float32; add --backend torch"
        raise DltoolError("--amp needs --backend torch", hint=hint)


def _shard(data: dict, here) -> dict:
    """Return ``data`` with this rank's equal share of the training streams (rows of X, Y)."""
    X, Y = data["train"]  # (m, L)
    m = X.shape[0]
    if m % here.world:
        raise DltoolError(
            f"the text makes {m} streams, which do not split evenly over {here.world} workers",
            hint=f"use a --batch-size of at most {m} that {here.world} divides, or a longer text",
        )
    share = m // here.world
    rows = slice(here.rank * share, (here.rank + 1) * share)
    return {**data, "train": (X[rows], Y[rows])}


def _backend(params: dict, saved: dict, meta: dict | None, moments, device, here=None):
    """Return (backend, Adam, TrainState), restored from a checkpoint when ``meta`` is set."""
    if params["backend"] == "torch":
        import torch

        from dltool.precision import Precision

        torch.manual_seed(params["seed"])
        precision = Precision(device, bool(params.get("amp")))
        backend = TorchBackend(saved, device, here, precision)
        if meta is not None:
            precision.load_state_dict(meta.get("scaler"))

        def to_state(a):
            return torch.as_tensor(a, device=device)
    else:
        backend = NumpyBackend({k: v.astype(np.float32) for k, v in saved.items()})

        def to_state(a):
            return a.astype(np.float32)

    adam = Adam(lr=params["lr"])
    if meta is None:
        return backend, adam, TrainState()
    adam.t = int(meta.get("adam_t", 0))
    adam.v = {k: to_state(v) for k, v in moments["v"].items()}
    adam.s = {k: to_state(v) for k, v in moments["s"].items()}
    ts = TrainState(meta["epoch"], meta["step_in_epoch"], meta["step"], meta["loss"])
    if ts.epoch >= params["epochs"]:
        raise DltoolError(
            f"the run already trained {ts.epoch} epochs",
            hint=f"give --epochs above {ts.epoch} to train further",
        )
    return backend, adam, ts


def _new_run(out: Path | None, exist_ok: bool) -> RunDir:
    """Create the run folder; in a reused --out, the old run's metrics and checkpoint go.

    Step metrics are logged every 10 steps: a rerun that stops sooner must not leave the
    earlier run's rows to be read as its own.
    """
    run = current().run_dir("rnn", "train", out, exist_ok)
    return run.clear(METRICS, STEPS, checkpoint.FILENAME)


def _meta(params: dict, vocab: Vocabulary, unigram: float) -> dict:
    """Return the checkpoint's metadata: the model, its vocabulary, the text it learnt."""
    return {
        **{k: params[k] for k in MODEL_KEYS},
        "vocab": vocab.chars,
        "text": params["text_file"],
        "unigram_loss": unigram,
    }


def _report(s, params, backend, vocab, ts, val, unigram, seconds, run) -> None:
    """Show the losses against the unigram baseline, three samples and the checkpoint."""
    summary = {
        "train_loss": ("train loss (last step)", ts.loss),
        "val_loss": ("validation loss", val),
        "unigram_loss": ("unigram baseline", unigram),
        "steps": ("steps", ts.step),
        "seconds": ("seconds", round(seconds, 1)),
    }
    if s.json:
        for key, (_, value) in summary.items():
            s.reporter.result(key, value)
    else:
        rows = [{"metric": label, "value": value} for label, value in summary.values()]
        s.reporter.table(f"Character model: {params['cell']} ({params['backend']})", rows)
    rng = np.random.default_rng(params["seed"])
    texts = sampling.sample(backend.to_flat(), vocab.chars, 3, 0.8, max_len=160, rng=rng)
    if s.json:
        s.reporter.result("samples", texts)
    for text in texts:
        s.reporter.line(text)
    s.reporter.result("checkpoint", str(run.file(checkpoint.FILENAME)))


def _train(params: dict, resume: Path | None, out: Path | None, exist_ok: bool) -> None:
    """Train a new character model, or continue the run ``resume``, as ``params`` say.

    ``--nproc N`` (torch): the checks run here, then N workers re-run the command line,
    each on its share of the streams (DDP); rank 0 alone writes the run and reports.
    """
    from dltool import distributed

    s = current()
    params = {k: v for k, v in params.items() if k not in RUN_KEYS}  # old runs saved them
    params.setdefault("seed", 0 if s.seed is None else s.seed)
    _check_numbers(params)
    _check_backend(params)
    nproc = distributed.check_nproc(params.get("nproc", 1), s.reporter.warn)
    saved, meta, moments = _resume(params, resume) if resume else (None, None, None)
    vocab = Vocabulary(meta["vocab"]) if meta else None
    vocab, data, unigram, source, n_chars = _prepare(params, vocab)
    if nproc > 1 and not distributed.launched():  # refused before any worker starts
        _shard(data, distributed.Dist(0, nproc, 0, True))
    run = {"out": None if resume else out, "exist_ok": exist_ok}
    if distributed.spawned(nproc, params["batch_size"], s, "rnn train", run):
        return None
    with distributed.joined(s) as (here, device):
        data = _shard(data, here)
        _fit_run(params, (saved, meta, moments), (vocab, data, unigram, source, n_chars),
                 (here, device), (resume, out, exist_ok))  # fmt: skip


def _fit_run(params: dict, restored, prepared, where, run_args) -> None:
    """Build the model (new or restored), train it on this rank's streams, report (rank 0)."""
    s = current()
    saved, meta, moments = restored
    vocab, data, unigram, source, n_chars = prepared
    (here, device), (resume, out, exist_ok) = where, run_args
    if saved is None:
        rng = np.random.default_rng(params["seed"])
        saved = charmodel.init_model(
            params["cell"], len(vocab), params["hidden"], params["layers"], rng,
            params["reset_after"], np.float32,
        )  # fmt: skip
    backend, adam, ts = _backend(params, saved, meta, moments, device, here)
    run = _open_run(params, resume, out, exist_ok, ts) if here.writer else None
    X = data["train"][0]
    s.reporter.info(
        f"{source}: {n_chars} characters, vocabulary {len(vocab)}, {X.shape[0] * here.world} "
        f"streams x {X.shape[1] // params['seq_len']} steps of {params['seq_len']} per epoch; "
        f"unigram baseline {unigram:.3f} nats/char; run directory {run and run.path}"
    )
    started = time.perf_counter()
    meta = _meta(params, vocab, unigram)
    with thread_limit(small_step_threads(s.threads)):  # small steps: one thread unless told
        ts = fit(backend, adam, data, params, meta, run, s.reporter, ts, resumed=bool(resume))
        seconds = time.perf_counter() - started
        if run is None:
            return
        val = mean_loss(backend, *data["val"], params["seq_len"]) if data["val"] else None
    _report(s, params, backend, vocab, ts, val, unigram, seconds, run)


def _open_run(params: dict, resume: Path | None, out: Path | None, exist_ok: bool, ts) -> RunDir:
    """Return the resumed run (rows after its checkpoint dropped) or a new one; save options."""
    run = RunDir(resume) if resume else _new_run(out, exist_ok)
    if resume:  # rows a killed run logged after its checkpoint would repeat
        for name in (METRICS, STEPS):
            run.drop_rows_after("step", ts.step, name)
    run.write_config(params)
    return run


def sample(target: str, n: int, temperature: float, prefix: str, max_len: int) -> None:
    """Print ``n`` samples of the model in ``target`` (run folder, file in it, number, .npz)."""
    if not (math.isfinite(temperature) and temperature > 0):
        raise DltoolError(
            f"--temperature must be positive and finite, got {temperature}",
            hint="e.g. --temperature 0.8 (lower: more likely characters)",
        )
    if n * max_len > SAMPLE_BUDGET:
        raise DltoolError(
            f"-n {n} x --max-len {max_len} is {n * max_len:,} characters, more than "
            f"{SAMPLE_BUDGET:,}",
            hint="draw fewer or shorter samples",
        )
    s = current()
    path = checkpoint.resolve(target)
    params, meta, _ = checkpoint.load(path)
    vocab = meta["vocab"]
    missing = sorted(set(prefix) - set(vocab))
    if missing:
        raise DltoolError(
            f"--prefix has characters the model never saw: {''.join(missing)!r}",
            hint=f"the vocabulary has {len(vocab)} characters: {vocab!r}",
        )
    rng = np.random.default_rng(0 if s.seed is None else s.seed)
    texts = sampling.sample(params, vocab, n, temperature, prefix, max_len, rng)
    if s.json:
        s.reporter.result("samples", texts)
        s.reporter.result("checkpoint", str(path))
    for text in texts:
        s.reporter.line(text)


def gradcheck(cell, n_x, n_a, m, T, layers, reset_after) -> None:
    """Report the gradient check of a small model per parameter; fail when it is off."""
    from dltool_rnn.explain import gradcheck_rows

    s = current()
    seed = 0 if s.seed is None else s.seed
    rows, overall, verdict = gradcheck_rows(cell, n_x, n_a, m, T, layers, reset_after, seed)
    s.reporter.table(
        f"Gradient check: {cell}, n_x={n_x} n_a={n_a} m={m} T_x={T}", rows, key="parameters"
    )
    s.reporter.result("difference", overall, "overall difference")
    s.reporter.result("verdict", verdict)
    if verdict in ("suspicious", "wrong"):
        raise DltoolError(
            f"gradient check {verdict}: difference {overall:.3g}",
            hint="the NumPy backward pass disagrees with numerical gradients; report it",
        )


def shapes(cell, n_x, n_a, n_y, m, T, reset_after) -> None:
    """Print the shape tables, refusing sizes whose arrays would not fit in memory."""
    from dltool_rnn.explain import shape_bytes, shape_rows

    need = shape_bytes(cell, n_x, n_a, n_y, m, T)
    if need > SHAPES_BUDGET:
        raise DltoolError(
            f"these sizes need about {need / 2**30:,.1f} GiB of arrays, more than "
            f"{SHAPES_BUDGET / 2**30:.0f} GiB",
            hint="the shapes follow from the formulas: try smaller --m, --T, --n-a, --n-x, --n-y",
        )
    s = current()
    for title, key, rows in shape_rows(cell, n_x, n_a, n_y, m, T, reset_after):
        s.reporter.table(title, rows, key=key)
