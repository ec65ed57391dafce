"""The ``dltool style`` sub-app: signatures only; the jobs are in ``jobs.py``.

Heavy imports (torch, numpy, PIL) happen inside the jobs.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from dltool.commands import (
    FiniteFloat,
    exist_ok_option,
    out_option,
    output_option,
    plugin_app,
    positive_float,
)
from dltool.config import resolve_config
from dltool.data.images import complete_image
from dltool_style.features import MIN_SIZE

app = plugin_app("Neural style transfer: content cost, Gram matrices, weighted style layers.")

MAX_SIZE = 16384  # pixels on the longer side; the memory estimate refuses far less
MAX_LAYERS_SIZE = 1_000_000  # shapes only: computed on the meta device, no memory used
MAX_ITERATIONS = 100_000  # about 2 h at 72 ms a step; one metrics row each
MAX_LR = 10.0  # pixels lie in [0, 1]: a larger step only throws the image out of range
WEIGHT = FiniteFloat(min=0.0)  # a cost weight: finite, ≥ 0
WEIGHTS_HELP = "VGG-19 weights: a torchvision vgg19 state dict (.pth) [default: none]."


class Net(str, Enum):
    """Feature networks."""

    efficientnet_lite0 = "efficientnet-lite0"
    vgg19 = "vgg19"


class Init(str, Enum):
    """Starting images: content + noise, the content itself, or noise."""

    noise = "noise"
    content = "content"
    random = "random"


class Optimizer(str, Enum):
    """Pixel optimizers."""

    adam = "adam"
    lbfgs = "lbfgs"


NET = typer.Option(
    Net.efficientnet_lite0,
    "--net",
    help="Feature network: efficientnet-lite0 (ships its weights) or vgg19 (needs --weights).",
)


@app.callback()
def main() -> None:
    """Neural style transfer: content cost, Gram matrices, weighted style layers."""


@app.command()
def layers(
    net: Net = NET,
    weights: Path = typer.Option(None, "--weights", help=WEIGHTS_HELP),
    size: int = typer.Option(
        256,
        "--size",
        min=MIN_SIZE,
        max=MAX_LAYERS_SIZE,
        help="Show activation shapes for this input size.",
    ),
) -> None:
    """List a network's layers with channels, stride and shape, and the default choice."""
    from dltool_style import jobs

    jobs.layers(net.value, weights, size)


@app.command()
def transfer(
    ctx: typer.Context,
    images: list[Path] = typer.Argument(
        None,
        help="CONTENT image, then one or more STYLE images; demo:NAME (or NAME, if no such "
        "file) picks a sample photo (demo:chelsea, demo:china, demo:brick, …).",
        show_default=False,
        autocompletion=complete_image,
    ),
    output: Path = output_option("png, jpg", "only result.png in the run folder"),
    size: int = typer.Option(
        256, "--size", min=MIN_SIZE, max=MAX_SIZE, help="Longer side of the result, in pixels."
    ),
    iterations: int = typer.Option(
        300, "--iterations", min=1, max=MAX_ITERATIONS, help="Optimization steps."
    ),
    content_weight: float = typer.Option(
        10.0, "--content-weight", click_type=WEIGHT, help="α in J = αJc + βJs."
    ),
    style_weight: float = typer.Option(
        40.0, "--style-weight", click_type=WEIGHT, help="β in J = αJc + βJs."
    ),
    tv_weight: float = typer.Option(
        2.0,
        "--tv-weight",
        click_type=WEIGHT,
        help="Total-variation weight γ (0: the notes' J exactly).",
    ),
    content_layer: str = typer.Option(
        None,
        "--content-layer",
        help="Content layer [default: the network's, see dltool style layers].",
    ),
    style_layers: str = typer.Option(
        None,
        "--style-layers",
        help="Style layers with λ, e.g. conv1_1:0.2,conv2_1:0.8 [default: the network's].",
    ),
    style_blend: str = typer.Option(
        None, "--style-blend", help="Weight per style image, e.g. 0.7,0.3 [default: equal]."
    ),
    init: Init = typer.Option(
        Init.noise, "--init", help="Start: content + noise, the content, or random noise."
    ),
    noise_ratio: float = typer.Option(
        0.6,
        "--noise-ratio",
        click_type=FiniteFloat(min=0.0, max=1.0),
        help="r in G = (1-r)C + r·noise.",
    ),
    optimizer: Optimizer = typer.Option(Optimizer.adam, "--optimizer", help="Pixel optimizer."),
    lr: float = typer.Option(
        None,
        "--lr",
        click_type=positive_float(MAX_LR),
        help="Learning rate [default: 0.03 for adam, 1 for lbfgs].",
    ),
    save_every: int = typer.Option(
        0,
        "--save-every",
        min=0,
        max=MAX_ITERATIONS,
        help="Save the image every N steps (0: only the final one).",
    ),
    preserve_colors: bool = typer.Option(
        False, "--preserve-colors", help="Keep the content's colors (luminance-only transfer)."
    ),
    net: Net = NET,
    weights: Path = typer.Option(None, "--weights", help=WEIGHTS_HELP),
    demo: bool = typer.Option(
        False, "--demo", help="Use the sample pair demo:chelsea demo:immunohistochemistry."
    ),
    force: bool = typer.Option(False, "--force", help="Run even if memory looks too small."),
    out: Path = out_option(),
    exist_ok: bool = exist_ok_option(),
    config: Path = typer.Option(None, "--config", help="YAML file with these options."),
) -> None:
    """Paint the CONTENT image in the style of the STYLE image(s) (Gatys et al., the notes)."""
    from dltool_style import jobs

    files = ("images", "output", "demo", "force", "out", "exist_ok")
    params = resolve_config(ctx, config, exclude=files)
    run = jobs.RunOptions(images, demo, output, out, exist_ok, force)
    jobs.transfer(params, run)
