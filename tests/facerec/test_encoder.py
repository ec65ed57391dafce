"""The real dlib models on real photos: artifacts, boxes, and the distances of the issue."""

from __future__ import annotations

import numpy as np
import pytest
from dltool_facerec.encoders import DlibEncoder, FaceFinder, FacePipeline
from dltool_facerec.images import load_rgb
from dltool_facerec.weights import DLIB_MMOD, DLIB_RESNET
from facerec_data import ASTRONAUT, ASTRONAUT_FACE, COFFEE, GRACE, GRACE_FACE

from dltool.artifacts import ArtifactStore
from dltool.errors import DltoolError


def test_artifacts_verify_by_sha256():
    store = ArtifactStore()
    assert store.status(DLIB_RESNET, rehash=True) == "verified"
    assert store.status(DLIB_MMOD, rehash=True) == "verified"
    assert DLIB_RESNET.size == 22466066 + 9150489


def test_boxes_and_encodings(pipeline):
    faces = pipeline.encode(load_rgb(GRACE))
    assert [f.box for f in faces] == [GRACE_FACE]
    enc = faces[0].encoding
    assert enc.shape == (128,) and enc.dtype == np.float64
    assert 0.2 < np.linalg.norm(enc) < 2
    astro = pipeline.encode(load_rgb(ASTRONAUT))
    assert astro[0].box == ASTRONAUT_FACE and len(astro) == 2  # face + the mission patch
    assert pipeline.encode(load_rgb(COFFEE)) == []
    boxes = pipeline.finder.boxes(load_rgb(ASTRONAUT))  # detect: the same boxes, no landmarks
    assert [f.box for f in boxes] == [f.box for f in astro] and boxes[0].encoding is None
    largest = pipeline.encode_largest(load_rgb(ASTRONAUT))
    np.testing.assert_array_equal(largest.encoding, astro[0].encoding)
    with pytest.raises(DltoolError, match="--upsample must be between 0 and 4, got 5"):
        FaceFinder("hog", 5)


def test_distances_of_the_issue(pipeline):
    astro = load_rgb(ASTRONAUT)
    a = max(pipeline.encode(astro), key=lambda f: f.area).encoding
    mirror = max(pipeline.encode(np.ascontiguousarray(astro[:, ::-1])), key=lambda f: f.area)
    g = pipeline.encode(load_rgb(GRACE))[0].encoding
    assert np.linalg.norm(a - mirror.encoding) == pytest.approx(0.19, abs=0.02)
    assert np.linalg.norm(a - g) == pytest.approx(0.71, abs=0.03)
    assert np.linalg.norm(a - mirror.encoding) < 0.6 < np.linalg.norm(a - g)
    # the mirror's box is the original's box reflected about the vertical axis
    top, right, bottom, left = ASTRONAUT_FACE
    expected = (top, 511 - left, bottom, 511 - right)
    assert np.abs(np.subtract(mirror.box, expected)).max() <= 2  # HOG windows lie on a grid


def test_same_as_calling_dlib_directly(pipeline):
    import dlib

    from dltool.artifacts import ensure

    paths = ensure(DLIB_RESNET, quiet=True)
    image = load_rgb(GRACE)
    det = dlib.get_frontal_face_detector()(image, 1)[0]
    sp = dlib.shape_predictor(str(paths["shape_predictor_5_face_landmarks.dat"]))
    model = dlib.face_recognition_model_v1(str(paths["dlib_face_recognition_resnet_model_v1.dat"]))
    direct = np.array(model.compute_face_descriptor(image, sp(image, det)))
    np.testing.assert_allclose(pipeline.encode(image)[0].encoding, direct, atol=1e-6)


def test_cnn_detector_finds_the_face(pipeline):
    from PIL import Image

    small = np.asarray(Image.fromarray(load_rgb(GRACE)).resize((256, 300)))
    cnn = FacePipeline(FaceFinder("cnn", 0, quiet=True), pipeline.encoder)
    faces = cnn.encode(np.ascontiguousarray(small))
    assert len(faces) == 1
    top, right, bottom, left = faces[0].box
    assert 40 < top < 110 and 150 < right < 230 and left > 30
    hog = pipeline.encode(np.ascontiguousarray(small))[0].encoding
    assert np.linalg.norm(faces[0].encoding - hog) < 0.25  # same face, slightly other box


def test_whole_image_fallback_and_empty_encode(pipeline):
    image = load_rgb(COFFEE)
    assert pipeline.encode(image) == []
    faces = [pipeline.encode_largest(image)]
    assert len(faces) == 1 and faces[0].box == (0, 599, 399, 0)
    assert DlibEncoder.dim == 128
    assert pipeline.encoder.encode(image, []).shape == (0, 128)
