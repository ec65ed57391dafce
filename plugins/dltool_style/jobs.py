"""The jobs of ``dltool style``: checked options in, a run folder and printed results out.

``cli.py`` parses the command line and calls :func:`layers` and :func:`transfer`; the math
is in ``transfer`` (the optimization loop), ``features`` (the networks), ``cost_torch`` and
``memory``. torch, numpy and PIL are imported inside the jobs.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dltool.context import current
from dltool.data.images import image_source
from dltool.errors import DltoolError
from dltool.runs import check_not_input

DEMO_PAIR = ("demo:chelsea", "demo:immunohistochemistry")
COST_WEIGHTS = ("content_weight", "style_weight", "tv_weight")


@dataclass
class RunOptions:
    """What a transfer reads and where it writes (the options a --config file cannot set)."""

    images: list[Path] | None
    demo: bool = False
    output: Path | None = None
    out: Path | None = None
    exist_ok: bool = False
    force: bool = False


def layers(net: str, weights: Path | None, size: int) -> None:
    """Print a network's layers with channels, stride and shape at size x size, and the defaults."""
    from dltool_style import features

    s = current()
    meta = "meta"  # shapes only: no memory for the activations, any --size is instant
    if net == "vgg19":
        fnet = features.vgg19(weights, meta)  # architecture only when no weights are given
    else:
        if weights is not None:
            raise DltoolError("--weights is for --net vgg19", hint="add --net vgg19")
        fnet = features.efficientnet_lite0(meta, pretrained=False)
    rows = layer_rows(fnet, size)
    s.reporter.table(f"{fnet.name} layers ({size}x{size} input)", rows, key="layers")
    s.reporter.result("net", fnet.name)
    s.reporter.result("content_layer", fnet.content_layer, "default content layer")
    style = ",".join(f"{k}:{v:g}" for k, v in fnet.style_layers.items())
    s.reporter.result("style_layers", style, "default style layers")


def layer_rows(fnet: Any, size: int) -> list[dict]:
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


def transfer(params: dict[str, Any], run: RunOptions) -> None:
    """Check everything, read the images, then optimize and write the run folder."""
    params = {k: getattr(v, "value", v) for k, v in params.items()}  # choices as their text
    sources = _sources(run.images, run.demo)
    if run.output is not None:
        _check_output(Path(run.output))
    blend = check_options(params, len(sources) - 1)
    loaded = [(src, _read(src)) for src in sources]
    check_not_input(run.output, [image_source(src) for src in sources])
    _run(params, loaded, blend, run)


def _sources(images: list[Path] | None, demo: bool) -> list[str]:
    """Return the content source, then the style sources (files or demo:NAME)."""
    if demo:
        if images:
            raise DltoolError(
                "--demo uses sample photos; give either --demo or image files",
                hint="drop --demo, or drop the image arguments",
            )
        return list(DEMO_PAIR)
    if not images or len(images) < 2:
        raise DltoolError(
            "give a CONTENT image and at least one STYLE image",
            hint="dltool style transfer photo.jpg painting.jpg  (or --demo)",
        )
    return [os.fspath(p) for p in images]


def _read(src: str) -> Any:
    """Return the RGB uint8 pixels (H, W, 3) of an image file or a sample named by ``src``."""
    from dltool.data.images import DEMO_HINT, image_source, read_rgb

    path = image_source(src)
    if not path.exists():
        raise DltoolError(
            f"image {src} does not exist",
            hint=f"give an image file, or a sample photo as NAME or demo:NAME; {DEMO_HINT}",
        )
    return read_rgb(path)


def _check_output(output: Path) -> None:
    """Refuse an -o that is not a .png/.jpg file name in an existing folder, before any work."""
    from dltool.data.images import check_image_output

    check_image_output(output)
    if output.is_dir():
        raise DltoolError(f"cannot write {output}: it is a folder", hint="name a file for -o")
    if not output.parent.is_dir():
        raise DltoolError(
            f"cannot write {output}: folder {output.parent} does not exist",
            hint="create the folder first, or name a file in an existing one",
        )


