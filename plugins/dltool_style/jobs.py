"""The ``dltool style`` sub-app. Heavy imports (torch, numpy, PIL) happen inside commands."""

from __future__ import annotations

import math
from pathlib import Path

import typer

from dltool.config import resolve_config
from dltool.context import current
from dltool.errors import DltoolError

app = typer.Typer(
    help="Neural style transfer: content cost, Gram matrices, weighted style layers.",
    no_args_is_help=True,
)

NET_HELP = "Feature network: efficientnet-lite0 (ships its weights) or vgg19 (needs --weights)."
WEIGHTS_HELP = "VGG-19 weights: a torchvision vgg19 state dict (.pth)."


@app.callback()
def main() -> None:
    """Neural style transfer: content cost, Gram matrices, weighted style layers."""


@app.command()
def layers(
    net: str = typer.Option("efficientnet-lite0", "--net", help=NET_HELP),
    weights: Path = typer.Option(None, "--weights", help=WEIGHTS_HELP),
    size: int = typer.Option(256, "--size", help="Show activation shapes for this input size."),
) -> None:
    """List a network's layers with channels, stride and shape, and the default choice."""
    from dltool_style import features

    if net not in features.NETS:
        raise DltoolError(
            f"unknown network '{net}'", hint=f"choose one of: {', '.join(features.NETS)}"
        )
    if size < features.MIN_SIZE:
        raise DltoolError(f"--size must be at least {features.MIN_SIZE}, got {size}")
    s = current()
    meta = "meta"  # shapes only: no memory for the activations, any --size is instant
    if net == "vgg19":
        fnet = features.vgg19(weights, meta)  # architecture only when no weights are given
    else:
        if weights is not None:
            raise DltoolError("--weights is for --net vgg19")
        fnet = features.efficientnet_lite0(meta, pretrained=False)
    rows = _layer_rows(fnet, size)
    s.reporter.table(f"{fnet.name} layers ({size}x{size} input)", rows, key="layers")
    s.reporter.result("net", fnet.name)
    s.reporter.result("content_layer", fnet.content_layer, "default content layer")
    style = ",".join(f"{k}:{v:g}" for k, v in fnet.style_layers.items())
    s.reporter.result("style_layers", style, "default style layers")


def _layer_rows(fnet, size: int) -> list[dict]:
    """Return one row per layer: name, channels, stride, shape at size x size, default role.

    ``fnet`` lives on the meta device, so the forward pass computes shapes, not values.
    """
    import torch

    with torch.no_grad():
        x = torch.zeros(1, 3, size, size, device=next(fnet.model.parameters()).device)
        acts = fnet(x, fnet.layers)
    rows = []
    for name in fnet.layers:
        _, n_C, n_H, n_W = acts[name].shape
        role = "content" if name == fnet.content_layer else ""
        if name in fnet.style_layers:
            role = (role + ", " if role else "") + f"style λ={fnet.style_layers[name]:g}"
        rows.append(
            {
                "layer": name,
                "n_C": n_C,
                "stride": size // n_H,
                "n_H x n_W": f"{n_H}x{n_W}",
                "default": role,
            }
        )
    return rows


def _check(params: dict, n_styles: int) -> list[float]:
    """Validate the numeric options; return the style blend weights normalized to sum 1."""
    from dltool_style import features, transfer

    def finite(name: str, value: float, low: float = 0.0, strict: bool = False) -> None:
        bad = not math.isfinite(value) or value < low or (strict and value == low)
        if bad:
            op = ">" if strict else "≥"
            raise DltoolError(f"--{name} must be a finite number {op} {low:g}, got {value}")

    if params["iterations"] < 1:
        raise DltoolError(f"--iterations must be at least 1, got {params['iterations']}")
    if params["size"] < features.MIN_SIZE:
        raise DltoolError(f"--size must be at least {features.MIN_SIZE}, got {params['size']}")
    if params["save_every"] < 0:
        raise DltoolError(f"--save-every must be 0 (off) or positive, got {params['save_every']}")
    for name in ("content_weight", "style_weight", "tv_weight"):
        finite(name.replace("_", "-"), params[name])
    if params["lr"] is not None:
        finite("lr", params["lr"], strict=True)
    if not 0.0 <= params["noise_ratio"] <= 1.0:
        raise DltoolError(f"--noise-ratio must be between 0 and 1, got {params['noise_ratio']}")
    for key, choices in (("init", transfer.INITS), ("optimizer", transfer.OPTIMIZERS)):
        if params[key] not in choices:
            raise DltoolError(f"--{key} must be one of {', '.join(choices)}, got '{params[key]}'")
    if params["net"] not in features.NETS:
        raise DltoolError(
            f"unknown network '{params['net']}'", hint=f"choose one of: {', '.join(features.NETS)}"
        )
    return _blend(params["style_blend"], n_styles)


