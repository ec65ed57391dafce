"""The wordvec commands as a user runs them: real GloVe for a few, synthetic files for the rest."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from dltool_wordvec import debias, vectors, wordlists


@pytest.fixture
def glove(cache_env):
    """The embedded GloVe vectors through the shared test cache."""
    return cache_env


def test_similar_king_on_glove(cli, glove):
    res = cli("wordvec", "similar", "king", "-n", "5", "--json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)["similar"]
    assert [r["word"] for r in rows][:2] == ["prince", "queen"]
    from gensim.models import KeyedVectors

    native = vectors.default_cache_path()
    assert native.is_relative_to(glove)
    kv = KeyedVectors.load(str(native), mmap="r")
    assert kv.vectors.shape == (400000, 50) and kv.index_to_key[:3] == ["the", ",", "."]
    np.testing.assert_allclose(kv["the"][:3], [0.418, 0.24968, -0.41242], rtol=1e-6)


def test_analogy_and_similarity_on_glove(cli, glove):
    res = cli("wordvec", "analogy", "man", "woman", "king", "--json")
    assert json.loads(res.stdout)["analogy"][0]["word"] == "queen"
    res = cli("wordvec", "analogy", "man", "woman", "king", "--method", "mul", "--json")
    assert json.loads(res.stdout)["analogy"][0]["word"] == "queen"
    res = cli("wordvec", "similarity", "man", "woman", "--json")
    assert json.loads(res.stdout)["cosine"] == pytest.approx(0.886, abs=1e-3)
    res = cli("wordvec", "doesnt-match", "breakfast", "cereal", "dinner", "lunch", "--json")
    assert json.loads(res.stdout)["doesnt_match"] == "cereal"


def test_evaluate_defaults_on_glove(cli, glove):
    res = cli("wordvec", "evaluate", "--restrict", "3000", "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    sections = {r["section"]: r for r in doc["analogies"]}
    assert len(sections) == 15 and sections["capital-common-countries"]["accuracy"] > 0.5
    assert sections["total"]["asked"] + sections["total"]["skipped"] == 19544
    sim = doc["similarity"][0]
    assert sim["pairs"] == 353 and 0.4 < sim["spearman"] < 0.6
    res = cli("wordvec", "evaluate", "--restrict", "3000", "--similarity", "simlex999.txt")
    assert res.exit_code == 0 and "simlex999.txt" in res.stdout
    res = cli("wordvec", "evaluate", "--similarity", "no-such-pairs.tsv")
    assert res.exit_code == 1 and "no-such-pairs.tsv does not exist" in res.stderr


def test_unknown_word_suggests_spellings(cli, glove):
    res = cli("wordvec", "similar", "kingg")
    assert res.exit_code == 1
    assert "'kingg' is not in the vocabulary" in res.stderr
    assert "did you mean king" in res.stderr
    assert "Traceback" not in res.output


def test_bias_professions_on_glove(cli, glove, tmp_path):
    png = tmp_path / "bias.png"
    res = cli("wordvec", "bias", "--professions", "-o", png, "--json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)["bias"]
    by_word = {r["word"]: r["projection"] for r in rows}
    assert by_word["receptionist"] > 0.2 > -0.2 > by_word["captain"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bias_own_professions_file(cli, glove_file, tmp_path):
    profs = tmp_path / "p.json"
    profs.write_text('{"professions": ["nurse", "captain", "astronautt"]}')
    res = cli(
        "wordvec",
        "bias",
        "--professions",
        "--professions-file",
        profs,
        "-V",
        glove_file,
        "-o",
        tmp_path / "b.png",
        "--json",
    )
    assert res.exit_code == 0, res.output
    assert sorted(r["word"] for r in json.loads(res.stdout)["bias"]) == ["captain", "nurse"]
    profs.write_text('["nurse", 3]')
    res = cli("wordvec", "bias", "--professions", "--professions-file", profs, "-V", glove_file)
    assert res.exit_code == 1 and "must hold words" in res.stderr


def test_bias_bolukbasi_words_on_glove(cli, glove, tmp_path):
    res = cli(
        "wordvec",
        "bias",
        "nurse",
        "engineer",
        "receptionist",
        "--method",
        "bolukbasi",
        "-o",
        tmp_path / "b.png",
        "--json",
    )
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)["bias"]
    assert [r["word"] for r in rows][0] == "engineer" and rows[-1]["projection"] > 0.1


def test_train_builtin_corpus(cli, tmp_path):
    out = tmp_path / "lee.bin"
    res = cli(
        "wordvec",
        "train",
        "lee",
        "--dim",
        "10",
        "--epochs",
        "1",
        "--min-count",
        "3",
        "--sg",
        "-o",
        out,
        "--json",
    )
    assert res.exit_code == 0, res.output
    emb = vectors.load(out)
    assert emb.format == "word2vec-bin" and emb.dim == 10 and "government" in emb.words
    res = cli("wordvec", "train", "no-such-corpus")
    assert res.exit_code == 1 and "built-in corpus" in res.stderr


def test_help_imports_nothing_heavy():
    code = (
        "import sys\nfrom dltool.cli import main\n"
        "try:\n    main(['wordvec', '--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('torch', 'numpy', 'gensim', 'PIL', 'matplotlib', 'scipy', 'pyarrow')\n"
        "print('HEAVY', [m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert "similar" in out and "HEAVY []" in out


@pytest.mark.parametrize("method", ["course", "bolukbasi"])
def test_debias_synthetic_writes_input_format(cli, glove_file, tmp_path, method):
    out = tmp_path / "debiased.txt"
    res = cli("wordvec", "debias", "-V", glove_file, "-o", out, "--method", method, "--json")
    assert res.exit_code == 0, res.output
    assert vectors.detect_format(out) == "glove"
    before, after = vectors.load(glove_file), vectors.load(out)
    assert after.words == before.words
    U = before.unit.astype(np.float64)
    if method == "course":
        g = U[before.index("woman")] - U[before.index("man")]
    else:
        rows = [[before.index(w) for w in p] for p in wordlists.pairs("definitional_pairs")]
        g = debias.bias_direction_pca(U[np.array(rows)])
    for w in ("nurse", "engineer", "receptionist", "captain"):
        assert abs(after.vectors[after.index(w)] @ g) < 1e-5
    for f, m in (("woman", "man"), ("girl", "boy"), ("queen", "king")):
        pf, pm = (after.vectors[after.index(w)] @ g for w in (f, m))
        assert pf == pytest.approx(-pm, abs=1e-5)
    doc = json.loads(res.stdout)
    summary = {r["measure"]: r for r in doc["before_after"]}
    bias = summary["mean |projection| of professions on g"]
    assert bias["after"] < 1e-5 < bias["before"]


def test_debias_pairs_file_with_unknown_words(cli, glove_file, tmp_path):
    pairs = tmp_path / "pairs.yaml"
    pairs.write_text("pairs:\n  - [woman, man]\n  - [zorblette, zorblax]\n")
    out = tmp_path / "out.txt"
    res = cli("wordvec", "debias", "-V", glove_file, "-o", out, "--equalize-pairs", pairs)
    assert res.exit_code == 1
    assert "zorblax, zorblette" in res.stderr and "--skip-missing" in res.stderr
    assert not out.exists() and not list(tmp_path.glob("*.part"))
    res = cli(
        "wordvec",
        "debias",
        "-V",
        glove_file,
        "-o",
        out,
        "--equalize-pairs",
        pairs,
        "--skip-missing",
    )
    assert res.exit_code == 0, res.output
    assert out.exists()


def test_bad_vector_files(cli, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("a 1 2 3\nb 1 x 3\n")
    res = cli("wordvec", "similar", "a", "-V", bad)
    assert res.exit_code == 1 and "bad.txt:2: 'x' is not a number" in res.stderr
    bad.write_text("a 1 2 3\nb 1 2 3\nc 1 2\n")
    res = cli("wordvec", "similar", "a", "-V", bad)
    assert res.exit_code == 1 and "bad.txt:3" in res.stderr and "mixed dimensions" in res.stderr
    out = tmp_path / "o.txt"
    res = cli("wordvec", "debias", "-V", bad, "-o", out)
    assert res.exit_code == 1 and not out.exists()
    res = cli("wordvec", "similar", "a", "-V", bad, "--format", "nope")
    assert res.exit_code == 2 and "nope" in res.stderr
    res = cli("wordvec", "analogy", "a", "b", "c", "-V", bad, "--method", "sum")
    assert res.exit_code == 2 and "sum" in res.stderr


def test_train_on_small_corpus_and_empty_corpus(cli, tmp_path):
    corpus = tmp_path / "corpus.txt"
    rng = np.random.default_rng(0)
    words = ["alpha", "beta", "gamma", "delta", "omega", "sigma"]
    corpus.write_text("\n".join(" ".join(rng.choice(words, 8)) for _ in range(200)))
    out = tmp_path / "vectors.kv"
    res = cli(
        "wordvec",
        "train",
        corpus,
        "--dim",
        "8",
        "--epochs",
        "2",
        "--min-count",
        "1",
        "--workers",
        "1",
        "-o",
        out,
        "--json",
    )
    assert res.exit_code == 0, res.output
    emb = vectors.load(out, trust_pickle=True)
    assert sorted(emb.words) == sorted(words) and emb.dim == 8
    run = next((tmp_path / "runs" / "wordvec" / "train").iterdir())
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 2
    config = tmp_path / "w2v.yaml"
    config.write_text("dim: 6\nepochs: 1\nmin_count: 1\nsg: true\n")
    res = cli(
        "wordvec", "train", corpus, "--config", config, "--dim", "4", "-o", tmp_path / "v.vec"
    )
    assert res.exit_code == 0, res.output
    emb = vectors.load(tmp_path / "v.vec")
    assert emb.format == "word2vec" and emb.dim == 4
    config.write_text("dims: 6\n")
    res = cli("wordvec", "train", corpus, "--config", config)
    assert res.exit_code == 1 and "unknown key 'dims'" in res.stderr
    empty = tmp_path / "empty.txt"
    empty.write_text("\n ... \n")
    res = cli("wordvec", "train", empty, "-o", tmp_path / "e.kv")
    assert res.exit_code == 1 and "empty" in res.stderr and not (tmp_path / "e.kv").exists()
    res = cli("wordvec", "train", corpus, "--min-count", "100000", "-o", tmp_path / "e.kv")
    assert res.exit_code == 1 and "--min-count" in res.stderr


def test_train_refuses_binary_and_undecodable_corpora(cli, tmp_path):
    binary = tmp_path / "prog"
    binary.write_bytes(b"\x7fELF\x02\x01\x00\x00 main libc words words words\n" * 50)
    res = cli("wordvec", "train", binary, "--min-count", "1", "-o", tmp_path / "b.txt")
    assert res.exit_code == 1 and "looks binary" in res.stderr
    latin = tmp_path / "latin.txt"
    latin.write_bytes("café crème brûlée café\n".encode("latin-1") * 20)
    res = cli("wordvec", "train", latin, "--min-count", "1", "-o", tmp_path / "l.txt")
    assert res.exit_code == 1 and "not valid utf-8" in res.stderr and "--encoding" in res.stderr
    assert not (tmp_path / "b.txt").exists() and not (tmp_path / "runs").exists()
    res = cli(
        "wordvec", "train", latin, "--encoding", "latin-1", "--min-count", "1", "--epochs", "1",
        "--dim", "4", "--workers", "1", "-o", tmp_path / "l.txt",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "café" in vectors.load(tmp_path / "l.txt").words


def test_output_that_is_a_directory_is_refused_up_front(cli, glove_file, tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    for args in (
        ("plot", "man", "woman", "-V", glove_file),
        ("bias", "nurse", "-V", glove_file),
        ("debias", "-V", glove_file),
        ("train", glove_file, "--min-count", "1"),
    ):
        res = cli("wordvec", *args, "-o", folder)
        assert res.exit_code == 1 and "is a directory" in res.stderr, (args, res.output)
        assert "vectors:" not in res.stderr  # refused before the vectors were loaded
    assert not (tmp_path / "runs").exists() and not any(folder.iterdir())


def test_evaluate_and_plot_synthetic(cli, glove_file, tmp_path):
    q = tmp_path / "q.txt"
    q.write_text(": family\nman woman king queen\nboy girl he she\n")
    pairs = tmp_path / "p.tsv"
    pairs.write_text("man\twoman\t8\nking\tqueen\t7\nriver\tmusic\t1\ntable\tnurse\t2\n")
    res = cli("wordvec", "evaluate", glove_file, "--analogies", q, "--similarity", pairs, "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["analogies"][-1]["asked"] == 2 and doc["similarity"][0]["used"] == 4
    png = tmp_path / "w.png"
    res = cli("wordvec", "plot", "man", "woman", "king", "queen", "-V", glove_file, "-o", png)
    assert res.exit_code == 0, res.output
    assert png.stat().st_size > 1000
    res = cli("wordvec", "plot", "man", "womn", "-V", glove_file, "-o", png)
    assert res.exit_code == 1 and "woman" in res.stderr


def test_debias_equalizes_case_variants(cli, glove_file, tmp_path):
    rng = np.random.default_rng(5)
    extra = {"She": rng.normal(size=12), "He": rng.normal(size=12), "Nurse": rng.normal(size=12)}
    extra["She"][0] += 2
    with glove_file.open("a") as fh:
        for w, v in extra.items():
            fh.write(f"{w} {' '.join(f'{x:.6f}' for x in v)}\n")
    out = tmp_path / "out.txt"
    res = cli("wordvec", "debias", "-V", glove_file, "-o", out)
    assert res.exit_code == 0, res.output
    before, after = vectors.load(glove_file), vectors.load(out)
    U = before.unit.astype(np.float64)
    g = U[before.index("woman")] - U[before.index("man")]
    she, he, nurse = (after.vectors[after.words.index(w)] @ g for w in ("She", "He", "Nurse"))
    assert she == pytest.approx(-he, abs=1e-5) and abs(she) > 0.01
    assert abs(nurse) < 1e-5
