"""The course's "Basic NN" assignment functions under their own names, NumPy in, NumPy out.

Deep network step by step, regularization (L2, dropout) and gradient checking, with the
course's names, argument order, caches and return values: examples are columns, X (n_x, m),
Y (1, m); ``linear_forward`` caches (A_prev, W, b), ``linear_activation_forward`` caches
(linear_cache, Z), the 3-layer regularization network caches (Z1, A1, W1, b1, …) and the
dropout one (Z1, D1, A1, W1, b1, …). Each function is a thin translation onto the project's one
implementation of the math, :mod:`dltool.nn.network` (with :mod:`dltool.nn.activations`,
:mod:`dltool.nn.init`, :mod:`dltool.nn.losses` and :mod:`dltool.nn.gradcheck`): it only renames
and re-lays the arguments. Inputs are checked at the boundary, in one line naming the function,
the argument and the expected layout or range: a wrong shape raises :class:`ShapeError`, a
hyperparameter out of range (keep_prob ∉ (0, 1], α < 0, …) :class:`ParameterError`, a
parameters dict without W{l}/b{l} :class:`MissingKeyError`; all three are
:class:`~dltool.errors.DltoolError` (and ValueError or KeyError) and carry a hint.
"""

from __future__ import annotations

import copy

import numpy as np

from dltool.errors import (
    DltoolError,
    MissingKeyError,
    ParameterError,
    ShapeError,
    check_choice,
    check_keys,
    check_range,
    check_shape,
    check_tuple,
)
from dltool.nn import activations as act
from dltool.nn import gradcheck as gc
from dltool.nn import init, losses, network

__all__ = [
    "DltoolError",
    "MissingKeyError",
    "ParameterError",
    "ShapeError",
    "sigmoid",
    "relu",
    "initialize_parameters",
    "initialize_parameters_deep",
    "linear_forward",
    "linear_activation_forward",
    "L_model_forward",
    "compute_cost",
    "linear_backward",
    "linear_activation_backward",
    "L_model_backward",
    "update_parameters",
    "predict",
    "compute_cost_with_regularization",
    "backward_propagation_with_regularization",
    "forward_propagation_with_dropout",
    "backward_propagation_with_dropout",
    "gradient_check_n",
]

ACTIVATIONS = ("sigmoid", "relu")
REG_CACHE = "(Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3)"
DROPOUT_CACHE = "(Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3)"


def _check_labels(func: str, A, Y, name: str = "AL") -> dict:
    """Raise ShapeError unless A and Y are both (1, m) with the same m; return {"m": m}."""
    return check_shape(func, "Y", Y, "(1, m)", dims=check_shape(func, name, A, "(1, m)"))


def _check_parameters(func: str, parameters, X=None, name: str = "X") -> int:
    """Return L after checking W{l} (n_l, n_{l-1}) and b{l} (n_l, 1) chain from X's n_x.

    Raises MissingKeyError for a missing W{l}/b{l} (L counts the W{l} keys) and ShapeError for
    a W{l} whose columns are not the rows of the layer before.
    """
    check_keys(func, "parameters", parameters, ["W1", "b1"])
    L = sum(1 for k in parameters if str(k).startswith("W"))
    check_keys(func, "parameters", parameters, [f"{p}{k}" for k in range(1, L + 1) for p in "Wb"])
    sizes = {} if X is None else {"n_x": check_shape(func, name, X, "(n_x, m)")["n_x"]}
    for k in range(1, L + 1):
        W = f"(n_{k}, {'n_x' if k == 1 else f'n_{k - 1}'})"
        sizes = check_shape(func, f"parameters['W{k}']", parameters[f"W{k}"], W, dims=sizes)
        check_shape(func, f"parameters['b{k}']", parameters[f"b{k}"], f"(n_{k}, 1)", dims=sizes)
    return L


def _check_linear(func: str, A, W, b) -> None:
    """Raise ShapeError unless W (n_l, n_{l-1}), A (n_{l-1}, m) and b (n_l, 1) agree."""
    sizes = check_shape(func, "W", W, "(n_l, n_{l-1})")
    check_shape(func, "A_prev" if func != "linear_forward" else "A", A, "(n_{l-1}, m)", dims=sizes)
    check_shape(func, "b", b, "(n_l, 1)", dims=sizes)


def sigmoid(Z):
    """Return A = 1/(1 + e^{-Z}) and the cache Z, as the course's ``dnn_utils.sigmoid``."""
    return act.sigmoid(Z), Z


def relu(Z):
    """Return A = max(0, Z) and the cache Z, as the course's ``dnn_utils.relu``."""
    return act.relu(Z), Z


