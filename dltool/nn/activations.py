"""Activation functions and their derivatives (NumPy), numerically stable.

From the course notes ("Basic NN"): sigmoid σ(z) = 1/(1+e^{-z}) with σ' = σ(1−σ),
tanh with tanh' = 1 − tanh², ReLU max(0, z), leaky ReLU max(αz, z), and softmax
e^{z_i}/Σ_j e^{z_j} computed with a max shift. Inputs are (n, m) arrays, one example
per column; no function warns for |z| up to 1e4 or beyond.
"""

from __future__ import annotations

import numpy as np

LEAKY_SLOPE = 0.01


def _float(Z) -> np.ndarray:
    """Return Z as a floating array (integers become float64, float32 stays float32)."""
    Z = np.asarray(Z)
    return Z if Z.dtype.kind == "f" else Z.astype(np.float64)


def sigmoid(Z: np.ndarray) -> np.ndarray:
    """Return σ(Z) = 1/(1+e^{-Z}), evaluated as e^{Z}/(1+e^{Z}) where Z < 0."""
    Z = _float(Z)
    E = np.exp(-np.abs(Z))  # never overflows
    return np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E))


def sigmoid_derivative(Z: np.ndarray) -> np.ndarray:
    """Return σ'(Z) = σ(Z)(1 − σ(Z))."""
    s = sigmoid(Z)
    return s * (1.0 - s)


def tanh(Z: np.ndarray) -> np.ndarray:
    """Return tanh(Z)."""
    return np.tanh(Z)


def tanh_derivative(Z: np.ndarray) -> np.ndarray:
    """Return tanh'(Z) = 1 − tanh²(Z)."""
    t = np.tanh(Z)
    return 1.0 - t * t


def relu(Z: np.ndarray) -> np.ndarray:
    """Return max(0, Z)."""
    return np.maximum(Z, 0)


def relu_derivative(Z: np.ndarray) -> np.ndarray:
    """Return 1 where Z > 0, else 0 (the subgradient 0 at Z = 0)."""
    Z = _float(Z)
    return (Z > 0).astype(Z.dtype)


def leaky_relu(Z: np.ndarray, alpha: float = LEAKY_SLOPE) -> np.ndarray:
    """Return max(αZ, Z) for 0 < α < 1."""
    return np.where(Z > 0, Z, alpha * Z)


def leaky_relu_derivative(Z: np.ndarray, alpha: float = LEAKY_SLOPE) -> np.ndarray:
    """Return 1 where Z > 0, else α."""
    Z = _float(Z)
    return np.where(Z > 0, 1.0, alpha).astype(Z.dtype)


def softmax(Z: np.ndarray, axis: int = 0) -> np.ndarray:
    """Return e^{Z − max Z} / Σ e^{Z − max Z} along ``axis`` (classes are rows: axis 0)."""
    shifted = Z - np.max(Z, axis=axis, keepdims=True)
    E = np.exp(shifted)
    return E / np.sum(E, axis=axis, keepdims=True)


def log_softmax(Z: np.ndarray, axis: int = 0) -> np.ndarray:
    """Return Z − max Z − log Σ e^{Z − max Z} along ``axis``."""
    shifted = Z - np.max(Z, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def softmax_jacobian(z: np.ndarray) -> np.ndarray:
    """Return the (n, n) Jacobian ∂s_i/∂z_j = s_i(δ_ij − s_j) of softmax at one vector z."""
    s = softmax(np.asarray(z, dtype=np.float64).reshape(-1, 1)).reshape(-1)
    return np.diag(s) - np.outer(s, s)


def softmax_backward(dA: np.ndarray, A: np.ndarray) -> np.ndarray:
    """Return dZ = A ⊙ (dA − Σ_i dA_i A_i) per column, given A = softmax(Z)."""
    return A * (dA - np.sum(dA * A, axis=0, keepdims=True))


FORWARD = {
    "sigmoid": sigmoid,
    "tanh": tanh,
    "relu": relu,
    "leaky_relu": leaky_relu,
}
DERIVATIVE = {
    "sigmoid": sigmoid_derivative,
    "tanh": tanh_derivative,
    "relu": relu_derivative,
    "leaky_relu": leaky_relu_derivative,
}
NAMES = (*FORWARD, "softmax")


def activation(name: str):
    """Return the forward function called ``name`` (elementwise ones and softmax)."""
    if name == "softmax":
        return softmax
    return FORWARD[name]


def derivative(name: str):
    """Return g'(Z) for the elementwise activation called ``name``."""
    return DERIVATIVE[name]
