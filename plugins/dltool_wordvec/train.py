"""Word2Vec training with gensim (skip-gram or CBOW with negative sampling, Mikolov et al. 2013).

The corpus is a text file with one sentence per line, tokenized by gensim's
``simple_preprocess`` (lowercase words of 2–15 letters), or a corpus that ships in gensim's
test data (``lee``: the Lee background corpus). Progress comes from gensim epoch callbacks.
The vocabulary is built in gensim's steps (scan, prepare, then the weights), so that the
memory the weights will take is estimated, and refused over a limit, before they exist.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from dltool.errors import DltoolError

BUILTIN = {"lee": ("lee_background.cor", "utf-8"), "lee-test": ("lee.cor", "latin-1")}


def open_corpus(corpus: str, encoding: str = "utf-8") -> LineCorpus:
    """Return the corpus ``corpus``: an existing file in ``encoding``, or a built-in name
    from gensim's test data (read in its own encoding)."""
    path = Path(corpus)
    if path.is_file():
        return LineCorpus(path, encoding)
    if corpus in BUILTIN:
        from dltool_wordvec.evaluate import gensim_test_file

        name, builtin_encoding = BUILTIN[corpus]
        return LineCorpus(gensim_test_file(name), builtin_encoding)
    raise DltoolError(
        f"corpus {corpus} is neither a file nor a built-in corpus",
        hint=f"give a text file (one sentence per line) or one of: {', '.join(BUILTIN)}",
    )


class LineCorpus:
    """Sentences of a text file, one per line, tokenized by ``simple_preprocess``; re-iterable.
    ``check`` decodes the first 64 KB strictly; later undecodable bytes become U+FFFD."""

    def __init__(self, path: Path, encoding: str = "utf-8") -> None:
        self.path, self.encoding = path, encoding

    def __iter__(self) -> Iterator[list[str]]:
        from gensim.utils import simple_preprocess

        with open(self.path, encoding=self.encoding, errors="replace") as fh:
            for line in fh:
                tokens = simple_preprocess(line)
                if tokens:
                    yield tokens

    def check(self) -> None:
        """Raise when the corpus is not text (empty, binary, not UTF-8) or holds no word."""
        from dltool.data.text import check_text_head

        check_text_head(self.path, self.encoding, option="--encoding")
        if next(iter(self), None) is None:
            raise DltoolError(f"corpus {self.path} is empty (no words to train on)")


def build_word2vec(
    corpus: LineCorpus,
    *,
    sg: bool,
    dim: int,
    window: int,
    min_count: int,
    negative: int,
    workers: int,
    seed: int,
    max_bytes: int | None = None,
) -> Any:
    """Return an untrained gensim Word2Vec with the vocabulary of ``corpus`` (checked first);
    a model whose estimated memory exceeds ``max_bytes`` (None: no limit) is refused."""
    from gensim.models import Word2Vec

    corpus.check()
    model = Word2Vec(
        vector_size=dim,
        window=window,
        min_count=min_count,
        sg=int(sg),
        negative=negative,
        workers=workers,
        seed=seed,
        compute_loss=True,
    )
    total_words, count = model.scan_vocab(corpus_iterable=corpus)  # what build_vocab does
    model.corpus_count, model.corpus_total_words = count, total_words
    kept = model.prepare_vocab()["num_retained_words"]
    if not model.wv.index_to_key:
        raise DltoolError(
            f"no word occurs at least {min_count} times in {corpus.path}",
            hint="lower --min-count or give a larger corpus",
        )
    need = model.estimate_memory(vocab_size=kept)["total"]
    if max_bytes is not None and need > max_bytes:
        raise DltoolError(
            f"{kept:,} words × --dim {dim:,} need about {need / 2**30:.1f} GiB, more than the "
            f"{max_bytes / 2**30:.1f} GiB of memory available",
            hint="lower --dim or raise --min-count, or pass --force to try anyway",
        )
    model.prepare_weights()
    return model


def train_word2vec(
    model: Any, corpus: LineCorpus, epochs: int, on_epoch: Callable[[int, float], None]
) -> None:
    """Train ``model`` for ``epochs`` passes; ``on_epoch(epoch, loss)`` runs after every epoch."""
    from gensim.models.callbacks import CallbackAny2Vec

    class _Epochs(CallbackAny2Vec):
        """Report each epoch's loss (gensim accumulates it over the whole training)."""

        def __init__(self) -> None:
            self.epoch, self.seen = 0, 0.0

        def on_epoch_end(self, model: Any) -> None:
            total = model.get_latest_training_loss()
            self.epoch += 1
            on_epoch(self.epoch, total - self.seen)
            self.seen = total

    model.train(
        corpus,
        total_examples=model.corpus_count,
        epochs=epochs,
        compute_loss=True,
        callbacks=[_Epochs()],
    )
