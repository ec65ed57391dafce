"""Issue 15 for wordvec: no code from a vectors file, outputs that never clobber an input,
nan/inf and zero rows, the evaluation vocabulary said, bounded sizes, one line per failure."""

from __future__ import annotations

import json
import os
import pickle
import warnings

import numpy as np
import pytest
from dltool_wordvec import jobs, vectors


class _Evil:
    """Unpickling this creates the marker file: proof that code from the file ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture
def crafted(tmp_path):
    """A gensim-looking .kv file whose unpickling would create ``ran`` (protocol 4)."""
    path = tmp_path / "vectors.kv"
    path.write_bytes(pickle.dumps(_Evil(tmp_path / "ran"), protocol=4))
    return path


COMMANDS = {
    "similar": ("similar", "king"),
    "similarity": ("similarity", "king", "queen"),
    "analogy": ("analogy", "man", "woman", "king"),
    "evaluate": ("evaluate",),
    "debias": ("debias",),
    "bias": ("bias", "nurse"),
    "plot": ("plot", "man", "woman"),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_crafted_pickle_is_refused_and_runs_nothing(cli, fails, crafted, tmp_path, command):
    res = cli("wordvec", *COMMANDS[command], "-V", crafted)
    fails(res, "gensim pickle")
    assert "--trust-pickle" in res.stderr
    assert not (tmp_path / "ran").exists()
    assert not (tmp_path / "runs").exists()


def test_pickle_named_by_format_is_refused_too(cli, fails, tmp_path):
    path = tmp_path / "v.model"
    path.write_bytes(pickle.dumps(_Evil(tmp_path / "ran"), protocol=0))  # no \x80 header
    fails(cli("wordvec", "similar", "a", "-V", path, "--format", "kv"), "gensim pickle")
    assert not (tmp_path / "ran").exists()


def test_trust_pickle_reads_a_kv_file_with_a_warning(cli, synth, tmp_path):
    words, vecs = synth()
    path = vectors.save(words, vecs, tmp_path / "v.kv", "kv")
    res = cli("wordvec", "similar", "king", "-V", path, "--trust-pickle", "--json")
    assert res.exit_code == 0, res.output
    assert "runs any code" in res.stderr
    assert len(json.loads(res.stdout)["similar"]) == 10


def test_debias_output_equal_to_input_is_refused(cli, fails, glove_file, tmp_path):
    before = glove_file.read_bytes()
    fails(cli("wordvec", "debias", "-V", glove_file, "-o", glove_file), "input of this command")
    link = tmp_path / "link.txt"
    link.symlink_to(glove_file)
    fails(cli("wordvec", "debias", "-V", glove_file, "-o", link), "input of this command")
    hard = tmp_path / "hard.txt"
    os.link(glove_file, hard)
    fails(cli("wordvec", "debias", "-V", hard, "-o", glove_file), "input of this command")
    assert glove_file.read_bytes() == before


def test_train_output_equal_to_corpus_is_refused(cli, fails, tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("alpha beta gamma\n" * 50)
    fails(cli("wordvec", "train", corpus, "-o", corpus, "--out-format", "glove"), "input of")
    assert corpus.read_text() == "alpha beta gamma\n" * 50


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("a 1 2 3\nb 1 nan 3\nc 1 2 3\n", "bad.txt:2: 'b'"),
        ("a 1 2 3\nb 1 2 3\nc inf 2 3\n", "bad.txt:3: 'c'"),
        ("a 1 2 3\nb 1 2 1e39\n", "bad.txt:2: 'b'"),  # beyond float32: inf
        ("2 3\na 1 2 3\nb -inf 2 3\n", "bad.txt:3: 'b'"),  # word2vec text
    ],
)
def test_non_finite_rows_refused_naming_the_line(cli, fails, tmp_path, text, where):
    bad = tmp_path / "bad.txt"
    bad.write_text(text)
    res = fails(cli("wordvec", "similar", "a", "-V", bad), where)
    assert "not finite" in res.stderr


def test_non_finite_binary_entry_refused(cli, fails, synth, tmp_path):
    words, vecs = synth()
    vecs[4, 2] = np.inf
    path = vectors.save(words, vecs, tmp_path / "v.bin", "word2vec-bin")
    fails(cli("wordvec", "similar", "king", "-V", path), f"entry 5: '{words[4]}'")


@pytest.fixture
def with_zero(glove_file):
    """The synthetic GloVe file with a word whose vector is all zeros."""
    with glove_file.open("a") as fh:
        fh.write("void " + " ".join(["0"] * 12) + "\n")
    return glove_file


def _no_warnings(cli, *args):
    """Run the CLI with every Python warning turned into an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return cli(*args)


