"""Text for the character model: the built-in corpus, reading a text file (checked by
dltool.data.text), and the character vocabulary (index ↔ character, sorted for a stable order).

The built-in corpus is ``lee_background.cor`` from gensim's bundled test data: 300
Australian news articles (Lee et al. 2005 document-similarity corpus), 360 kB of
English, one article per line, declared in ``weights.py`` (the artifact mechanism: found
inside the installed gensim package, checked by SHA-256; gensim is never imported).
"""

from __future__ import annotations

from pathlib import Path

from dltool.data import text
from dltool_rnn.weights import LEE_CORPUS, LEE_FILE


def builtin_corpus() -> Path:
    """Return the path of the built-in English corpus, verified by SHA-256."""
    from dltool.artifacts import ensure

    return ensure(LEE_CORPUS)[LEE_FILE]


def read_text(path: Path | None, encoding: str = "utf-8") -> tuple[str, str]:
    """Return (text, source name) of ``path``, or of the built-in corpus when None."""
    if path is None:
        path = builtin_corpus()
        encoding = "utf-8"
    return text.read_text(Path(path), encoding), str(path)


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
