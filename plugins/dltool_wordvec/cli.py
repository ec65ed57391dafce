"""``dltool wordvec``: nearest words, analogies, gender bias and hard debiasing, evaluation,
2-D plots and Word2Vec training. Signatures only: each command calls its job in ``jobs.py``."""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path
from typing import Any

import typer

from dltool.commands import exist_ok_option, out_option, output_option, plugin_app
from dltool_wordvec import jobs

app = plugin_app(
    "Word vectors: similarity, analogies, gender-bias debiasing, evaluation, Word2Vec."
)


class Fmt(str, Enum):
    """Vector file formats."""

    glove = "glove"
    word2vec = "word2vec"
    word2vec_bin = "word2vec-bin"
    kv = "kv"


class AnalogyMethod(str, Enum):
    """Analogy scoring: 3CosAdd or 3CosMul."""

    add = "add"
    mul = "mul"


class DirectionMethod(str, Enum):
    """Bias direction: the notes' woman − man, or Bolukbasi et al.'s PCA."""

    course = "course"
    bolukbasi = "bolukbasi"


VECTORS_HELP = (
    "Vectors file (GloVe/word2vec text or binary; a gensim .kv pickle only with "
    "--trust-pickle), a run folder of 'wordvec train' or 'debias', or the number N of "
    "runs/wordvec/train/N [default: GloVe 6B 50d]."
)
PLOTS = "png, svg, pdf or jpg"
BUILTIN_CORPORA = ("lee", "lee-test")  # dltool_wordvec.train.BUILTIN, without importing it
MAX_N = 1_000_000
MAX_RESTRICT = 10_000_000


def _vectors_opt() -> Any:
    """Return the --vectors/-V option shared by the commands."""
    return typer.Option(None, "--vectors", "-V", help=VECTORS_HELP, show_default=False)


def _format_opt() -> Any:
    """Return the --format option shared by the commands."""
    return typer.Option(
        None, "--format", help="Format of --vectors [default: detected from its first bytes]."
    )


def _trust_opt() -> Any:
    """Return the --trust-pickle flag shared by the commands."""
    return typer.Option(
        False,
        "--trust-pickle",
        help="Read a gensim .kv (pickle) file: unpickling runs any code the file holds, so "
        "only for files you made or trust.",
    )


def _source(vectors: Path | None, fmt: Fmt | None, trust: bool) -> jobs.Source:
    """Return the vectors source the options name."""
    return jobs.Source(vectors, fmt.value if fmt else None, trust)


def _restrict_opt() -> Any:
    """Return the --restrict option (the analogy search vocabulary)."""
    return typer.Option(
        30000,
        "--restrict",
        min=10,
        max=MAX_RESTRICT,
        help="Analogy questions and answers use only the N most frequent words.",
    )


@app.command()
def similar(
    word: str = typer.Argument(..., help="Word whose nearest neighbours to list."),
    n: int = typer.Option(10, "-n", min=1, max=MAX_N, help="How many words."),
    vectors: Path | None = _vectors_opt(),
    fmt: Fmt | None = _format_opt(),
    trust_pickle: bool = _trust_opt(),
) -> None:
    """List the N words with the highest cosine similarity to WORD."""
    jobs.similar(word, n, _source(vectors, fmt, trust_pickle))


@app.command()
def similarity(
    word1: str = typer.Argument(..., help="First word."),
    word2: str = typer.Argument(..., help="Second word."),
    vectors: Path | None = _vectors_opt(),
    fmt: Fmt | None = _format_opt(),
    trust_pickle: bool = _trust_opt(),
) -> None:
    """Print the cosine similarity u·v / (‖u‖‖v‖) of two words."""
    jobs.similarity(word1, word2, _source(vectors, fmt, trust_pickle))


@app.command()
def analogy(
    a: str = typer.Argument(..., help="a in a : b :: c : ?"),
    b: str = typer.Argument(..., help="b in a : b :: c : ?"),
    c: str = typer.Argument(..., help="c in a : b :: c : ?"),
    n: int = typer.Option(5, "-n", min=1, max=MAX_N, help="How many answers."),
    method: AnalogyMethod = typer.Option(AnalogyMethod.add, "--method", help="3CosAdd or 3CosMul."),
    vectors: Path | None = _vectors_opt(),
    fmt: Fmt | None = _format_opt(),
    trust_pickle: bool = _trust_opt(),
) -> None:
    """Answer a : b :: c : ? (man woman king → queen); the input words are excluded."""
    jobs.analogy((a, b, c), n, method.value, _source(vectors, fmt, trust_pickle))