def _blend(text: str | None, n_styles: int) -> list[float]:
    """Return the --style-blend weights (one per style image) normalized to sum 1."""
    if text is None:
        return [1.0 / n_styles] * n_styles
    try:
        weights = [float(w) for w in text.split(",") if w.strip()]
    except ValueError as exc:
        raise DltoolError(
            f"--style-blend must be numbers separated by commas, got '{text}'"
        ) from exc
    if len(weights) != n_styles:
        raise DltoolError(
            f"--style-blend has {len(weights)} weight(s) for {n_styles} style image(s)",
            hint="give one weight per style image, e.g. --style-blend 0.7,0.3",
        )
    if any(w < 0 or not math.isfinite(w) for w in weights) or sum(weights) <= 0:
        raise DltoolError("--style-blend weights must be ≥ 0 and not all zero")
    return [w / sum(weights) for w in weights]


def _inputs(images: list[Path] | None, demo: bool):
    """Return [(label, uint8 RGB array)] for the content and the style images."""
    from dltool_style import images as im

    if demo:
        if images:
            raise DltoolError("--demo uses sample photos; give either --demo or image files")
        return [(f"demo:{n}", im.demo_image(n)) for n, _ in (im.DEMO_CONTENT, im.DEMO_STYLE)]
    if not images or len(images) < 2:
        raise DltoolError(
            "give a CONTENT image and at least one STYLE image",
            hint="dltool style transfer photo.jpg painting.jpg  (or --demo)",
        )
    return [(str(p), im.read_input(str(p))) for p in images]


def _check_sizes(loaded, size: int, min_size: int) -> tuple[int, int]:
    """Return the (h, w) of the generated image; refuse images smaller than the net needs."""
    from dltool_style import images as im

    for label, img in loaded:
        if min(img.shape[:2]) < min_size:
            raise DltoolError(
                f"{label} is {img.shape[1]}x{img.shape[0]} pixels; the network needs at least "
                f"{min_size} on each side",
                hint="use a larger image",
            )
    h, w = im.fit_size(*loaded[0][1].shape[:2], size)
    if min(h, w) < min_size:
        raise DltoolError(
            f"at --size {size} the content image becomes {w}x{h}, under {min_size} pixels",
            hint="raise --size or crop the image to a less elongated shape",
        )
    return h, w


def _check_memory(net, layers: list[str], h: int, w: int, force: bool) -> None:
    """Print the estimated memory; refuse when it exceeds what the device has, unless forced."""
    from dltool_style import memory

    s = current()
    need = memory.estimate_bytes(net, layers, h, w)
    have = memory.available_bytes(s.device)
    s.reporter.info(f"{w}x{h} on {s.device}: estimated memory {memory.human(need)}")
    if have is not None and need > 0.9 * have and not force:
        raise DltoolError(
            f"{w}x{h} needs about {memory.human(need)} but {s.device} has "
            f"{memory.human(have)} free",
            hint="lower --size, or pass --force to try anyway",
        )


