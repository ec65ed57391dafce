"""L-layer network as a ``torch.nn.Module``: the twin of :mod:`dltool.nn.network`.

Rows are examples here (X (m, n_x)), as torch expects; ``nn.Linear`` keeps W{l} with the
notes' shape (n_l, n_{l-1}) and b{l} as (n_l,). Dropout masks may be passed in (the
NumPy masks D{l} (n_l, m), transposed) so both implementations drop the same units.
The cost is the mean cross-entropy on the logits plus (λ/2m) Σ‖W{l}‖².
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

ACTIVATIONS = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "leaky_relu": lambda z: F.leaky_relu(z, 0.01),
}


class DeepNet(nn.Module):
    """Linear → g → (dropout) for hidden layers, then a linear output layer giving logits."""

    def __init__(self, layer_dims: list[int], hidden: str = "relu", keep_prob: float = 1.0):
        super().__init__()
        self.layer_dims = list(layer_dims)
        self.hidden = hidden
        self.keep_prob = keep_prob
        self.layers = nn.ModuleList(
            nn.Linear(n_prev, n) for n_prev, n in zip(layer_dims[:-1], layer_dims[1:], strict=False)
        )
        self.inputs: list[torch.Tensor] = []

    def forward(self, X: torch.Tensor, masks: list[torch.Tensor] | None = None, record=False):
        """Return the logits (m, n_y); ``masks[l-1]`` (m, n_l) replaces a random dropout mask."""
        g = ACTIVATIONS[self.hidden]
        self.inputs = []
        A = X  # (m, n_x)
        for k, layer in enumerate(self.layers, start=1):
            if record:
                if A.requires_grad:
                    A.retain_grad()
                self.inputs.append(A)
            Z = layer(A)  # (m, n_k)
            if k == len(self.layers):
                return Z
            A = g(Z)
            if self.training and self.keep_prob < 1.0:
                D = masks[k - 1] if masks is not None else torch.rand_like(A) < self.keep_prob
                A = A * D / self.keep_prob
        raise ValueError("network has no layers")

    def l2(self) -> torch.Tensor:
        """Return Σ_l ‖W{l}‖²_F."""
        return sum(layer.weight.pow(2).sum() for layer in self.layers)


def cost(model: DeepNet, logits: torch.Tensor, Y: torch.Tensor, lambd: float = 0.0):
    """Return mean cross-entropy(logits, Y) + (λ/2m) Σ‖W‖²; Y (m,) labels or (m, 1) 0/1."""
    m = logits.shape[0]
    if logits.shape[1] == 1:
        J = F.binary_cross_entropy_with_logits(logits, Y.reshape(m, 1).to(logits.dtype))
    else:
        J = F.cross_entropy(logits, Y.reshape(m).long())
    if lambd:
        J = J + lambd / (2 * m) * model.l2()
    return J


def load_params(model: DeepNet, params: dict[str, np.ndarray]) -> DeepNet:
    """Copy NumPy W{l} (n_l, n_{l-1}) and b{l} (n_l, 1) into the model's layers."""
    with torch.no_grad():
        for k, layer in enumerate(model.layers, start=1):
            layer.weight.copy_(torch.as_tensor(params[f"W{k}"]))
            layer.bias.copy_(torch.as_tensor(params[f"b{k}"]).reshape(-1))
    return model


def to_params(model: DeepNet) -> dict[str, np.ndarray]:
    """Return the model's parameters as the notes' NumPy dict {W1, b1, …}."""
    params = {}
    for k, layer in enumerate(model.layers, start=1):
        params[f"W{k}"] = layer.weight.detach().cpu().numpy().copy()
        params[f"b{k}"] = layer.bias.detach().cpu().numpy().reshape(-1, 1).copy()
    return params


def to_grads(model: DeepNet) -> dict[str, np.ndarray]:
    """Return autograd's gradients as dW{l}, db{l} (n_l, 1) and dA{l-1} = m ∂J/∂A{l-1} (n, m)."""
    grads = {}
    for k, layer in enumerate(model.layers, start=1):
        grads[f"dW{k}"] = layer.weight.grad.detach().cpu().numpy()
        grads[f"db{k}"] = layer.bias.grad.detach().cpu().numpy().reshape(-1, 1)
    for k, A in enumerate(model.inputs, start=1):
        if A.grad is not None:
            m = A.shape[0]  # the notes' dA is per example: m times the gradient of the mean J
            grads[f"dA{k - 1}"] = m * A.grad.detach().cpu().numpy().T  # (n_{l-1}, m)
    return grads


def masks_to_torch(masks: dict[str, np.ndarray], device=None, dtype=None) -> list[torch.Tensor]:
    """Return the NumPy masks D1 … D{L-1} (n_l, m) as torch tensors (m, n_l)."""
    keys = sorted(masks, key=lambda k: int(k[1:]))
    return [torch.as_tensor(masks[k].T, device=device, dtype=dtype) for k in keys]


def build(layer_dims: list[int], hidden: str, keep_prob: float, params, device, dtype):
    """Return a DeepNet on ``device`` in ``dtype`` holding the NumPy ``params``."""
    model = DeepNet(layer_dims, hidden, keep_prob).to(dtype=dtype)
    load_params(model, params)
    return model.to(device)


def course_model() -> DeepNet:
    """Return the course's 12288-20-7-5-1 ReLU network (sigmoid output on the logits)."""
    return DeepNet([12288, 20, 7, 5, 1])
