"""The ``dltool cnn`` sub-app: signatures only; the jobs are in ``jobs.py``.

Module-level imports stay light (typer and the plugin's name lists); NumPy, torch, PIL,
scikit-image and matplotlib are imported inside the jobs.
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
    sync_bn_option,
    workers_option,
)
from dltool.data.images import complete_image
from dltool_cnn import MAX_LR, MODELS
from dltool_cnn.filters import FILTER_NAMES

app = plugin_app(
    "Convolution from scratch, classic CNNs, augmentation, training, transfer learning."
)

MAX_EPOCHS = 10_000  # one checkpoint and one metrics row each
MAX_BATCH = 4_096
MAX_IMAGE_SIZE = 1_024  # pixels per side; digits and shapes are held in memory at this size
MAX_AUGMENT_SIZE = 2_048
MAX_STRIDE = 100_000  # a stride past the image gives a 1x1 output, nothing more
MAX_PAD = 10_000  # the memory estimate refuses far less on large images
NUM_BLOCKS = 16  # EfficientNet-Lite0's MBConv blocks (dltool.nn.efficientnet.NUM_BLOCKS)
BUILTIN_DATA = ("digits", "shapes")  # dltool_cnn.data's built-in sets, without importing it
IMAGE_HELP = "Image file, or a demo image NAME or demo:NAME (camera, coins, chelsea, …)."

Model = Enum("Model", {name: name for name, *_ in MODELS}, type=str)  # type: ignore[misc]
Model.__doc__ = "The classic CNNs of `dltool cnn models`."
Filter = Enum("Filter", {n: n for n in (*FILTER_NAMES, "list")}, type=str)  # type: ignore[misc]
Filter.__doc__ = "The 3x3 filters of `cnn conv` ('list' prints their kernels)."


class Optimizer(str, Enum):
    """Training optimizers."""

    adam = "adam"
    sgd = "sgd"


class Pretrained(str, Enum):
    """Pretrained backbones for transfer learning."""

    efficientnet_lite0 = "efficientnet-lite0"


def _complete_ops(incomplete: str) -> list[str]:
    """Complete a comma list of augmentation names: the last item after the typed ones."""
    from dltool_cnn.augment import OPS

    done, _, last = incomplete.rpartition(",")
    prefix = f"{done}," if done else ""
    return [prefix + op for op in OPS if op.startswith(last) and op not in done.split(",")]


def _complete_freeze(incomplete: str) -> list[str]:
    """Complete --freeze: backbone, none or a block count 0..16."""
    choices = ["backbone", "none", *map(str, range(NUM_BLOCKS + 1))]
    return [c for c in choices if c.startswith(incomplete)]


@app.callback()
def main() -> None:
    """Convolution and pooling from scratch, the classic CNNs, augmentation and training."""


@app.command("models")
def models_cmd() -> None:
    """List the classic CNNs with their native input size and parameter count."""
    from dltool_cnn.jobs import models_job

    models_job()


@app.command()
def summary(
    model: Model = typer.Argument(..., help="Model name (see `dltool cnn models`)."),
    input: str = typer.Option(
        None, "--input", help="Input CxHxW, e.g. 3x64x64 [default: the model's native size]."
    ),
    all_layers: bool = typer.Option(False, "--all", help="Also list activations and dropout."),
) -> None:
    """Layer-by-layer table: output shape (H x W x C), parameters, [filter size, stride]."""
    from dltool_cnn.jobs import summary_job

    summary_job(model.value, input, all_layers)


@app.command()
def shapes(
    input: str = typer.Option(..., "--input", help="Input HxWxC, e.g. 64x64x3."),
    layers: str = typer.Option(
        ..., "--layers", help='Layers, e.g. "conv:f=3,s=1,p=same,c=16; pool:f=2,s=2; fc:n=10".'
    ),
) -> None:
    """Apply n_out = ⌊(n + 2p − f)/s⌋ + 1 layer by layer and show each step."""
    from dltool_cnn.jobs import shapes_job

    shapes_job(input, layers)


@app.command("shape", hidden=True)
def shape(
    input: str = typer.Option(..., "--input", help="Input HxWxC, e.g. 64x64x3."),
    layers: str = typer.Option(..., "--layers", help="Layers, as for `cnn shapes`."),
) -> None:
    """The old name of `cnn shapes`."""
    shapes(input, layers)


@app.command()
def conv(
    image: str = typer.Argument(..., help=IMAGE_HELP, autocompletion=complete_image),
    filter: Filter = typer.Option(
        Filter("vertical-edge"), "--filter", help="3x3 filter ('list' shows them)."
    ),
    stride: int = typer.Option(1, "--stride", min=1, max=MAX_STRIDE, help="Stride s."),
    pad: int = typer.Option(0, "--pad", min=0, max=MAX_PAD, help="Zero padding p on each side."),
    gray: bool = typer.Option(True, "--gray/--color", help="Convert to grayscale first."),
    output: Path = output_option("png, jpg", "<stem><suffix> in the run folder"),
    out: Path = out_option(),
    exist_ok: bool = exist_ok_option(),
) -> None:
    """Convolve an image with a classic 3×3 filter using the NumPy conv_forward."""
    from dltool_cnn.jobs import conv_job

    conv_job({"image": image, "filter": filter.value, "stride": stride, "pad": pad,
              "color": not gray, "output": output, "out": out, "exist_ok": exist_ok})  # fmt: skip


@app.command()
def augment(
    image: str = typer.Argument(..., help=IMAGE_HELP, autocompletion=complete_image),
    n: int = typer.Option(8, "-n", "--n", min=1, max=64, help="Number of augmented copies."),
    ops: str = typer.Option(
        "mirror,crop,rotate,shear,warp,color",
        "--ops",
        help="Comma list of mirror, crop, rotate, shear, warp, color, pca.",
        autocompletion=_complete_ops,
    ),
    size: int = typer.Option(
        256, "--size", min=16, max=MAX_AUGMENT_SIZE, help="Resize the image to size x size first."
    ),
    output: Path = output_option("png, jpg, svg, pdf", "<stem>_grid.png in the run folder"),
    out: Path = out_option(),
    exist_ok: bool = exist_ok_option(),
) -> None:
    """Write a grid of randomly augmented copies of IMAGE (the same ops as `train --augment`)."""
    from dltool_cnn.jobs import augment_job

    augment_job({"image": image, "n": n, "ops": ops, "size": size, "output": output,
                 "out": out, "exist_ok": exist_ok})  # fmt: skip


def _complete_data(incomplete: str) -> list[str]:
    """Complete --data with the built-in sets; other words complete as file names (TAB)."""
    return [name for name in BUILTIN_DATA if name.startswith(incomplete)]


@app.command()
def train(
    ctx: typer.Context,
    model: Model = typer.Option(Model("lenet5"), "--model", help="Network to train from scratch."),
    data: str = typer.Option(
        "digits",
        "--data",
        help="digits, shapes or an image folder DIR.",
        autocompletion=_complete_data,
    ),
    augment: str = typer.Option(
        None,
        "--augment",
        help="Augmentations for training, e.g. mirror,crop,color [default: none].",
        autocompletion=_complete_ops,
    ),
    epochs: int = typer.Option(5, "--epochs", min=1, max=MAX_EPOCHS, help="Epochs to train."),
    batch_size: int = typer.Option(
        64, "--batch-size", min=1, max=MAX_BATCH, help="Images per mini-batch."
    ),
    lr: float = typer.Option(
        1e-3,
        "--lr",
        click_type=positive_float(MAX_LR),
        help="Learning rate (positive, finite).",
    ),
    optimizer: Optimizer = typer.Option(
        Optimizer.adam, "--optimizer", help="adam, or sgd with momentum 0.9."
    ),
    image_size: int = typer.Option(
        None,
        "--image-size",
        min=1,
        max=MAX_IMAGE_SIZE,
        help="Side of the square inputs [default: 32 if the model takes it, else its native].",
    ),
    dev_fraction: float = typer.Option(
        0.2,
        "--dev-fraction",
        click_type=FiniteFloat(min=0.01, max=0.9),
        help="Share of the images kept for dev.",
    ),
    pretrained: Pretrained = typer.Option(
        None, "--pretrained", help="Fine-tune this backbone instead of --model [default: none]."
    ),
    freeze: str = typer.Option(
        "backbone",
        "--freeze",
        help="With --pretrained: backbone (new head only), none, or N (stem + N blocks, 0..16).",
        autocompletion=_complete_freeze,
    ),
    nproc: int = nproc_option(),
    workers: int = workers_option("an image folder"),
    amp: bool = amp_option(),
    sync_bn: bool = sync_bn_option(),
    resume: str = resume_option(),
    out: Path = out_option(),
    exist_ok: bool = exist_ok_option(),
    config: Path = typer.Option(
        None, "--config", help="YAML file of these options [default: none]."
    ),
) -> None:
    """Train a CNN classifier with checkpoints, best model, confusion matrix and curves."""
    from dltool.config import resolve_config
    from dltool_cnn.jobs import train_job

    params = resolve_config(ctx, config, exclude=("out", "resume", "exist_ok"))
    train_job(ctx, params, {"resume": resume, "out": out, "exist_ok": exist_ok, "config": config})


@app.command()
def predict(
    source: str = typer.Argument(
        ...,
        help="Run folder of `cnn train` (or its number, or a .pt in it), or efficientnet-lite0.",
    ),
    images: list[str] = typer.Argument(
        ...,
        help="Image files, folders, globs, or demo images NAME / demo:NAME.",
        autocompletion=complete_image,
    ),
    top: int = typer.Option(3, "--top", "-k", min=1, max=1000, help="How many classes to show."),
) -> None:
    """Top-k classes with probabilities for each image."""
    from dltool_cnn.jobs import predict_job

    predict_job(source, images, top)


class ExportFormat(str, Enum):
    """Export formats."""

    onnx = "onnx"
    torchscript = "torchscript"


@app.command()
def export(
    source: str = typer.Argument(
        ...,
        help="Run folder of `cnn train` (or its number, or a .pt in it), efficientnet-lite0, "
        "or a model name (random init).",
    ),
    format: ExportFormat = typer.Option(
        ..., "--format", help="onnx (opset 18, run by onnxruntime) or torchscript."
    ),
    dynamic: bool = typer.Option(
        False, "--dynamic", help="Free batch size (checked at 1 and 3); the side stays the model's."
    ),
    out: Path = out_option(),
    exist_ok: bool = exist_ok_option(),
) -> None:
    """Export a classifier to ONNX or TorchScript, checked against torch, with model.json."""
    from dltool_cnn.jobs import export_job

    export_job({"source": source, "format": format.value, "dynamic": dynamic, "out": out,
                "exist_ok": exist_ok})  # fmt: skip
