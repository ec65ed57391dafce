"""The output-size formula as a calculator: n_out = ⌊(n + 2p − f) / s⌋ + 1 layer by layer.

Shapes are written as the notes write activations, ``(Height, Width, Channel)``; a layer spec
is ``"conv:f=3,s=1,p=same,c=16; pool:f=2,s=2; fc:n=10"``. Pure Python (no NumPy), so
``dltool cnn shape`` starts instantly.
"""

from __future__ import annotations

from dataclasses import dataclass

from dltool.errors import DltoolError

KINDS = {"conv": ("f", "s", "p", "c"), "pool": ("f", "s", "p", "type"), "fc": ("n",)}
KINDS["flatten"] = ()


@dataclass
class Step:
    """One layer of the calculation: its notation, formula text and output shape."""

    layer: str
    notation: str
    formula: str
    shape: tuple[int, ...]
    params: int


def parse_hwc(text: str) -> tuple[int, int, int]:
    """Return (H, W, C) from ``'64x64x3'`` (or ``'28x28'`` for one channel)."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) == 2:
        values = (*values, 1)
    if len(values) != 3 or min(values) < 1:
        raise DltoolError(f"--input '{text}' is not HxWxC", hint="e.g. --input 64x64x3")
    return values  # type: ignore[return-value]


def parse_layers(text: str) -> list[tuple[str, dict[str, str]]]:
    """Return [(kind, {key: value})] from ``"conv:f=3,s=1,c=16; pool:f=2,s=2"``."""
    layers = []
    for i, chunk in enumerate(filter(None, (c.strip() for c in text.split(";"))), 1):
        kind, _, rest = chunk.partition(":")
        kind = kind.strip().lower()
        if kind not in KINDS:
            raise DltoolError(
                f"layer {i} '{chunk}': unknown kind '{kind}'", hint="kinds: conv, pool, fc, flatten"
            )
        opts = {}
        for item in filter(None, (x.strip() for x in rest.split(","))):
            key, eq, value = item.partition("=")
            if not eq or key.strip() not in KINDS[kind]:
                valid = ", ".join(KINDS[kind]) or "none"
                raise DltoolError(
                    f"layer {i} '{chunk}': bad option '{item}'", hint=f"keys: {valid}"
                )
            opts[key.strip()] = value.strip()
        layers.append((kind, opts))
    if not layers:
        raise DltoolError("--layers is empty", hint='e.g. --layers "conv:f=3,s=1,c=8; pool:f=2"')
    return layers


def _int(opts: dict[str, str], key: str, default: int | None, where: str, low: int = 1) -> int:
    """Return opts[key] as an int ≥ low (or the default)."""
    if key not in opts:
        if default is None:
            raise DltoolError(f"{where}: missing '{key}='")
        return default
    try:
        value = int(opts[key])
    except ValueError:
        raise DltoolError(f"{where}: '{key}={opts[key]}' is not an integer") from None
    if value < low:
        raise DltoolError(f"{where}: '{key}' must be ≥ {low}, got {value}")
    return value


def _padding(opts: dict[str, str], f: int, s: int, where: str) -> int:
    """Return p: 'valid' → 0, 'same' → (f − 1)/2 (odd f, stride 1), or the integer given."""
    p = opts.get("p", "0")
    if p == "valid":
        return 0
    if p == "same":
        if f % 2 == 0 or s != 1:
            raise DltoolError(
                f"{where}: 'same' padding p = (f − 1)/2 needs an odd f and s=1 (f={f}, s={s})",
                hint="give p as an integer instead",
            )
        return (f - 1) // 2
    return _int(opts, "p", 0, where, low=0)


def spatial_step(i: int, kind: str, shape, opts) -> Step:
    """Return the conv or pool step: n_out = ⌊(n + 2p − f)/s⌋ + 1 on height and width."""
    h, w, c = shape
    where = f"layer {i} ({kind})"
    f = _int(opts, "f", None, where)
    s = _int(opts, "s", 1 if kind == "conv" else f, where)
    p = _padding(opts, f, s, where)
    if h + 2 * p < f or w + 2 * p < f:
        raise DltoolError(
            f"{where}: no output — input {h}x{w} padded by {p} is {h + 2 * p}x{w + 2 * p}, "
            f"smaller than the {f}x{f} filter",
            hint="use a smaller filter, more padding or fewer layers before it",
        )
    n_h, n_w = (h + 2 * p - f) // s + 1, (w + 2 * p - f) // s + 1
    formula = f"⌊({h} + 2·{p} − {f})/{s}⌋ + 1 = {n_h}"
    if w != h:
        formula += f",  ⌊({w} + 2·{p} − {f})/{s}⌋ + 1 = {n_w}"
    if kind == "conv":
        c_out = _int(opts, "c", c, where)
        return Step(
            "CONV",
            f"[{f}, {s}] p={p}, {c_out}",
            formula,
            (n_h, n_w, c_out),
            (f * f * c + 1) * c_out,
        )
    mode = opts.get("type", "max")
    if mode not in ("max", "avg", "average"):
        raise DltoolError(f"{where}: type must be max or avg, got '{mode}'")
    return Step(f"{mode.upper()}-POOL", f"[{f}, {s}] p={p}", formula, (n_h, n_w, c), 0)


def calculate(input_hwc: tuple[int, int, int], layers) -> list[Step]:
    """Return the steps of ``layers`` applied to an (H, W, C) input."""
    steps, shape = [], tuple(input_hwc)
    for i, (kind, opts) in enumerate(layers, 1):
        if kind in ("conv", "pool"):
            if len(shape) != 3:
                raise DltoolError(f"layer {i} ({kind}) comes after a fully connected layer")
            step = spatial_step(i, kind, shape, opts)
        else:
            n_in = 1
            for d in shape:
                n_in *= d
            if kind == "flatten":
                step = Step("FLATTEN", "", " · ".join(map(str, shape)) + f" = {n_in}", (n_in,), 0)
            else:
                n = _int(opts, "n", None, f"layer {i} (fc)")
                step = Step("FC", f"{n}", f"{n_in} → {n}", (n,), (n_in + 1) * n)
        steps.append(step)
        shape = step.shape
    return steps