def _finite(name: str, value: float, strict: bool = False) -> None:
    """Refuse a value that is NaN, infinite, negative (or zero when ``strict``)."""
    if not math.isfinite(value) or value < 0 or (strict and value == 0):
        op = ">" if strict else "≥"
        raise DltoolError(
            f"--{name.replace('_', '-')} must be a finite number {op} 0, got {value}",
            hint=f"give --{name.replace('_', '-')} a number such as 1 or 0.03",
        )


def check_options(params: dict[str, Any], n_styles: int) -> list[float]:
    """Validate the numeric options; return the style blend weights normalized to sum 1."""
    for name in COST_WEIGHTS:
        _finite(name, params[name])
    if params["content_weight"] == 0 and params["style_weight"] == 0:
        raise DltoolError(
            "--content-weight and --style-weight are both 0: there is nothing to transfer",
            hint="give at least one of them a positive weight",
        )
    if params["lr"] is not None:
        _finite("lr", params["lr"], strict=True)
    if not 0.0 <= params["noise_ratio"] <= 1.0:  # NaN fails this too
        raise DltoolError(
            f"--noise-ratio must be between 0 and 1, got {params['noise_ratio']}",
            hint="r = 0 starts from the content, r = 1 from noise",
        )
    return _blend(params["style_blend"], n_styles)


def _blend(text: str | None, n_styles: int) -> list[float]:
    """Return the --style-blend weights (one per style image) normalized to sum 1."""
    if text is None:
        return [1.0 / n_styles] * n_styles
    example = "give one weight per style image, e.g. --style-blend 0.7,0.3"
    try:
        weights = [float(w) for w in text.split(",") if w.strip()]
    except ValueError as exc:
        raise DltoolError(
            f"--style-blend must be numbers separated by commas, got '{text}'", hint=example
        ) from exc
    if len(weights) != n_styles:
        raise DltoolError(
            f"--style-blend has {len(weights)} weight(s) for {n_styles} style image(s)",
            hint=example,
        )
    if any(w < 0 or not math.isfinite(w) for w in weights) or sum(weights) <= 0:
        raise DltoolError("--style-blend weights must be ≥ 0 and not all zero", hint=example)
    return [w / sum(weights) for w in weights]


def _check_sizes(loaded: list, size: int, min_size: int) -> tuple[int, int]:
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


def _check_memory(net: Any, layer_names: list[str], h: int, w: int, force: bool) -> None:
    """Print the estimated memory; refuse when it exceeds what the device has, unless forced."""
    from dltool_style import memory

    s = current()
    need = memory.estimate_bytes(net, layer_names, h, w)
    have = memory.available_bytes(s.device)
    s.reporter.info(f"{w}x{h} on {s.device}: estimated memory {memory.human(need)}")
    if have is not None and need > 0.9 * have and not force:
        raise DltoolError(
            f"{w}x{h} needs about {memory.human(need)} but {s.device} has "
            f"{memory.human(have)} free",
            hint="lower --size, or pass --force to try anyway",
        )


def _settings(params: dict[str, Any], fnet: Any, blend: list[float]) -> Any:
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


def _run(params: dict[str, Any], loaded: list, blend: list[float], opts: RunOptions) -> None:
    """Build the network and targets, check the memory, then optimize into a new run folder."""
    from dltool_style import features
    from dltool_style import images as im

    s = current()
    fnet = features.build(params["net"], params["weights"], s.device)
    h, w = _check_sizes(loaded, params["size"], fnet.min_size)
    settings = _settings(params, fnet, blend)
    _check_memory(fnet, settings.layers, h, w, opts.force)
    content = im.resize(loaded[0][1], (h, w))
    styles = [im.cover(img, (h, w)) for _, img in loaded[1:]]
    run = s.run_dir("style", "transfer", opts.out, exist_ok=opts.exist_ok)
    labels = [label for label, _ in loaded]
    run.write_config({**params, "content": labels[0], "styles": labels[1:]})
    s.reporter.info(f"run directory: {run.path}")
    pictures = Pictures(run, content, styles, labels, params, opts.output)
    history: list[dict] = []
    result = _optimize(fnet, pictures, settings, history)
    final = pictures.write(im.to_uint8(result), history)
    _report(run, final, history, fnet, settings, (h, w))


