"""L-layer fully connected network, NumPy reference, in the course notes' conventions.

Examples are columns: X (n_x, m), Y (n_y, m). Layer l computes Z{l} = W{l} A{l-1} + b{l}
and A{l} = g(Z{l}) with ReLU (or tanh/sigmoid/leaky ReLU) hidden layers and a sigmoid
(n_y = 1) or softmax (n_y > 1) output. The cost is the mean cross-entropy plus the L2
term (λ/2m) Σ‖W{l}‖². Backward: dZ{L} = A{L} − Y, dW{l} = (1/m) dZ{l} A{l-1}ᵀ + (λ/m) W{l},
db{l} = (1/m) Σ dZ{l}, dA{l-1} = W{l}ᵀ dZ{l}, dZ{l-1} = dA{l-1} ⊙ D{l-1}/keep_prob ⊙ g'(Z{l-1}).

As in the notes, dZ and dA are per-example derivatives of the loss 𝓛 (column i belongs to
example i) and the 1/m of the mean cost enters in dW and db only: dA{l-1} = m ∂J/∂A{l-1}.

Inverted dropout (hidden layers only): D{l} = rand(n_l, m) < keep_prob, A{l} ← A{l} ⊙ D{l}
/ keep_prob, with the same D{l} in the backward pass. Draw order on NumPy's legacy
global generator: one ``np.random.rand(n_l, m)`` per hidden layer l = 1 … L−1, in order,
at every forward pass with keep_prob < 1 (none otherwise, none when masks are given).
"""

from __future__ import annotations

import numpy as np

from dltool.nn import activations as act
from dltool.nn import losses

HIDDEN = ("relu", "tanh", "sigmoid", "leaky_relu")


def n_layers(params: dict[str, np.ndarray]) -> int:
    """Return L, the number of layers with weights (W1 … WL)."""
    return sum(1 for k in params if k.startswith("W"))


def layer_dims_of(params: dict[str, np.ndarray]) -> list[int]:
    """Return [n_x, n_1, …, n_L] read from the shapes of W1 … WL."""
    L = n_layers(params)
    return [params["W1"].shape[1]] + [params[f"W{k}"].shape[0] for k in range(1, L + 1)]


