"""Warm per-image ``detect`` (pre-process + inference + post-process) with YOLOv3-tiny at 416
on CPU vs OpenCV's Darknet importer (``cv2.dnn.readNetFromDarknet``) running the same
network's forward pass alone, on the same photos and thread count, in this one script.

Target (issue 6): dltool's full per-image time ≤ 1.2 × OpenCV's forward alone.

OpenCV (opencv-python-headless < 5) is not a dltool dependency. When ``cv2`` cannot be
imported here, give an interpreter that has it; this script then runs its OpenCV half
there (that half imports only cv2 and numpy):

    .venv/bin/python benchmarks/yolo_detect.py --opencv-python /tmp/cvenv/bin/python

Both of dltool's paths are timed: the fused CPU graph (``dltool_yolo/graph.py``) that
``detect`` builds for a run of ``FUSE_FROM`` images or more, and eager PyTorch, which
shorter runs use. The figure of the issue is the warm one: the fused graph. The time
to build the graph is printed too: it fixes ``FUSE_FROM`` (build cost ÷ per-image gain).
Recorded results and the machine are in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import subprocess
import time


def opencv_forward_ms(cfg: str, weights: str, photos: list[str], threads: int, runs: int) -> float:
    """Return the median ms of OpenCV's forward pass alone over ``runs`` passes of ``photos``."""
    import cv2

    cv2.setNumThreads(threads)
    net = cv2.dnn.readNetFromDarknet(cfg, weights)
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    outputs = net.getUnconnectedOutLayersNames()
    blobs = [
        cv2.dnn.blobFromImage(cv2.imread(p), 1 / 255.0, (416, 416), swapRB=True, crop=False)
        for p in photos
    ]
    times = []
    for i in range(runs * len(blobs) + 2):
        net.setInput(blobs[i % len(blobs)])
        start = time.perf_counter()
        net.forward(outputs)
        if i >= 2:
            times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def dltool_detect_ms(detector, images, runs: int) -> list[float]:
    """Return dltool's warm full detect times (ms) per image over ``runs`` passes."""
    from dltool_yolo.detect import Timing

    timing = Timing()
    for _ in range(runs):
        for image in images:
            detector.detect(image, timing)
    return timing.per


def onnx_detector(detector, threads: int):
    """Return the detector exported to ONNX (a temp file) and run by onnxruntime."""
    import tempfile
    from pathlib import Path

    from dltool_yolo import export, onnx_backend
    from dltool_yolo.detect import Detector

    path = Path(tempfile.mkdtemp()) / "yolov3-tiny.onnx"
    twin = Detector(copy.deepcopy(detector.model), detector.names, detector.device, detector.size)
    export.export_detector(twin, "onnx", path, False, export.metadata(twin, None, "yolov3-tiny"))
    import torch

    torch.set_num_threads(threads)  # the session takes torch's thread count
    return onnx_backend.load(path, None, None, detector.size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="Passes over the photos.")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3, help="Alternations of the two sides.")
    parser.add_argument("--opencv-python", default=None, help="Interpreter that has cv2.")
    parser.add_argument(
        "--opencv-only", nargs=2, metavar=("CFG", "WEIGHTS"), help=argparse.SUPPRESS
    )
    parser.add_argument("--photos", nargs="*", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.opencv_only:
        ms = opencv_forward_ms(*args.opencv_only, args.photos, args.threads, args.runs)
        print(json.dumps({"forward_ms": ms}))
        return
    from pathlib import Path

    import torch
    from dltool_yolo.detect import FUSE_FROM, default_detector, default_files, load_image
    from dltool_yolo.sources import demo_photos
    from dltool_yolo.weights import CFG, WEIGHTS

    from dltool.device import keep_freed_memory

    files = default_files(quiet=True)
    photos = [str(p) for p in demo_photos()]
    common = [str(files[CFG]), str(files[WEIGHTS])]
    torch.set_num_threads(args.threads)
    keep_freed_memory()  # as every dltool command does when it selects its device
    detector = default_detector(torch.device("cpu"), 416, quiet=True)
    start = time.perf_counter()
    detector.warmup(images=FUSE_FROM)  # what `detect` does for a run of ≥ FUSE_FROM images
    build_ms = (time.perf_counter() - start) * 1e3
    fused, detector.graph = detector.graph, None
    if fused is None:
        raise SystemExit("the fused graph could not be built on this machine")
    images = [load_image(Path(p)) for p in photos]
    for image in images[:2]:
        detector.detect(image)
    onnx = onnx_detector(detector, args.threads)
    for image in images[:2]:
        onnx.detect(image)
    eager, ours, theirs, ort = [], [], [], []
    for _ in range(args.rounds):  # alternate, so that a busy spell hits all sides alike
        detector.graph = None
        eager += dltool_detect_ms(detector, images, args.runs)
        detector.graph = fused
        ours += dltool_detect_ms(detector, images, args.runs)
        ort += dltool_detect_ms(onnx, images, args.runs)
        if args.opencv_python:
            cmd = [args.opencv_python, __file__, "--opencv-only", *common, "--photos", *photos,
                   "--threads", str(args.threads), "--runs", str(args.runs)]  # fmt: skip
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            theirs.append(json.loads(out.splitlines()[-1])["forward_ms"])
        else:
            theirs.append(opencv_forward_ms(*common, photos, args.threads, args.runs))
    eager_ms, ours_ms = statistics.median(eager), statistics.median(ours)
    cv_ms = statistics.median(theirs)
    print(
        f"{len(photos)} photos × {args.runs} runs × {args.rounds} rounds, YOLOv3-tiny 416×416, "
        f"{args.threads} thread(s)"
    )
    print(f"dltool detect, fused graph  {ours_ms:7.1f} ms/image (pre + inference + post)")
    print(f"dltool detect, eager        {eager_ms:7.1f} ms/image (runs of < {FUSE_FROM} images)")
    ort_ms = statistics.median(ort)
    print(f"dltool detect, onnxruntime  {ort_ms:7.1f} ms/image (yolo export --format onnx)")
    print(f"OpenCV forward              {cv_ms:7.1f} ms/image (network only)")
    print(f"ratio fused / OpenCV        {ours_ms / cv_ms:7.2f}  (target ≤ 1.2)")
    print(f"ratio eager / OpenCV        {eager_ms / cv_ms:7.2f}")
    print(f"ratio onnxruntime / OpenCV  {ort_ms / cv_ms:7.2f}")
    passes = build_ms / eager_ms
    print(f"building the fused graph    {build_ms:7.0f} ms once, ≈ {passes:.1f} eager passes")


if __name__ == "__main__":
    main()