@app.command()
def transfer(
    ctx: typer.Context,
    images: list[Path] = typer.Argument(
        None,
        help="CONTENT image, then one or more STYLE images; demo:NAME (or NAME, if no such "
        "file) picks a sample photo (demo:chelsea, demo:china, demo:brick, …).",
        show_default=False,
    ),
    output: Path = typer.Option(None, "-o", "--output", help="Also write the result here (PNG)."),
    size: int = typer.Option(256, "--size", help="Longer side of the result, in pixels."),
    iterations: int = typer.Option(300, "--iterations", help="Optimization steps."),
    content_weight: float = typer.Option(10.0, "--content-weight", help="α in J = αJc + βJs."),
    style_weight: float = typer.Option(40.0, "--style-weight", help="β in J = αJc + βJs."),
    tv_weight: float = typer.Option(
        2.0, "--tv-weight", help="Total-variation weight γ (0: the notes' J exactly)."
    ),
    content_layer: str = typer.Option(
        None, "--content-layer", help="Content layer (default: the network's, see style layers)."
    ),
    style_layers: str = typer.Option(
        None,
        "--style-layers",
        help="Style layers with λ, e.g. conv1_1:0.2,conv2_1:0.8 (default: the network's).",
    ),
    style_blend: str = typer.Option(
        None, "--style-blend", help="Weight per style image, e.g. 0.7,0.3 (default: equal)."
    ),
    init: str = typer.Option("noise", "--init", help="noise (content + noise), content, random."),
    noise_ratio: float = typer.Option(0.6, "--noise-ratio", help="r in G = (1-r)C + r·noise."),
    optimizer: str = typer.Option("adam", "--optimizer", help="adam or lbfgs."),
    lr: float = typer.Option(
        None, "--lr", help="Learning rate (default: 0.03 for adam, 1 for lbfgs)."
    ),
    save_every: int = typer.Option(
        0, "--save-every", help="Save the image every N steps (0: only the final one)."
    ),
    preserve_colors: bool = typer.Option(
        False, "--preserve-colors", help="Keep the content's colors (luminance-only transfer)."
    ),
    net: str = typer.Option("efficientnet-lite0", "--net", help=NET_HELP),
    weights: Path = typer.Option(None, "--weights", help=WEIGHTS_HELP),
    demo: bool = typer.Option(False, "--demo", help="Use sample photos from scikit-image."),
    force: bool = typer.Option(False, "--force", help="Run even if memory looks too small."),
    out: Path = typer.Option(None, "--out", help="Run directory (default runs/style/transfer/N)."),
    config: Path = typer.Option(None, "--config", help="YAML file with these options."),
) -> None:
    """Paint the CONTENT image in the style of the STYLE image(s) (Gatys et al., the notes)."""
    from dltool_style.images import check_png

    params = resolve_config(ctx, config, exclude=("images", "out", "output", "demo", "force"))
    check_png(output, "--output")
    loaded = _inputs(images, demo)
    blend = _check(params, len(loaded) - 1)
    if output is not None and not output.parent.is_dir():
        raise DltoolError(f"cannot write {output}: folder {output.parent} does not exist")
    _run(params, loaded, blend, output, out, force)


