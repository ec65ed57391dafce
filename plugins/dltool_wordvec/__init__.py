"""dltool wordvec: GloVe/word2vec vectors, similarity, analogies, debiasing, training."""

import dltool


@dltool.hookimpl
def register_commands(commands):
    commands.add_lazy(
        "wordvec",
        "dltool_wordvec.cli:app",
        help="Word vectors: similarity, analogies, gender-bias debiasing, evaluation, Word2Vec.",
    )


@dltool.hookimpl
def register_artifacts(artifacts):
    from dltool_wordvec.weights import GENSIM_WORD_DATA, GLOVE_6B_50D

    artifacts.add(GLOVE_6B_50D)
    artifacts.add(GENSIM_WORD_DATA)
