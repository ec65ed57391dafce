"""Memory estimate of one style transfer, to refuse sizes that do not fit before starting.

Autograd keeps the output of every module up to the deepest layer used, and the backward
pass needs about as much again for gradients and temporaries. The estimate counts those
outputs per input pixel with forward hooks on a small probe image, then scales by the
image area: ``bytes ≈ FACTOR · 4 · (elements per pixel) · H · W + parameters``. FACTOR
1.5 covers the measured peak with some margin: EfficientNet-Lite0 at 512x341 keeps 315
elements per pixel (210 MiB) and the optimization peaked 248 MiB above a 0-step run
(ratio 1.18, ``benchmarks/style_speed.py``); VGG-19 at 512x512 measured about 1.3.
"""

from __future__ import annotations

from typing import Any

from dltool.device import available_bytes  # noqa: F401 - the guard's free-memory figure

FACTOR = 1.5
PROBE = 64


def elements_per_pixel(net: Any, layers: list[str]) -> float:
    """Return the activation elements kept per input pixel up to the deepest of ``layers``."""
    import torch

    count = [0]

    def hook(_module: Any, _inputs: Any, output: Any) -> None:
        if torch.is_tensor(output):
            count[0] += output.numel()

    leaves = [m for m in net.model.modules() if not list(m.children())]
    handles = [m.register_forward_hook(hook) for m in leaves]
    try:
        with torch.no_grad():
            probe = torch.zeros(1, 3, PROBE, PROBE, device=next(net.model.parameters()).device)
            net(probe, layers)
    finally:
        for h in handles:
            h.remove()
    return count[0] / (PROBE * PROBE)


def estimate_bytes(net: Any, layers: list[str], height: int, width: int) -> int:
    """Return the estimated peak memory in bytes of optimizing an image height x width."""
    params = sum(p.numel() * p.element_size() for p in net.model.parameters())
    return int(FACTOR * 4 * elements_per_pixel(net, layers) * height * width + params)


def human(n: float) -> str:
    """Return ``n`` bytes as a short human string (e.g. '1.3 GiB')."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"
