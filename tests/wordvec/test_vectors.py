"""Vector files: format detection, round trips, errors with file and line, suggestions."""

from __future__ import annotations

import numpy as np
import pytest
from dltool_wordvec import vectors

from dltool.errors import DltoolError


@pytest.mark.parametrize("fmt", ["glove", "word2vec", "word2vec-bin", "kv"])
def test_round_trip_and_detection(tmp_path, fmt, synth):
    words, vecs = synth()
    words[3] = "naïve"
    path = vectors.save(words, vecs, tmp_path / f"v.{fmt}", fmt)
    assert vectors.detect_format(path) == fmt
    emb = vectors.load(path, trust_pickle=fmt == "kv")
    assert emb.format == fmt and emb.words == words and emb.dim == vecs.shape[1]
    np.testing.assert_allclose(emb.vectors, vecs, rtol=1e-5, atol=1e-6)
    assert not list(tmp_path.glob("*.part"))


def test_gensim_reads_what_we_write(tmp_path, synth):
    from gensim.models import KeyedVectors

    words, vecs = synth()
    vectors.save(words, vecs, tmp_path / "v.bin", "word2vec-bin")
    vectors.save(words, vecs, tmp_path / "v.vec", "word2vec")
    for name, binary in (("v.bin", True), ("v.vec", False)):
        kv = KeyedVectors.load_word2vec_format(str(tmp_path / name), binary=binary)
        np.testing.assert_allclose(kv[words[5]], vecs[5], rtol=1e-5)


def test_malformed_value_names_file_and_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("the 0.1 0.2 0.3\ncat 0.4 0.5 0.6\ndog 0.7 oops 0.9\n")
    with pytest.raises(DltoolError, match=r"bad.txt:3: 'oops' is not a number"):
        vectors.load(path)


def test_mixed_dimensions(tmp_path):
    path = tmp_path / "mixed.txt"
    path.write_text("the 0.1 0.2 0.3\ncat 0.4 0.5\n")
    with pytest.raises(DltoolError, match=r"mixed.txt:2: .*2 values.*3.*mixed dimensions"):
        vectors.load(path)


def test_word2vec_header_count_mismatch(tmp_path):
    path = tmp_path / "w.vec"
    path.write_text("3 2\na 0.1 0.2\nb 0.3 0.4\n")
    with pytest.raises(DltoolError, match="announces 3 words, the file has 2"):
        vectors.load(path)


def test_truncated_binary(tmp_path, synth):
    words, vecs = synth()
    path = vectors.save(words, vecs, tmp_path / "v.bin", "word2vec-bin")
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(DltoolError, match=r"entry 39 of 39 .* truncated"):
        vectors.load(path)


def test_empty_and_missing_files(tmp_path):
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(DltoolError, match="is empty"):
        vectors.load(tmp_path / "empty.txt")
    with pytest.raises(DltoolError, match="does not exist"):
        vectors.load(tmp_path / "nope.txt")
    (tmp_path / "junk.kv").write_bytes(b"\x80\x04junk")
    with pytest.raises(DltoolError, match="gensim pickle"):
        vectors.load(tmp_path / "junk.kv")
    with pytest.raises(DltoolError, match="not a readable gensim"):
        vectors.load(tmp_path / "junk.kv", trust_pickle=True)


def test_suggestions_rank_closest_then_frequent():
    k2i = {w: i for i, w in enumerate(["the", "king", "queen", "kings", "seen", "been"])}
    assert vectors.suggest("kingg", k2i)[0] == "king"
    assert vectors.suggest("qeen", k2i)[0] == "queen"
    assert vectors.suggest("zzzzzzzz", k2i) == []


def test_unknown_word_error_suggests(tmp_path, synth):
    words, vecs = synth()
    emb = vectors.load(vectors.save(words, vecs, tmp_path / "v.txt", "glove"))
    assert emb.index("Nurse") == words.index("nurse")
    with pytest.raises(DltoolError) as exc:
        emb.index("nurze")
    assert "not in the vocabulary" in exc.value.message and "nurse" in exc.value.hint


def test_parsed_copy_cached_per_file_version(tmp_path, synth, cache_env, monkeypatch):
    monkeypatch.setattr(vectors, "PARSED_CACHE_MIN_BYTES", 0)
    words, vecs = synth()
    path = vectors.save(words, vecs, tmp_path / "v.txt", "glove")
    first = vectors.load(path)
    assert not isinstance(first.vectors, np.memmap)
    second = vectors.load(path)
    assert isinstance(second.vectors, np.memmap) and second.words == words
    np.testing.assert_array_equal(second.vectors, first.vectors)
    vectors.save(words[:5], vecs[:5] * 2, path, "glove")  # the file changes: parse it again
    third = vectors.load(path)
    assert third.words == words[:5] and not isinstance(third.vectors, np.memmap)
    np.testing.assert_allclose(third.vectors, vecs[:5] * 2, rtol=1e-5)


def test_interrupted_write_leaves_old_file(tmp_path, synth, monkeypatch):
    words, vecs = synth()
    path = vectors.save(words, vecs, tmp_path / "v.txt", "glove")
    old = path.read_bytes()

    def broken(tmp, words, vectors, header):
        tmp.write_text("half a line")
        raise KeyboardInterrupt

    monkeypatch.setattr(vectors, "_write_text", broken)
    with pytest.raises(KeyboardInterrupt):
        vectors.save(words, vecs * 2, path, "glove")
    assert path.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["v.txt"]


def test_word2vec_text_dimension_against_header(tmp_path):
    path = tmp_path / "w.vec"
    path.write_text("2 3\na\t0.1 0.2 0.3\nb 0.3 0.4\n")
    with pytest.raises(DltoolError, match=r"w.vec:3: 'b' has 2 values, the header says 3"):
        vectors.load(path)
