"""Fixtures for facerec: real faces shipped by packages, tiny identity folders, a database."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from facerec_data import ASTRONAUT, ASTRONAUT_FACE, GRACE, GRACE_FACE, augmented_crops


@pytest.fixture(scope="session")
def faces_dir(tmp_path_factory) -> Path:
    """DATA/<person>/k.png: 5 augmented crops of each of two real faces."""
    root = tmp_path_factory.mktemp("faces")
    rng = np.random.default_rng(0)
    for name, path, box in (("astronaut", ASTRONAUT, ASTRONAUT_FACE), ("grace", GRACE, GRACE_FACE)):
        (root / name).mkdir()
        augmented_crops(path, box, 5, rng, root / name)
    return root


@pytest.fixture(scope="session")
def pipeline():
    """The default HOG + dlib ResNet pipeline (loaded once)."""
    from dltool_facerec.encoders import DlibEncoder, FaceFinder, FacePipeline

    return FacePipeline(FaceFinder("hog", 1, quiet=True), DlibEncoder(quiet=True))


@pytest.fixture
def db_path(tmp_path, monkeypatch) -> Path:
    """A fresh database path, also set as $DLTOOL_FACE_DB."""
    path = tmp_path / "faces.sqlite3"
    monkeypatch.setenv("DLTOOL_FACE_DB", str(path))
    return path


@pytest.fixture(scope="session")
def small(tmp_path_factory) -> dict[str, Path]:
    """Half-size copies (faster to detect): grace, astronaut (one face) and its mirror image."""
    from PIL import Image

    root = tmp_path_factory.mktemp("small")
    out = {}
    for name, path in (("grace", GRACE), ("astronaut", ASTRONAUT)):
        with Image.open(path) as im:
            im = im.convert("RGB").resize((im.width // 2, im.height // 2), Image.BILINEAR)
            im.save(root / f"{name}.png")
            if name == "astronaut":
                im.transpose(Image.FLIP_LEFT_RIGHT).save(root / "mirror.png")
        out[name] = root / f"{name}.png"
    out["mirror"] = root / "mirror.png"
    return out


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Run torch on one thread here (small tensors; CI cores are shared), then restore."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
