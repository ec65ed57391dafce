"""Face detection, 5-point alignment and 128-d encodings f(img).

Pipeline (as in dlib and face_recognition): find face boxes (HOG + linear SVM, or
dlib's CNN "MMOD" detector), fit the 5-point landmark model, then encode:

* ``DlibEncoder`` — dlib's pretrained ResNet; ``compute_face_descriptor`` aligns a
  150×150 chip from the landmarks and returns f(img) ∈ R¹²⁸. Same person when
  ‖f(a) − f(b)‖ < 0.6.
* ``TorchEncoder`` — a FaceNet-style network trained with ``dltool facerec train``;
  the same landmarks give an aligned chip (``dlib.get_face_chip``) fed to the network.

Boxes are ``(top, right, bottom, left)`` in pixels, clipped to the image.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dltool.errors import DltoolError

DETECTORS = ("hog", "cnn")
MAX_UPSAMPLE = 4
DLIB_NAME = "dlib-resnet-v1"
DLIB_THRESHOLD = 0.6


@dataclass
class Face:
    """One detected face: its box (top, right, bottom, left) and, once encoded, f(img)."""

    box: tuple[int, int, int, int]
    encoding: Any = None

    @property
    def area(self) -> int:
        """Return (bottom − top) · (right − left)."""
        top, right, bottom, left = self.box
        return (bottom - top) * (right - left)


def _dlib() -> Any:
    """Return the dlib module or raise how to install it."""
    try:
        import dlib
    except ImportError:
        raise DltoolError(
            "dlib is not installed", hint="pip install 'dltool[facerec]' (dlib-bin)"
        ) from None
    return dlib


@functools.lru_cache(maxsize=8)
def _model(kind: str, path: str = "") -> Any:
    """Return a dlib model of ``kind`` loaded from ``path`` (once per process)."""
    dlib = _dlib()
    if kind == "hog":
        return dlib.get_frontal_face_detector()
    return {
        "cnn": dlib.cnn_face_detection_model_v1,
        "shape": dlib.shape_predictor,
        "resnet": dlib.face_recognition_model_v1,
    }[kind](path)


def _clip_box(rect: Any, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """Return a dlib rectangle as (top, right, bottom, left) clipped to an (H, W) image."""
    h, w = shape[:2]
    return (
        max(rect.top(), 0),
        min(rect.right(), w - 1),
        min(rect.bottom(), h - 1),
        max(rect.left(), 0),
    )


class FaceFinder:
    """Face boxes (HOG or CNN detector) and 5-point landmarks of an RGB image."""

    def __init__(self, detector: str = "hog", upsample: int = 1, quiet: bool | None = None):
        from dltool.artifacts import ensure
        from dltool_facerec.weights import DLIB_MMOD, DLIB_RESNET, MMOD, SHAPE5

        if detector not in DETECTORS:
            raise DltoolError(f"unknown detector '{detector}'", hint="use hog or cnn")
        if not 0 <= upsample <= MAX_UPSAMPLE:
            raise DltoolError(f"--upsample must be between 0 and {MAX_UPSAMPLE}, got {upsample}")
        dlib = _dlib()
        self.dlib = dlib
        self.kind = detector
        self.upsample = upsample
        paths = ensure(DLIB_RESNET, quiet=quiet)
        self.predictor = _model("shape", str(paths[SHAPE5]))
        if detector == "hog":
            self.detector = _model("hog")
        else:
            self.detector = _model("cnn", str(ensure(DLIB_MMOD, quiet=quiet)[MMOD]))

    def rects(self, image: Any) -> list[Any]:
        """Return dlib rectangles of the faces in ``image`` (H, W, 3), top-to-bottom."""
        found = self.detector(image, self.upsample)
        rects = [d.rect for d in found] if self.kind == "cnn" else list(found)
        return sorted(rects, key=lambda r: (r.top(), r.left()))

    def boxes(self, image: Any) -> list[Face]:
        """Return the faces of ``image`` (boxes only: no landmarks, no encodings)."""
        return [Face(_clip_box(r, image.shape)) for r in self.rects(image)]

    def faces(self, image: Any) -> list[tuple[Face, Any]]:
        """Return (Face, 5-point landmarks) for each face in ``image``."""
        return [
            (Face(_clip_box(r, image.shape)), self.predictor(image, r)) for r in self.rects(image)
        ]

    def whole(self, image: Any) -> tuple[Face, Any]:
        """Return (Face, landmarks) fitted inside the whole image (for pre-cropped faces)."""
        h, w = image.shape[:2]
        rect = self.dlib.rectangle(0, 0, w - 1, h - 1)
        return Face((0, w - 1, h - 1, 0)), self.predictor(image, rect)

    def largest(self, image: Any) -> tuple[Face, Any]:
        """Return (Face, landmarks) of the largest face, else of the whole image (a crop)."""
        found = self.faces(image)
        return max(found, key=lambda fs: fs[0].area) if found else self.whole(image)


class DlibEncoder:
    """dlib's pretrained ResNet face encoder: f(img) ∈ R¹²⁸ from an aligned 150×150 chip."""

    name = DLIB_NAME
    dim = 128
    threshold = DLIB_THRESHOLD

    def __init__(self, quiet: bool | None = None):
        from dltool.artifacts import ensure
        from dltool_facerec.weights import DLIB_RESNET, RESNET

        self.model = _model("resnet", str(ensure(DLIB_RESNET, quiet=quiet)[RESNET]))

    def encode(self, image: Any, shapes: list[Any]) -> Any:
        """Return f(img) for each landmark set: array (n, 128), float64."""
        import numpy as np

        if not shapes:
            return np.zeros((0, self.dim))
        from dlib import full_object_detections

        batch = full_object_detections()
        batch.extend(shapes)
        return np.array(self.model.compute_face_descriptor(image, batch), dtype=np.float64)


