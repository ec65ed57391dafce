"""``dltool rnn``: train and sample a character-level language model, check gradients,
show the tensor shapes of the RNN, GRU and LSTM (course notes, "RNN").

Signatures only: each command builds its options and calls its job in ``jobs.py``.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from dltool.commands import (
    FiniteFloat,
    amp_option,
    exist_ok_option,
    nproc_option,
    out_option,
    plugin_app,
    positive_float,
    resume_option,
)

app = plugin_app(
    "RNN, GRU and LSTM from scratch: character-level language model, gradcheck, shapes."
)

SIZE_MAX = 1_000_000  # shapes: each size; the job refuses what would not fit in memory
CHECK_MAX = 64  # gradcheck: each size (numerical gradients cost 2 forwards per parameter)
STEPS_MAX = 100_000  # shapes: time steps (a Python loop over them)
EPOCHS_MAX = 100_000  # train: passes over the text (the same bound as yolo's and wordvec's)
LR_MAX = 10.0  # Adam steps of more than 10 per parameter only diverge


class Cell(str, Enum):
    """Recurrent cell (--cell): basic RNN, GRU or LSTM."""

    rnn = "rnn"
    gru = "gru"
    lstm = "lstm"


class Backend(str, Enum):
    """Implementation that computes (--backend): the NumPy reference or torch."""

    numpy = "numpy"
    torch = "torch"


class ClipMode(str, Enum):
    """Gradient clipping (--clip-mode): each value to [-c, c], or the global norm to c."""

    value = "value"
    norm = "norm"


@app.command()
def train(
    ctx: typer.Context,
    text_file: Path | None = typer.Argument(
        None,
        help="UTF-8 text to learn [default: the built-in English news corpus from gensim].",
        show_default=False,
    ),
    cell: Cell = typer.Option(Cell.lstm, "--cell", help="Recurrent cell."),
    hidden: int = typer.Option(
        128, "--hidden", min=1, max=4096, help="Hidden units n_a per layer."
    ),
    layers: int = typer.Option(1, "--layers", min=1, max=16, help="Stacked recurrent layers."),
    seq_len: int = typer.Option(
        64, "--seq-len", min=1, max=100_000, help="Truncated BPTT length T_x."
    ),
    batch_size: int = typer.Option(
        32, "--batch-size", min=1, max=100_000, help="Parallel text streams m."
    ),
    epochs: int = typer.Option(
        5,
        "--epochs",
        min=1,
        max=EPOCHS_MAX,
        help="Passes over the text, in total (a --resume may raise it).",
    ),
    lr: float = typer.Option(
        1e-2, "--lr", click_type=positive_float(LR_MAX), help="Adam learning rate."
    ),
    clip: float = typer.Option(
        5.0,
        "--clip",
        click_type=FiniteFloat(min=0.0),
        help="Gradient clip threshold (0: no clipping).",
    ),
    clip_mode: ClipMode = typer.Option(
        ClipMode.value, "--clip-mode", help="Clip by value or norm."
    ),
    backend: Backend = typer.Option(Backend.torch, "--backend", help="NumPy reference or torch."),
    reset_after: bool = typer.Option(
        False, "--reset-after", help="GRU: apply the relevance gate after Wc (torch.nn.GRU form)."
    ),
    sample_every: int = typer.Option(
        200, "--sample-every", min=0, help="Steps between samples (0: none)."
    ),
    checkpoint_every: int = typer.Option(
        200, "--checkpoint-every", min=1, help="Steps between checkpoints (and every epoch end)."
    ),
    val_fraction: float = typer.Option(
        0.05,
        "--val-fraction",
        click_type=FiniteFloat(min=0.0, max=0.5),
        help="Tail of the text held out for validation.",
    ),
    max_steps: int = typer.Option(
        0, "--max-steps", min=0, help="Stop this invocation after this many steps (0: no limit)."
    ),
    time_limit: float = typer.Option(
        0.0,
        "--time-limit",
        click_type=FiniteFloat(min=0.0),
        help="Stop this invocation after this many seconds, checkpoint kept (0: no limit).",
    ),
    encoding: str = typer.Option("utf-8", "--encoding", help="Text encoding of TEXT_FILE."),
    nproc: int = nproc_option(),
    amp: bool = amp_option(),
    resume: str | None = resume_option("--epochs, --max-steps and --time-limit"),
    out: Path | None = out_option(),
    exist_ok: bool = exist_ok_option(),
    config: Path | None = typer.Option(
        None, "--config", help="YAML file of these options [default: none]."
    ),
) -> None:
    """Train a character-level language model (truncated BPTT, Adam, clipping).

    --resume RUN continues a run with its own options; only --epochs may change
    (and --max-steps/--time-limit, which bound this invocation only).
    """
    from dltool_rnn import jobs

    jobs.train(ctx, config, resume, out, exist_ok)


@app.command()
def sample(
    run_or_model: str = typer.Argument(
        ..., help="Run folder of 'rnn train', a file inside it, its number, or a checkpoint.npz."
    ),
    n: int = typer.Option(10, "-n", "--num", min=1, max=100_000, help="Number of samples."),
    temperature: float = typer.Option(
        0.8, "--temperature", click_type=positive_float(), help="Softmax temperature."
    ),
    prefix: str = typer.Option(
        "", "--prefix", help="Text every sample starts with [default: none]."
    ),
    max_len: int = typer.Option(
        200, "--max-len", min=1, max=1_000_000, help="Characters drawn per sample."
    ),
) -> None:
    """Draw samples from a trained model (from the softmax, one per line; --seed to repeat)."""
    from dltool_rnn import jobs

    jobs.sample(run_or_model, n, temperature, prefix, max_len)


@app.command()
def gradcheck(
    cell: Cell = typer.Option(Cell.lstm, "--cell", help="Recurrent cell."),
    n_a: int = typer.Option(5, "--n-a", min=1, max=CHECK_MAX, help="Hidden units."),
    n_x: int = typer.Option(
        3, "--n-x", min=1, max=CHECK_MAX, help="Input size (and output classes)."
    ),
    m: int = typer.Option(4, "--m", min=1, max=CHECK_MAX, help="Examples in the batch."),
    T: int = typer.Option(6, "--T", min=1, max=CHECK_MAX, help="Time steps T_x."),
    layers: int = typer.Option(1, "--layers", min=1, max=4, help="Stacked layers."),
    reset_after: bool = typer.Option(False, "--reset-after", help="GRU: torch's reset-after form."),
) -> None:
    """Check the NumPy BPTT against numerical gradients (and torch autograd) per parameter."""
    from dltool_rnn import jobs

    jobs.gradcheck(cell.value, n_x, n_a, m, T, layers, reset_after)


@app.command()
def shapes(
    cell: Cell = typer.Option(Cell.lstm, "--cell", help="Recurrent cell."),
    n_x: int = typer.Option(3, "--n-x", min=1, max=SIZE_MAX, help="Input size."),
    n_a: int = typer.Option(5, "--n-a", min=1, max=SIZE_MAX, help="Hidden units."),
    n_y: int = typer.Option(2, "--n-y", min=1, max=SIZE_MAX, help="Output classes."),
    m: int = typer.Option(10, "--m", min=1, max=SIZE_MAX, help="Examples in the batch."),
    T: int = typer.Option(7, "--T", min=1, max=STEPS_MAX, help="Time steps T_x."),
    reset_after: bool = typer.Option(False, "--reset-after", help="GRU: torch's reset-after form."),
) -> None:
    """Show every tensor's shape through one step and through the sequence (forward, BPTT)."""
    from dltool_rnn import jobs

    jobs.shapes(cell.value, n_x, n_a, n_y, m, T, reset_after)
