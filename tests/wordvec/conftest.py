"""Fixtures for the wordvec tests: a shared GloVe cache and a small synthetic vocabulary with
a planted gender direction (the app, ``cli`` and ``fails`` come from tests/conftest.py)."""

from __future__ import annotations

import numpy as np
import pytest

GENDER_WORDS = [
    ("woman", "man"),
    ("girl", "boy"),
    ("she", "he"),
    ("mother", "father"),
    ("daughter", "son"),
    ("her", "his"),
    ("queen", "king"),
    ("sister", "brother"),
    ("female", "male"),
    ("herself", "himself"),
    ("gal", "guy"),
    ("mary", "john"),
]
NEUTRAL = [
    "nurse",
    "engineer",
    "doctor",
    "teacher",
    "receptionist",
    "captain",
    "table",
    "river",
    "music",
    "computer",
    "garden",
    "paris",
    "france",
    "rome",
    "italy",
]


@pytest.fixture(scope="session")
def glove_cache(tmp_path_factory):
    """A dltool cache directory in which the GloVe copy is built once per test session."""
    return tmp_path_factory.mktemp("wordvec-cache")


@pytest.fixture
def cache_env(glove_cache, monkeypatch):
    """Point DLTOOL_CACHE at the shared test cache."""
    monkeypatch.setenv("DLTOOL_CACHE", str(glove_cache))
    return glove_cache


def synthetic(dim: int = 12, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """Return (words, vectors) where gendered pairs differ along axis 0 and neutral words
    lean on it a little, as professions do in real vectors."""
    rng = np.random.default_rng(seed)
    words, rows = [], []
    for female, male in GENDER_WORDS:
        base = rng.normal(size=dim)
        base[0] = 0
        shift = np.zeros(dim)
        shift[0] = 1.5 + 0.3 * rng.random()
        words += [female, male]
        rows += [base + shift + 0.05 * rng.normal(size=dim), base - shift]
    for w in NEUTRAL:
        v = rng.normal(size=dim)
        v[0] = rng.normal(scale=0.8)
        words.append(w)
        rows.append(v)
    return words, np.array(rows, dtype=np.float32)


@pytest.fixture
def glove_file(tmp_path):
    """A small GloVe text file (no header) of the synthetic vocabulary."""
    words, vecs = synthetic()
    path = tmp_path / "small.txt"
    path.write_text(
        "".join(
            f"{w} {' '.join(f'{x:.6f}' for x in v)}\n" for w, v in zip(words, vecs, strict=True)
        )
    )
    return path


@pytest.fixture
def synth():
    """The synthetic vocabulary factory: synth(dim=12, seed=0) -> (words, vectors)."""
    return synthetic
