"""Bias/variance diagnosis from error rates, as in the notes' "Bias & Variance" table.

With errors in percent: avoidable bias = train − human (Bayes proxy), variance =
train-dev − train (or dev − train without a train-dev set), data mismatch = dev − train-dev,
overfitting to dev = test − dev. The notes' columns: train 1 / dev 11 is high variance,
15 / 16 high bias, 15 / 30 both. A gap counts as high when it reaches ``threshold`` points.
"""

from __future__ import annotations

from dataclasses import dataclass

ACTIONS = {
    "avoidable bias": [
        "train a bigger network (more hidden units or layers)",
        "train longer or use a better optimizer (momentum, RMSprop, Adam)",
        "search for a better architecture / hyperparameters",
    ],
    "variance": [
        "get more training data",
        "regularize: L2 (--l2), dropout (--keep-prob), data augmentation",
        "search for a better architecture / hyperparameters",
    ],
    "data mismatch": [
        "do manual error analysis to see how train and dev/test data differ",
        "make the training data more similar to dev/test, or collect more like it",
        "artificial data synthesis (beware overfitting a small synthesized subset)",
    ],
    "overfitting to dev": ["get a bigger dev set"],
}


@dataclass
class Gap:
    """One row of the diagnosis: a named gap between two error rates."""

    name: str
    between: str
    value: float
    high: bool
    actions: list[str]


def diagnose(
    train: float,
    dev: float,
    human: float = 0.0,
    train_dev: float | None = None,
    test: float | None = None,
    threshold: float = 2.0,
) -> tuple[list[Gap], str]:
    """Return the gaps and a one-line verdict naming what to fix first."""
    gaps = [("avoidable bias", "train − human", train - human)]
    if train_dev is None:
        gaps.append(("variance", "dev − train", dev - train))
    else:
        gaps.append(("variance", "train-dev − train", train_dev - train))
        gaps.append(("data mismatch", "dev − train-dev", dev - train_dev))
    if test is not None:
        gaps.append(("overfitting to dev", "test − dev", test - dev))
    rows = [Gap(n, b, round(v, 6), v >= threshold, ACTIONS[n]) for n, b, v in gaps]
    return rows, verdict(rows)


def verdict(rows: list[Gap]) -> str:
    """Return 'high bias', 'high variance', 'high bias and high variance', … or 'no big gap'."""
    high = [r for r in rows if r.high]
    if not high:
        return "no gap reaches the threshold: the model is close to human-level performance"
    labels = {"avoidable bias": "high bias", "variance": "high variance"}
    names = " and ".join(labels.get(r.name, r.name) for r in high)
    first = max(high, key=lambda r: r.value)
    return f"{names}; work on {first.name} first ({first.value:g} points)"
