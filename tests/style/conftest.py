"""Fixtures for the style tests (app, cli, fails: tests/conftest.py): small image files."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _one_thread():
    """Run each test on one torch thread (tiny images; steadier on a busy machine), then restore."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def photos(tmp_path_factory):
    """Real photos from scikit-image written as small files: content.png, style.jpg, texture.png."""
    from PIL import Image
    from skimage import data

    root = tmp_path_factory.mktemp("photos")
    Image.fromarray(data.chelsea()).resize((90, 60)).save(root / "content.png")
    Image.fromarray(data.immunohistochemistry()).resize((64, 64)).save(root / "style.jpg")
    brick = np.repeat(data.brick()[:, :, None], 3, axis=2)
    Image.fromarray(brick).resize((80, 80)).save(root / "texture.png")
    Image.fromarray(data.chelsea()).resize((20, 16)).save(root / "tiny.png")
    (root / "notes.txt").write_text("not an image\n")
    return root