def initialize_parameters(n_x: int, n_h: int, n_y: int) -> dict:
    """Return {W1, b1, W2, b2} of a 2-layer network: W = randn × 0.01, b = 0.

    Draws as the course does: ``np.random.randn(n_h, n_x)`` then ``np.random.randn(n_y, n_h)``
    on NumPy's global generator (seed it first, as the course's tests do).
    """
    for name, n in (("n_x", n_x), ("n_h", n_h), ("n_y", n_y)):
        check_range("initialize_parameters", name, n, "[1, inf)", integer=True)
    return init.initialize_parameters([n_x, n_h, n_y], "random", 0.01)


def initialize_parameters_deep(layer_dims: list[int]) -> dict:
    """Return {W1, b1, …, WL, bL}: W{l} = randn(n_l, n_{l-1}) × 0.01, b{l} = 0.

    Draws one ``np.random.randn(n_l, n_{l-1})`` per layer in order, as the course does.
    """
    func = "initialize_parameters_deep"
    if not hasattr(layer_dims, "__len__") or len(layer_dims) < 2:
        raise ParameterError(f"{func}: layer_dims must list n_x and at least one layer")
    for k, n in enumerate(layer_dims):
        check_range(func, f"layer_dims[{k}]", n, "[1, inf)", integer=True)
    return init.initialize_parameters(list(layer_dims), "random", 0.01)


def linear_forward(A, W, b):
    """Return Z = W A + b and the cache (A, W, b)."""
    _check_linear("linear_forward", A, W, b)
    A = np.asarray(A)
    return network.linear_forward(A, W, b), (A, W, b)


def linear_activation_forward(A_prev, W, b, activation: str):
    """Return A = g(W A_prev + b) (g: "sigmoid" or "relu") and the cache ((A_prev, W, b), Z)."""
    check_choice("linear_activation_forward", "activation", activation, ACTIVATIONS)
    _check_linear("linear_activation_forward", A_prev, W, b)
    Z, linear_cache = linear_forward(A_prev, W, b)
    return act.activation(activation)(Z), (linear_cache, Z)


def _course_caches(net_caches: list[dict]) -> list[tuple]:
    """Return the course's [((A_prev, W, b), Z), …] of :func:`dltool.nn.network.forward` caches."""
    return [((c["A_prev"], c["W"], c["b"]), c["Z"]) for c in net_caches]


def _net_caches(caches: list[tuple]) -> list[dict]:
    """Return :mod:`dltool.nn.network` caches of the course's ((A_prev, W, b), Z) caches."""
    return [{"A_prev": A, "W": W, "b": b, "Z": Z, "D": None} for (A, W, b), Z in caches]


def L_model_forward(X, parameters: dict):
    """Return AL = σ(Z{L}) of [LINEAR → RELU] × (L−1) → LINEAR → SIGMOID, and the caches."""
    _check_parameters("L_model_forward", parameters, X)
    ZL, caches = network.forward(np.asarray(X), parameters, "relu")
    return act.sigmoid(ZL), _course_caches(caches)


def compute_cost(AL, Y) -> float:
    """Return J = −(1/m) Σ [Y log AL + (1−Y) log(1−AL)], the mean over the m examples."""
    _check_labels("compute_cost", AL, Y)
    return np.float64(losses.binary_cross_entropy(AL, Y))


def linear_backward(dZ, cache):
    """Return dA_prev = Wᵀ dZ, dW = (1/m) dZ A_prevᵀ, db = (1/m) Σ dZ; cache (A_prev, W, b)."""
    func = "linear_backward"
    A_prev, W, _ = check_tuple(func, "cache", cache, "(A_prev, W, b)")
    sizes = check_shape(func, "cache's W", W, "(n_l, n_{l-1})")
    sizes = check_shape(func, "cache's A_prev", A_prev, "(n_{l-1}, m)", dims=sizes)
    check_shape(func, "dZ", dZ, "(n_l, m)", dims=sizes)
    return network.linear_backward(dZ, {"A_prev": A_prev, "W": W})


def linear_activation_backward(dA, cache, activation: str):
    """Return dA_prev, dW, db of LINEAR → g with dZ = dA ⊙ g'(Z) (g: "sigmoid" or "relu")."""
    func = "linear_activation_backward"
    check_choice(func, "activation", activation, ACTIVATIONS)
    linear_cache, Z = check_tuple(func, "cache", cache, "(linear_cache, Z)")
    Z = np.asarray(Z)
    check_shape(func, "dA", dA, "(n_l, m)", dims=check_shape(func, "cache's Z", Z, "(n_l, m)"))
    dZ = dA * act.derivative(activation)(Z)
    return linear_backward(dZ, linear_cache)


