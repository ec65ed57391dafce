"""Fixtures for the style tests: the CLI with only the style plugin, small image files."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner


@pytest.fixture(autouse=True)
def _one_thread():
    """Run each test on one torch thread (tiny images; steadier on a busy machine), then restore."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def app():
    """The dltool app with only the style plugin (in-process)."""
    import dltool_style

    from dltool.cli import create_app
    from dltool.plugins import PluginManager

    return create_app(PluginManager.from_modules({"style": dltool_style}))


@pytest.fixture
def cli(app, monkeypatch, tmp_path):
    """Run ``dltool ARGS…`` in-process: cli(*args) -> Result (stdout, stderr, exit_code)."""
    monkeypatch.setenv("DLTOOL_RUNS", str(tmp_path / "runs"))
    runner = CliRunner()

    def _run(*args):
        return runner.invoke(app, [str(a) for a in args], prog_name="dltool")

    return _run


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
