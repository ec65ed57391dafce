"""A frozen TorchScript graph of a Darknet model with oneDNN Graph fusion, for CPU inference.

Eager PyTorch runs each convolution, its bias and its leaky ReLU as separate oneDNN calls
and converts activations to and from oneDNN's blocked layout at every convolution. Traced,
frozen and handed to oneDNN Graph (``torch.jit.enable_onednn_fusion``), each
conv + bias + activation becomes one fused partition whose activations stay blocked
between layers. The graph is specialised to one input shape and is used only after it
has reproduced the eager model's head maps on that shape; anything else keeps eager.

Building it costs about four forward passes (trace, profiling run, fusing run), which a
run of a few images does not earn back: see ``benchmarks/yolo_detect.py``.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

PROFILING_RUNS = 2  # TorchScript profiles on the 1st call and compiles the fusions on the 2nd


def fused_graph(
    model: nn.Module, x: torch.Tensor, rtol: float = 1e-3
) -> torch.jit.ScriptModule | None:
    """Return ``model`` traced on x (B, 3, S, S), frozen and fused, or None where it cannot be.

    None: not a CPU float32 input, no oneDNN, a failed trace, or head maps that differ
    from the eager ones (recorded while tracing) by more than ``rtol`` of their largest
    magnitude.
    """
    if x.device.type != "cpu" or x.dtype != torch.float32:
        return None
    if not torch.backends.mkldnn.is_available():
        return None
    eager: list[torch.Tensor] = []
    hook = model.register_forward_hook(lambda _m, _i, out: eager.extend(out))
    torch.jit.enable_onednn_fusion(True)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # TracerWarnings: the shape is fixed by design
            graph = torch.jit.freeze(torch.jit.trace(model.eval(), x, check_trace=False))
            for _ in range(PROFILING_RUNS):
                fused = graph(x)
    except Exception:  # an optimisation only: eager runs (and reports real model errors)
        return None
    finally:
        hook.remove()
    for e, f in zip(eager, fused, strict=True):
        if e.shape != f.shape or (e - f).abs().max() > rtol * max(e.abs().max().item(), 1.0):
            return None
    return graph
