"""The notes' RNN, GRU and LSTM cells as torch.nn modules (the torch twins).

Same formulas, names and shapes as the NumPy references (``rnn.py``, ``gru.py``,
``lstm.py``): one column per example, x⟨t⟩ (n_x, m), a⟨t⟩ (n_a, m), parameters
``Wax``/``Waa``/``ba``, ``Wu``/``Wr``/``Wc``/… (n_a, n_a + n_x) on [a⟨t−1⟩; x⟨t⟩] with
biases (n_a, 1). ``Recurrent`` runs a cell over x (n_x, m, T_x); ``CharModel`` stacks
layers under the softmax output Wy (Wya for the basic RNN), exactly like
``charmodel.py``, and converts to and from its flat parameter dict (``l0.Wf`` …).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from dltool_rnn import charmodel


def _param(*shape: int, fan_in: int | None = None, fill: float = 0.0) -> nn.Parameter:
    """Return a parameter ~ N(0, 1/fan_in), or filled with ``fill`` when fan_in is None."""
    if fan_in is None:
        return nn.Parameter(torch.full(shape, fill))
    return nn.Parameter(torch.randn(*shape) / math.sqrt(fan_in))


class RNNCell(nn.Module):
    """a⟨t⟩ = tanh(Waa a⟨t−1⟩ + Wax x⟨t⟩ + ba)."""

    names = ("Wax", "Waa", "ba")

    def __init__(self, n_x: int, n_a: int) -> None:
        super().__init__()
        self.Wax = _param(n_a, n_x, fan_in=n_x)
        self.Waa = _param(n_a, n_a, fan_in=n_a)
        self.ba = _param(n_a, 1)

    def zero_state(self, m: int, like: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Return a0 = 0 (n_a, m)."""
        return (like.new_zeros(self.Waa.shape[0], m),)

    def forward(self, xt, state):
        """Return the new state (a⟨t⟩,)."""
        (a_prev,) = state
        return (torch.tanh(self.Waa @ a_prev + self.Wax @ xt + self.ba),)  # (n_a, m)