def test_zero_rows_left_out_of_results(cli, with_zero):
    res = _no_warnings(cli, "wordvec", "similar", "king", "-n", "100", "-V", with_zero, "--json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)["similar"]
    assert "void" not in [r["word"] for r in rows] and len(rows) == 38
    assert all(np.isfinite(r["cosine"]) for r in rows)
    assert "1 words have zero vectors" in res.stderr and "void" in res.stderr
    res = _no_warnings(
        cli, "wordvec", "analogy", "man", "woman", "king", "-n", "100", "-V", with_zero, "--json"
    )
    assert res.exit_code == 0 and "void" not in res.stdout


@pytest.mark.parametrize(
    "args",
    [("similar", "void"), ("similarity", "void", "king"), ("analogy", "void", "man", "king")],
)
def test_zero_vector_query_is_refused_naming_the_word(cli, fails, with_zero, args):
    res = _no_warnings(cli, "wordvec", *args, "-V", with_zero)
    fails(res, "'void' has a zero vector")


def test_zero_rows_skipped_by_evaluate(cli, with_zero, tmp_path):
    q = tmp_path / "q.txt"
    q.write_text(": family\nman woman king queen\nman void king queen\n")
    pairs = tmp_path / "p.tsv"
    pairs.write_text("man\twoman\t8\nking\tqueen\t7\nriver\tmusic\t1\nvoid\tnurse\t2\n")
    res = _no_warnings(
        cli, "wordvec", "evaluate", with_zero, "--analogies", q, "--similarity", pairs, "--json"
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["analogies"][-1]["asked"] == 1 and doc["analogies"][-1]["skipped"] == 1
    assert doc["similarity"][0]["used"] == 3


def test_evaluate_says_which_words_it_searched(cli, glove_file, tmp_path):
    q = tmp_path / "q.txt"
    q.write_text(": family\nman woman king queen\nboy girl he she\n")
    pairs = tmp_path / "p.tsv"
    pairs.write_text("man\twoman\t8\nking\tqueen\t7\nriver\tmusic\t1\ntable\tnurse\t2\n")
    args = ("wordvec", "evaluate", glove_file, "--analogies", q, "--similarity", pairs)
    res = cli(*args, "--restrict", "20", "--json")
    doc = json.loads(res.stdout)
    assert doc["analogy_search"] == {"restrict": 20, "vocabulary": 39, "words_searched": 20}
    assert doc["analogy_accuracy"] == doc["analogies"][-1]["accuracy"]
    res = cli(*args, "--restrict", "20")
    assert "the 20 most frequent of 39 words" in res.stdout and "--restrict 20" in res.stdout
    res = cli(*args)
    assert "all 39 words" in res.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("similar", "king", "-n", "1000000000000"),
        ("analogy", "a", "b", "c", "-n", "-1"),
        ("evaluate", "--restrict", "1000000000000"),
        ("train", "lee", "--dim", "1000000000000"),
        ("train", "lee", "--epochs", "1000000000"),
        ("train", "lee", "--window", "0"),
        ("train", "lee", "--negative", "1000000000000"),
    ],
)
def test_size_options_bounded(cli, args):
    res = cli("wordvec", *args)
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output


def test_train_refuses_what_will_not_fit_unless_forced(cli, fails, tmp_path, monkeypatch):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("alpha beta gamma delta\n" * 50)
    monkeypatch.setattr(jobs, "available_bytes", lambda: 1_000)
    args = ("wordvec", "train", corpus, "--min-count", "1", "--dim", "200", "--epochs", "1")
    res = fails(cli(*args), "GiB, more than the")
    assert "--force" in res.stderr and not (tmp_path / "runs").exists()
    res = cli(*args, "--force", "--workers", "1")
    assert res.exit_code == 0, res.output


def test_binary_header_announcing_too_much_is_refused_before_allocating(cli, fails, tmp_path):
    path = tmp_path / "huge.bin"
    path.write_bytes(b"1000000000 300\n" + b"a " + b"\x00" * 1200 + b"\n")
    fails(cli("wordvec", "similar", "a", "-V", path, "--format", "word2vec-bin"), "announces")


FILE_OPTIONS = [  # (command and options, the file option, the output file)
    (("similar", "king"), "-V", None),
    (("evaluate",), "--analogies", None),
    (("evaluate",), "--similarity", None),
    (("bias", "--professions"), "--professions-file", "out.png"),
    (("bias", "--method", "bolukbasi", "nurse"), "--pairs", "out.png"),
    (("debias",), "--gender-specific", "out.txt"),
    (("debias",), "--equalize-pairs", "out.txt"),
    (("debias", "--method", "bolukbasi"), "--definitional-pairs", "out.txt"),
]


