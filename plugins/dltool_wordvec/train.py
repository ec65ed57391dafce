"""Word2Vec training with gensim (skip-gram or CBOW with negative sampling, Mikolov et al. 2013).

The corpus is a text file with one sentence per line, tokenized by gensim's
``simple_preprocess`` (lowercase words of 2–15 letters), or a corpus that ships in gensim's
test data (``lee``: the Lee background corpus). Progress comes from gensim epoch callbacks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from dltool.errors import DltoolError

BUILTIN = {"lee": "lee_background.cor", "lee-test": "lee.cor"}


def corpus_path(corpus: str) -> Path:
    """Return the file for ``corpus``: an existing path, or a built-in name from gensim's data."""
    path = Path(corpus)
    if path.is_file():
        return path
    if corpus in BUILTIN:
        from dltool_wordvec.evaluate import gensim_test_file

        return gensim_test_file(BUILTIN[corpus])
    raise DltoolError(
        f"corpus {corpus} is neither a file nor a built-in corpus",
        hint=f"give a text file (one sentence per line) or one of: {', '.join(BUILTIN)}",
    )


class LineCorpus:
    """Sentences of a text file, one per line, tokenized by ``simple_preprocess``; re-iterable."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __iter__(self) -> Iterator[list[str]]:
        from gensim.utils import simple_preprocess

        with open(self.path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                tokens = simple_preprocess(line)
                if tokens:
                    yield tokens

    def check(self) -> None:
        """Raise when the corpus holds no word at all."""
        if next(iter(self), None) is None:
            raise DltoolError(f"corpus {self.path} is empty (no words to train on)")


def train_word2vec(
    corpus: LineCorpus,
    on_epoch: Callable[[int, float], None],
    *,
    sg: bool,
    dim: int,
    window: int,
    min_count: int,
    epochs: int,
    negative: int,
    workers: int,
    seed: int,
) -> Any:
    """Return a trained gensim Word2Vec; ``on_epoch(epoch, loss)`` runs after every epoch."""
    from gensim.models import Word2Vec
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
    model.build_vocab(corpus)
    if not model.wv.index_to_key:
        raise DltoolError(
            f"no word occurs at least {min_count} times in {corpus.path}",
            hint="lower --min-count or give a larger corpus",
        )
    model.train(
        corpus,
        total_examples=model.corpus_count,
        epochs=epochs,
        compute_loss=True,
        callbacks=[_Epochs()],
    )
    return model