class TorchEncoder:
    """A trained FaceNet-style torch encoder applied to aligned 96×96 chips."""

    def __init__(self, path: Path, device: Any = None):
        from dltool_facerec.facenet import load_encoder

        self.model, meta = load_encoder(path, device)
        self.device = device
        self.path = path
        self.name = meta["name"]
        self.dim = int(meta["dim"])
        self.size = int(meta["input_size"])
        self.threshold = float(meta["threshold"])

    def encode(self, image: Any, shapes: list[Any]) -> Any:
        """Return f(img) for each landmark set: array (n, dim), float64."""
        import numpy as np

        from dltool_facerec.facenet import embed_chips

        if not shapes:
            return np.zeros((0, self.dim))
        dlib = _dlib()
        chips = [dlib.get_face_chip(image, s, size=self.size, padding=0.25) for s in shapes]
        return embed_chips(self.model, np.stack(chips), self.device)


def load_encoder(path: Path | None, device: Any = None, quiet: bool | None = None) -> Any:
    """Return the dlib encoder (``path`` None) or the torch encoder of ``path`` (file or run)."""
    if path is None:
        return DlibEncoder(quiet=quiet)
    return TorchEncoder(encoder_file(Path(path)), device)


def encoder_file(path: Path) -> Path:
    """Return ``path``, or the encoder.pt inside the run folder ``path`` names.

    A number that is no file names a run of ``facerec train`` (``runs/facerec/train/N``).
    """
    if not path.exists() and str(path).isdigit():
        from dltool.runs import find_run

        path = find_run(path, "facerec", "train")
    if path.is_dir():
        inside = path / "encoder.pt"
        if not inside.is_file():
            raise DltoolError(
                f"{path} holds no encoder.pt",
                hint="give a run folder of 'dltool facerec train' (runs/facerec/train/N)",
            )
        return inside
    if not path.is_file():
        raise DltoolError(
            f"encoder file not found: {path}",
            hint="give encoder.pt, or the run folder or run number of 'dltool facerec train'",
        )
    return path


class FacePipeline:
    """Detect, align and encode every face of an image with one finder and one encoder."""

    def __init__(self, finder: FaceFinder, encoder: Any):
        self.finder = finder
        self.encoder = encoder

    def encode(self, image: Any) -> list[Face]:
        """Return every face of ``image`` with its encoding (n, dim) filled in."""
        return self._encoded(image, self.finder.faces(image))

    def encode_largest(self, image: Any) -> Face:
        """Return the largest face of ``image`` (else the whole image) with its encoding."""
        return self._encoded(image, [self.finder.largest(image)])[0]

    def _encoded(self, image: Any, found: list[tuple[Face, Any]]) -> list[Face]:
        """Return the faces of (Face, landmarks) pairs with their encodings filled in."""
        encodings = self.encoder.encode(image, [shape for _, shape in found])
        for (face, _), enc in zip(found, encodings, strict=True):
            face.encoding = enc
        return [face for face, _ in found]
