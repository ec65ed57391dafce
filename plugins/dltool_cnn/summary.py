"""Layer-by-layer summary of a torch CNN: output shapes (H, W, C), parameters and the notes'
``[filter size, stride]`` notation, computed on the meta device (no memory, no arithmetic).
"""

from __future__ import annotations

import torch
from torch import nn

from dltool.errors import DltoolError

HIDDEN = (nn.ReLU, nn.Dropout, nn.Flatten, nn.LocalResponseNorm, nn.Identity, nn.Sigmoid, nn.Tanh)
HIDDEN_NAMES = ("ScaledTanh",)


def build_meta(builder, **kwargs) -> nn.Module:
    """Return the model built on the meta device (shapes only)."""
    with torch.device("meta"):
        return builder(**kwargs).eval()


def try_forward(model: nn.Module, shape: tuple[int, ...]) -> bool:
    """Return True when the model accepts a (1, *shape) input."""
    try:
        with torch.no_grad():
            model(torch.empty(1, *shape, device="meta"))
        return True
    except (RuntimeError, ValueError, IndexError):
        return False


def smallest_input(model: nn.Module, native: tuple[int, ...]) -> tuple[int, ...] | None:
    """Return the smallest square (C, n, n) the model takes, n ≤ native (binary search)."""
    c, h = native[0], native[1]
    if not try_forward(model, native):
        return None
    low, high = 1, h
    while low < high:
        mid = (low + high) // 2
        if try_forward(model, (c, mid, mid)):
            high = mid
        else:
            low = mid + 1
    return (c, low, low)


def largest_input(model: nn.Module, native: tuple[int, ...], limit: int = 4) -> int | None:
    """Return the largest side n ≥ native the model takes, or None if it takes limit·native."""
    c, h = native[0], native[1]
    if try_forward(model, (c, limit * h, limit * h)):
        return None
    low, high = h, limit * h  # low is taken, high is not
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if try_forward(model, (c, mid, mid)) else (low, mid)
    return low


def input_hint(model: nn.Module, native: tuple[int, ...], show) -> str:
    """Return which square inputs the model takes; ``show(n)`` formats a side n."""
    small = smallest_input(model, native)
    text = f"the smallest input it takes is {show(small[1] if small else native[1])}"
    big = largest_input(model, native)
    if big is not None:
        text += f", the largest {show(big)}: its fully connected layers fix the size"
    return text


def notation(module: nn.Module) -> str:
    """Return ``[f, s]`` for conv and pooling layers, else ''."""
    if type(module).__name__ == "Subsampling":
        return "[2, 2]"
    if type(module).__name__ == "SparseC3":
        return "[5, 1]"
    f = getattr(module, "kernel_size", None)
    s = getattr(module, "stride", None)
    if f is None or s is None:
        return ""
    f = f[0] if isinstance(f, tuple) else f
    s = s[0] if isinstance(s, tuple) else s
    return f"[{f}, {s}]"


def describe(module: nn.Module) -> str:
    """Return the layer type in the notes' words (CONV, MAX-POOL, FC, …)."""
    kind = type(module).__name__
    if isinstance(module, nn.Conv2d):
        pad = module.padding[0] if isinstance(module.padding, tuple) else module.padding
        extra = f", groups={module.groups}" if module.groups > 1 else ""
        return f"CONV {module.out_channels} p={pad}{extra}"
    names = {"MaxPool2d": "MAX-POOL", "AvgPool2d": "AVG-POOL", "Linear": "FC",
             "AdaptiveAvgPool2d": "GLOBAL AVG-POOL", "SparseC3": "CONV 16 (C3 table)",
             "Subsampling": "SUBSAMPLE (avg·coef+bias, sigmoid)"}  # fmt: skip
    return names.get(kind, kind)


def _hwc(shape) -> str:
    """Return 'H x W x C' for (1, C, H, W) or 'n' for (1, n)."""
    dims = tuple(shape)[1:]
    if len(dims) == 3:
        return f"{dims[1]} x {dims[2]} x {dims[0]}"
    return " x ".join(map(str, dims))


def summarize(model: nn.Module, shape: tuple[int, ...], show_all: bool = False) -> list[dict]:
    """Return one row per leaf layer in execution order; BatchNorm folds into its conv."""
    rows: list[dict] = []
    hooks = []
    leaves = [(n, m) for n, m in model.named_modules() if not list(m.children())]

    def hook(name, module):
        def record(_mod, _inp, out):
            params = sum(p.numel() for p in module.parameters(recurse=False))
            if isinstance(module, nn.BatchNorm2d) and rows and rows[-1]["layer"].startswith("CONV"):
                rows[-1]["parameters"] += params
                rows[-1]["layer"] += " +BN"
                return
            hidden = isinstance(module, HIDDEN) or type(module).__name__ in HIDDEN_NAMES
            if hidden and not show_all:
                return
            rows.append({"name": name, "layer": describe(module), "notation": notation(module),
                         "output (H x W x C)": _hwc(out.shape), "parameters": params})  # fmt: skip

        return record

    for name, module in leaves:
        hooks.append(module.register_forward_hook(hook(name, module)))
    try:
        with torch.no_grad():
            model(torch.empty(1, *shape, device="meta"))
    finally:
        for h in hooks:
            h.remove()
    return rows


def parse_chw(text: str) -> tuple[int, int, int]:
    """Return (C, H, W) from '3x224x224'."""
    try:
        values = tuple(int(v) for v in text.lower().replace("×", "x").split("x"))
    except ValueError:
        values = ()
    if len(values) != 3 or min(values) < 1:
        raise DltoolError(f"--input '{text}' is not CxHxW", hint="e.g. --input 3x224x224")
    return values  # type: ignore[return-value]
