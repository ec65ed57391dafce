"""``dltool cnn``: models, summary, shape, conv, augment, train, predict.

Module-level imports stay light (typer only); NumPy, torch, PIL, scikit-image and matplotlib
are imported inside the commands.
"""

from __future__ import annotations

from pathlib import Path

import typer

from dltool.errors import DltoolError

app = typer.Typer(
    help="Convolution from scratch, classic CNNs, augmentation, training, transfer learning.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

DEFAULT_SEED = 0


@app.callback()
def main() -> None:
    """Convolution and pooling from scratch, the classic CNNs, augmentation and training."""


def _session():
    """Return the current dltool session."""
    from dltool.context import current

    return current()


def _seed() -> int:
    """Return the global --seed, or 0."""
    seed = _session().seed
    return DEFAULT_SEED if seed is None else seed


def _cnn_models() -> dict[str, tuple[str, str, tuple[int, ...]]]:
    """Return {name: (builder, description, (C, H, W))} of the models this plugin provides."""
    from dltool_cnn import MODELS

    return {name: (builder, desc, size) for name, builder, desc, size in MODELS}


def _model_entry(name: str):
    """Return (builder function, native input) of ``name``; unknown names list the known ones."""
    known = _cnn_models()
    if name not in known:
        raise DltoolError(f"unknown model '{name}'", hint=f"models: {', '.join(known)}")
    from dltool_cnn import models

    builder, _, size = known[name]
    return getattr(models, builder), size


# ---------------------------------------------------------------- models, summary, shape


@app.command("models")
def models_cmd() -> None:
    """List the classic CNNs with their native input size and parameter count."""
    from dltool_cnn.summary import build_meta

    rows = []
    for name, (_, desc, size) in _cnn_models().items():
        builder, _ = _model_entry(name)
        model = build_meta(builder)
        rows.append({"name": name, "input (C x H x W)": "x".join(map(str, size)),
                     "parameters": sum(p.numel() for p in model.parameters()),
                     "description": desc})  # fmt: skip
    _session().reporter.table("CNN models", rows, key="models")


@app.command()
def summary(
    model: str = typer.Argument(..., help="Model name (see `dltool cnn models`)."),
    input: str = typer.Option(None, "--input", help="Input CxHxW (default: the model's native)."),
    all_layers: bool = typer.Option(False, "--all", help="Also list activations and dropout."),
) -> None:
    """Layer-by-layer table: output shape (H x W x C), parameters, [filter size, stride]."""
    from dltool_cnn import summary as S

    builder, native = _model_entry(model)
    shape = S.parse_chw(input) if input else native
    net = S.build_meta(builder, in_channels=shape[0])
    if not S.try_forward(net, shape):
        takes = S.input_hint(S.build_meta(builder), native, lambda n: f"{native[0]}x{n}x{n}")
        raise DltoolError(
            f"{model} cannot take a {'x'.join(map(str, shape))} input",
            hint=f"{takes} (native {'x'.join(map(str, native))})",
        )
    rows = S.summarize(net, shape, all_layers)
    total = sum(p.numel() for p in net.parameters())
    rep = _session().reporter
    rep.table(f"{model} on {'x'.join(map(str, shape))}", rows, key="layers")
    rep.result("parameters", total, "total parameters")
    rep.result("layer_count", len(rows), "layers shown")


@app.command()
def shape(
    input: str = typer.Option(..., "--input", help="Input HxWxC, e.g. 64x64x3."),
    layers: str = typer.Option(
        ..., "--layers", help='e.g. "conv:f=3,s=1,p=same,c=16; pool:f=2,s=2; fc:n=10".'
    ),
) -> None:
    """Apply n_out = ⌊(n + 2p − f)/s⌋ + 1 layer by layer and show each step."""
    from dltool_cnn import shapes as S

    hwc = S.parse_hwc(input)
    steps = S.calculate(hwc, S.parse_layers(layers))
    rows = [{"step": 0, "layer": "INPUT", "notation": "", "formula": "",
             "output (H x W x C)": " x ".join(map(str, hwc)), "parameters": 0}]  # fmt: skip
    for i, st in enumerate(steps, 1):
        rows.append({"step": i, "layer": st.layer, "notation": st.notation, "formula": st.formula,
                     "output (H x W x C)": " x ".join(map(str, st.shape)),
                     "parameters": st.params})  # fmt: skip
    rep = _session().reporter
    rep.table("Output size n_out = ⌊(n + 2p − f)/s⌋ + 1", rows, key="steps")
    rep.result("output", list(steps[-1].shape), "output shape")
    rep.result("parameters", sum(st.params for st in steps), "parameters")


# ---------------------------------------------------------------- conv, augment


def _check_png(out: Path | None, option: str = "--out") -> None:
    """Refuse an output name not ending in .png: the figures are written as PNG."""
    if out is not None and out.suffix.lower() != ".png":
        raise DltoolError(
            f"{option} {out}: the image is written as PNG, so the name must end in .png"
        )


@app.command()
def conv(
    image: Path = typer.Argument(
        ..., help="Image file, or a sample NAME or demo:NAME: camera, astronaut, …"
    ),
    filter: str = typer.Option("vertical-edge", "--filter", help="Filter name (or 'list')."),
    stride: int = typer.Option(1, "--stride", min=1),
    pad: int = typer.Option(0, "--pad", min=0),
    gray: bool = typer.Option(True, "--gray/--color", help="Convert to grayscale first."),
    out: Path = typer.Option(None, "--out", help="Output PNG (default: run directory)."),
) -> None:
    """Convolve an image with a classic 3×3 filter using the NumPy conv_forward."""
    import numpy as np

    from dltool_cnn import images

    if filter == "list":
        _session().reporter.table(
            "Filters", [{"filter": n, "kernel": images.FILTERS.get(n, "√(Gx² + Gy²)")}
                        for n in images.FILTER_NAMES], key="filters")  # fmt: skip
        return
    if filter not in images.FILTER_NAMES:
        raise DltoolError(
            f"unknown filter '{filter}'", hint=f"filters: {', '.join(images.FILTER_NAMES)}"
        )
    _check_png(out)
    img = images.load_image(image, "L" if gray else "RGB")  # (H, W, C)
    response = images.apply_filter(img, filter, stride, pad)  # (n_H, n_W, C)
    signed = filter not in ("blur", "sharpen")
    shown = images.to_display(response, signed)
    if out is None:
        out = _session().run_dir("cnn", "conv").file("conv.png")
    out.parent.mkdir(parents=True, exist_ok=True)
    _conv_figure(out, img, shown, filter, stride, pad)
    rep = _session().reporter
    h, w, c = img.shape
    n_h, n_w, _ = response.shape
    rep.result("input", f"{h}x{w}x{c}", "input (H x W x C)")
    rep.result("output", f"{n_h}x{n_w}x{c}", f"output ⌊(n + 2·{pad} − 3)/{stride}⌋ + 1")
    rep.result("range", [float(np.min(response)), float(np.max(response))], "response range")
    rep.result("png", str(out), "wrote")


def _plane(image) -> tuple:
    """Return imshow's (array, cmap): (H, W) in gray for one channel, (H, W, 3) otherwise."""
    if image.shape[2] == 1:
        return image[:, :, 0], "gray"  # keeps 2-D even when H = W = 1
    return image, None


def _conv_figure(path: Path, img, shown, name: str, stride: int, pad: int) -> None:
    """Write input | filter response side by side."""
    from dltool.report import figure

    with figure(path, 1, 2, figsize=(10, 5)) as (fig, axes):
        (left, left_cmap), (right, right_cmap) = _plane(img), _plane(shown)
        axes[0].imshow(left, cmap=left_cmap, vmin=0, vmax=1)
        axes[0].set_title(f"input {img.shape[0]}x{img.shape[1]}")
        axes[1].imshow(right, cmap=right_cmap)
        axes[1].set_title(f"{name} (s={stride}, p={pad}) {shown.shape[0]}x{shown.shape[1]}")
        for ax in axes:
            ax.axis("off")


@app.command()
def augment(
    image: Path = typer.Argument(
        ..., help="Image file, or a sample NAME or demo:NAME: chelsea, coffee, …"
    ),
    n: int = typer.Option(8, "-n", "--n", min=1, max=64, help="Number of augmented copies."),
    ops: str = typer.Option(
        "mirror,crop,rotate,shear,warp,color",
        "--ops",
        help="mirror,crop,rotate,shear,warp,color,pca",
    ),
    size: int = typer.Option(256, "--size", min=16, help="Resize the image to size x size first."),
    out: Path = typer.Option(None, "--out", help="Output PNG grid (default: run directory)."),
) -> None:
    """Write a grid of randomly augmented copies of IMAGE (the same ops as `train --augment`)."""
    import numpy as np

    from dltool.report import figure
    from dltool_cnn import augment as A
    from dltool_cnn.images import load_image

    names = A.parse_ops(ops)
    _check_png(out)
    img = load_image(image, "RGB", size)
    rng = np.random.default_rng(_seed())
    copies, applied = [], []
    for _ in range(n):
        copy, chosen = A.random_augment(img, rng, names, at_least_one=True)
        copies.append(copy)
        applied.append(chosen)
    if out is None:
        out = _session().run_dir("cnn", "augment").file("augment.png")
    out.parent.mkdir(parents=True, exist_ok=True)
    cols = min(4, n + 1)
    rows = -(-(n + 1) // cols)
    with figure(out, rows, cols, figsize=(3 * cols, 3 * rows), squeeze=False) as (fig, axes):
        for ax in axes.ravel():
            ax.axis("off")
        axes[0, 0].imshow(img)
        axes[0, 0].set_title("original", fontsize=9)
        for k, (copy, chosen) in enumerate(zip(copies, applied, strict=True), 1):
            ax = axes[k // cols, k % cols]
            ax.imshow(np.clip(copy, 0, 1))
            ax.set_title("+".join(chosen), fontsize=9)
    rep = _session().reporter
    rep.table("Augmentations", [{"copy": i + 1, "ops": "+".join(c)} for i, c in enumerate(applied)],
              key="copies")  # fmt: skip
    rep.result("png", str(out), "wrote")


# ---------------------------------------------------------------- train, predict


@app.command()
def train(
    ctx: typer.Context,
    model: str = typer.Option("lenet5", "--model", help="lenet5, alexnet, vgg16, resnet18, …"),
    data: str = typer.Option("digits", "--data", help="digits, shapes or an image folder DIR."),
    augment: str = typer.Option(
        None, "--augment", help="Ops for training, e.g. mirror,crop,color."
    ),
    epochs: int = typer.Option(5, "--epochs", min=1),
    batch_size: int = typer.Option(64, "--batch-size", min=1),
    lr: float = typer.Option(1e-3, "--lr", min=0.0),
    optimizer: str = typer.Option("adam", "--optimizer", help="adam or sgd (momentum 0.9)."),
    image_size: int = typer.Option(
        None, "--image-size", min=1, help="Default: 32 if the model takes it, else its native size."
    ),
    dev_fraction: float = typer.Option(0.2, "--dev-fraction", min=0.01, max=0.9),
    pretrained: str = typer.Option(
        None, "--pretrained", help="efficientnet-lite0: fine-tune it instead of --model."
    ),
    freeze: str = typer.Option(
        "backbone", "--freeze", help="backbone (new head only), none, or N (stem + N blocks)."
    ),
    resume: Path = typer.Option(None, "--resume", help="Run directory to continue."),
    out: Path = typer.Option(None, "--out", help="Run directory (default runs/cnn/train/N)."),
    config: Path = typer.Option(None, "--config", help="YAML file of these options."),
) -> None:
    """Train a CNN classifier with checkpoints, best model, confusion matrix and curves."""
    from dltool.config import resolve_config
    from dltool_cnn.jobs import train_command

    params = resolve_config(ctx, config, exclude=("out", "resume"))
    train_command(params, resume, out, ctx)


@app.command()
def predict(
    source: str = typer.Argument(..., help="Run directory, checkpoint .pt, or efficientnet-lite0."),
    images: list[Path] = typer.Argument(..., help="Image files or samples (NAME, demo:NAME)."),
    top: int = typer.Option(3, "--top", "-k", min=1, help="How many classes to show."),
) -> None:
    """Top-k classes with probabilities for each image."""
    from dltool_cnn.jobs import predict_command

    predict_command(source, images, top)