def L_model_backward(AL, Y, caches: list[tuple]) -> dict:
    """Return {dA{l-1}, dW{l}, db{l}} from dAL = −(Y/AL − (1−Y)/(1−AL)) back through the caches.

    As in the course, the backward pass starts from dAL and the sigmoid's σ'(Z{L}), so it
    works for any AL it is given (equal to dZ{L} = AL − Y when AL = σ(Z{L}), the form of
    :func:`dltool.nn.network.backward`); hidden layers are ReLU.
    """
    _check_labels("L_model_backward", AL, Y)
    if not isinstance(caches, (list, tuple)) or not caches:
        raise ShapeError("L_model_backward: caches must be the list L_model_forward returned")
    L = len(caches)
    grads = {}
    dA = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))  # (1, m)
    for k in range(L, 0, -1):
        activation = "sigmoid" if k == L else "relu"
        dA, grads[f"dW{k}"], grads[f"db{k}"] = linear_activation_backward(
            dA, caches[k - 1], activation
        )
        grads[f"dA{k - 1}"] = dA
    return grads


def update_parameters(params: dict, grads: dict, learning_rate: float) -> dict:
    """Return a copy of params with θ ← θ − α dθ for every W{l}, b{l} (params unchanged)."""
    func = "update_parameters"
    check_range(func, "learning_rate", learning_rate, "[0, inf)")
    L = _check_parameters(func, params)
    check_keys(func, "grads", grads, [f"d{p}{k}" for k in range(1, L + 1) for p in "Wb"])
    for key in (f"{p}{k}" for k in range(1, L + 1) for p in "Wb"):
        if np.shape(grads["d" + key]) != np.shape(params[key]):
            shape = np.shape(params[key])
            got = np.shape(grads["d" + key])
            raise ShapeError(f"{func}: grads['d{key}'] must be {shape} as {key}, got {got}")
    return network.update_parameters(copy.deepcopy(params), grads, learning_rate)


def predict(X, y, parameters: dict):
    """Return p (1, m): 1 where AL = σ(Z{L}) > 0.5, else 0, of the L-layer ReLU/sigmoid network.

    The course's ``predict`` also prints the accuracy mean(p == y); this one returns p only
    (compare it with ``y`` yourself).
    """
    _check_parameters("predict", parameters, X)
    return network.predict(np.asarray(X), parameters, "relu").reshape(1, -1).astype(np.float64)


def compute_cost_with_regularization(A3, Y, parameters: dict, lambd: float) -> float:
    """Return J = −(1/m) Σ [Y log A + (1−Y) log(1−A)] + (λ/2m) Σ_l ‖W{l}‖²_F."""
    func = "compute_cost_with_regularization"
    m = _check_labels(func, A3, Y, "A3")["m"]
    check_range(func, "lambd", lambd, "[0, inf)")
    _check_parameters(func, parameters)
    return np.float64(losses.binary_cross_entropy(A3, Y) + losses.l2_cost(parameters, lambd, m))


def _check_data(func: str, X, Y) -> None:
    """Raise ShapeError unless X is (n_x, m) and Y (1, m) with the same m."""
    check_shape(func, "Y", Y, "(1, m)", dims=check_shape(func, "X", X, "(n_x, m)"))


def _split(cache: tuple, per_layer: int) -> list[tuple]:
    """Return the course's flat 3-layer cache cut into one tuple per layer."""
    return [tuple(cache[i : i + per_layer]) for i in range(0, len(cache), per_layer)]


def _backward(X, Y, layers: list[dict], lambd: float = 0.0, keep_prob: float = 1.0) -> dict:
    """Return the course's gradients {dZ{l}, dW{l}, db{l}, dA{l-1}} of a ReLU…ReLU → sigmoid net.

    ``layers[l]`` holds Z, A (after dropout), W, b and the mask D (None without dropout).
    """
    grads = {}
    L = len(layers)
    dZ = layers[-1]["A"] - Y  # (1, m): sigmoid with cross-entropy
    for k in range(L, 0, -1):
        A_prev = X if k == 1 else layers[k - 2]["A"]
        cache = {"A_prev": A_prev, "W": layers[k - 1]["W"]}
        dA_prev, dW, db = network.linear_backward(dZ, cache, lambd, need_dA_prev=k > 1)
        grads[f"dZ{k}"], grads[f"dW{k}"], grads[f"db{k}"] = dZ, dW, db
        if k > 1:
            prev = layers[k - 2]
            if prev["D"] is not None:
                dA_prev = dA_prev * prev["D"] / keep_prob  # the course's dA ← dA ⊙ D / keep_prob
            grads[f"dA{k - 1}"] = dA_prev
            dZ = dA_prev * act.relu_derivative(prev["A"])  # the course's A > 0
    return grads


