"""Hard-debias word vectors and compare gendered analogies before and after.

    python examples/debias_analogies.py OUT_DIR [--vectors FILE]

Calls the ``wordvec debias`` and ``wordvec analogy`` jobs through ``dltool.api.run``: the
same options as the command line, the same data its ``--json`` prints. Without
``--vectors`` the built-in GloVe 6B 50d vectors are used (their first use builds a cache).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dltool.api import run

QUESTIONS = [("man", "woman", "doctor"), ("he", "she", "engineer"), ("father", "mother", "nurse")]


def answers(vectors: str | None, question: tuple[str, str, str]) -> list[str]:
    """Return the three best answers to a : b :: c : ? in ``vectors``."""
    document = run("wordvec", "analogy", *question, n=3, vectors=vectors)
    rows = next(v for v in document.values() if isinstance(v, list))
    return [row["word"] for row in rows]


def main() -> None:
    """Debias into OUT_DIR, then print each analogy's answers before and after."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="run folder for the debiased vectors")
    parser.add_argument("--vectors", help="GloVe/word2vec file [default: GloVe 6B 50d]")
    args = parser.parse_args()

    report = run("wordvec", "debias", vectors=args.vectors, out=args.out, exist_ok=True,
                 skip_missing=True)  # fmt: skip
    print("debias report:", ", ".join(sorted(report)))
    for question in QUESTIONS:
        before = answers(args.vectors, question)
        after = answers(str(args.out), question)
        print(f"{' : '.join(question)} : ?   before {before}   after {after}")


if __name__ == "__main__":
    main()
