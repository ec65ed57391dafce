"""``dltool rnn``: train and sample a character-level language model, check gradients,
show the tensor shapes of the RNN, GRU and LSTM (course notes, "RNN")."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from dltool.config import resolve_config
from dltool.context import current
from dltool.errors import DltoolError

app = typer.Typer(
    help="RNN, GRU and LSTM from scratch: character-level language model, gradcheck, shapes.",
    no_args_is_help=True,
)


class Cell(str, Enum):
    rnn = "rnn"
    gru = "gru"
    lstm = "lstm"


class Backend(str, Enum):
    numpy = "numpy"
    torch = "torch"


class ClipMode(str, Enum):
    value = "value"
    norm = "norm"


MODEL_KEYS = ("cell", "hidden", "layers", "reset_after")
RESUMABLE = (
    "seq_len",
    "batch_size",
    "epochs",
    "lr",
    "clip",
    "clip_mode",
    "backend",
    "sample_every",
    "checkpoint_every",
    "encoding",
    "val_fraction",
)


@app.command()
def train(
    ctx: typer.Context,
    text_file: Path | None = typer.Argument(
        None, help="UTF-8 text to learn (default: built-in English news corpus from gensim)."
    ),
    cell: Cell = typer.Option(Cell.lstm, "--cell", help="Recurrent cell."),
    hidden: int = typer.Option(128, "--hidden", min=1, help="Hidden units n_a per layer."),
    layers: int = typer.Option(1, "--layers", min=1, help="Stacked recurrent layers."),
    seq_len: int = typer.Option(64, "--seq-len", min=1, help="Truncated BPTT length T_x."),
    batch_size: int = typer.Option(32, "--batch-size", min=1, help="Parallel text streams m."),
    epochs: int = typer.Option(5, "--epochs", min=1, help="Passes over the text (in total)."),
    lr: float = typer.Option(1e-2, "--lr", min=0.0, help="Adam learning rate."),
    clip: float = typer.Option(5.0, "--clip", help="Gradient clip threshold (0: no clipping)."),
    clip_mode: ClipMode = typer.Option(
        ClipMode.value, "--clip-mode", help="Clip by value or norm."
    ),
    backend: Backend = typer.Option(Backend.torch, "--backend", help="NumPy reference or torch."),
    reset_after: bool = typer.Option(
        False, "--reset-after", help="GRU: apply the relevance gate after Wc (torch.nn.GRU form)."
    ),
    sample_every: int = typer.Option(200, "--sample-every", min=0, help="Steps between samples."),
    checkpoint_every: int = typer.Option(
        200, "--checkpoint-every", min=1, help="Steps between checkpoints."
    ),
    val_fraction: float = typer.Option(
        0.05, "--val-fraction", min=0.0, max=0.5, help="Tail of the text held out for validation."
    ),
    max_steps: int = typer.Option(0, "--max-steps", min=0, help="Stop after this many steps."),
    time_limit: float = typer.Option(
        0.0, "--time-limit", min=0.0, help="Stop after this many seconds (checkpoint kept)."
    ),
    encoding: str = typer.Option("utf-8", "--encoding", help="Text encoding of TEXT_FILE."),
    resume: str | None = typer.Option(
        None, "--resume", help="Run directory (or number) to continue."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Run directory (default runs/rnn/train/N)."
    ),
    config: Path | None = typer.Option(None, "--config", help="YAML file of these options."),
) -> None:
    """Train a character-level language model (truncated BPTT, Adam, clipping)."""
    resolved = resolve_config(ctx, config, exclude=("out",))
    params = {k: v.value if isinstance(v, Enum) else v for k, v in resolved.items()}  # choices
    from dltool_rnn.jobs import run_training

    run_training(ctx, params, out)


@app.command()
def sample(
    run_or_model: str = typer.Argument(..., help="Run directory, run number or checkpoint.npz."),
    n: int = typer.Option(10, "-n", "--num", min=1, help="Number of samples."),
    temperature: float = typer.Option(0.8, "--temperature", help="Softmax temperature (> 0)."),
    prefix: str = typer.Option("", "--prefix", help="Text every sample starts with."),
    max_len: int = typer.Option(200, "--max-len", min=1, help="Characters drawn per sample."),
) -> None:
    """Draw samples from a trained model (from the softmax, one per line; --seed to repeat)."""
    if not temperature > 0:
        raise DltoolError(f"--temperature must be positive, got {temperature}")
    import numpy as np

    from dltool_rnn import checkpoint, sampling

    s = current()
    params, meta, _ = checkpoint.load(run_or_model)
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
        s.reporter.result("checkpoint", str(checkpoint.resolve(run_or_model)))
    for text in texts:
        s.reporter.line(text)


@app.command()
def gradcheck(
    cell: Cell = typer.Option(Cell.lstm, "--cell", help="Recurrent cell."),
    n_a: int = typer.Option(5, "--n-a", min=1, help="Hidden units."),
    n_x: int = typer.Option(3, "--n-x", min=1, help="Input size (and output classes)."),
    m: int = typer.Option(4, "--m", min=1, help="Examples in the batch."),
    T: int = typer.Option(6, "--T", min=1, help="Time steps T_x."),
    layers: int = typer.Option(1, "--layers", min=1, help="Stacked layers."),
    reset_after: bool = typer.Option(False, "--reset-after", help="GRU: torch's reset-after form."),
) -> None:
    """Check the NumPy BPTT against numerical gradients (and torch autograd) per parameter."""
    from dltool_rnn.explain import gradcheck_rows

    s = current()
    rows, overall, verdict = gradcheck_rows(
        cell.value, n_x, n_a, m, T, layers, reset_after, 0 if s.seed is None else s.seed
    )
    s.reporter.table(
        f"Gradient check: {cell.value}, n_x={n_x} n_a={n_a} m={m} T_x={T}", rows, key="parameters"
    )
    s.reporter.result("difference", overall, "overall difference")
    s.reporter.result("verdict", verdict)
    if verdict in ("suspicious", "wrong"):
        raise DltoolError(f"gradient check {verdict}: difference {overall:.3g}")


@app.command()
def shapes(
    cell: Cell = typer.Option(Cell.lstm, "--cell", help="Recurrent cell."),
    n_x: int = typer.Option(3, "--n-x", min=1, help="Input size."),
    n_a: int = typer.Option(5, "--n-a", min=1, help="Hidden units."),
    n_y: int = typer.Option(2, "--n-y", min=1, help="Output classes."),
    m: int = typer.Option(10, "--m", min=1, help="Examples in the batch."),
    T: int = typer.Option(7, "--T", min=1, help="Time steps T_x."),
    reset_after: bool = typer.Option(False, "--reset-after", help="GRU: torch's reset-after form."),
) -> None:
    """Show every tensor's shape through one step and through the sequence (forward, BPTT)."""
    from dltool_rnn.explain import shape_rows

    s = current()
    for title, key, rows in shape_rows(cell.value, n_x, n_a, n_y, m, T, reset_after):
        s.reporter.table(title, rows, key=key)
