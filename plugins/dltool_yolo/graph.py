"""A frozen TorchScript graph of a Darknet model with oneDNN Graph fusion, for CPU inference.

Eager PyTorch runs each convolution, its bias and its leaky ReLU as separate oneDNN calls
and converts activations to and from oneDNN's blocked layout at every convolution. Traced,
frozen and handed to oneDNN Graph (``torch.jit.enable_onednn_fusion``), each
conv + bias + activation becomes one fused partition whose activations stay blocked
between layers. The graph is specialised to one input shape and holds its own copy of
the weights (change the model, build it again). It is used only after it has reproduced
the eager model's head maps on that shape; anything else keeps eager.

Building it costs 4.5–6.5 eager passes (the traced pass, a profiling call, a fusing
call), which a run of a few images does not earn back: see ``benchmarks/yolo_detect.py``.
"""

from __future__ import annotations

import threading
import warnings

import torch
from torch import nn

PROFILING_RUNS = 2  # TorchScript profiles on the 1st call and compiles the fusions on the 2nd


def fusion_available() -> bool:
    """Return whether this torch build has oneDNN Graph (not on Windows or macOS builds)."""
    return torch.backends.mkldnn.is_available() and hasattr(torch._C, "_jit_set_llga_enabled")


def fused_graph(
    model: nn.Module, x: torch.Tensor, rtol: float = 1e-3
) -> torch.jit.ScriptModule | None:
    """Return ``model`` traced on x (B, 3, S, S), frozen and fused, or None where it cannot be.

    None: not a CPU float32 input, no oneDNN Graph, any failure while building, or head
    maps that are not finite or differ from the eager ones (recorded while tracing) by
    more than ``rtol`` × max(1, their largest magnitude).
    """
    if x.device.type != "cpu" or x.dtype != torch.float32 or not fusion_available():
        return None
    eager: list[torch.Tensor] = []
    builder = threading.get_ident()

    def record(_module: nn.Module, _inputs: tuple, out: list[torch.Tensor]) -> None:
        """Keep the head maps of the traced call (not of other threads' calls)."""
        if not eager and threading.get_ident() == builder:
            eager.extend(t.detach().clone() for t in out)

    was_on = torch.jit.onednn_fusion_enabled()
    hook = model.register_forward_hook(record)
    try:
        torch.jit.enable_onednn_fusion(True)
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # TracerWarnings: the shape is fixed by design
            graph = torch.jit.freeze(torch.jit.trace(model.eval(), x, check_trace=False))
            for _ in range(PROFILING_RUNS):
                fused = graph(x)
        if not reproduces(eager, list(fused), rtol):
            return None
    except Exception:  # an optimisation only: eager runs (and reports real model errors)
        return None
    finally:
        hook.remove()
        torch.jit.enable_onednn_fusion(was_on)  # the built graph keeps its fusions
    return graph


def reproduces(expected: list[torch.Tensor], got: list[torch.Tensor], rtol: float) -> bool:
    """Return whether got is finite and |got − expected| ≤ rtol·max(1, max|expected|) per map."""
    if len(expected) != len(got):
        return False
    for e, g in zip(expected, got, strict=True):
        if e.shape != g.shape or not bool(torch.isfinite(g).all()):
            return False
        if e.numel() and not float((e - g).abs().max()) <= rtol * max(float(e.abs().max()), 1.0):
            return False  # NaN compares False: refused too
    return True
