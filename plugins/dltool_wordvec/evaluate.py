"""Intrinsic evaluation of word vectors: analogy accuracy, word-pair correlation, WEAT.

* Analogies (Mikolov et al. 2013, ``questions-words.txt``): ``a b c d`` lines grouped in
  ``: section`` blocks; a question is right when 3CosAdd (or 3CosMul) over the ``restrict``
  most frequent words, inputs excluded, returns d. Questions with a word outside those
  words (or with a zero vector) are skipped, as in word2vec's ``compute-accuracy``. On GloVe
  6B 50d (top 30,000) every section's counts equal gensim's ``evaluate_word_analogies`` (7393
  of 14877 right), found with batched matrix products instead of one query at a time.
* Word pairs (WordSim-353, SimLex-999): Spearman's ρ between human scores and cosines.
* WEAT (Caliskan et al. 2017): ``s(w, A, B) = mean_a cos(w, a) − mean_b cos(w, b)`` and the
  effect size ``(mean_x s(x) − mean_y s(y)) / std_{w ∈ X∪Y} s(w)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from dltool.errors import DltoolError
from dltool_wordvec.similarity import analogy_batch

ANALOGY_HINT = "give --analogies a UTF-8 text file of 'a b c d' lines in ': section' blocks"
PAIRS_HINT = "give --similarity a UTF-8 text file of 'word1 word2 score' lines"


def _reason(exc: Exception) -> str:
    """Return why reading failed, without the errno prefix."""
    return getattr(exc, "strerror", None) or str(exc)


def gensim_test_file(name: str) -> Path:
    """Return the verified path of ``name`` in gensim's test data (artifact
    ``gensim-word-benchmarks``: questions-words.txt, wordsim353.tsv, simlex999.txt, lee…)."""
    from dltool.artifacts import ensure
    from dltool_wordvec.weights import GENSIM_WORD_DATA

    return ensure(GENSIM_WORD_DATA)[name]


def has_gensim_test_file(name: str) -> bool:
    """Return True when ``name`` is one of the gensim test files this plugin ships with."""
    from dltool_wordvec.weights import GENSIM_WORD_DATA

    return any(f.name == name for f in GENSIM_WORD_DATA.files)


def data_file(path: Path | None, default: str) -> Path:
    """Return ``path``, or the file of that name (or ``default``) in gensim's test data."""
    if path is None:
        return gensim_test_file(default)
    if not path.exists() and path.parent == Path(".") and has_gensim_test_file(path.name):
        return gensim_test_file(path.name)
    return path


def read_analogies(path: Path) -> list[tuple[str, list[tuple[str, str, str, str]]]]:
    """Return [(section, [(a, b, c, d), …]), …] from a questions-words style file."""
    sections: list[tuple[str, list]] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DltoolError(f"analogy file {path} does not exist", hint=ANALOGY_HINT) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DltoolError(
            f"cannot read analogy file {path}: {_reason(exc)}", ANALOGY_HINT
        ) from None
    for lineno, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(":"):
            sections.append((line[1:].strip(), []))
            continue
        words = line.split()
        if len(words) != 4:
            raise DltoolError(
                f"{path}:{lineno}: expected 4 words 'a b c d', got {len(words)}", ANALOGY_HINT
            )
        if not sections:
            sections.append(("questions", []))
        sections[-1][1].append(tuple(words))
    if not any(qs for _, qs in sections):
        raise DltoolError(f"{path} holds no analogy questions", ANALOGY_HINT)
    return sections


def restricted_index(words: list[str], restrict: int, skip: Iterable[int] = ()) -> dict[str, int]:
    """Return {word: row} for the first ``restrict`` words, lowercase forms added when absent;
    the rows in ``skip`` (zero vectors) are left out."""
    skip = set(skip)
    index = {w: i for i, w in enumerate(words[:restrict]) if i not in skip}
    for w, i in list(index.items()):
        index.setdefault(w.lower(), i)
    return index


