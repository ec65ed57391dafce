"""Speed figures of the facerec plugin (issue 7).

Targets: ``identify`` against 100,000 enrolled encodings costs ≤ 10 ms per query face
beyond encoding (encodings loaded once per command, distances vectorized); encoding a
face through dltool's pipeline is within 1.2× of calling dlib directly.
Run: ``.venv/bin/python benchmarks/facerec_speed.py [--runs 7] [--n 100000]``.

It measures, with the anchor of each ratio in the same run:
1. in process: load 100k encodings from SQLite (once per command), then one query face
   against all of them (NumPy, and the torch twin) — median per query;
2. the command: ``dltool facerec identify`` on one photo with a 100k database vs a
   database of 1 encoding (the difference is the whole cost of the 100k, load included);
3. encoding one face (HOG detection + 5 landmarks + ResNet): dltool's FacePipeline vs
   the same dlib calls made directly, interleaved; and the ResNet step alone.

Recorded on the shared 2-core development machine (CPU only, load average ≈ 10 from other
jobs, so wall times are noisy; CPU time is the steadier figure), 2026-11-28:
    encode one face, dlib direct 270.6 ms, dltool 274.0 ms       ratio 1.01 (≤ 1.2)
    ResNet step alone                                           ratio 1.08
    load 100k encodings from SQLite (once per command)          ~0.5 s
    one query vs 100k, NumPy float32 (identify's path)          10.1 ms wall, 7.6 ms CPU
    32 faces of a command in one product                        2.7 ms per face
    dltool facerec identify: 100k database vs 1 encoding        +1.25 s per command
(earlier runs under heavier load gave 32–37 ms per single query, 6 ms per face batched,
encoding ratios 0.6–1.17; the numbers this script prints on your machine are the ones to trust).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BIN = Path(sys.executable).parent


def timed(fn, runs: int) -> list[float]:
    """Return the wall times in seconds of ``runs`` calls of ``fn`` (after one warm-up)."""
    fn()
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def cpu_ms(fn, calls: int) -> float:
    """Return the CPU time (all threads of this process) per call of ``fn``, in ms."""
    fn()
    start = time.process_time()
    for _ in range(calls):
        fn()
    return 1000 * (time.process_time() - start) / calls


def med_ms(times: list[float]) -> float:
    """Return the median of ``times`` in milliseconds."""
    return 1000 * statistics.median(times)


def fill_db(path: Path, n: int, vector: np.ndarray) -> None:
    """Enroll n random 128-d encodings (n/10 people) plus ``vector`` as 'grace'."""
    from dltool_facerec.database import FaceDB

    rng = np.random.default_rng(0)
    db = FaceDB(path)
    V = rng.normal(0, 0.09, (n, 128))  # spread like dlib encodings (‖f‖ ≈ 1)
    rows = [{"name": f"person{i // 10:05d}", "encoder": "dlib-resnet-v1", "dim": 128,
             "blob": V[i].astype("<f8").tobytes(), "image_sha256": f"r{i}",
             "source": "/synthetic", "box": "", "created": "2026-11-28"}
            for i in range(n)]  # fmt: skip
    db.import_rows(rows)  # one transaction, as 'facerec import' does
    db.add("grace", [{"encoder": "dlib-resnet-v1", "vector": vector, "image_sha256": "g",
                      "source": "/grace", "box": ""}])  # fmt: skip
    db.close()


def bench_identify(n: int, runs: int, grace: Path, enc: np.ndarray) -> None:
    """Print per-query costs against n encodings, in process and through the command."""
    import torch
    from dltool_facerec import match_torch
    from dltool_facerec.database import FaceDB
    from dltool_facerec.match import identify

    with tempfile.TemporaryDirectory() as tmp:
        big, one = Path(tmp) / "big.db", Path(tmp) / "one.db"
        start = time.perf_counter()
        fill_db(big, n, enc)
        fill_db(one, 0, enc)
        print(f"filled a database of {n + 1:,} encodings in {time.perf_counter() - start:.1f} s")
        db = FaceDB(big, create=False)
        load = timed(lambda: db.load("dlib-resnet-v1", 128), max(3, runs // 2))
        E = db.load("dlib-resnet-v1", 128)
        E32 = db.load("dlib-resnet-v1", 128, dtype=np.float32)
        q = enc[None, :] + 0.01
        t_np = timed(lambda: identify(q, E.vectors, E.names, 0.6, E.sq_norms), runs * 5)
        t_32 = timed(lambda: identify(q, E32.vectors, E.names, 0.6, E32.sq_norms), runs * 5)
        c_32 = cpu_ms(lambda: identify(q, E32.vectors, E.names, 0.6, E32.sq_norms), runs * 5)
        Q32 = np.repeat(q, 32, axis=0)
        t_b = timed(lambda: identify(Q32, E32.vectors, E.names, 0.6, E32.sq_norms), runs * 2)
        torch.set_num_threads(1)  # two threads on a shared 2-core machine spin-wait
        Et, qt = torch.from_numpy(E32.vectors), torch.from_numpy(q).float()
        Et_sq = Et.pow(2).sum(1)
        t_t = timed(lambda: match_torch.nearest(qt, Et, Et_sq), runs * 5)
        assert identify(q, E32.vectors, E.names, 0.6, E32.sq_norms)[0][0] == "grace"
        print(f"load {n:,} encodings from SQLite (once per command)  median {med_ms(load):7.1f} ms")
        print(f"one query vs {n:,}, NumPy float64                  median {med_ms(t_np):7.2f} ms")
        print(f"one query vs {n:,}, NumPy float32 (identify's)     median {med_ms(t_32):7.2f} ms")
        print(f"  the same, CPU time (insensitive to other jobs on the machine) {c_32:7.2f} ms")
        print(f"32 faces in one product (identify batches a command's faces)"
              f"  {med_ms(t_b) / 32:7.2f} ms per face")  # fmt: skip
        print(f"one query vs {n:,}, torch cpu float32, 1 thread     median {med_ms(t_t):7.2f} ms")

        def command(db_path: Path) -> None:
            args = [str(BIN / "dltool"), "--quiet", "facerec", "identify", str(grace), "--db",
                    str(db_path), "--format", "csv"]  # fmt: skip
            out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
            assert "grace" in out

        small_t, big_t = [], []
        command(one)
        for _ in range(runs):  # interleaved
            small_t += timed(lambda: command(one), 1)
            big_t += timed(lambda: command(big), 1)
        extra = med_ms(big_t) - med_ms(small_t)
        label = "dltool facerec identify, 1 encoding in the database"
        print(f"{label}   median {med_ms(small_t):7.0f} ms")
        print(f"dltool facerec identify, {n:,} encodings            median {med_ms(big_t):7.0f} ms")
        print(
            f"  cost of the {n:,} per query face (one face)       {extra:7.0f} ms  (target ≤ 10 ms"
            " beyond encoding for the search; includes the one-off load)"
        )


def bench_encoding(runs: int, grace: Path) -> np.ndarray:
    """Print dltool's encoding time per face against direct dlib calls; return the encoding."""
    import dlib
    from dltool_facerec.encoders import DlibEncoder, FaceFinder, FacePipeline
    from dltool_facerec.images import load_rgb
    from dltool_facerec.weights import DLIB_RESNET, RESNET, SHAPE5

    from dltool.artifacts import ensure

    image = load_rgb(grace)
    paths = ensure(DLIB_RESNET, quiet=True)
    detector = dlib.get_frontal_face_detector()
    sp = dlib.shape_predictor(str(paths[SHAPE5]))
    model = dlib.face_recognition_model_v1(str(paths[RESNET]))
    pipe = FacePipeline(FaceFinder("hog", 1, quiet=True), DlibEncoder(quiet=True))

    def direct():
        return [
            np.array(model.compute_face_descriptor(image, sp(image, r))) for r in detector(image, 1)
        ]

    ours_t, direct_t = [], []
    for _ in range(runs):  # interleaved
        ours_t += timed(lambda: pipe.encode(image), 1)
        direct_t += timed(direct, 1)
    shape = sp(image, detector(image, 1)[0])
    r_ours = timed(lambda: pipe.encoder.encode(image, [shape]), runs)
    r_direct = timed(lambda: model.compute_face_descriptor(image, shape), runs)
    ratio = med_ms(ours_t) / med_ms(direct_t)
    print(
        f"encode one face (detect+landmarks+ResNet), dlib direct  median {med_ms(direct_t):7.1f} ms"
    )
    print(f"encode one face, dltool FacePipeline                   median {med_ms(ours_t):7.1f} ms"
          f"   ratio {ratio:.2f} (target ≤ 1.2)")  # fmt: skip
    print(
        f"ResNet step alone: direct {med_ms(r_direct):.1f} ms, dltool {med_ms(r_ours):.1f} ms,"
        f" ratio {med_ms(r_ours) / med_ms(r_direct):.2f}"
    )
    return pipe.encode(image)[0].encoding


def main() -> None:
    """Measure and print the figures next to their targets."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    import importlib.util

    mpl = importlib.util.find_spec("matplotlib").submodule_search_locations[0]
    grace = Path(mpl) / "mpl-data/sample_data/grace_hopper.jpg"
    import torch

    print(f"threads: torch {torch.get_num_threads()}, dlib default; load average "
          f"{os.getloadavg()[0]:.1f}; python {sys.version.split()[0]}")  # fmt: skip
    enc = bench_encoding(args.runs, grace)
    bench_identify(args.n, args.runs, grace, enc)


if __name__ == "__main__":
    main()
