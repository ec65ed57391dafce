"""``dltool basicnn``: train, predict, logreg, gradcheck, diagnose, activations.

Signatures only: each command builds its options and calls its job in ``jobs.py``.
Module-level imports stay light (typer only).
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
    output_option,
    plugin_app,
    positive_float,
    resume_option,
)
from dltool.data import DATASETS

app = plugin_app("Logistic regression and L-layer networks: train, predict, gradcheck, diagnose.")

SAMPLES_MAX = 1_000_000  # examples of a generated data set (dltool.data.datasets checks it too)
CLASSES_MAX = 100  # classes of spirals/blobs
EPOCHS_MAX = 10_000_000
EXAMPLES_MAX = 10_000  # gradcheck: two forward passes per parameter on every example
NOISE_MAX = 5.0  # generated data: beyond a few units only noise is left (datasets.MAX_NOISE)
LR_MAX = 10.0  # learning rate α (dltool.nn.training.MAX_LEARNING_RATE)
L2_MAX = 100.0  # λ (dltool.nn.training.MAX_L2)
INIT_SCALE_MAX = 10.0  # --init random: N(0, 1)·scale; above this the first step overflows
RANGE_MAX = 100.0  # activations: every activation is flat (or linear) far beyond ±20


Dataset = Enum("Dataset", {n: n for n in DATASETS}, type=str)  # type: ignore[misc]


class Activation(str, Enum):
    """Hidden-layer activation (--activation)."""

    relu = "relu"
    tanh = "tanh"
    sigmoid = "sigmoid"
    leaky_relu = "leaky_relu"


class Init(str, Enum):
    """Weight initialization (--init): zeros, random, He or Xavier."""

    zeros = "zeros"
    random = "random"
    he = "he"
    xavier = "xavier"


class Optimizer(str, Enum):
    """Update rule (--optimizer)."""

    gd = "gd"
    momentum = "momentum"
    rmsprop = "rmsprop"
    adam = "adam"


class Backend(str, Enum):
    """Implementation that computes (--backend): the NumPy reference or torch."""

    numpy = "numpy"
    torch = "torch"


class DType(str, Enum):
    """Floating-point precision of the NumPy reference (--dtype)."""

    float64 = "float64"
    float32 = "float32"


def _jobs():
    """Return the jobs module (imported when a command runs, not at --help)."""
    from dltool_basicnn import jobs

    return jobs


def _samples(default: int = 400) -> int:
    return typer.Option(
        default, "--samples", min=1, max=SAMPLES_MAX, help="Examples of a generated data set."
    )


def _noise() -> float:
    return typer.Option(
        0.2,
        "--noise",
        click_type=FiniteFloat(min=0.0, max=NOISE_MAX),
        help="Noise of a generated data set.",
    )


def _lr(default: float = 0.1) -> float:
    return typer.Option(
        default, "--lr", click_type=positive_float(LR_MAX), help="Learning rate α (> 0)."
    )


def _l2(help: str = "L2 strength λ.") -> float:
    return typer.Option(0.0, "--l2", click_type=FiniteFloat(min=0.0, max=L2_MAX), help=help)


def _keep_prob() -> float:
    return typer.Option(
        1.0,
        "--keep-prob",
        click_type=FiniteFloat(min=0.0, min_open=True, max=1.0),
        help="Dropout keep probability, in (0, 1].",
    )


def _beta(flag: str, default: float, help: str) -> float:
    return typer.Option(
        default, flag, click_type=FiniteFloat(min=0.0, max=1.0, max_open=True), help=help
    )


def _classes() -> int:
    return typer.Option(3, "--classes", min=2, max=CLASSES_MAX, help="Classes of spirals/blobs.")


DATA_HELP = "Your CSV/NPZ file, one example per row [default: the built-in --dataset]."
TARGET_HELP = "Label column (CSV) or array (NPZ) [default: none for CSV, y for NPZ]."
CONFIG_HELP = "YAML file of these options [default: none]."


@app.command()
def train(
    ctx: typer.Context,
    dataset: Dataset = typer.Option(Dataset.planar, "--dataset", "-d", help="Built-in data set."),
    data: Path | None = typer.Option(None, "--data", help=DATA_HELP),
    target: str | None = typer.Option(None, "--target", help=TARGET_HELP),
    samples: int = _samples(),
    noise: float = _noise(),
    classes: int = _classes(),
    split: str = typer.Option("0.8,0.1,0.1", "--split", help="Train,dev,test fractions."),
    standardize: bool = typer.Option(True, help="Standardize features with train mean/std."),
    layers: str | None = typer.Option(
        None, "--layers", help="Sizes n_x,n_1,…,n_L [default: n_x,20,7,5,n_y]."
    ),
    activation: Activation = typer.Option(Activation.relu, "--activation", help="Hidden units."),
    init: Init = typer.Option(Init.he, "--init", help="Weight initialization."),
    init_scale: float = typer.Option(
        0.01,
        "--init-scale",
        click_type=positive_float(INIT_SCALE_MAX),
        help="Factor of --init random.",
    ),
    l2: float = _l2("L2 strength λ (cost + λ/2m Σ‖W‖²)."),
    keep_prob: float = _keep_prob(),
    lr: float = _lr(),
    epochs: int = typer.Option(
        2500, "--epochs", "--iterations", min=1, max=EPOCHS_MAX, help="Passes over the data."
    ),
    batch_size: int | None = typer.Option(
        None,
        "--batch-size",
        min=1,
        help="Mini-batch size [default: m, the whole training set].",
    ),
    optimizer: Optimizer = typer.Option(Optimizer.gd, "--optimizer", help="Update rule."),
    beta1: float = _beta("--beta1", 0.9, "Momentum β / Adam β₁, in [0, 1)."),
    beta2: float = _beta("--beta2", 0.999, "RMSprop/Adam β₂, in [0, 1)."),
    backend: Backend = typer.Option(Backend.numpy, "--backend", help="numpy (reference) or torch."),
    dtype: DType = typer.Option(DType.float64, "--dtype", help="Arithmetic precision."),
    force: bool = typer.Option(False, "--force", help="Train even above the memory estimate."),
    nproc: int = nproc_option(),
    amp: bool = amp_option(),
    out: Path | None = out_option(),
    exist_ok: bool = exist_ok_option(),
    resume: str | None = resume_option(),
    config: Path | None = typer.Option(None, "--config", help=CONFIG_HELP),
) -> None:
    """Train an L-layer network (ReLU hidden layers, sigmoid/softmax output)."""
    _jobs().train(ctx, config, resume)


@app.command()
def predict(
    model: Path = typer.Argument(
        ..., help="Run folder of train or logreg (or its number), or its model.npz."
    ),
    data_source: str = typer.Argument(
        ..., metavar="DATA", help="CSV/NPZ file or a built-in data set name."
    ),
    target: str | None = typer.Option(
        None, "--target", help="Label column, to score accuracy [default: the model's]."
    ),
    output: Path | None = output_option(".csv", "none: the table only"),
    limit: int = typer.Option(20, "--limit", min=0, help="Rows shown in the table (-o has all)."),
    samples: int = _samples(),
    noise: float = _noise(),
    classes: int = _classes(),
) -> None:
    """Predict classes for DATA with a trained model."""
    p = {"target": target, "output": output, "limit": limit}
    _jobs().predict(
        model, data_source, {**p, "samples": samples, "noise": noise, "classes": classes}
    )


@app.command()
def logreg(
    ctx: typer.Context,
    dataset: Dataset = typer.Option(Dataset.moons, "--dataset", "-d", help="Built-in data set."),
    data: Path | None = typer.Option(None, "--data", help=DATA_HELP),
    target: str | None = typer.Option(None, "--target", help=TARGET_HELP),
    positive: str | None = typer.Option(
        None, "--positive", help="With >2 classes: this class is 1, the others 0 [default: none]."
    ),
    samples: int = _samples(),
    noise: float = _noise(),
    classes: int = _classes(),
    split: str = typer.Option("0.8,0.1,0.1", "--split", help="Train,dev,test fractions."),
    standardize: bool = typer.Option(True, help="Standardize features with train mean/std."),
    lr: float = _lr(),
    epochs: int = typer.Option(
        2000, "--epochs", "--iterations", min=1, max=EPOCHS_MAX, help="Gradient-descent steps."
    ),
    backend: Backend = typer.Option(Backend.numpy, "--backend", help="numpy (reference) or torch."),
    out: Path | None = out_option(),
    exist_ok: bool = exist_ok_option(),
    config: Path | None = typer.Option(None, "--config", help=CONFIG_HELP),
) -> None:
    """Logistic regression σ(wᵀx + b) trained by gradient descent."""
    _jobs().logreg(ctx, config)


@app.command()
def gradcheck(
    layers: str = typer.Option("4,5,3,1", "--layers", help="Sizes n_x,n_1,…,n_L."),
    examples: int = typer.Option(
        10, "--examples", min=1, max=EXAMPLES_MAX, help="Random examples m."
    ),
    activation: Activation = typer.Option(Activation.relu, "--activation", help="Hidden units."),
    init: Init = typer.Option(Init.xavier, "--init", help="Weight initialization."),
    l2: float = _l2(),
    keep_prob: float = _keep_prob(),
    break_backprop: bool = typer.Option(
        False, "--break-backprop", help="Use a wrong backward (dW1 with 2/m) to show detection."
    ),
    backend: Backend = typer.Option(
        Backend.numpy, "--backend", help="numpy backward or torch autograd."
    ),
) -> None:
    """Check backprop against two-sided differences (ε = 1e-7) on a random network.

    Draw order after np.random.seed: X (n_x, m), labels, W1 … WL, then b1 … bL (N(0, 0.1²),
    so no ReLU input sits exactly on its kink), then the dropout masks.

    Exits 1 when the check fails (difference ≥ 1e-3), or, with --break-backprop, when the
    wrong backward pass goes undetected.
    """
    p = {"layers": layers, "examples": examples, "activation": activation, "init": init}
    p |= {"l2": l2, "keep_prob": keep_prob, "break_backprop": break_backprop, "backend": backend}
    if not _jobs().gradcheck(p):
        raise typer.Exit(1)


def _percent(flag: str, help: str, default: float | None = None) -> float:
    required = ... if default is None and flag in ("--train-error", "--dev-error") else default
    return typer.Option(required, flag, click_type=FiniteFloat(min=0.0, max=100.0), help=help)


@app.command()
def diagnose(
    train_error: float = _percent("--train-error", "Training-set error, %."),
    dev_error: float = _percent("--dev-error", "Dev-set error, %."),
    human_error: float = _percent("--human-error", "Human/Bayes error proxy, %.", 0.0),
    train_dev_error: float | None = _percent(
        "--train-dev-error", "Error on held-out training-distribution data, % [default: none]."
    ),
    test_error: float | None = _percent("--test-error", "Test-set error, % [default: none]."),
    threshold: float = typer.Option(
        2.0,
        "--threshold",
        click_type=FiniteFloat(min=0.0, max=100.0),
        help="Points (of percent) that make a gap 'high'.",
    ),
) -> None:
    """Bias/variance diagnosis with the recommended next actions (errors in percent)."""
    errors = {"--train-error": train_error, "--dev-error": dev_error}
    errors |= {"--human-error": human_error, "--train-dev-error": train_dev_error}
    _jobs().diagnose({**errors, "--test-error": test_error}, threshold)


@app.command()
def activations(
    points: str = typer.Option("-2,-1,0,1,2", "--points", help="Values of z for the table."),
    span: float = typer.Option(
        6.0,
        "--range",
        click_type=positive_float(RANGE_MAX),
        help="Plot z from −range to +range (> 0).",
    ),
    out: Path | None = out_option(),
    exist_ok: bool = exist_ok_option(),
) -> None:
    """Table of each activation and its derivative at chosen points, plus a PNG plot."""
    _jobs().activations(points, span, out, exist_ok)