@app.command("doesnt-match")
def doesnt_match(
    words: list[str] = typer.Argument(..., help="Three or more words."),
    vectors: Path | None = _vectors_opt(),
    fmt: Fmt | None = _format_opt(),
    trust_pickle: bool = _trust_opt(),
) -> None:
    """Name the word least similar to the mean of the others' unit vectors."""
    jobs.doesnt_match(words, _source(vectors, fmt, trust_pickle))


@app.command()
def bias(
    words: list[str] | None = typer.Argument(
        None, help="Words to project (or --professions).", show_default=False
    ),
    professions: bool = typer.Option(False, "--professions", help="Use the shipped professions."),
    professions_file: Path | None = typer.Option(
        None,
        "--professions-file",
        help="Your own professions list (YAML/JSON); needs --professions [default: the shipped "
        "one].",
    ),
    method: DirectionMethod = typer.Option(
        DirectionMethod.course, "--method", help="course (woman − man) or bolukbasi (PCA)."
    ),
    pairs: Path | None = typer.Option(
        None,
        "--pairs",
        help="Definitional pairs (YAML/JSON); needs --method bolukbasi [default: the shipped "
        "ones].",
    ),
    skip_missing: bool = typer.Option(False, "--skip-missing", help="Skip unknown words."),
    output: Path | None = output_option(PLOTS),
    out: Path | None = out_option(),
    exist_ok: bool = exist_ok_option(),
    vectors: Path | None = _vectors_opt(),
    fmt: Fmt | None = _format_opt(),
    trust_pickle: bool = _trust_opt(),
) -> None:
    """Show each word's projection cos(e_w, g) on the gender direction: table + bar chart."""
    source = _source(vectors, fmt, trust_pickle)
    options = jobs.BiasOptions(
        list(words or []), professions, professions_file, method.value, pairs, skip_missing,
        output, out, exist_ok, source,
    )  # fmt: skip
    jobs.bias(options)


@app.command()
def debias(
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        help="Vectors file to write, in the format its suffix names (.txt GloVe, .vec "
        "word2vec, .bin word2vec binary, .kv gensim) [default: vectors.<input's format> in "
        "the run folder].",
    ),
    out: Path | None = out_option(),
    exist_ok: bool = exist_ok_option(),
    method: DirectionMethod = typer.Option(
        DirectionMethod.course, "--method", help="course (woman − man) or bolukbasi (PCA)."
    ),
    gender_specific: Path | None = typer.Option(
        None,
        "--gender-specific",
        help="Words left out of neutralizing (YAML/JSON list) [default: the shipped list].",
    ),
    equalize_pairs: Path | None = typer.Option(
        None,
        "--equalize-pairs",
        help="Pairs to equalize (YAML/JSON list of [w1, w2]) [default: the shipped pairs].",
    ),
    definitional_pairs: Path | None = typer.Option(
        None,
        "--definitional-pairs",
        help="Pairs defining g for --method bolukbasi [default: the shipped pairs].",
    ),
    skip_missing: bool = typer.Option(
        False, "--skip-missing", help="Continue when a given list names unknown words."
    ),
    out_format: Fmt | None = typer.Option(
        None,
        "--out-format",
        help="Format of the output [default: -o's suffix; in a run folder the input's].",
    ),
    restrict: int = _restrict_opt(),
    professions_file: Path | None = typer.Option(
        None,
        "--professions-file",
        help="Professions for the report (YAML/JSON list) [default: the shipped list].",
    ),
    vectors: Path | None = _vectors_opt(),
    fmt: Fmt | None = _format_opt(),
    trust_pickle: bool = _trust_opt(),
) -> None:
    """Hard-debias the whole vocabulary and report bias and utility before/after.

    Neutralizes every word that is not gender-specific, equalizes the gender pairs (with
    their case variants) and writes vectors with unit-length rows: to -o FILE in the format
    its suffix names, or to the run folder in the input's format (GloVe text for the
    built-in vectors). An output that is one of the inputs is refused.
    """
    options = jobs.DebiasOptions(
        output, out, exist_ok, method.value, gender_specific, equalize_pairs, definitional_pairs,
        skip_missing, out_format.value if out_format else None, restrict, professions_file,
        _source(vectors, fmt, trust_pickle),
    )  # fmt: skip
    jobs.debias(options)


