"""The jobs of ``dltool wordvec``: what each command does, called by ``cli.py`` with plain values.

Nearest words, analogies, gender bias and hard debiasing, evaluation, 2-D plots and Word2Vec
training. Vectors come from ``--vectors`` (a file, or the run folder of ``train``/``debias``)
or the built-in GloVe; a gensim pickle is read only with ``--trust-pickle``. One output file
is ``-o/--output FILE`` (format by its suffix), ``--out`` is always a run folder. Heavy
libraries are imported inside the jobs.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from dltool.context import current
from dltool.device import available_bytes
from dltool.errors import DltoolError
from dltool.runs import CONFIG, METRICS, check_not_input, check_out

VECTOR_SUFFIX = {"glove": ".txt", "word2vec": ".vec", "word2vec-bin": ".bin", "kv": ".kv"}
VECTOR_FORMATS_HINT = (
    "name a file ending in .txt (GloVe), .vec (word2vec), .bin (word2vec binary) or .kv "
    "(gensim pickle), or give --out-format"
)


@dataclass(frozen=True)
class Source:
    """Where the vectors come from: ``--vectors`` (None: built-in GloVe), ``--format``,
    ``--trust-pickle``."""

    path: Path | None = None
    fmt: str | None = None
    trust_pickle: bool = False


@dataclass
class BiasOptions:
    """Options of ``wordvec bias``."""

    words: list[str]
    professions: bool
    professions_file: Path | None
    method: str
    pairs: Path | None
    skip_missing: bool
    output: Path | None
    out: Path | None
    exist_ok: bool
    source: Source = field(default_factory=Source)


@dataclass
class DebiasOptions:
    """Options of ``wordvec debias``."""

    output: Path | None
    out: Path | None
    exist_ok: bool
    method: str
    gender_specific: Path | None
    equalize_pairs: Path | None
    definitional_pairs: Path | None
    skip_missing: bool
    out_format: str | None
    restrict: int
    professions_file: Path | None
    source: Source = field(default_factory=Source)


@dataclass
class TrainOptions:
    """Options of ``wordvec train`` besides the gensim ones (which --config may set)."""

    corpus: str
    output: Path | None
    out: Path | None
    exist_ok: bool
    out_format: str | None
    force: bool


# ---------------------------------------------------------------- vectors in, files out


def _threads() -> int:
    """Return the width for one memory-bound query: the user's --threads, else 1."""
    from dltool.device import small_step_threads

    return small_step_threads(current().threads)


def vectors_path(path: Path | None) -> Path | None:
    """Return the vectors file ``path`` names: itself, or the output of the run folder it is.

    A number that is no file names a run of ``wordvec train`` (``runs/wordvec/train/N``).
    """
    from dltool.runs import find_run, holds_run, read_config

    if path is not None and not path.exists() and str(path).isdigit():
        path = find_run(path, "wordvec", "train")
    if path is None or not path.is_dir() or not holds_run(path):
        return path
    name = read_config(path).get("output") or read_config(path).get("out")
    if isinstance(name, str):
        for candidate in (path / name, Path(name), path / Path(name).name):
            if candidate.is_file():
                return candidate
    raise DltoolError(
        f"run {path} holds no vectors file ({name or 'none named in its config.yaml'})",
        hint="give the vectors file itself with --vectors",
    )


def load(source: Source) -> Any:
    """Return the Embeddings of ``source`` (default: the embedded GloVe); note zero rows."""
    from dltool_wordvec import vectors as vec

    rep = current().reporter
    path = vectors_path(source.path)
    if path is not None:
        vec.check_file(path)
        if source.trust_pickle and (source.fmt or vec.detect_format(path)) == "kv":
            rep.warn(
                f"--trust-pickle: loading {path} with pickle, which runs any code the file "
                "holds; use it only for files you made or trust"
            )
    emb = vec.load(path, source.fmt, source.trust_pickle)
    rep.info(f"vectors: {emb.source} ({len(emb.words):,} words × {emb.dim})")
    zero = emb.zero_rows
    if zero.size:
        names = ", ".join(emb.words[r] for r in zero[:8]) + (" …" if zero.size > 8 else "")
        rep.warn(f"{zero.size:,} words have zero vectors (no direction), left out: {names}")
    return emb


