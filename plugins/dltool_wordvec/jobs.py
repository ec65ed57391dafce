"""``dltool wordvec``: nearest words, analogies, gender bias and hard debiasing, evaluation,
2-D plots and Word2Vec training. Heavy libraries are imported inside the commands."""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path
from typing import Any

import typer

from dltool.context import current
from dltool.errors import DltoolError

app = typer.Typer(
    help="Word vectors: similarity, analogies, gender-bias debiasing, evaluation, Word2Vec.",
    no_args_is_help=True,
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


VECTORS_HELP = "Vectors file (GloVe/word2vec text or binary, gensim .kv); default: GloVe 6B 50d."
FORMAT_HELP = "Format of --vectors: glove, word2vec, word2vec-bin or kv (default: detected)."


def _vectors_opt() -> Any:
    """Return the --vectors/-V option shared by the commands."""
    return typer.Option(None, "--vectors", "-V", help=VECTORS_HELP)


def _format_opt() -> Any:
    """Return the --format option shared by the commands."""
    return typer.Option(None, "--format", help=FORMAT_HELP)


def _load(vectors: Path | None, fmt: Fmt | None) -> Any:
    """Return the Embeddings of ``vectors`` (default: the embedded GloVe)."""
    from dltool_wordvec import vectors as vec

    emb = vec.load(vectors, fmt and fmt.value)
    current().reporter.info(f"vectors: {emb.source} ({len(emb.words):,} words × {emb.dim})")
    return emb


def _check_out(out: Path | None, example: str) -> None:
    """Refuse an output path that is an existing directory; called before any work."""
    if out is not None and out.is_dir():
        raise DltoolError(
            f"output {out} is a directory", hint=f"give a file name, e.g. -o {out / example}"
        )


def _png_path(out: Path | None, command: str, name: str) -> Path:
    """Return ``out`` or ``runs/wordvec/<command>/<N>/<name>``."""
    if out is not None:
        return out
    return current().run_dir("wordvec", command).file(name)


@app.command()
def similar(
    word: str = typer.Argument(..., help="Word whose nearest neighbours to list."),
    n: int = typer.Option(10, "-n", min=1, help="How many words."),
    vectors: Path | None = _vectors_opt(),
    fmt: Fmt | None = _format_opt(),
) -> None:
    """List the N words with the highest cosine similarity to WORD."""
    from dltool_wordvec.similarity import most_similar

    emb = _load(vectors, fmt)
    row = emb.index(word)
    rows, cos = most_similar(emb.unit, row, n)
    table = [
        {"rank": k + 1, "word": emb.words[r], "cosine": float(c)}
        for k, (r, c) in enumerate(zip(rows, cos, strict=True))
    ]
    current().reporter.table(f"Nearest to '{emb.words[row]}'", table, key="similar")


@app.command()
def similarity(
    word1: str = typer.Argument(...),
    word2: str = typer.Argument(...),
    vectors: Path | None = _vectors_opt(),
    fmt: Fmt | None = _format_opt(),
) -> None:
    """Print the cosine similarity u·v / (‖u‖‖v‖) of two words."""
    from dltool_wordvec.similarity import cosine_similarity

    emb = _load(vectors, fmt)
    i, j = emb.index(word1), emb.index(word2)
    cos = cosine_similarity(emb.vectors[i].astype("float64"), emb.vectors[j].astype("float64"))
    current().reporter.result("cosine", cos, label=f"cosine({emb.words[i]}, {emb.words[j]})")


@app.command()
def analogy(
    a: str = typer.Argument(..., help="a in a : b :: c : ?"),
    b: str = typer.Argument(..., help="b in a : b :: c : ?"),
    c: str = typer.Argument(..., help="c in a : b :: c : ?"),
    n: int = typer.Option(5, "-n", min=1, help="How many answers."),
    method: AnalogyMethod = typer.Option(AnalogyMethod.add, "--method", help="3CosAdd or 3CosMul."),
    vectors: Path | None = _vectors_opt(),
    fmt: Fmt | None = _format_opt(),
) -> None:
    """Answer a : b :: c : ? (man woman king → queen); the input words are excluded."""
    from dltool_wordvec.similarity import analogy as solve

    method = method.value
    emb = _load(vectors, fmt)
    ia, ib, ic = emb.index(a), emb.index(b), emb.index(c)
    rows, scores = solve(emb.unit, ia, ib, ic, n, method)
    table = [
        {"rank": k + 1, "word": emb.words[r], "score": float(s)}
        for k, (r, s) in enumerate(zip(rows, scores, strict=True))
    ]
    title = f"{emb.words[ia]} : {emb.words[ib]} :: {emb.words[ic]} : ? (3Cos{method.title()})"
    current().reporter.table(title, table, key="analogy")


@app.command("doesnt-match")
def doesnt_match(
    words: list[str] = typer.Argument(..., help="Three or more words."),
    vectors: Path | None = _vectors_opt(),
    fmt: Fmt | None = _format_opt(),
) -> None:
    """Name the word least similar to the mean of the others' unit vectors."""
    from dltool_wordvec.similarity import doesnt_match as odd_one

    if len(words) < 3:
        raise DltoolError("doesnt-match needs at least 3 words")
    emb = _load(vectors, fmt)
    rows, _ = emb.indices(words)
    pos, cos = odd_one(emb.unit[rows])
    table = [
        {"word": emb.words[r], "cosine_to_mean": float(x)} for r, x in zip(rows, cos, strict=True)
    ]
    rep = current().reporter
    rep.table("Cosine to the mean", sorted(table, key=lambda t: t["cosine_to_mean"]), key="words")
    rep.result("doesnt_match", emb.words[rows[pos]], label="doesn't match")


# ---------------------------------------------------------------- bias and debiasing


def _resolve_pairs(
    emb: Any, pairs: list[tuple[str, str]], skip_missing: bool, user_file: Path | None
) -> list[tuple[int, int]]:
    """Return the pairs' rows; unknown words are an error for a user's file without
    --skip-missing, and are skipped (with a note) otherwise."""
    rows, missing = [], []
    for w1, w2 in pairs:
        i, j = emb.lookup(w1), emb.lookup(w2)
        missing += [w for w, k in ((w1, i), (w2, j)) if k is None]
        if i is not None and j is not None:
            rows.append((emb.key_to_index[i], emb.key_to_index[j]))
    _missing(missing, skip_missing, user_file, "words of pairs")
    return rows


def _missing(missing: list[str], skip_missing: bool, user_file: Path | None, what: str) -> None:
    """Fail on or report the words of a list that the vocabulary lacks."""
    if not missing:
        return
    names = sorted(set(missing))
    if user_file is not None and not skip_missing:
        listed = ", ".join(names[:30]) + (" …" if len(names) > 30 else "")
        raise DltoolError(
            f"{user_file} names {len(names)} words not in the vocabulary: {listed}",
            hint="add --skip-missing to continue with the rest",
        )
    short = ", ".join(names[:12]) + (" …" if len(names) > 12 else "")
    current().reporter.info(f"skipped {len(names)} {what} not in the vocabulary: {short}")


def _direction(
    emb: Any, method: str, pairs_file: Path | None, skip_missing: bool, unit: bool
) -> Any:
    """Return the bias direction g (float64): woman − man (course) or the first principal
    component of the centred definitional pairs (bolukbasi); ``unit`` uses unit vectors."""
    import numpy as np

    from dltool_wordvec import debias, wordlists

    E = emb.unit if unit else emb.vectors
    if method == "course":
        return debias.bias_direction(
            E[emb.index("woman")].astype(np.float64), E[emb.index("man")].astype(np.float64)
        )
    pairs = _resolve_pairs(
        emb, wordlists.pairs("definitional_pairs", pairs_file), skip_missing, pairs_file
    )
    if len(pairs) < 2:
        raise DltoolError("the bias direction needs at least 2 definitional pairs in vocabulary")
    P = np.stack([[emb.unit[i], emb.unit[j]] for i, j in pairs]).astype(np.float64)
    return debias.bias_direction_pca(P)  # (d,)


@app.command()
def bias(
    words: list[str] | None = typer.Argument(None, help="Words to project (or --professions)."),
    professions: bool = typer.Option(False, "--professions", help="Use the shipped professions."),
    professions_file: Path | None = typer.Option(
        None, "--professions-file", help="Your own professions list (YAML/JSON) for --professions."
    ),
    method: DirectionMethod = typer.Option(
        DirectionMethod.course, "--method", help="course (woman − man) or bolukbasi (PCA)."
    ),
    pairs: Path | None = typer.Option(None, "--pairs", help="Definitional pairs file."),
    skip_missing: bool = typer.Option(False, "--skip-missing", help="Skip unknown words."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Bar chart PNG path."),
    vectors: Path | None = _vectors_opt(),
    fmt: Fmt | None = _format_opt(),
) -> None:
    """Show each word's projection cos(e_w, g) on the gender direction: table + bar chart."""
    import numpy as np

    from dltool_wordvec import wordlists
    from dltool_wordvec.debias import cosine_to

    if not words and not professions:
        raise DltoolError("give words to project or --professions")
    _check_out(out, "bias.png")
    listed = wordlists.words("professions", professions_file) if professions else []
    emb = _load(vectors, fmt)
    names = list(words or []) + listed
    rows, missing = emb.indices(names, skip_missing=skip_missing or professions)
    _missing(missing, True, None, "words")
    method = method.value
    g = _direction(emb, method, pairs, skip_missing, unit=False)
    proj = cosine_to(emb.vectors[rows].astype(np.float64), g)
    order = np.argsort(proj)
    table = [{"word": emb.words[rows[k]], "projection": float(proj[k])} for k in order]
    rep = current().reporter
    rep.table(f"Projection on the gender direction ({method}; > 0: female side)", table, key="bias")
    png = _png_path(out, "bias", "bias.png")
    _bar_chart(png, table, method)
    rep.result("plot", str(png), label="bar chart")


def _bar_chart(path: Path, table: list[dict], method: str) -> None:
    """Draw the projections as horizontal bars (female side right, male side left)."""
    from dltool.report import figure

    height = max(3.0, 0.22 * len(table) + 1)
    with figure(path, figsize=(7, height)) as (_fig, ax):
        values = [t["projection"] for t in table]
        colors = ["tab:red" if v > 0 else "tab:blue" for v in values]
        ax.barh([t["word"] for t in table], values, color=colors)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel("cos(e_w, g)   ← male · female →")
        ax.set_title(f"Projection on the gender direction g ({method})")
        ax.tick_params(axis="y", labelsize=8)
        ax.margins(y=0.01)


def _with_case_variants(emb: Any, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Return the pairs plus their Title-case and UPPER-case forms present in the vocabulary."""
    out = []
    for w1, w2 in pairs:
        for form in (str.lower, str.title, str.upper):
            v1, v2 = form(w1), form(w2)
            if (v1, v2) not in out and (
                form is str.lower or (v1 in emb.key_to_index and v2 in emb.key_to_index)
            ):
                out.append((v1, v2))
    return out


def _disjoint(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Keep each row in its first pair only (equalizing a word twice is ill-defined)."""
    used: set[int] = set()
    kept = []
    for i, j in pairs:
        if i != j and i not in used and j not in used:
            kept.append((i, j))
            used.update((i, j))
    return kept


@app.command()
def debias(
    out: Path = typer.Option(..., "--out", "-o", help="Where to write the debiased vectors."),
    method: DirectionMethod = typer.Option(
        DirectionMethod.course, "--method", help="course (woman − man) or bolukbasi (PCA)."
    ),
    gender_specific: Path | None = typer.Option(
        None, "--gender-specific", help="Words left out of neutralizing (YAML/JSON list)."
    ),
    equalize_pairs: Path | None = typer.Option(
        None, "--equalize-pairs", help="Pairs to equalize (YAML/JSON list of [w1, w2])."
    ),
    definitional_pairs: Path | None = typer.Option(
        None, "--definitional-pairs", help="Pairs defining g for --method bolukbasi."
    ),
    skip_missing: bool = typer.Option(
        False, "--skip-missing", help="Continue when a given list names unknown words."
    ),
    out_format: Fmt | None = typer.Option(
        None, "--out-format", help="Format of OUT (default: the input's, or OUT's suffix)."
    ),
    restrict: int = typer.Option(30000, "--restrict", min=10, help="Analogy search vocabulary."),
    professions_file: Path | None = typer.Option(
        None, "--professions-file", help="Professions for the report (YAML/JSON list)."
    ),
    vectors: Path | None = _vectors_opt(),
    fmt: Fmt | None = _format_opt(),
) -> None:
    """Hard-debias the whole vocabulary and report bias and utility before/after.

    Neutralizes every word that is not gender-specific, equalizes the gender pairs (with
    their case variants) and writes OUT with unit-length rows, in the input's format (for the
    built-in vectors: by OUT's suffix, .kv/.bin/.vec, else GloVe text).
    """
    import numpy as np
    import torch

    from dltool_wordvec import debias_torch, wordlists
    from dltool_wordvec import vectors as vec

    _check_out(out, "vectors.txt")
    s = current()
    rep = s.reporter
    emb = _load(vectors, fmt)
    out_format = (out_format and out_format.value) or (
        vec.format_for(out) if emb.format == "builtin" else emb.format
    )
    profs = wordlists.words("professions", professions_file)
    eq_pairs = _with_case_variants(emb, wordlists.pairs("equalize_pairs", equalize_pairs))
    pair_rows = _disjoint(_resolve_pairs(emb, eq_pairs, skip_missing, equalize_pairs))
    specific = wordlists.words("gender_specific", gender_specific)
    spec_rows, missing = emb.indices(specific, skip_missing=True)
    spec_rows += [
        emb.key_to_index[v]
        for w in specific
        for v in {w.title(), w.upper()} - {w}
        if v in emb.key_to_index
    ]
    _missing(missing, skip_missing, gender_specific, "gender-specific words")
    g = _direction(emb, method.value, definitional_pairs, skip_missing, unit=True)
    defn = wordlists.pairs("definitional_pairs", definitional_pairs)
    keep = set(spec_rows) | {r for p in pair_rows for r in p}
    keep |= {emb.key_to_index[k] for p in defn for w in p if (k := emb.lookup(w))}
    neutral = np.ones(len(emb.words), dtype=bool)
    neutral[sorted(keep)] = False
    rep.info(
        f"neutralizing {int(neutral.sum()):,} words, equalizing {len(pair_rows)} pairs "
        f"on {s.device}"
    )
    E = torch.from_numpy(np.array(emb.vectors, dtype=np.float32)).to(s.device)  # (V, d)
    g_t = torch.from_numpy(g.astype(np.float32)).to(s.device)
    D = debias_torch.hard_debias(
        E,
        g_t,
        torch.from_numpy(neutral).to(s.device),
        torch.tensor(pair_rows, dtype=torch.long, device=s.device).reshape(-1, 2),
    )
    D = D.cpu().numpy()
    _report_before_after(emb, D, g, restrict, profs)
    rep.info(f"writing {out} ({out_format})")
    vec.save(emb.words, D, out, out_format)
    rep.result("output", str(out), label=f"debiased vectors ({out_format})")


def _report_before_after(emb: Any, D: Any, g: Any, restrict: int, professions: list[str]) -> None:
    """Tabulate professions' projections, WEAT effect size and analogy accuracy before/after."""
    import numpy as np

    from dltool_wordvec import evaluate
    from dltool_wordvec.debias import cosine_to
    from dltool_wordvec.similarity import normalize_rows

    rep = current().reporter
    before = emb.unit
    rows, _ = emb.indices(professions, skip_missing=True)
    if rows:
        pb = cosine_to(before[rows].astype(np.float64), g)
        pa = cosine_to(D[rows].astype(np.float64), g)
        order = np.argsort(-np.abs(pb))[:15]
        rep.table(
            "Professions: projection on g before → after",
            [
                {"word": emb.words[rows[k]], "before": float(pb[k]), "after": float(pa[k])}
                for k in order
            ],
            key="professions",
        )
    summary = []
    if rows:
        summary.append(
            {
                "measure": "mean |projection| of professions on g",
                "before": float(np.abs(pb).mean()),
                "after": float(np.abs(pa).mean()),
            }
        )
    weat = _weat(emb, before, D)
    if weat is not None:
        summary.append({"measure": "WEAT effect size (career/family vs male/female)", **weat})
    sections = evaluate.read_analogies(evaluate.gensim_test_file("questions-words.txt"))
    rep.info("measuring analogy accuracy before and after (questions-words.txt)")
    accs = [_analogy_total(emb.words, U, sections, restrict) for U in (before, normalize_rows(D))]
    summary.append(
        {
            "measure": f"analogy accuracy (questions-words, top {restrict:,})",
            "before": accs[0],
            "after": accs[1],
        }
    )
    rep.table("Before → after", summary, key="before_after")


def _weat(emb: Any, before: Any, after: Any) -> dict | None:
    """Return the WEAT effect size before and after, or None when a set is out of vocabulary."""
    from dltool_wordvec import evaluate, wordlists
    from dltool_wordvec.similarity import normalize_rows

    sets = wordlists.weat_sets()
    groups = [
        sets["targets"]["career"],
        sets["targets"]["family"],
        sets["attributes"]["male"],
        sets["attributes"]["female"],
    ]
    rows = [emb.indices(ws, skip_missing=True)[0] for ws in groups]
    if min(len(r) for r in rows) < 2:
        return None
    out = {}
    for name, U in (("before", before), ("after", after)):
        parts = [normalize_rows(U[r].astype("float64")) for r in rows]
        out[name] = evaluate.weat_effect_size(*parts)
    return out


def _analogy_total(words: list[str], unit: Any, sections: list, restrict: int) -> float:
    """Return the overall 3CosAdd accuracy, searched by :func:`_device_search`."""
    from dltool_wordvec import evaluate

    rows = evaluate.analogy_accuracy(words, unit, sections, restrict, search=_device_search)
    return rows[-1]["accuracy"]


def _device_search(unit: Any, questions: Any, method: str) -> Any:
    """Run the batched analogy search on the session device: the torch twin on an accelerator,
    the NumPy reference on CPU (where its BLAS matmul measured twice as fast)."""
    import numpy as np

    dev = current().device
    if dev.type == "cpu":
        from dltool_wordvec.similarity import analogy_batch as numpy_batch

        return numpy_batch(unit, questions, method)
    import torch

    from dltool_wordvec.similarity_torch import analogy_batch

    U = torch.from_numpy(np.ascontiguousarray(unit, dtype=np.float32)).to(dev)
    Q = torch.from_numpy(questions).to(dev)
    return analogy_batch(U, Q, method).cpu().numpy()


# ---------------------------------------------------------------- evaluation and plots


@app.command()
def evaluate(
    vectors_arg: Path | None = typer.Argument(None, metavar="[VECTORS]", help=VECTORS_HELP),
    analogies: Path | None = typer.Option(
        None, "--analogies", help="Analogy file (default: questions-words.txt from gensim)."
    ),
    similarity_file: Path | None = typer.Option(
        None,
        "--similarity",
        help="Word pairs + scores (default: wordsim353.tsv; a bare name such as "
        "simlex999.txt is looked up in gensim's test data).",
    ),
    restrict: int = typer.Option(30000, "--restrict", min=10, help="Analogy search vocabulary."),
    method: AnalogyMethod = typer.Option(AnalogyMethod.add, "--method", help="3CosAdd or 3CosMul."),
    vectors: Path | None = _vectors_opt(),
    fmt: Fmt | None = _format_opt(),
) -> None:
    """Report analogy accuracy per section and Spearman's ρ on word-pair similarities."""
    from dltool_wordvec import evaluate as ev

    method = method.value
    if vectors_arg is not None and vectors is not None and vectors_arg != vectors:
        raise DltoolError("give the vectors either as VECTORS or with --vectors, not both")
    sections = ev.read_analogies(ev.data_file(analogies, "questions-words.txt"))
    pairs_path = ev.data_file(similarity_file, "wordsim353.tsv")
    pairs = ev.read_word_pairs(pairs_path)
    emb = _load(vectors_arg or vectors, fmt)
    rows = ev.analogy_accuracy(emb.words, emb.unit, sections, restrict, method, _device_search)
    rep = current().reporter
    rep.table(f"Analogies (3Cos{method.title()}, top {restrict:,} words)", rows, key="analogies")

    def row_of(w: str) -> int | None:
        key = emb.lookup(w)
        return None if key is None else emb.key_to_index[key]

    corr = ev.word_pair_correlation(row_of, emb.unit, pairs)
    rep.table(f"Word-pair similarity ({pairs_path.name})", [corr], key="similarity")


@app.command()
def plot(
    words: list[str] = typer.Argument(..., help="Two or more words."),
    out: Path | None = typer.Option(None, "--out", "-o", help="PNG path."),
    skip_missing: bool = typer.Option(False, "--skip-missing", help="Skip unknown words."),
    vectors: Path | None = _vectors_opt(),
    fmt: Fmt | None = _format_opt(),
) -> None:
    """Plot the words' vectors projected on their first two principal components (PNG)."""
    import numpy as np

    from dltool.report import figure

    _check_out(out, "words.png")
    emb = _load(vectors, fmt)
    rows, missing = emb.indices(words, skip_missing=skip_missing)
    _missing(missing, True, None, "words")
    if len(rows) < 2:
        raise DltoolError("plot needs at least 2 known words")
    X = np.asarray(emb.vectors[rows], dtype=np.float64)  # (k, d)
    Xc = X - X.mean(axis=0)
    _, sv, vt = np.linalg.svd(Xc, full_matrices=False)
    Z = Xc @ vt[:2].T  # (k, 2)
    explained = (sv[:2] ** 2 / max((sv**2).sum(), 1e-300)).tolist()
    png = _png_path(out, "plot", "words.png")
    with figure(png, figsize=(7, 6)) as (_fig, ax):
        Z = Z if Z.shape[1] > 1 else np.c_[Z, np.zeros(len(Z))]  # (k, 2)
        ax.scatter(Z[:, 0], Z[:, 1], s=18)
        for (x, y), r in zip(Z, rows, strict=True):
            ax.annotate(emb.words[r], (x, y), textcoords="offset points", xytext=(4, 3))
        ax.set_xlabel(f"PC1 ({explained[0]:.0%} of variance)")
        if len(explained) > 1:
            ax.set_ylabel(f"PC2 ({explained[1]:.0%} of variance)")
        ax.set_title(f"{len(rows)} words, 2-D PCA of {emb.source}")
    current().reporter.result("plot", str(png), label="plot")


# ---------------------------------------------------------------- training


@app.command()
def train(
    ctx: typer.Context,
    corpus: str = typer.Argument(
        ..., help="Text file (one sentence per line) or a built-in corpus: lee, lee-test."
    ),
    sg: bool = typer.Option(False, "--sg/--cbow", help="Skip-gram or CBOW (default)."),
    dim: int = typer.Option(100, "--dim", min=1, help="Vector dimension."),
    window: int = typer.Option(5, "--window", min=1, help="Context window."),
    min_count: int = typer.Option(5, "--min-count", min=1, help="Ignore rarer words."),
    epochs: int = typer.Option(5, "--epochs", min=1, help="Passes over the corpus."),
    negative: int = typer.Option(5, "--negative", min=1, help="Negative samples."),
    workers: int = typer.Option(
        max(1, min(4, os.cpu_count() or 1)), "--workers", min=1, help="gensim worker threads."
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Vectors file: .kv gensim, .bin/.vec word2vec, .txt GloVe."
    ),
    out_format: Fmt | None = typer.Option(None, "--out-format", help="Format of OUT."),
    encoding: str = typer.Option("utf-8", "--encoding", help="Encoding of the CORPUS file."),
    config: Path | None = typer.Option(None, "--config", help="YAML file of these options."),
) -> None:
    """Train Word2Vec (gensim) on CORPUS and save the word vectors."""
    from dltool.config import resolve_config
    from dltool_wordvec import train as tr
    from dltool_wordvec import vectors as vec

    s = current()
    params = resolve_config(ctx, config, exclude=("corpus", "out", "out_format"))
    epochs, encoding = params.pop("epochs"), params.pop("encoding")
    _check_out(out, "vectors.kv")
    corpus_lines = tr.open_corpus(corpus, encoding)
    path = corpus_lines.path
    s.reporter.info(f"corpus: {path}")
    seed = s.seed if s.seed is not None else 1
    model = tr.build_word2vec(corpus_lines, seed=seed, **params)
    run = s.run_dir("wordvec", "train")  # made once the corpus and vocabulary are good
    dest = out or run.file("vectors.kv")
    out_format = (out_format and out_format.value) or vec.format_for(dest, default="word2vec")
    config_row = {"corpus": str(path), "encoding": corpus_lines.encoding, **params}
    run.write_config({**config_row, "epochs": epochs, "out": str(dest), "format": out_format})
    with s.reporter.progress(epochs, "word2vec") as bar:

        def on_epoch(epoch: int, loss: float) -> None:
            run.log_metrics(epoch=epoch, loss=loss)
            bar.advance(1, loss=loss)

        tr.train_word2vec(model, corpus_lines, epochs, on_epoch)
    wv = model.wv
    vec.save(list(wv.index_to_key), wv.vectors, dest, out_format)
    s.reporter.result("vocabulary", len(wv.index_to_key), label="words")
    s.reporter.result("output", str(dest), label=f"vectors ({out_format})")
