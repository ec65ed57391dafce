"""Text for the character model: the built-in corpus, reading and checking text files,
and the character vocabulary (index ↔ character, sorted for a stable order).

The built-in corpus is ``lee_background.cor`` from gensim's bundled test data: 300
Australian news articles (Lee et al. 2005 document-similarity corpus), 360 kB of
English, one article per line. It is located inside the installed gensim package
and checked by SHA-256 (the artifact mechanism); gensim is never imported.
"""

from __future__ import annotations

from pathlib import Path

from dltool.artifacts import Artifact, ArtifactFile, PackageSource
from dltool.errors import DltoolError

LEE_FILE = "lee_background.cor"
LEE_CORPUS = Artifact(
    name="lee-background-corpus",
    files=(
        ArtifactFile(
            LEE_FILE, "5d78d6dafd953bbf65797bef09a9ffb9ec430583381be705f8fd460000f370fb", 360082
        ),
    ),
    source=PackageSource("gensim", "gensim", "test/test_data"),
    license="LGPL-2.1 (gensim test data)",
    description="English news text (300 articles) for the rnn character model",
)


def builtin_corpus() -> Path:
    """Return the path of the built-in English corpus, verified by SHA-256."""
    from dltool.artifacts import ensure

    return ensure(LEE_CORPUS)[LEE_FILE]


def decode_text(data: bytes, name: str, encoding: str = "utf-8") -> str:
    """Return ``data`` decoded; empty, binary or undecodable input is a DltoolError."""
    if not data.strip():
        raise DltoolError(f"{name} is empty", hint="give a text file with some content")
    if b"\x00" in data[:65536] and not encoding.lower().startswith("utf-16"):
        raise DltoolError(
            f"{name} looks binary (it contains NUL bytes), not text",
            hint="give a plain text file, or --encoding utf-16 if it is UTF-16 text",
        )
    try:
        return data.decode(encoding)
    except LookupError as exc:
        raise DltoolError(f"unknown encoding '{encoding}'", hint="e.g. utf-8, latin-1") from exc
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 1]
        raise DltoolError(
            f"{name} is not valid {encoding} text (byte {exc.start}: {bad!r})",
            hint="give its encoding with --encoding, e.g. --encoding latin-1",
        ) from exc


def read_text(path: Path | None, encoding: str = "utf-8") -> tuple[str, str]:
    """Return (text, source name) of ``path``, or of the built-in corpus when None."""
    if path is None:
        path = builtin_corpus()
        encoding = "utf-8"
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise DltoolError(f"text file {path} does not exist") from exc
    except IsADirectoryError as exc:
        raise DltoolError(f"{path} is a directory, not a text file") from exc
    except OSError as exc:
        raise DltoolError(f"cannot read {path}: {exc.strerror}") from exc
    return decode_text(data, str(path), encoding), str(path)


class Vocabulary:
    """The characters of a text, sorted: ``index[ch]`` and ``chars[i]``."""

    def __init__(self, chars: str) -> None:
        self.chars = "".join(sorted(set(chars)))
        self.index = {ch: i for i, ch in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> list[int]:
        """Return the indices of ``text``'s characters (all must be in the vocabulary)."""
        return [self.index[ch] for ch in text]

    def decode(self, indices) -> str:
        """Return the characters of ``indices``."""
        return "".join(self.chars[int(i)] for i in indices)

    def missing(self, text: str) -> list[str]:
        """Return the characters of ``text`` that are not in the vocabulary, sorted."""
        return sorted(set(text) - set(self.index))