@dataclass
class Pictures:
    """What a transfer writes: result, side by side, cost curve (and the -o copy)."""

    run: Any
    content: Any
    styles: list
    labels: list[str]
    params: dict[str, Any]
    output: Path | None

    def write(self, result: Any, history: list[dict]) -> Path:
        """Write result.png (and -o), side_by_side.png and cost.png; return the result path."""
        from dltool.data.images import write_image
        from dltool_style import images as im
        from dltool_style import plots

        p = self.params
        if p["preserve_colors"]:
            result = im.preserve_colors(result, self.content)
        path = write_image(result, self.run.file("result.png"))
        if self.output is not None:
            write_image(result, self.output)
        panels = [("content", self.content)]
        names = [Path(label).name for label in self.labels[1:]]
        panels += [(f"style {n}", img) for n, img in zip(names, self.styles, strict=True)]
        plots.side_by_side(self.run.file("side_by_side.png"), [*panels, ("result", result)])
        if history:
            weights = (p["content_weight"], p["style_weight"], p["tv_weight"])
            plots.cost_curves(self.run.file("cost.png"), history, *weights)
        return self.output if self.output is not None else path


def _optimize(fnet: Any, pictures: Pictures, settings: Any, history: list[dict]) -> Any:
    """Return the generated image after a live progress bar; keep the last image on a stop."""
    import torch

    from dltool.data.images import write_image
    from dltool_style import images as im
    from dltool_style import transfer

    s = current()
    save_every = pictures.params["save_every"]
    gen = torch.Generator().manual_seed(s.seed if s.seed is not None else 0)
    last: dict[str, Any] = {"x": None}
    with s.reporter.progress(settings.iterations, "style transfer") as bar:

        def on_step(step: Any, x: Any) -> None:
            history.append(vars(step))
            pictures.run.log_metrics(**vars(step))
            last["x"] = x
            bar.advance(1, J=step.J, J_content=step.J_content, J_style=step.J_style)
            if save_every and step.iteration % save_every == 0:
                write_image(im.to_uint8(x), pictures.run.file(f"iter_{step.iteration:05d}.png"))

        content = im.to_tensor(pictures.content, s.device)
        styles = [im.to_tensor(x, s.device) for x in pictures.styles]
        try:
            return transfer.optimize(fnet, content, styles, settings, gen, on_step)
        except transfer.NonFiniteCost as exc:
            kept = pictures.write(im.to_uint8(exc.last_good), history)
            raise DltoolError(
                f"{exc}; stopped and kept the last good image in {kept}",
                hint=f"lower the learning rate (--lr, now {settings.learning_rate:g}) "
                "or the cost weights",
            ) from None
        except KeyboardInterrupt:
            if last["x"] is not None:
                kept = pictures.write(im.to_uint8(last["x"]), history)
                s.reporter.warn(f"interrupted; kept the last image in {kept}")
            raise


def _report(run: Any, final: Path, history: list[dict], fnet: Any, settings: Any, shape) -> None:
    """Print the final costs and where the files are (with -q: only the result and the run)."""
    r = current().reporter
    if r.json_mode or not r.quiet:
        first, last = history[0], history[-1]
        costs = ("J", "J_content", "J_style", "J_tv")
        rows = [{"cost": k, "first": first[k], "last": last[k]} for k in costs]
        r.table("Costs (first and last iteration)", rows, key="costs")
        r.result("net", fnet.name)
        r.result("size", f"{shape[1]}x{shape[0]}")
        r.result("content_layer", settings.content_layer)
        style = ",".join(f"{k}:{v:g}" for k, v in settings.style_layers.items())
        r.result("style_layers", style)
    r.result("result", str(final))
    if r.json_mode or not r.quiet:
        r.result("side_by_side", str(run.file("side_by_side.png")))
        r.result("cost_curve", str(run.file("cost.png")))
    r.result("run_dir", str(run.path))
