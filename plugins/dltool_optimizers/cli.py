"""``dltool optimizers``: compare, schedule, tune, minibatches.

Signatures only: each command builds its options and calls its job in ``jobs.py``.
Module-level imports stay light (typer only). The math lives in :mod:`dltool.nn.optimizers`,
:mod:`dltool.nn.schedules`, :mod:`dltool.data.minibatches` and :mod:`dltool.nn.training`.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from dltool.commands import (
    FiniteFloat,
    exist_ok_option,
    out_option,
    plugin_app,
    positive_float,
    resume_option,
)
from dltool.data import DATASETS

app = plugin_app("Compare GD/momentum/RMSprop/Adam, plot lr decay, random hyperparameter search.")

M_MAX = 10_000_000  # minibatches: examples (one index each)
SCHEDULE_EPOCHS_MAX = 100_000  # schedule: one row (and one plotted point) per epoch
SAMPLES_MIN = 4  # compare: a train and a dev split of at least two examples each
SAMPLES_MAX = 1_000_000  # examples of a generated data set (datasets.MAX_SAMPLES)
EPOCHS_MAX = 1_000_000
TRIALS_MAX = 10_000
WORKERS_MAX = 256
ROUNDS_MAX = 10
NOISE_MAX = 5.0  # generated data: beyond a few units only noise is left (datasets.MAX_NOISE)
LR_MAX = 10.0  # learning rate α, α₀ (dltool.nn.training.MAX_LEARNING_RATE)
EPSILON_MAX = 1.0  # ε of RMSprop/Adam (dltool.nn.training.MAX_EPSILON)
DECAY_RATE_MAX = 100.0  # inverse/staircase: α₀/(1 + r·e) is α₀/101 after one step at most
K_MAX = 10.0  # sqrt: k·α₀ is the first step's α


def _decay_rate(help: str) -> float:
    return typer.Option(
        1.0, "--decay-rate", click_type=FiniteFloat(min=0.0, max=DECAY_RATE_MAX), help=help
    )


def _beta(flag: str, default: float, help: str) -> float:
    return typer.Option(
        default, flag, click_type=FiniteFloat(min=0.0, max=1.0, max_open=True), help=help
    )


Dataset = Enum("Dataset", {n: n for n in DATASETS}, type=str)  # type: ignore[misc]


class Kind(str, Enum):
    """Learning-rate schedule (--kind)."""

    constant = "constant"
    inverse = "inverse"
    exponential = "exponential"
    sqrt = "sqrt"
    staircase = "staircase"
    manual = "manual"


class Backend(str, Enum):
    """Implementation that computes (--backend): the NumPy reference or torch."""

    numpy = "numpy"
    torch = "torch"


def _jobs():
    """Return the jobs module (imported when a command runs, not at --help)."""
    from dltool_optimizers import jobs

    return jobs


@app.command()
def minibatches(
    m: int = typer.Option(148, "--m", min=1, max=M_MAX, help="Number of training examples m."),
    size: int = typer.Option(64, "--size", min=1, help="Mini-batch size."),
    seed: int = typer.Option(
        0, "--shuffle-seed", min=0, max=2**32 - 1, help="Seed of the permutation shown."
    ),
    show: int = typer.Option(8, "--show", min=0, help="Example indices shown per batch."),
) -> None:
    """Show how m examples are shuffled and cut into mini-batches of --size."""
    _jobs().minibatches(m, size, seed, show)


@app.command()
def schedule(
    kind: Kind = typer.Option(Kind.inverse, "--kind", help="Decay schedule."),
    lr0: float = typer.Option(
        0.1, "--lr0", click_type=positive_float(LR_MAX), help="Initial learning rate α₀."
    ),
    decay_rate: float = _decay_rate("inverse/staircase: α₀/(1+r·e)."),
    epochs: int = typer.Option(
        100, "--epochs", min=1, max=SCHEDULE_EPOCHS_MAX, help="Epochs shown."
    ),
    interval: int = typer.Option(
        1, "--interval", min=1, help="Epochs per step: e = ⌊epoch/interval⌋."
    ),
    base: float = typer.Option(
        0.95,
        "--base",
        click_type=FiniteFloat(min=0.0, min_open=True, max=1.0),
        help="exponential: α = base^e · α₀.",
    ),
    k: float = typer.Option(
        1.0, "--k", click_type=positive_float(K_MAX), help="sqrt: α = k/√e · α₀."
    ),
    values: str | None = typer.Option(
        None, "--values", help="manual: α per step, e.g. 0.1,0.05 [default: none]."
    ),
    every: int = typer.Option(
        0, "--every", min=0, help="Table row every N epochs (0: about 20 rows)."
    ),
    out: Path | None = out_option(),
    exist_ok: bool = exist_ok_option(),
) -> None:
    """Print a learning-rate decay schedule (table or --json) and plot it."""
    sched = {"kind": kind.value, "lr0": lr0, "decay_rate": decay_rate, "interval": interval}
    sched |= {"base": base, "k": k, "values": values}
    _jobs().schedule(sched, epochs, every, out, exist_ok)


@app.command()
def compare(
    ctx: typer.Context,
    dataset: Dataset = typer.Option(Dataset.moons, "--dataset", "-d", help="Built-in data set."),
    data: Path | None = typer.Option(
        None, "--data", help="Your CSV/NPZ file, one example per row [default: --dataset]."
    ),
    target: str | None = typer.Option(
        None, "--target", help="Label column (CSV) or array (NPZ) [default: none]."
    ),
    samples: int = typer.Option(
        300,
        "--samples",
        min=SAMPLES_MIN,
        max=SAMPLES_MAX,
        help="Examples of a generated data set.",
    ),
    noise: float = typer.Option(
        0.2,
        "--noise",
        click_type=FiniteFloat(min=0.0, max=NOISE_MAX),
        help="Noise of a generated data set.",
    ),
    split: str = typer.Option("0.8,0.2", "--split", help="Train,dev fractions."),
    optimizers: str = typer.Option("gd,momentum,adam", "--optimizers", help="Comma-separated."),
    hidden: str = typer.Option("5,2", "--hidden", help="Hidden layer sizes (notes: 5,2)."),
    lr: float = typer.Option(
        0.0007, "--lr", click_type=positive_float(LR_MAX), help="Learning rate α (notes: 0.0007)."
    ),
    batch_size: int = typer.Option(64, "--batch-size", min=1, help="Mini-batch size."),
    epochs: int = typer.Option(
        5000, "--epochs", min=1, max=EPOCHS_MAX, help="Passes over the training set."
    ),
    beta1: float = _beta("--beta1", 0.9, "Momentum β / Adam β₁."),
    beta2: float = _beta("--beta2", 0.999, "RMSprop/Adam β₂."),
    epsilon: float = typer.Option(
        1e-8, "--epsilon", click_type=positive_float(EPSILON_MAX), help="ε of RMSprop/Adam."
    ),
    decay: Kind = typer.Option(Kind.constant, "--decay", help="Learning-rate decay."),
    decay_rate: float = _decay_rate("Rate of inverse/staircase decay."),
    interval: int | None = typer.Option(
        None,
        "--interval",
        min=1,
        help="Epochs per decay step [default: 1000 for staircase, else 1].",
    ),
    values: str | None = typer.Option(
        None, "--values", help="manual decay: α per step [default: none]."
    ),
    backend: Backend = typer.Option(
        Backend.numpy, "--backend", help="numpy (reference) or torch.optim."
    ),
    force: bool = typer.Option(False, "--force", help="Train even above the memory estimate."),
    out: Path | None = out_option(),
    exist_ok: bool = exist_ok_option(),
    config: Path | None = typer.Option(
        None, "--config", help="YAML file of these options [default: none]."
    ),
) -> None:
    """Train the same network (same init, same batches) with each optimizer; table + PNG.

    Defaults follow the notes' moons experiment: layers 2-5-2-1, α = 0.0007, mini-batches
    of 64, β = 0.9, β₁ = 0.9, β₂ = 0.999, ε = 1e-8, seed 3 (global --seed overrides).
    """
    _jobs().compare(ctx, config)


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
    ctx: typer.Context,
    space: Path | None = typer.Option(
        None, "--space", help="Search space YAML, see below [default: the resumed run's]."
    ),
    trials: int = typer.Option(30, "--trials", min=1, max=TRIALS_MAX, help="Trials per round."),
    workers: int = typer.Option(
        1, "--workers", min=1, max=WORKERS_MAX, help="Parallel worker processes."
    ),
    coarse_to_fine: int = typer.Option(
        0,
        "--coarse-to-fine",
        min=0,
        max=ROUNDS_MAX,
        help="Extra rounds, each zoomed on the best quarter so far.",
    ),
    resume: str | None = resume_option("--workers, --top and --coarse-to-fine"),
    top: int = typer.Option(
        10, "--top", min=0, help="Rows shown in the table (results.json has all)."
    ),
    out: Path | None = out_option(),
    exist_ok: bool = exist_ok_option(),
) -> None:
    """Random search (no grid) over a YAML space, coarse to fine, resumable, parallel.

    --resume RUN goes on with the run's own search; --workers, --top and --coarse-to-fine
    may change.
    """
    _jobs().tune(ctx, resume)