def linear_forward(A_prev: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return Z = W A_prev + b; (n_l, n_{l-1}) @ (n_{l-1}, m) -> (n_l, m)."""
    return W @ A_prev + b


def output_activation(ZL: np.ndarray) -> np.ndarray:
    """Return σ(ZL) for one output unit, softmax over rows otherwise."""
    return act.sigmoid(ZL) if ZL.shape[0] == 1 else act.softmax(ZL, axis=0)


def draw_masks(dims: list[int], m: int, keep_prob: float) -> dict[str, np.ndarray]:
    """Return {D1 … D{L-1}}: D{l} = np.random.rand(n_l, m) < keep_prob, in layer order."""
    return {f"D{k}": np.random.rand(dims[k], m) < keep_prob for k in range(1, len(dims) - 1)}


def forward(
    X: np.ndarray,
    params: dict[str, np.ndarray],
    hidden: str = "relu",
    keep_prob: float = 1.0,
    masks: dict[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, list[dict[str, np.ndarray]]]:
    """Return ZL (n_y, m) and per-layer caches {A_prev, W, b, Z, D} of the L-layer network."""
    L = n_layers(params)
    g = act.activation(hidden)
    A, caches = X, []
    for k in range(1, L + 1):
        W, b = params[f"W{k}"], params[f"b{k}"]
        Z = linear_forward(A, W, b)  # (n_k, m)
        cache = {"A_prev": A, "W": W, "b": b, "Z": Z, "D": None}
        caches.append(cache)
        if k == L:
            return Z, caches
        A = g(Z)
        if keep_prob < 1.0:
            D = masks[f"D{k}"] if masks is not None else np.random.rand(*A.shape) < keep_prob
            A = A * D / keep_prob
            cache["D"] = D
    raise ValueError("params hold no layers")


def compute_cost(
    ZL: np.ndarray, Y: np.ndarray, params: dict[str, np.ndarray] | None = None, lambd: float = 0.0
) -> float:
    """Return J = cross-entropy(softmax/σ(ZL), Y) + (λ/2m) Σ‖W{l}‖²."""
    if ZL.shape[0] == 1:
        cost = losses.binary_cross_entropy_with_logits(ZL, Y)
    else:
        cost = losses.categorical_cross_entropy_with_logits(ZL, Y)
    if lambd and params is not None:
        cost += losses.l2_cost(params, lambd, Y.shape[1])
    return cost


def linear_backward(
    dZ: np.ndarray,
    cache: dict[str, np.ndarray],
    lambd: float = 0.0,
    broken: bool = False,
    need_dA_prev: bool = True,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Return dA_prev = Wᵀ dZ, dW = (1/m) dZ A_prevᵀ + (λ/m) W, db = (1/m) Σ_columns dZ."""
    A_prev, W = cache["A_prev"], cache["W"]
    m = A_prev.shape[1]
    dW = dZ @ A_prev.T  # (n_l, n_{l-1})
    dW *= (2.0 if broken else 1.0) / m  # broken: the 2/m bug that gradient checking catches
    if lambd:
        dW = dW + (lambd / m) * W
    db = np.sum(dZ, axis=1, keepdims=True) / m  # (n_l, 1)
    dA_prev = W.T @ dZ if need_dA_prev else None  # (n_{l-1}, m)
    return dA_prev, dW, db


def backward(
    ZL: np.ndarray,
    Y: np.ndarray,
    caches: list[dict[str, np.ndarray]],
    hidden: str = "relu",
    keep_prob: float = 1.0,
    lambd: float = 0.0,
    broken: bool = False,
    input_grad: bool = True,
) -> dict[str, np.ndarray]:
    """Return {dW{l}, db{l}, dA{l-1}} of J for the caches of :func:`forward`.

    ``input_grad=False`` skips dA0 = W1ᵀ dZ1, which training does not need.
    """
    gprime = act.derivative(hidden)
    L = len(caches)
    grads: dict[str, np.ndarray] = {}
    dZ = output_activation(ZL) - Y  # (n_y, m): σ/softmax with cross-entropy
    for k in range(L, 0, -1):
        cache = caches[k - 1]
        need = k > 1 or input_grad
        dA_prev, dW, db = linear_backward(dZ, cache, lambd, broken and k == 1, need)
        grads[f"dW{k}"], grads[f"db{k}"] = dW, db
        if need:
            grads[f"dA{k - 1}"] = dA_prev
        if k > 1:
            prev = caches[k - 2]
            if prev["D"] is not None:
                dA_prev = dA_prev * prev["D"] / keep_prob
            dZ = dA_prev * gprime(prev["Z"])  # (n_{l-1}, m)
    return grads


def update_parameters(
    params: dict[str, np.ndarray], grads: dict[str, np.ndarray], learning_rate: float
) -> dict[str, np.ndarray]:
    """Return θ − α dθ for every W{l}, b{l} (in place)."""
    for key in params:
        params[key] -= learning_rate * grads["d" + key]
    return params


def predict_proba(X: np.ndarray, params: dict[str, np.ndarray], hidden: str = "relu"):
    """Return A{L} (n_y, m) without dropout."""
    ZL, _ = forward(X, params, hidden)
    return output_activation(ZL)


def predict(X: np.ndarray, params: dict[str, np.ndarray], hidden: str = "relu") -> np.ndarray:
    """Return class indices (m,): A{L} > 0.5 for one output unit, argmax over rows otherwise."""
    A = predict_proba(X, params, hidden)
    return (A[0] > 0.5).astype(np.int64) if A.shape[0] == 1 else np.argmax(A, axis=0)


def accuracy(X: np.ndarray, labels: np.ndarray, params: dict, hidden: str) -> float:
    """Return the fraction of columns of X whose predicted class equals ``labels``."""
    if labels.size == 0:
        return float("nan")
    return float(np.mean(predict(X, params, hidden) == labels))


def targets(labels: np.ndarray, n_y: int, dtype=np.float64) -> np.ndarray:
    """Return Y: labels as (1, m) for one output unit, one-hot (n_y, m) otherwise."""
    if n_y == 1:
        return np.asarray(labels, dtype=dtype).reshape(1, -1)
    return losses.one_hot(labels, n_y).astype(dtype)