@app.command()
def evaluate(
    vectors_arg: Path | None = typer.Argument(
        None, metavar="[VECTORS]", help=VECTORS_HELP, show_default=False
    ),
    analogies: Path | None = typer.Option(
        None, "--analogies", help="Analogy file [default: questions-words.txt from gensim]."
    ),
    similarity_file: Path | None = typer.Option(
        None,
        "--similarity",
        help="Word pairs + scores (a bare name such as simlex999.txt is looked up in "
        "gensim's test data) [default: wordsim353.tsv].",
    ),
    restrict: int = _restrict_opt(),
    method: AnalogyMethod = typer.Option(AnalogyMethod.add, "--method", help="3CosAdd or 3CosMul."),
    vectors: Path | None = _vectors_opt(),
    fmt: Fmt | None = _format_opt(),
    trust_pickle: bool = _trust_opt(),
) -> None:
    """Report analogy accuracy per section (over the --restrict most frequent words) and
    Spearman's ρ on word-pair similarities."""
    source = _source(vectors, fmt, trust_pickle)
    jobs.evaluate(vectors_arg, analogies, similarity_file, restrict, method.value, source)


@app.command()
def plot(
    words: list[str] = typer.Argument(..., help="Two or more words."),
    output: Path | None = output_option(PLOTS),
    out: Path | None = out_option(),
    exist_ok: bool = exist_ok_option(),
    skip_missing: bool = typer.Option(False, "--skip-missing", help="Skip unknown words."),
    vectors: Path | None = _vectors_opt(),
    fmt: Fmt | None = _format_opt(),
    trust_pickle: bool = _trust_opt(),
) -> None:
    """Plot the words' vectors projected on their first two principal components."""
    source = _source(vectors, fmt, trust_pickle)
    jobs.plot(words, output, out, exist_ok, skip_missing, source)


def _complete_corpus(incomplete: str) -> list[str]:
    """Complete CORPUS with the built-in corpora; other words complete as file names (TAB)."""
    return [name for name in BUILTIN_CORPORA if name.startswith(incomplete)]


@app.command()
def train(
    ctx: typer.Context,
    corpus: str = typer.Argument(
        ...,
        help="Text file (one sentence per line) or a built-in corpus: lee, lee-test.",
        autocompletion=_complete_corpus,
    ),
    sg: bool = typer.Option(False, "--sg/--cbow", help="Skip-gram or CBOW."),
    dim: int = typer.Option(100, "--dim", min=1, max=10_000, help="Vector dimension."),
    window: int = typer.Option(5, "--window", min=1, max=1_000, help="Context window."),
    min_count: int = typer.Option(5, "--min-count", min=1, help="Ignore rarer words."),
    epochs: int = typer.Option(5, "--epochs", min=1, max=100_000, help="Passes over the corpus."),
    negative: int = typer.Option(5, "--negative", min=1, max=1_000, help="Negative samples."),
    workers: int = typer.Option(
        max(1, min(4, os.cpu_count() or 1)),
        "--workers",
        min=1,
        max=1_024,
        help="gensim worker threads.",
    ),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        help="Vectors file, in the format its suffix names (.bin word2vec binary, .vec "
        "word2vec, .txt GloVe, .kv gensim) [default: vectors.bin in the run folder].",
    ),
    out: Path | None = out_option(),
    exist_ok: bool = exist_ok_option(),
    out_format: Fmt | None = typer.Option(
        None,
        "--out-format",
        help="Format of the vectors [default: by -o's suffix, else word2vec-bin].",
    ),
    encoding: str = typer.Option("utf-8", "--encoding", help="Encoding of the CORPUS file."),
    force: bool = typer.Option(
        False, "--force", help="Train even when the estimated memory exceeds what is free."
    ),
    config: Path | None = typer.Option(
        None, "--config", help="YAML file of these options [default: none]."
    ),
) -> None:
    """Train Word2Vec (gensim) on CORPUS and save the word vectors; the run folder keeps the
    config and per-epoch losses."""
    from dltool.config import resolve_config

    skip = ("corpus", "output", "out", "exist_ok", "out_format", "force")
    params = resolve_config(ctx, config, exclude=skip)
    fmt_value = out_format.value if out_format else None
    jobs.train(jobs.TrainOptions(corpus, output, out, exist_ok, fmt_value, force), params)