def analogy_accuracy(
    words: list[str],
    unit: np.ndarray,
    sections: list[tuple[str, list]],
    restrict: int = 30000,
    method: str = "add",
    search: Callable = analogy_batch,
    skip: Iterable[int] = (),
) -> list[dict]:
    """Return one row per section (and a ``total`` row): correct, asked, skipped, accuracy;
    questions with a word outside the first ``restrict`` words or in ``skip`` are skipped."""
    index = restricted_index(words, restrict, skip)
    rows = []
    for name, questions in sections:
        known = [[index.get(w, index.get(w.lower(), -1)) for w in q] for q in questions]
        known = np.array([q for q in known if min(q) >= 0], dtype=np.int64).reshape(-1, 4)
        preds = search(unit[:restrict], known[:, :3], method) if len(known) else known[:, 0]
        correct = int(np.sum(np.asarray(preds) == known[:, 3]))
        rows.append(_accuracy_row(name, correct, len(known), len(questions) - len(known)))
    total = _accuracy_row(
        "total", *(sum(r[k] for r in rows) for k in ("correct", "asked", "skipped"))
    )
    return [*rows, total]


def _accuracy_row(section: str, correct: int, asked: int, skipped: int) -> dict:
    """Return a table row with accuracy = correct / asked."""
    accuracy = correct / asked if asked else float("nan")
    return {
        "section": section,
        "correct": correct,
        "asked": asked,
        "skipped": skipped,
        "accuracy": accuracy,
    }


def read_word_pairs(path: Path) -> list[tuple[str, str, float]]:
    """Return [(w1, w2, human score), …] from a tab/space separated file (# comments)."""
    pairs = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DltoolError(f"word-pair file {path} does not exist", hint=PAIRS_HINT) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DltoolError(
            f"cannot read word-pair file {path}: {_reason(exc)}", PAIRS_HINT
        ) from None
    for lineno, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split("\t") if "\t" in line else line.split()
        try:
            pairs.append((parts[0].strip(), parts[1].strip(), float(parts[2])))
        except (IndexError, ValueError):
            raise DltoolError(
                f"{path}:{lineno}: expected 'word1 word2 score'", PAIRS_HINT
            ) from None
    if not pairs:
        raise DltoolError(f"{path} holds no word pairs", PAIRS_HINT)
    return pairs


def word_pair_correlation(
    lookup: Callable[[str], int | None], unit: np.ndarray, pairs: list[tuple[str, str, float]]
) -> dict:
    """Return Spearman's ρ (and its p-value) between human scores and cosines of known pairs."""
    from scipy.stats import spearmanr

    human, model = [], []
    for w1, w2, score in pairs:
        i, j = lookup(w1), lookup(w2)
        if i is not None and j is not None:
            human.append(score)
            model.append(float(unit[i] @ unit[j]))
    if len(human) < 3:
        raise DltoolError(
            "fewer than 3 word pairs have both words in the vocabulary",
            hint="give a --similarity file whose words these vectors know",
        )
    rho, p = spearmanr(human, model)
    return {
        "pairs": len(pairs),
        "used": len(human),
        "skipped": len(pairs) - len(human),
        "spearman": float(rho),
        "p_value": float(p),
    }


def weat_s(unit_w: np.ndarray, unit_A: np.ndarray, unit_B: np.ndarray) -> np.ndarray:
    """Return s(w, A, B) = mean_a cos(w, a) − mean_b cos(w, b) for every row w, shape (k,)."""
    return (unit_w @ unit_A.T).mean(axis=1) - (unit_w @ unit_B.T).mean(axis=1)


def weat_effect_size(
    unit_X: np.ndarray, unit_Y: np.ndarray, unit_A: np.ndarray, unit_B: np.ndarray
) -> float:
    """Return (mean_x s(x) − mean_y s(y)) / std_{w ∈ X∪Y} s(w) (sample std)."""
    s_x, s_y = weat_s(unit_X, unit_A, unit_B), weat_s(unit_Y, unit_A, unit_B)
    return float((s_x.mean() - s_y.mean()) / np.concatenate([s_x, s_y]).std(ddof=1))
