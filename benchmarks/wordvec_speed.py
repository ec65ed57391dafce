"""Speed figures of the wordvec plugin (issue 10), on the embedded GloVe 6B 50d (400k × 50).

Targets: hard debias of the whole vocabulary ≤ 2 s (vectorized); ``similar`` over 400k words
≤ 20 ms per query in process; ``dltool wordvec similar king`` ≤ 3 s wall once the cache exists.
Run: ``.venv/bin/python benchmarks/wordvec_speed.py [--runs 5] [--queries 200]``.

Recorded on the 2-core development machine (CPU only, shared: load average ~12), 2026-11-28:
    debias 400k x 50 (numpy float32)   median 0.63 s
    debias 400k x 50 (torch cpu)       median 1.20 s
    similar, in process                14.1 ms per query (one BLAS thread for the gemv)
    dltool wordvec similar king        median 2.14 s wall (about 1.0 s on a quieter machine)
(the numbers this script prints on your machine are the ones to trust).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def _timed(fn, runs: int) -> list[float]:
    """Return the wall times of ``runs`` calls of ``fn`` (after one warm-up)."""
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    """Measure and print the figures next to their targets."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()

    import numpy as np
    import torch
    from dltool_wordvec import debias, debias_torch, vectors, wordlists
    from dltool_wordvec.similarity import most_similar

    emb = vectors.load(None)  # builds the cache on first use
    E = np.array(emb.vectors, dtype=np.float32)  # (400000, 50)
    U = emb.unit
    g = (U[emb.index("woman")] - U[emb.index("man")]).astype(np.float32)
    spec, _ = emb.indices(wordlists.words("gender_specific"), skip_missing=True)
    pairs = []
    for a, b in wordlists.pairs("equalize_pairs"):
        ka, kb = emb.lookup(a), emb.lookup(b)
        if ka and kb:
            pairs.append((emb.key_to_index[ka], emb.key_to_index[kb]))
    seen: set[int] = set()
    pairs = [p for p in pairs if not (set(p) & seen) and not seen.update(p)]
    P = np.array(pairs, dtype=np.int64)
    neutral = np.ones(len(E), dtype=bool)
    neutral[spec] = False
    neutral[P.ravel()] = False

    rows = []
    t = _timed(lambda: debias.hard_debias(E, g, neutral, P), args.runs)
    rows.append(("debias 400k x 50 (numpy float32)", statistics.median(t), 2.0, "s"))
    tE, tg, tn, tP = (torch.from_numpy(x) for x in (E, g, neutral, P))
    t = _timed(lambda: debias_torch.hard_debias(tE, tg, tn, tP), args.runs)
    rows.append(("debias 400k x 50 (torch cpu)", statistics.median(t), 2.0, "s"))

    rng = np.random.default_rng(0)
    queries = rng.integers(0, len(E), size=args.queries)
    start = time.perf_counter()
    for q in queries:
        most_similar(U, int(q), 10, threads=1)  # the CLI's width without --threads
    per_query = (time.perf_counter() - start) / len(queries)
    rows.append(("similar, in process (per query)", per_query * 1000, 20.0, "ms"))

    cmd = [str(BIN / "dltool"), "wordvec", "similar", "king", "--quiet"]
    wall = []
    for i in range(args.runs + 1):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if i:
            wall.append(time.perf_counter() - start)
    rows.append(("dltool wordvec similar king (wall)", statistics.median(wall), 3.0, "s"))

    for name, value, target, unit in rows:
        verdict = "ok" if value <= target else "OVER"
        print(f"{name:38s} {value:8.3f} {unit}   target <= {target:g} {unit}   {verdict}")


if __name__ == "__main__":
    main()