def backward_propagation_with_regularization(X, Y, cache: tuple, lambd: float) -> dict:
    """Return {dZ{l}, dW{l}, db{l}, dA{l-1}} with dW{l} = (1/m) dZ{l} A{l-1}ᵀ + (λ/m) W{l}.

    ``cache`` is the course's (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3).
    """
    func = "backward_propagation_with_regularization"
    _check_data(func, X, Y)
    check_tuple(func, "cache", cache, REG_CACHE)
    check_range(func, "lambd", lambd, "[0, inf)")
    layers = [{"Z": Z, "A": A, "W": W, "b": b, "D": None} for Z, A, W, b in _split(cache, 4)]
    return _backward(X, Y, layers, lambd)


def forward_propagation_with_dropout(X, parameters: dict, keep_prob: float = 0.5):
    """Return A3 and the cache of LINEAR → RELU → dropout (×2) → LINEAR → SIGMOID.

    As in the course: ``np.random.seed(1)`` first, then D{l} = rand(n_l, m) < keep_prob for
    each hidden layer in order, A{l} ← A{l} ⊙ D{l} / keep_prob; the cache is (Z1, D1, A1, W1,
    b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3) with D{l} as 0/1 integers.
    """
    func = "forward_propagation_with_dropout"
    _check_parameters(func, parameters, X)
    check_range(func, "keep_prob", keep_prob, "(0, 1]")
    np.random.seed(1)
    ZL, caches = network.forward(np.asarray(X), parameters, "relu", keep_prob)
    AL = act.sigmoid(ZL)
    out: list = []
    for k, c in enumerate(caches):
        A = caches[k + 1]["A_prev"] if k + 1 < len(caches) else AL
        D = () if k + 1 == len(caches) else (_mask(c["D"], A),)
        out += [c["Z"], *D, A, c["W"], c["b"]]
    return AL, tuple(out)


def _mask(D, A):
    """Return the dropout mask as 0/1 integers (all ones when keep_prob = 1 drew none)."""
    return np.ones(A.shape, dtype=int) if D is None else D.astype(int)


def backward_propagation_with_dropout(X, Y, cache: tuple, keep_prob: float) -> dict:
    """Return {dZ{l}, dW{l}, db{l}, dA{l-1}} with dA{l} ← dA{l} ⊙ D{l} / keep_prob.

    As in the course, the returned dA{l} is the gradient after the mask and the 1/keep_prob
    scaling (:func:`dltool.nn.network.backward` reports it before the mask).
    """
    func = "backward_propagation_with_dropout"
    _check_data(func, X, Y)
    check_tuple(func, "cache", cache, DROPOUT_CACHE)
    check_range(func, "keep_prob", keep_prob, "(0, 1]")
    hidden = _split(cache[:-4], 5)
    layers = [{"Z": Z, "D": D, "A": A, "W": W, "b": b} for Z, D, A, W, b in hidden]
    Z, A, W, b = cache[-4:]
    layers.append({"Z": Z, "D": None, "A": A, "W": W, "b": b})
    return _backward(X, Y, layers, keep_prob=keep_prob)


def gradient_check_n(
    parameters: dict, gradients: dict, X, Y, epsilon: float = 1e-7, print_msg=False
):
    """Return ‖g − g_approx‖ / (‖g‖ + ‖g_approx‖), g_approx = (J(θ+ε) − J(θ−ε)) / 2ε per entry.

    J is the mean cross-entropy of the ReLU … ReLU → sigmoid network of ``parameters`` on (X, Y),
    as the course's ``forward_propagation_n``; ``print_msg`` prints the course's verdict
    (a mistake above 2e-7).
    """
    func = "gradient_check_n"
    _check_data(func, X, Y)
    _check_parameters(func, parameters, X)
    check_range(func, "epsilon", epsilon, "(0, inf)")
    check_keys(func, "gradients", gradients, ["d" + k for k in parameters])
    X, keys = np.asarray(X), list(parameters)

    def cost(p):
        ZL, _ = network.forward(X, p, "relu")
        return network.compute_cost(ZL, Y)

    approx = gc.numerical_gradient(cost, parameters, keys, epsilon)
    grad, _ = gc.dictionary_to_vector({k: gradients["d" + k] for k in keys})
    gradapprox, _ = gc.dictionary_to_vector(approx, keys)
    difference = gc.relative_difference(grad, gradapprox)
    if print_msg:
        if difference > 2e-7:
            print(f"There is a mistake in the backward propagation! difference = {difference}")
        else:
            print(f"Your backward propagation works perfectly fine! difference = {difference}")
    return difference