@pytest.mark.parametrize("kind", ["missing", "empty", "directory"])
@pytest.mark.parametrize(("args", "option", "output"), FILE_OPTIONS, ids=lambda a: str(a))
def test_bad_file_arguments_one_line(cli, fails, glove_file, tmp_path, args, option, kind, output):
    bad = tmp_path / "bad.yaml"
    if kind == "empty":
        bad.write_text("")
    elif kind == "directory":
        bad.mkdir()
    extra = () if option == "-V" else ("-V", glove_file)
    extra += ("-o", tmp_path / output) if output else ()
    res = cli("wordvec", *args, option, bad, *extra)
    fails(res, str(bad))
    assert not output or not (tmp_path / output).exists()
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("kind", ["missing", "empty", "directory"])
def test_bad_corpus_one_line(cli, fails, tmp_path, kind):
    bad = tmp_path / "corpus.txt"
    if kind == "empty":
        bad.write_text("")
    elif kind == "directory":
        bad.mkdir()
    fails(cli("wordvec", "train", bad, "-o", tmp_path / "v.bin"), "corpus")
    assert not (tmp_path / "runs").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_vectors_file(cli, fails, glove_file):
    glove_file.chmod(0)
    fails(cli("wordvec", "similar", "king", "-V", glove_file), "cannot read vectors file")


@pytest.mark.parametrize(
    ("args", "needs"),
    [
        (("--professions-file", "{list}"), "--professions"),
        (("--pairs", "{list}"), "--method bolukbasi"),
        (("--pairs", "{list}", "--method", "course"), "--method bolukbasi"),
    ],
)
@pytest.mark.parametrize("kind", ["good", "missing", "directory"])
def test_bias_list_file_without_its_option_is_refused(cli, fails, tmp_path, args, needs, kind):
    listed = tmp_path / "list.yaml"
    if kind == "good":
        listed.write_text("pairs:\n  - [woman, man]\n  - [she, he]\n")
    elif kind == "directory":
        listed.mkdir()
    args = [str(listed) if a == "{list}" else a for a in args]
    res = fails(cli("wordvec", "bias", "nurse", *args, "-o", tmp_path / "b.png"), "read only with")
    assert needs in res.stderr
    assert not (tmp_path / "b.png").exists() and not (tmp_path / "runs").exists()


def test_bias_pairs_read_before_the_vectors(cli, fails, tmp_path, monkeypatch):
    monkeypatch.setattr(jobs, "load", lambda source: pytest.fail("vectors loaded first"))
    bad = tmp_path / "pairs.yaml"
    bad.write_text("")
    fails(cli("wordvec", "bias", "nurse", "--method", "bolukbasi", "--pairs", bad), str(bad))


@pytest.mark.parametrize("output", ["afile.txt/v.bin", "folder", "v.unknown"])
def test_train_output_checked_before_training(cli, fails, tmp_path, monkeypatch, output):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile.txt").write_text("x\n")
    (tmp_path / "folder").mkdir()
    monkeypatch.setattr(jobs, "available_bytes", lambda: pytest.fail("work started"))
    fails(cli("wordvec", "train", "lee", "-o", output, "--workers", "1"), output)
    assert not (tmp_path / "runs").exists()


def test_train_out_that_is_a_file_refused_before_training(cli, fails, tmp_path, monkeypatch):
    (tmp_path / "afile.txt").write_text("x\n")
    monkeypatch.setattr(jobs, "available_bytes", lambda: pytest.fail("work started"))
    fails(cli("wordvec", "train", "lee", "--out", tmp_path / "afile.txt"), "is a file")


@pytest.mark.parametrize("reused", [False, True])
def test_failed_train_leaves_no_run_behind(cli, fails, tmp_path, monkeypatch, reused):
    from dltool.errors import DltoolError

    def broken_save(*args):
        raise DltoolError("cannot write vectors: disk full", hint="free some space")

    monkeypatch.setattr(vectors, "save", broken_save)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("alpha beta gamma delta\n" * 20)
    run = tmp_path / "run"
    if reused:
        run.mkdir()
        (run / "notes.txt").write_text("mine\n")
    args = ("--min-count", "1", "--dim", "4", "--epochs", "2", "--workers", "1")
    fails(cli("wordvec", "train", corpus, "--out", run, *args), "disk full")
    if reused:  # a folder the user made keeps what it held, less this run's config and metrics
        assert sorted(p.name for p in run.iterdir()) == ["notes.txt"]
    else:
        assert not run.exists()
