"""Draw text from a character model: x⟨t+1⟩ ~ softmax(log ŷ⟨t⟩ / temperature).

As in the notes' sampling step, each next character is drawn from the predicted
distribution (``rng.choice`` with p = ŷ), not taken by argmax, and fed back as the
next one-hot input. All samples run side by side as the m columns of one batch.
The first input is the prefix, else a newline (start of a line) when the vocabulary
has one, else the zero vector x⟨1⟩ = 0 of the notes.
"""

from __future__ import annotations

import numpy as np

from dltool_rnn import charmodel


def temperature_probs(logp: np.ndarray, temperature: float) -> np.ndarray:
    """Return p ∝ exp(log p / temperature) over axis 0 (columns sum to 1)."""
    z = logp / temperature
    z = z - z.max(axis=0, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=0, keepdims=True)


def sample(params, chars: str, n=1, temperature=1.0, prefix="", max_len=200, rng=None):
    """Return ``n`` strings, each ``prefix`` followed by up to ``max_len`` drawn characters."""
    rng = np.random.default_rng(0) if rng is None else rng
    cell, n_x, n_a, layers, _ = charmodel.describe(params)
    dtype = params["by"].dtype
    index = {ch: i for i, ch in enumerate(chars)}
    state = charmodel.initial_state(cell, layers, n_a, n, dtype)
    seed = prefix or ("\n" if "\n" in index else "")
    x = np.zeros((n_x, n, 1), dtype=dtype)
    for ch in seed[:-1]:  # warm the state up on all but the last prefix character
        x[:] = 0
        x[index[ch]] = 1
        _, state, _ = charmodel.forward(cell, params, x, state)
    x[:] = 0
    if seed:
        x[index[seed[-1]]] = 1
    out = [[] for _ in range(n)]
    done = np.zeros(n, dtype=bool)
    for _ in range(max_len):
        logp, state, _ = charmodel.forward(cell, params, x, state)
        p = temperature_probs(logp[:, :, 0].astype(np.float64), temperature)  # (n_x, n)
        x[:] = 0
        for i in range(n):
            idx = rng.choice(n_x, p=p[:, i])
            x[idx, i, 0] = 1
            if not done[i]:
                if chars[idx] == "\n":
                    done[i] = True
                else:
                    out[i].append(chars[idx])
        if done.all():
            break
    return [prefix + "".join(o) for o in out]