class LSTMCell(nn.Module):
    """c⟨t⟩ = Γf ⊙ c⟨t−1⟩ + Γi ⊙ c̃, a⟨t⟩ = Γo ⊙ tanh c⟨t⟩, gates on [a⟨t−1⟩; x⟨t⟩]."""

    names = ("Wf", "bf", "Wi", "bi", "Wc", "bc", "Wo", "bo")

    def __init__(self, n_x: int, n_a: int) -> None:
        super().__init__()
        for g in "fico":
            setattr(self, "W" + g, _param(n_a, n_a + n_x, fan_in=n_a + n_x))
            setattr(self, "b" + g, _param(n_a, 1, fill=1.0 if g == "f" else 0.0))

    def zero_state(self, m: int, like: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Return (a0, c0) = 0, each (n_a, m)."""
        zero = like.new_zeros(self.Wf.shape[0], m)
        return zero, zero

    def forward(self, xt, state):
        """Return the new state (a⟨t⟩, c⟨t⟩)."""
        a_prev, c_prev = state
        concat = torch.cat([a_prev, xt], dim=0)  # (n_a + n_x, m)
        ft = torch.sigmoid(self.Wf @ concat + self.bf)  # (n_a, m)
        it = torch.sigmoid(self.Wi @ concat + self.bi)
        cct = torch.tanh(self.Wc @ concat + self.bc)
        c_next = ft * c_prev + it * cct
        ot = torch.sigmoid(self.Wo @ concat + self.bo)
        return ot * torch.tanh(c_next), c_next


class GRUCell(nn.Module):
    """a⟨t⟩ = Γu ⊙ c̃ + (1 − Γu) ⊙ a⟨t−1⟩; ``reset_after`` applies Γr after the product."""

    def __init__(self, n_x: int, n_a: int, reset_after: bool = False) -> None:
        super().__init__()
        self.reset_after = reset_after
        for g in "urc":
            setattr(self, "W" + g, _param(n_a, n_a + n_x, fan_in=n_a + n_x))
            setattr(self, "b" + g, _param(n_a, 1))
        if reset_after:
            self.bch = _param(n_a, 1)
        self.names = charmodel.layer_names("gru", reset_after)

    def zero_state(self, m: int, like: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Return a0 = 0 (n_a, m)."""
        return (like.new_zeros(self.Wu.shape[0], m),)

    def forward(self, xt, state):
        """Return the new state (a⟨t⟩,)."""
        (a_prev,) = state
        n_a = a_prev.shape[0]
        concat = torch.cat([a_prev, xt], dim=0)  # (n_a + n_x, m)
        gu = torch.sigmoid(self.Wu @ concat + self.bu)  # (n_a, m)
        gr = torch.sigmoid(self.Wr @ concat + self.br)
        if self.reset_after:
            hpart = self.Wc[:, :n_a] @ a_prev + self.bch  # (n_a, m)
            cct = torch.tanh(self.Wc[:, n_a:] @ xt + self.bc + gr * hpart)
        else:
            cct = torch.tanh(self.Wc @ torch.cat([gr * a_prev, xt], dim=0) + self.bc)
        return (gu * cct + (1 - gu) * a_prev,)


def make_cell(cell: str, n_x: int, n_a: int, reset_after: bool = False) -> nn.Module:
    """Return the torch cell named ``cell`` (rnn, gru or lstm)."""
    if cell == "rnn":
        return RNNCell(n_x, n_a)
    if cell == "lstm":
        return LSTMCell(n_x, n_a)
    if cell == "gru":
        return GRUCell(n_x, n_a, reset_after)
    raise ValueError(f"unknown cell '{cell}'")


class Recurrent(nn.Module):
    """Run a cell over the time axis: x (n_x, m, T_x) → a (n_a, m, T_x) and the last state."""

    def __init__(self, cell: nn.Module) -> None:
        super().__init__()
        self.cell = cell

    def forward(self, x, state=None):
        """Return a (n_a, m, T_x) and the state after the last step."""
        state = self.cell.zero_state(x.shape[1], x) if state is None else state
        outputs = []
        for t in range(x.shape[2]):
            state = self.cell(x[:, :, t], state)
            outputs.append(state[0])
        return torch.stack(outputs, dim=2), state  # (n_a, m, T_x)


class CharModel(nn.Module):
    """Stacked recurrent layers and log ŷ = log softmax(Wy a + by), as in ``charmodel.py``."""

    def __init__(self, cell: str, n_x: int, n_a: int, layers: int = 1, reset_after=False):
        super().__init__()
        self.cell_name = cell
        self.layers = nn.ModuleList(
            Recurrent(make_cell(cell, n_x if i == 0 else n_a, n_a, reset_after))
            for i in range(layers)
        )
        self.Wy = _param(n_x, n_a, fan_in=n_a)
        self.by = _param(n_x, 1)

    def forward(self, x, states=None):
        """Return log ŷ (n_y, m, T_x) and the new states of every layer."""
        states = [None] * len(self.layers) if states is None else states
        h, new_states = x, []
        for layer, state in zip(self.layers, states, strict=True):
            h, last = layer(h, state)
            new_states.append(last)
        z = torch.einsum("ya,amt->ymt", self.Wy, h) + self.by[:, :, None]  # (n_y, m, T_x)
        return torch.log_softmax(z, dim=0), new_states

    def flat_items(self):
        """Yield (flat key, parameter) pairs in ``charmodel`` naming."""
        for i, layer in enumerate(self.layers):
            for name in layer.cell.names:
                yield f"l{i}.{name}", getattr(layer.cell, name)
        yield charmodel.output_key(self.cell_name), self.Wy
        yield "by", self.by

    def to_flat(self) -> dict[str, np.ndarray]:
        """Return the parameters as the flat NumPy dict of ``charmodel``."""
        return {k: p.detach().cpu().numpy().copy() for k, p in self.flat_items()}

    @torch.no_grad()
    def load_flat(self, params: dict[str, np.ndarray]) -> CharModel:
        """Copy a flat NumPy parameter dict into this model (shapes must match)."""
        for key, p in self.flat_items():
            p.copy_(torch.as_tensor(params[key], dtype=p.dtype))
        return self

    @classmethod
    def from_flat(cls, params: dict[str, np.ndarray], dtype=None) -> CharModel:
        """Build a model shaped like a flat NumPy parameter dict (same dtype) and load it."""
        cell, n_x, n_a, layers, reset_after = charmodel.describe(params)
        if dtype is None:
            dtype = torch.float64 if params["by"].dtype == np.float64 else torch.float32
        return cls(cell, n_x, n_a, layers, reset_after).to(dtype).load_flat(params)


def sequence_loss(logp: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Return J = −mean log ŷ⟨t⟩[target] for targets (m, T_x) of indices."""
    return -logp.gather(0, targets[None]).mean()


BUILTIN_VOCAB = 81  # characters of the built-in corpus (lee_background.cor)


def char_rnn(n_x: int = BUILTIN_VOCAB, n_a: int = 128, layers: int = 1) -> CharModel:
    """Return the default character model with basic RNN cells."""
    return CharModel("rnn", n_x, n_a, layers)


def char_gru(n_x: int = BUILTIN_VOCAB, n_a: int = 128, layers: int = 1) -> CharModel:
    """Return the default character model with GRU cells (the notes' form)."""
    return CharModel("gru", n_x, n_a, layers)


def char_lstm(n_x: int = BUILTIN_VOCAB, n_a: int = 128, layers: int = 1) -> CharModel:
    """Return the default character model with LSTM cells."""
    return CharModel("lstm", n_x, n_a, layers)