def _check_file_output(output: Path | None, example: str) -> None:
    """Refuse an output path that is an existing directory or lies under a file (its nearest
    existing parent is not a folder); called before any work."""
    if output is None:
        return
    if output.is_dir():
        raise DltoolError(
            f"output {output} is a directory",
            hint=f"give a file name, e.g. -o {output / example}, or --out {output} for a run "
            "folder",
        )
    parent = next((p for p in output.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise DltoolError(
            f"cannot write {output}: {parent} is a file, not a folder",
            hint=f"give -o a path inside a folder, e.g. -o {output.name}",
        )


def _check_outputs(output: Path | None, out: Path | None, exist_ok: bool, example: str) -> None:
    """Refuse ``-o`` with ``--out``, an ``-o`` directory or path under a file, or an ``--out``
    that is a file or holds a run (without --exist-ok); called before any work."""
    if output is not None and out is not None:
        raise DltoolError(
            "give -o FILE (one file) or --out DIR (a run folder), not both",
            hint="drop one of them",
        )
    _check_file_output(output, example)
    check_out(out, exist_ok)


def _check_plot_output(output: Path | None, out: Path | None, exist_ok: bool, example: str) -> None:
    """Refuse bad plot outputs before any work (the suffix must name a plot format)."""
    from dltool.report import output_format

    _check_outputs(output, out, exist_ok, example)
    if output is not None:
        output_format(output)


def _run_file(command: str, out: Path | None, exist_ok: bool, name: str, config: dict) -> Path:
    """Create the run folder (``--out`` or the next ``runs/wordvec/<command>/N``), write its
    config and return the path of ``name`` in it."""
    run = current().run_dir("wordvec", command, out, exist_ok)
    run.write_config({**config, "output": name})
    return run.file(name)


def _output_format(output: Path, out_format: str | None) -> str:
    """Return the vectors format of ``-o FILE``: --out-format, else the one its suffix names."""
    from dltool_wordvec.vectors import SUFFIX_FORMATS

    fmt = out_format or SUFFIX_FORMATS.get(output.suffix.lower())
    if fmt is None:
        raise DltoolError(
            f"cannot tell the vectors format of {output} from its suffix", VECTOR_FORMATS_HINT
        )
    return fmt


def _source_config(source: dict) -> dict:
    """Return the config entries of a vectors source (as ``asdict`` gives it)."""
    return {"vectors": source["path"] or "builtin", "format": source["fmt"]}


def _options(options: Any) -> dict:
    """Return the options of a job as a config mapping (the vectors source flattened)."""
    config = asdict(options)
    source = _source_config(config.pop("source"))
    return {**config, **source}


# ---------------------------------------------------------------- similarity


def similar(word: str, n: int, source: Source) -> None:
    """List the ``n`` words with the highest cosine similarity to ``word``."""
    from dltool_wordvec.similarity import most_similar

    emb = load(source)
    row = emb.index(word)
    emb.check_direction([row])
    rows, cos = most_similar(emb.unit, row, n, exclude=emb.zero_rows, threads=_threads())
    table = [
        {"rank": k + 1, "word": emb.words[r], "cosine": float(c)}
        for k, (r, c) in enumerate(zip(rows, cos, strict=True))
    ]
    current().reporter.table(f"Nearest to '{emb.words[row]}'", table, key="similar")


def similarity(word1: str, word2: str, source: Source) -> None:
    """Print the cosine similarity of two words."""
    from dltool_wordvec.similarity import cosine_similarity

    emb = load(source)
    i, j = emb.index(word1), emb.index(word2)
    emb.check_direction([i, j])
    cos = cosine_similarity(emb.vectors[i].astype("float64"), emb.vectors[j].astype("float64"))
    current().reporter.result("cosine", cos, label=f"cosine({emb.words[i]}, {emb.words[j]})")


def analogy(words: tuple[str, str, str], n: int, method: str, source: Source) -> None:
    """Answer a : b :: c : ? with the ``n`` best words, the inputs excluded."""
    from dltool_wordvec.similarity import analogy as solve

    emb = load(source)
    ia, ib, ic = (emb.index(w) for w in words)
    emb.check_direction([ia, ib, ic])
    rows, scores = solve(emb.unit, ia, ib, ic, n, method, emb.zero_rows, _threads())
    table = [
        {"rank": k + 1, "word": emb.words[r], "score": float(s)}
        for k, (r, s) in enumerate(zip(rows, scores, strict=True))
    ]
    title = f"{emb.words[ia]} : {emb.words[ib]} :: {emb.words[ic]} : ? (3Cos{method.title()})"
    current().reporter.table(title, table, key="analogy")


def doesnt_match(words: list[str], source: Source) -> None:
    """Name the word least similar to the mean of the others' unit vectors."""
    from dltool_wordvec.similarity import doesnt_match as odd_one

    if len(words) < 3:
        raise DltoolError("doesnt-match needs at least 3 words", hint="give three or more words")
    emb = load(source)
    rows, _ = emb.indices(words)
    emb.check_direction(rows)
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
        g = debias.bias_direction(
            E[emb.index("woman")].astype(np.float64), E[emb.index("man")].astype(np.float64)
        )
    else:
        pairs = _resolve_pairs(
            emb, wordlists.pairs("definitional_pairs", pairs_file), skip_missing, pairs_file
        )
        if len(pairs) < 2:
            raise DltoolError(
                "the bias direction needs at least 2 definitional pairs in vocabulary",
                hint="give --definitional-pairs (or --pairs) a file of pairs these vectors know",
            )
        P = np.stack([[emb.unit[i], emb.unit[j]] for i, j in pairs]).astype(np.float64)
        g = debias.bias_direction_pca(P)  # (d,)
    if not np.any(g):
        raise DltoolError(
            "the bias direction g is zero (its words have equal vectors)",
            hint="check the vectors of 'woman' and 'man', or use --method bolukbasi",
        )
    return g


def _bias_lists(o: BiasOptions) -> list[str]:
    """Return the professions to project (``--professions``), having read every list file given
    before any work: ``--professions-file`` needs ``--professions``, ``--pairs`` needs
    ``--method bolukbasi`` (a file the command would not read is refused, not ignored)."""
    from dltool_wordvec import wordlists

    if o.professions_file is not None and not o.professions:
        raise DltoolError(
            "--professions-file is read only with --professions",
            hint="add --professions to project the words of that file",
        )
    if o.pairs is not None:
        if o.method != "bolukbasi":
            raise DltoolError(
                f"--pairs is read only with --method bolukbasi (not {o.method})",
                hint="add --method bolukbasi, or drop --pairs",
            )
        wordlists.pairs("definitional_pairs", o.pairs)
    return wordlists.words("professions", o.professions_file) if o.professions else []


def bias(o: BiasOptions) -> None:
    """Show each word's projection cos(e_w, g) on the gender direction: table + bar chart."""
    import numpy as np

    from dltool_wordvec.debias import cosine_to

    if not o.words and not o.professions:
        raise DltoolError(
            "give words to project or --professions",
            hint="e.g. dltool wordvec bias nurse engineer, or --professions",
        )
    _check_plot_output(o.output, o.out, o.exist_ok, "bias.png")
    check_not_input(o.output, [vectors_path(o.source.path), o.professions_file, o.pairs])
    listed = _bias_lists(o)
    emb = load(o.source)
    rows, missing = emb.indices(
        list(o.words) + listed, skip_missing=o.skip_missing or o.professions
    )
    _missing(missing, True, None, "words")
    rows = [r for r in rows if r not in set(emb.zero_rows.tolist())]
    if not rows:
        raise DltoolError(
            "none of the words has a vector to project", hint="give words these vectors know"
        )
    g = _direction(emb, o.method, o.pairs, o.skip_missing, unit=False)
    proj = cosine_to(emb.vectors[rows].astype(np.float64), g)
    table = [{"word": emb.words[rows[k]], "projection": float(proj[k])} for k in np.argsort(proj)]
    rep = current().reporter
    title = f"Projection on the gender direction ({o.method}; > 0: female side)"
    rep.table(title, table, key="bias")
    dest = o.output or _run_file("bias", o.out, o.exist_ok, "bias.png", _options(o))
    from dltool_wordvec.plots import bar_chart

    bar_chart(dest, table, o.method)
    rep.result("plot", str(dest), label="bar chart")


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


def _debias_rows(emb: Any, o: DebiasOptions) -> tuple[Any, list[tuple[int, int]]]:
    """Return (mask of the rows to neutralize (V,), the row pairs to equalize): every word but
    the gender-specific ones, the equalize pairs and the definitional words (with case forms)."""
    import numpy as np

    from dltool_wordvec import wordlists

    eq_pairs = _with_case_variants(emb, wordlists.pairs("equalize_pairs", o.equalize_pairs))
    pair_rows = _disjoint(_resolve_pairs(emb, eq_pairs, o.skip_missing, o.equalize_pairs))
    specific = wordlists.words("gender_specific", o.gender_specific)
    spec_rows, missing = emb.indices(specific, skip_missing=True)
    spec_rows += [
        emb.key_to_index[v]
        for w in specific
        for v in {w.title(), w.upper()} - {w}
        if v in emb.key_to_index
    ]
    _missing(missing, o.skip_missing, o.gender_specific, "gender-specific words")
    defn = wordlists.pairs("definitional_pairs", o.definitional_pairs)
    keep = set(spec_rows) | {r for p in pair_rows for r in p}
    keep |= {emb.key_to_index[k] for p in defn for w in p if (k := emb.lookup(w))}
    neutral = np.ones(len(emb.words), dtype=bool)
    neutral[sorted(keep)] = False
    return neutral, pair_rows


def _hard_debias(emb: Any, g: Any, neutral: Any, pair_rows: list[tuple[int, int]]) -> Any:
    """Return the hard-debiased vectors (V, d) as NumPy, computed by torch on the device."""
    import numpy as np
    import torch

    from dltool_wordvec import debias_torch

    s = current()
    s.reporter.info(
        f"neutralizing {int(neutral.sum()):,} words, equalizing {len(pair_rows)} pairs "
        f"on {s.device}"
    )
    E = torch.from_numpy(np.array(emb.vectors, dtype=np.float32)).to(s.device)  # (V, d)
    D = debias_torch.hard_debias(
        E,
        torch.from_numpy(g.astype(np.float32)).to(s.device),
        torch.from_numpy(neutral).to(s.device),
        torch.tensor(pair_rows, dtype=torch.long, device=s.device).reshape(-1, 2),
    )
    return D.cpu().numpy()


def debias(o: DebiasOptions) -> None:
    """Hard-debias the whole vocabulary, report bias and utility before/after, write the result
    to ``-o FILE`` (format by suffix) or a run folder (the input's format)."""
    from dltool_wordvec import vectors as vec
    from dltool_wordvec import wordlists

    lists = [o.gender_specific, o.equalize_pairs, o.definitional_pairs, o.professions_file]
    _check_outputs(o.output, o.out, o.exist_ok, "vectors.txt")
    fmt = _output_format(o.output, o.out_format) if o.output else o.out_format
    inputs = [vectors_path(o.source.path), *lists]
    check_not_input(o.output, inputs)
    emb = load(o.source)
    fmt = fmt or ("glove" if emb.format == "builtin" else emb.format)
    profs = wordlists.words("professions", o.professions_file)
    neutral, pair_rows = _debias_rows(emb, o)
    g = _direction(emb, o.method, o.definitional_pairs, o.skip_missing, unit=True)
    name = f"vectors{VECTOR_SUFFIX[fmt]}"
    dest = o.output or _run_file("debias", o.out, o.exist_ok, name, _options(o))
    check_not_input(dest, inputs, "the output")
    D = _hard_debias(emb, g, neutral, pair_rows)
    _report_before_after(emb, D, g, o.restrict, profs)
    current().reporter.info(f"writing {dest} ({fmt})")
    vec.save(emb.words, D, dest, fmt)
    current().reporter.result("output", str(dest), label=f"debiased vectors ({fmt})")


def _report_before_after(emb: Any, D: Any, g: Any, restrict: int, professions: list[str]) -> None:
    """Tabulate professions' projections (not under -q), WEAT effect size and analogy accuracy
    before/after."""
    from dltool_wordvec import evaluate
    from dltool_wordvec.similarity import normalize_rows

    rep = current().reporter
    summary = _professions_report(emb, D, g, professions, table=not rep.quiet)
    weat = _weat(emb, emb.unit, D)
    if weat is not None:
        summary.append({"measure": "WEAT effect size (career/family vs male/female)", **weat})
    sections = evaluate.read_analogies(evaluate.gensim_test_file("questions-words.txt"))
    rep.info("measuring analogy accuracy before and after (questions-words.txt)")
    accs = [_analogy_total(emb, U, sections, restrict) for U in (emb.unit, normalize_rows(D))]
    summary.append(
        {
            "measure": f"analogy accuracy (questions-words, top {restrict:,})",
            "before": accs[0],
            "after": accs[1],
        }
    )
    rep.table("Before → after", summary, key="before_after")


def _professions_report(emb: Any, D: Any, g: Any, professions: list[str], table: bool) -> list:
    """Show the 15 most biased professions before → after (if ``table``); return the summary
    row of their mean |projection| (none when no profession is in the vocabulary)."""
    import numpy as np

    from dltool_wordvec.debias import cosine_to

    rows, _ = emb.indices(professions, skip_missing=True)
    if not rows:
        return []
    pb = cosine_to(emb.unit[rows].astype(np.float64), g)
    pa = cosine_to(D[rows].astype(np.float64), g)
    if table:
        current().reporter.table(
            "Professions: projection on g before → after",
            [
                {"word": emb.words[rows[k]], "before": float(pb[k]), "after": float(pa[k])}
                for k in np.argsort(-np.abs(pb))[:15]
            ],
            key="professions",
        )
    return [
        {
            "measure": "mean |projection| of professions on g",
            "before": float(np.abs(pb).mean()),
            "after": float(np.abs(pa).mean()),
        }
    ]


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
    zero = set(emb.zero_rows.tolist())
    rows = [[r for r in emb.indices(ws, skip_missing=True)[0] if r not in zero] for ws in groups]
    if min(len(r) for r in rows) < 2:
        return None
    out = {}
    for name, U in (("before", before), ("after", after)):
        parts = [normalize_rows(U[r].astype("float64")) for r in rows]
        out[name] = evaluate.weat_effect_size(*parts)
    return out


def _analogy_total(emb: Any, unit: Any, sections: list, restrict: int) -> float:
    """Return the overall 3CosAdd accuracy, searched by :func:`_device_search`."""
    from dltool_wordvec import evaluate

    rows = evaluate.analogy_accuracy(
        emb.words, unit, sections, restrict, search=_device_search, skip=emb.zero_rows
    )
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


def evaluate(
    vectors_arg: Path | None,
    analogies: Path | None,
    similarity_file: Path | None,
    restrict: int,
    method: str,
    source: Source,
) -> None:
    """Report analogy accuracy per section (and the vocabulary it was searched in) and
    Spearman's ρ on word-pair similarities."""
    from dltool_wordvec import evaluate as ev

    if vectors_arg is not None and source.path is not None and vectors_arg != source.path:
        raise DltoolError(
            "give the vectors either as VECTORS or with --vectors, not both",
            hint="drop one of them",
        )
    source = replace(source, path=vectors_arg or source.path)
    sections = ev.read_analogies(ev.data_file(analogies, "questions-words.txt"))
    pairs_path = ev.data_file(similarity_file, "wordsim353.tsv")
    pairs = ev.read_word_pairs(pairs_path)
    emb = load(source)
    rows = ev.analogy_accuracy(
        emb.words, emb.unit, sections, restrict, method, _device_search, emb.zero_rows
    )
    _report_analogies(rows, len(emb.words), restrict, method)
    zero = set(emb.zero_rows.tolist())

    def row_of(w: str) -> int | None:
        key = emb.lookup(w)
        row = None if key is None else emb.key_to_index[key]
        return None if row in zero else row

    corr = ev.word_pair_correlation(row_of, emb.unit, pairs)
    current().reporter.table(f"Word-pair similarity ({pairs_path.name})", [corr], key="similarity")


def _report_analogies(rows: list[dict], vocabulary: int, restrict: int, method: str) -> None:
    """Show the per-section table and the total with the vocabulary the answers came from."""
    rep = current().reporter
    searched = min(restrict, vocabulary)
    among = (
        f"the {searched:,} most frequent of {vocabulary:,} words"
        if searched < vocabulary
        else f"all {vocabulary:,} words"
    )
    rep.table(f"Analogies (3Cos{method.title()}, {among})", rows, key="analogies")
    total = rows[-1]
    rep.result(
        "analogy_accuracy",
        total["accuracy"],
        label=f"analogy accuracy on {among} (--restrict {restrict}; "
        f"{total['skipped']:,} questions with a word outside them skipped)",
    )
    if rep.json_mode:
        rep.result(
            "analogy_search",
            {"restrict": restrict, "vocabulary": vocabulary, "words_searched": searched},
        )


def plot(
    words: list[str],
    output: Path | None,
    out: Path | None,
    exist_ok: bool,
    skip_missing: bool,
    source: Source,
) -> None:
    """Plot the words' vectors projected on their first two principal components."""
    import numpy as np

    _check_plot_output(output, out, exist_ok, "words.png")
    check_not_input(output, [vectors_path(source.path)])
    emb = load(source)
    rows, missing = emb.indices(words, skip_missing=skip_missing)
    _missing(missing, True, None, "words")
    if len(rows) < 2:
        raise DltoolError("plot needs at least 2 known words", hint="give more words")
    X = np.asarray(emb.vectors[rows], dtype=np.float64)  # (k, d)
    Xc = X - X.mean(axis=0)
    _, sv, vt = np.linalg.svd(Xc, full_matrices=False)
    Z = Xc @ vt[:2].T  # (k, 2)
    explained = (sv[:2] ** 2 / max((sv**2).sum(), 1e-300)).tolist()
    config = {"words": words, "skip_missing": skip_missing, **_source_config(asdict(source))}
    dest = output or _run_file("plot", out, exist_ok, "words.png", config)
    from dltool_wordvec.plots import scatter

    scatter(dest, Z, [emb.words[r] for r in rows], explained, emb.source)
    current().reporter.result("plot", str(dest), label="plot")


# ---------------------------------------------------------------- training


@contextlib.contextmanager
def _removed_on_failure(run: Any) -> Iterator[None]:
    """Remove what a training run wrote when it fails or is interrupted before its vectors are
    saved: the whole folder when this command made it, else its config and metrics."""
    try:
        yield
    except BaseException:
        if run.created:
            shutil.rmtree(run.path, ignore_errors=True)
        else:
            for name in (CONFIG, METRICS):
                run.file(name).unlink(missing_ok=True)
        raise


def train(o: TrainOptions, params: dict[str, Any]) -> None:
    """Train Word2Vec (gensim) on the corpus and save the word vectors; ``params`` holds the
    gensim options (sg, dim, window, min_count, negative, workers), epochs and encoding."""
    from dltool_wordvec import train as tr
    from dltool_wordvec import vectors as vec

    s = current()
    epochs, encoding = params.pop("epochs"), params.pop("encoding")
    _check_file_output(o.output, "vectors.bin")
    check_out(o.out, o.exist_ok)
    fmt = _output_format(o.output, o.out_format) if o.output else o.out_format or "word2vec-bin"
    corpus = tr.open_corpus(o.corpus, encoding)
    check_not_input(o.output, [corpus.path])
    s.reporter.info(f"corpus: {corpus.path}")
    have = None if o.force else available_bytes()
    seed = s.seed if s.seed is not None else 1
    model = tr.build_word2vec(corpus, seed=seed, max_bytes=have and int(0.9 * have), **params)
    run = s.run_dir("wordvec", "train", o.out, o.exist_ok)  # once corpus and vocabulary are good
    dest = o.output or run.file(f"vectors{VECTOR_SUFFIX[fmt]}")
    output = dest.name if dest.parent == run.path else str(dest.resolve())
    config = {"corpus": str(corpus.path), "encoding": corpus.encoding, **params}
    with _removed_on_failure(run):
        run.write_config({**config, "epochs": epochs, "output": output, "format": fmt})
        with s.reporter.progress(epochs, "word2vec") as bar:

            def on_epoch(epoch: int, loss: float) -> None:
                run.log_metrics(epoch=epoch, loss=loss)
                bar.advance(1, loss=loss)

            tr.train_word2vec(model, corpus, epochs, on_epoch)
        wv = model.wv
        vec.save(list(wv.index_to_key), wv.vectors, dest, fmt)
    s.reporter.result("vocabulary", len(wv.index_to_key), label="words")
    s.reporter.result("output", str(dest), label=f"vectors ({fmt})")
