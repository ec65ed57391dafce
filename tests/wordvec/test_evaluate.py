"""Analogy accuracy, word-pair correlation and WEAT effect size on small known cases."""

from __future__ import annotations

import numpy as np
import pytest
from dltool_wordvec import evaluate as ev
from dltool_wordvec.similarity import normalize_rows

from dltool.errors import DltoolError


def test_read_analogies_sections_and_errors(tmp_path):
    path = tmp_path / "q.txt"
    path.write_text(": capitals\nAthens Greece Rome Italy\n: family\nboy girl man woman\n")
    sections = ev.read_analogies(path)
    assert [name for name, _ in sections] == ["capitals", "family"]
    assert sections[0][1] == [("Athens", "Greece", "Rome", "Italy")]
    path.write_text(": x\na b c\n")
    with pytest.raises(DltoolError, match=r"q.txt:2: expected 4 words"):
        ev.read_analogies(path)


def test_gensim_questions_words_parses():
    sections = ev.read_analogies(ev.gensim_test_file("questions-words.txt"))
    assert len(sections) == 14 and sum(len(q) for _, q in sections) == 19544


def test_analogy_accuracy_counts():
    words = ["a", "b", "c", "d", "x", "y"]
    E = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1], [-1, 0, 0], [0, -1, 0]], float)
    sections = [
        ("s1", [("A", "B", "C", "D"), ("a", "b", "c", "x")]),
        ("s2", [("a", "b", "q", "d")]),
    ]
    rows = ev.analogy_accuracy(words, normalize_rows(E), sections, restrict=6)
    assert rows[0] == {"section": "s1", "correct": 1, "asked": 2, "skipped": 0, "accuracy": 0.5}
    assert rows[1]["asked"] == 0 and rows[1]["skipped"] == 1 and np.isnan(rows[1]["accuracy"])
    assert rows[-1]["section"] == "total" and rows[-1]["correct"] == 1 and rows[-1]["asked"] == 2


def test_word_pair_correlation_is_spearman(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("# w1\tw2\tscore\na\tb\t9\na\tc\t5\na\td\t1\nzz\ta\t3\n")
    pairs = ev.read_word_pairs(path)
    unit = normalize_rows(np.array([[1, 0], [1, 0.1], [1, 1], [0, 1]], float))
    lookup = {"a": 0, "b": 1, "c": 2, "d": 3}.get
    out = ev.word_pair_correlation(lookup, unit, pairs)
    assert out["spearman"] == pytest.approx(1.0) and out["used"] == 3 and out["skipped"] == 1
    path.write_text("a b\n")
    with pytest.raises(DltoolError, match="pairs.tsv:1"):
        ev.read_word_pairs(path)


def test_weat_effect_size_known_values():
    A = normalize_rows(np.array([[1.0, 0.0], [1.0, 0.1]]))
    B = normalize_rows(np.array([[-1.0, 0.0], [-1.0, 0.1]]))
    X = normalize_rows(np.array([[1.0, 1.0], [1.0, 2.0]]))
    Y = normalize_rows(np.array([[-1.0, 1.0], [-1.0, 2.0]]))
    s = ev.weat_s(np.vstack([X, Y]), A, B)
    want = (s[:2].mean() - s[2:].mean()) / s.std(ddof=1)
    assert ev.weat_effect_size(X, Y, A, B) == pytest.approx(want)
    assert ev.weat_effect_size(X, Y, A, B) > 0
    assert ev.weat_effect_size(Y, X, A, B) == pytest.approx(-want)


def test_weat_torch_twin_parity():
    import torch
    from dltool_wordvec import evaluate_torch

    rng = np.random.default_rng(11)
    X, Y, A, B = (normalize_rows(rng.normal(size=(k, 20))) for k in (8, 7, 6, 5))
    want = ev.weat_effect_size(X, Y, A, B)
    got = evaluate_torch.weat_effect_size(*(torch.from_numpy(m) for m in (X, Y, A, B)))
    assert got.item() == pytest.approx(want, abs=1e-13)
    np.testing.assert_allclose(
        evaluate_torch.weat_s(*(torch.from_numpy(m) for m in (X, A, B))).numpy(),
        ev.weat_s(X, A, B),
        atol=1e-15,
    )
