"""The embedded default encoder: dlib's pretrained face models, as core artifacts (source a).

The registry package ``face-recognition-models`` (CC0 / Apache-2.0 models by Davis King)
ships the files under ``face_recognition_models/models/``. The package is never imported
(its ``__init__`` needs ``pkg_resources``); the core locates it with ``find_spec``.
This module stays light (no numpy/dlib): it is imported when artifacts are registered.
"""

from __future__ import annotations

from dltool.artifacts import Artifact, ArtifactFile, PackageSource

SOURCE = PackageSource("face_recognition_models", "face-recognition-models", "models")
RESNET = "dlib_face_recognition_resnet_model_v1.dat"
SHAPE5 = "shape_predictor_5_face_landmarks.dat"
MMOD = "mmod_human_face_detector.dat"

DLIB_RESNET = Artifact(
    name="dlib-face-resnet",
    files=(
        ArtifactFile(
            RESNET, "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30", 22466066
        ),
        ArtifactFile(
            SHAPE5, "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888", 9150489
        ),
    ),
    source=SOURCE,
    license="CC0-1.0",
    description="dlib ResNet 128-d face encoder + 5-point landmarks (facerec default)",
)

DLIB_MMOD = Artifact(
    name="dlib-face-mmod",
    files=(
        ArtifactFile(
            MMOD, "4cb19393e2fbaf2b1609a9319ad5386618c886a6234ec1b971f3e87c85d87fe6", 729940
        ),
    ),
    source=SOURCE,
    license="CC0-1.0",
    description="dlib CNN (MMOD) face detector (facerec --detector cnn)",
)
