"""Train a tiny character-level LSTM and sample names from it.

    python examples/char_lstm.py OUT_DIR [--steps 60]

Training goes through ``dltool.api.run`` (the ``rnn train`` job, its options as keywords);
sampling uses the library: ``dltool_rnn.load`` reads the checkpoint and
``dltool_rnn.sample`` draws characters from softmax(y / temperature).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import dltool_rnn
import numpy as np

from dltool.api import run

NAMES = "aurelia\nbrontosaurus\ncarnotaurus\ndiplodocus\neoraptor\nstegosaurus\ntriceratops\n"


def main() -> None:
    """Write a small corpus, train on it for a few steps, print three samples."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for the corpus and the run")
    parser.add_argument("--steps", type=int, default=60, help="training steps")
    args = parser.parse_args()

    args.out.mkdir(parents=True, exist_ok=True)
    corpus = args.out / "dinos.txt"
    corpus.write_text(NAMES * 20, encoding="utf-8")
    result = run("rnn", "train", corpus, cell="lstm", hidden=32, seq_len=16, batch_size=4,
                 max_steps=args.steps, sample_every=0, backend="numpy", seed=0,
                 out=args.out / "run", exist_ok=True)  # fmt: skip
    print("training:", {k: v for k, v in result.items() if not isinstance(v, (list, dict))})

    params, meta, _ = dltool_rnn.load(args.out / "run")
    chars = "".join(meta["vocab"])
    rng = np.random.default_rng(0)
    for text in dltool_rnn.sample(params, chars, n=3, temperature=0.7, max_len=40, rng=rng):
        print(repr(text))


if __name__ == "__main__":
    main()
