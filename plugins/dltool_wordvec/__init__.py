"""dltool wordvec: GloVe/word2vec vectors, similarity, analogies, debiasing, training."""

import dltool
from dltool.exports import lazy_exports

_EXPORTS = {
    "Embeddings": "dltool_wordvec.vectors:Embeddings",
    "load": "dltool_wordvec.vectors:load",
    "load_default": "dltool_wordvec.vectors:load_default",
    "save": "dltool_wordvec.vectors:save",
    "cosine_similarity": "dltool_wordvec.similarity:cosine_similarity",
    "most_similar": "dltool_wordvec.similarity:most_similar",
    "analogy": "dltool_wordvec.similarity:analogy",
    "neutralize": "dltool_wordvec.debias:neutralize",
    "equalize": "dltool_wordvec.debias:equalize",
    "hard_debias": "dltool_wordvec.debias:hard_debias",
    "train_word2vec": "dltool_wordvec.train:train_word2vec",
    "course": "dltool_wordvec.course",
}
__all__, __getattr__ = lazy_exports(__name__, _EXPORTS)  # PEP 562: imported on first use


@dltool.hookimpl
def register_commands(commands):
    """Mount ``dltool wordvec``."""
    commands.add_lazy(
        "wordvec",
        "dltool_wordvec.cli:app",
        help="Word vectors: similarity, analogies, gender-bias debiasing, evaluation, Word2Vec.",
    )


@dltool.hookimpl
def register_artifacts(artifacts):
    """Declare wordvec's checksummed artifact files."""
    from dltool_wordvec.weights import GENSIM_WORD_DATA, GLOVE_6B_50D

    artifacts.add(GLOVE_6B_50D)
    artifacts.add(GENSIM_WORD_DATA)
