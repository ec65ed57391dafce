"""Gradient checking of the L-layer network (NumPy backward or torch autograd).

Builds a random network and data, then compares the analytic gradients with two-sided
differences through :func:`dltool.nn.gradcheck.gradient_check`. Draw order after
``np.random.seed``: X (n_x, m), labels, W1 … WL, then b1 … bL from N(0, 0.1²) (non-zero so
no ReLU input sits exactly on its kink), then the dropout masks D1 … D{L-1}.
"""

from __future__ import annotations

import numpy as np

from dltool.nn import gradcheck as gc
from dltool.nn import init as initializers
from dltool.nn import network


def random_problem(dims: list[int], m: int, init: str, keep_prob: float):
    """Return X (n_x, m), labels (m,), params and masks (or None) drawn in the documented order."""
    X = np.random.randn(dims[0], m)
    labels = np.random.randint(0, max(dims[-1], 2), m)
    params = initializers.initialize_parameters(dims, init, 0.01)
    for k in range(1, len(dims)):
        params[f"b{k}"] = 0.1 * np.random.randn(dims[k], 1)
    masks = network.draw_masks(dims, m, keep_prob) if keep_prob < 1 else None
    return X, labels, params, masks


def numpy_gradients(dims, hidden, keep_prob, lambd, X, labels, params, masks, broken=False):
    """Return (cost function of params, backward-pass gradients) of the NumPy reference."""
    Y = network.targets(labels, dims[-1])

    def cost(p):
        ZL, _ = network.forward(X, p, hidden, keep_prob, masks)
        return network.compute_cost(ZL, Y, p, lambd)

    ZL, caches = network.forward(X, params, hidden, keep_prob, masks)
    grads = network.backward(ZL, Y, caches, hidden, keep_prob, lambd, broken=broken)
    return cost, grads


def torch_gradients(dims, hidden, keep_prob, lambd, X, labels, params, masks, device, broken=False):
    """Return (cost function, autograd gradients) of the torch twin in float64 on ``device``.

    ``broken`` doubles dW1, the effect of the 2/m bug, to show that the check catches it.
    """
    import torch

    from dltool.nn import network_torch as nt

    Xt = torch.as_tensor(X.T, dtype=torch.float64, device=device)  # (m, n_x)
    yt = torch.as_tensor(labels, device=device)
    tm = nt.masks_to_torch(masks, device=device, dtype=torch.float64) if masks else None

    def cost(p):
        model = nt.build(dims, hidden, keep_prob, p, device, torch.float64)
        with torch.no_grad():
            return nt.cost(model, model(Xt, tm), yt, lambd).item()

    model = nt.build(dims, hidden, keep_prob, params, device, torch.float64)
    nt.cost(model, model(Xt, tm), yt, lambd).backward()
    grads = {k: v for k, v in nt.to_grads(model).items() if not k.startswith("dA")}
    if broken:
        grads["dW1"] = 2 * grads["dW1"]
    return cost, grads


def check_network(dims, hidden, init, lambd, keep_prob, m, broken, backend, device=None):
    """Return the GradCheckResult and params of a random network of sizes ``dims``."""
    X, labels, params, masks = random_problem(dims, m, init, keep_prob)
    args = (dims, hidden, keep_prob, lambd, X, labels, params, masks)
    if backend == "torch":
        cost, grads = torch_gradients(*args, device=device, broken=broken)
    else:
        cost, grads = numpy_gradients(*args, broken=broken)
    return gc.gradient_check(cost, params, grads), params
