"""cnn train's TensorBoard sample of predictions: dev images framed by right/wrong, per epoch."""

from __future__ import annotations

import io

import numpy as np
from dltool_cnn.plots import prediction_tiles
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def test_tiles_are_framed_green_when_right_red_when_wrong():
    """Two 1-channel images: predicted 0 (true 0) → green frame; predicted 1 (true 0) → red."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 1, 8, 8)).astype(np.float32)
    tiles = prediction_tiles(x, np.array([0, 1]), np.array([0, 0]), ["zero", "one"], size=32)
    assert tiles.shape == (2, 32, 32, 3) and tiles.dtype == np.uint8
    assert tuple(tiles[0, 31, 16]) == (0, 200, 0) and tuple(tiles[1, 31, 16]) == (230, 0, 0)
    inner = tiles[0, 16:28, 4:28, 0]  # min-max scaled grey: R = G = B, spanning 0..255
    np.testing.assert_array_equal(inner, tiles[0, 16:28, 4:28, 1])
    flat = np.zeros((1, 3, 8, 8), np.float32)  # a constant image is black, not NaN
    black = prediction_tiles(flat, np.array([0]), np.array([0]), ["a"], 32)[0, 24, 16]
    assert black.tolist() == [0, 0, 0]


def test_each_epoch_adds_a_grid_of_dev_predictions(run, tmp_path):
    """2 epochs on digits: TensorBoard holds 'dev predictions' at steps 1 and 2, a 4×4 grid."""
    out = tmp_path / "r"
    assert run("train", "--data", "digits", "--epochs", "2", "--out", str(out)).exit_code == 0
    acc = EventAccumulator(str(out / "tensorboard"), size_guidance={"images": 0})
    acc.Reload()
    shots = acc.Images("dev predictions")
    assert [s.step for s in shots] == [1, 2]
    grid = np.asarray(Image.open(io.BytesIO(shots[-1].encoded_image_string)))
    assert grid.shape[2] == 3 and grid.shape[0] * grid.shape[1] >= 16 * 64 * 64  # 16 tiles
    assert (grid[..., 1] == 200).sum() > (grid[..., 0] == 230).sum()  # dev acc > 0.5: more green
