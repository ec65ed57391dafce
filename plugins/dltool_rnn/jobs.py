"""The ``dltool rnn`` command jobs: settings, resume, data, backend, summary."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import numpy as np

from dltool.context import current
from dltool.errors import DltoolError
from dltool.runs import RunDir
from dltool_rnn import charmodel, checkpoint, sampling
from dltool_rnn.cli import MODEL_KEYS, RESUMABLE
from dltool_rnn.corpus import Vocabulary, read_text
from dltool_rnn.optim import Adam
from dltool_rnn.train import (
    NumpyBackend,
    TorchBackend,
    TrainState,
    fit,
    mean_loss,
    streams,
    unigram_loss,
)


def _user_set(ctx) -> set[str]:
    """Return the options given on the command line (Click's parameter source) or in --config."""
    from dltool.config import _FROM_DEFAULT, load_config_file

    sources = {p.name: ctx.get_parameter_source(p.name) for p in ctx.command.params}
    given = {k for k, src in sources.items() if src is not None and src.name not in _FROM_DEFAULT}
    config = ctx.params.get("config")
    return given | set(load_config_file(config)) if config is not None else given


def _resume_settings(ctx, params: dict):
    """Return (params, saved params, meta, adam state, run dir) for --resume."""
    saved, meta, moments = checkpoint.load(params["resume"])
    given = _user_set(ctx)
    for key in MODEL_KEYS:
        if key in given and params[key] != meta[key]:
            raise DltoolError(
                f"--{key.replace('_', '-')} {params[key]} does not match the checkpoint, a "
                f"{meta['cell']} model with hidden {meta['hidden']}, layers {meta['layers']}",
                hint="drop the model options when resuming, or start a new run",
            )
        params[key] = meta[key]
    for key in RESUMABLE:
        if key not in given:
            params[key] = meta["config"][key]
    if params["text_file"] is None and meta.get("text") is not None:
        params["text_file"] = Path(meta["text"])
    run = RunDir(checkpoint.resolve(params["resume"]).parent)
    return params, saved, meta, moments, run


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


@contextlib.contextmanager
def _one_thread_default(session):
    """Use one CPU thread unless --threads was given, restoring the pools afterwards: each
    step's matrices are small and thread hand-offs cost more than they save (measured
    10x slower with 2 threads on a busy 2-core machine)."""
    if session.threads is not None or session.device.type != "cpu":
        yield
        return
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(before)


def _backend(params: dict, saved: dict, meta: dict | None, moments, device, seed: int):
    """Return (backend, Adam, TrainState), restored from a checkpoint when ``meta`` is set."""
    if params["backend"] == "torch":
        import torch

        torch.manual_seed(seed)
        backend = TorchBackend(saved, device)

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


def _report(s, params, backend, vocab, ts, val, unigram, seconds, seed, run) -> None:
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
    rng = np.random.default_rng(seed)
    texts = sampling.sample(backend.to_flat(), vocab.chars, 3, 0.8, max_len=160, rng=rng)
    if s.json:
        s.reporter.result("samples", texts)
    for text in texts:
        s.reporter.line(text)
    s.reporter.result("checkpoint", str(run.file(checkpoint.FILENAME)))


def run_training(ctx, params: dict, out: Path | None) -> None:
    """Train (or resume) a character model as ``params`` say and report the result."""
    s = current()
    seed = 0 if s.seed is None else s.seed
    saved, meta, moments = None, None, None
    if params["resume"]:
        params, saved, meta, moments, run = _resume_settings(ctx, params)
        vocab = Vocabulary(meta["vocab"])
    else:
        vocab = None
    if params["clip"] < 0:
        raise DltoolError(f"--clip must be 0 (off) or positive, got {params['clip']}")
    vocab, data, unigram, source, n_chars = _prepare(params, vocab)
    if saved is None:
        saved = charmodel.init_model(
            params["cell"],
            len(vocab),
            params["hidden"],
            params["layers"],
            np.random.default_rng(seed),
            params["reset_after"],
            np.float32,
        )
        run = s.run_dir("rnn", "train", out)
        run.file("epochs.jsonl").unlink(missing_ok=True)  # a reused --out: rows of an old run
    backend, adam, ts = _backend(params, saved, meta, moments, s.device, seed)
    cfg = {**params, "seed": seed}
    text_path = None if params["text_file"] is None else str(Path(params["text_file"]).resolve())
    meta = {
        "cell": params["cell"],
        "hidden": params["hidden"],
        "layers": params["layers"],
        "reset_after": params["reset_after"],
        "vocab": vocab.chars,
        "text": text_path,
        "unigram_loss": unigram,
        "config": {k: params[k] for k in RESUMABLE},
    }
    run.write_config({**params, "text_file": text_path or f"built-in ({source})"})
    X = data["train"][0]
    s.reporter.info(
        f"{source}: {n_chars} characters, vocabulary {len(vocab)}, {X.shape[0]} streams x "
        f"{X.shape[1] // params['seq_len']} steps of {params['seq_len']} per epoch; "
        f"unigram baseline {unigram:.3f} nats/char; run directory {run.path}"
    )
    started = time.perf_counter()
    with _one_thread_default(s):
        ts = fit(
            backend, adam, data, cfg, meta, run, s.reporter, ts, resumed=bool(params["resume"])
        )
        seconds = time.perf_counter() - started
        val = mean_loss(backend, *data["val"], params["seq_len"]) if data["val"] else None
    _report(s, params, backend, vocab, ts, val, unigram, seconds, seed, run)