def _run(params: dict, loaded, blend: list[float], output: Path | None, out, force: bool) -> None:
    """Build the network and targets, optimize with a live progress bar, write the outputs."""
    import torch

    from dltool_style import features, transfer
    from dltool_style import images as im

    s = current()
    fnet = features.build(params["net"], params["weights"], s.device)
    h, w = _check_sizes(loaded, params["size"], fnet.min_size)
    settings = _settings(params, fnet, blend)
    _check_memory(fnet, settings.layers, h, w, force)
    content = im.resize(loaded[0][1], (h, w))
    styles = [im.cover(img, (h, w)) for _, img in loaded[1:]]
    run = s.run_dir("style", "transfer", out)
    run.write_config({**params, "content": loaded[0][0], "styles": [lb for lb, _ in loaded[1:]]})
    gen = torch.Generator().manual_seed(s.seed if s.seed is not None else 0)
    history: list[dict] = []
    last = {"x": None}
    s.reporter.info(f"run directory: {run.path}")
    with s.reporter.progress(settings.iterations, "style transfer") as bar:

        def on_step(step, x) -> None:
            row = vars(step)
            history.append(row)
            run.log_metrics(**row)
            last["x"] = x
            bar.advance(1, J=step.J, J_content=step.J_content, J_style=step.J_style)
            if params["save_every"] and step.iteration % params["save_every"] == 0:
                im.save_png(im.to_uint8(x), run.file(f"iter_{step.iteration:05d}.png"))

        try:
            result = transfer.optimize(
                fnet,
                im.to_tensor(content, s.device),
                [im.to_tensor(x, s.device) for x in styles],
                settings,
                gen,
                on_step,
            )
        except transfer.NonFiniteCost as exc:
            kept = _finish(
                run, im.to_uint8(exc.last_good), content, styles, loaded, params, history, output
            )
            raise DltoolError(
                f"{exc}; stopped and kept the last good image in {kept}",
                hint=f"lower the learning rate (--lr, now {settings.learning_rate:g})",
            ) from exc
        except KeyboardInterrupt:
            if last["x"] is not None:
                kept = _finish(
                    run, im.to_uint8(last["x"]), content, styles, loaded, params, history, output
                )
                s.reporter.warn(f"interrupted; kept the last image in {kept}")
            raise
    final = _finish(run, im.to_uint8(result), content, styles, loaded, params, history, output)
    _report(run, final, history, output, fnet, settings, (h, w))


def _settings(params: dict, fnet, blend: list[float]):
    """Return transfer Settings from the options, checking the layers against the net."""
    from dltool_style import features, transfer

    content_layer = params["content_layer"] or fnet.content_layer
    if params["style_layers"]:
        style_layers = features.parse_style_layers(params["style_layers"])
    else:
        style_layers = fnet.style_layers
    fnet.check_layers([content_layer, *style_layers])
    return transfer.Settings(
        content_layer=content_layer,
        style_layers=style_layers,
        blend=blend,
        iterations=params["iterations"],
        alpha=params["content_weight"],
        beta=params["style_weight"],
        tv_weight=params["tv_weight"],
        init=params["init"],
        noise_ratio=params["noise_ratio"],
        optimizer=params["optimizer"],
        lr=params["lr"],
    )


def _finish(run, result, content, styles, loaded, params, history, output) -> Path:
    """Write result.png (and --output), side_by_side.png and cost.png; return the result path."""
    from dltool_style import images as im
    from dltool_style import outputs

    if params["preserve_colors"]:
        result = im.preserve_colors(result, content)
    path = im.save_png(result, run.file("result.png"))
    if output is not None:
        im.save_png(result, output)
    panels = [("content", content)]
    panels += [
        (f"style {Path(lb).name}", img) for (lb, _), img in zip(loaded[1:], styles, strict=True)
    ]
    outputs.side_by_side(run.file("side_by_side.png"), [*panels, ("result", result)])
    if history:
        outputs.cost_curves(
            run.file("cost.png"),
            history,
            params["content_weight"],
            params["style_weight"],
            params["tv_weight"],
        )
    return output if output is not None else path


def _report(run, final: Path, history: list[dict], output, fnet, settings, shape) -> None:
    """Print the final costs and where the files are."""
    s = current()
    first, last = history[0], history[-1]
    rows = [
        {"cost": k, "first": first[k], "last": last[k]}
        for k in ("J", "J_content", "J_style", "J_tv")
    ]
    s.reporter.table("Costs (first and last iteration)", rows, key="costs")
    s.reporter.result("net", fnet.name)
    s.reporter.result("size", f"{shape[1]}x{shape[0]}")
    s.reporter.result("content_layer", settings.content_layer)
    s.reporter.result(
        "style_layers", ",".join(f"{k}:{v:g}" for k, v in settings.style_layers.items())
    )
    s.reporter.result("result", str(final))
    s.reporter.result("side_by_side", str(run.file("side_by_side.png")))
    s.reporter.result("cost_curve", str(run.file("cost.png")))
    s.reporter.result("run_dir", str(run.path))
