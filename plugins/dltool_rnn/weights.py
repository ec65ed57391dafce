"""The rnn plugin's artifacts: the built-in corpus of the character model, as a core artifact.

``lee_background.cor`` from gensim's bundled test data: 300 Australian news articles (Lee et
al. 2005 document-similarity corpus), 360 kB of English, one article per line. It is located
inside the installed gensim package and checked by SHA-256; gensim is never imported. This
module stays light (no numpy): it is imported when artifacts are registered.
"""

from __future__ import annotations

from dltool.artifacts import Artifact, ArtifactFile, PackageSource

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
