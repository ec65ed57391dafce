"""yolo's augmentations (augment.py): exact box math of affine and mosaic, HSV, flip, seeds."""

from __future__ import annotations

import colorsys

import numpy as np
import pytest
from dltool_yolo import augment as A

from dltool.errors import DltoolError

S = 64


def grey(value: int = A.PAD, size: int = S) -> np.ndarray:
    """Return a flat (size, size, 3) uint8 image."""
    return np.full((size, size, 3), value, np.uint8)


def boxes_of(labels: np.ndarray, size: int = S) -> np.ndarray:
    """Return the pixel corners (n, 4) of label rows."""
    return A.to_corners(labels, size)


def test_corners_and_labels_round_trip():
    labels = np.array([[2, 0.5, 0.25, 0.25, 0.5], [0, 0.1, 0.9, 0.2, 0.2]])
    corners = A.to_corners(labels, S)
    np.testing.assert_allclose(corners, [[24, 0, 40, 32], [0, 51.2, 12.8, 64]])
    np.testing.assert_allclose(A.to_labels(labels[:, 0], corners, S), labels)


def test_affine_moves_boxes_exactly_then_clips_and_drops():
    m = A.Affine(s=0.5, dx=16.0, dy=8.0)
    rows = np.array(
        [
            [0, 10, 10, 30, 20],  # -> [21, 13, 31, 18]: inside
            [1, 80, 0, 160, 40],  # -> [56, 8, 96, 28]: clipped to x2 = 64, 8/40 = 0.2 of it kept
            [2, 100, 0, 200, 40],  # -> [66, 8, 116, 28]: outside, dropped
            [3, 0, 0, 3, 40],  # -> [16, 8, 17.5, 28]: 1.5 px wide, dropped
            [1, 90, 0, 140, 40],  # -> [61, 8, 86, 28]: 3/25 = 0.12 > 0.1 kept; w' 3 > 2
            [1, 92, 0, 142, 40],  # -> [62, 8, 87, 28]: w' = 2, not > 2: dropped
        ],
        float,
    )
    _image, kept = A.random_affine(grey(), rows, m, S)
    np.testing.assert_array_equal(
        kept, [[0, 21, 13, 31, 18], [1, 56, 8, 64, 28], [1, 61, 8, 64, 28]]
    )


def test_affine_area_ratio_threshold_is_ultralytics_0_1():
    m = A.Affine(s=1.0, dx=0.0, dy=0.0)
    rows = np.array([[0, 54, 0, 104, 10], [0, 55.5, 0, 105.5, 10]])  # 10/50 and 8.5/50 inside
    _, kept = A.random_affine(grey(), rows, m, S)
    assert kept[:, 1].tolist() == [54, 55.5]
    rows = np.array([[0, 58, 0, 118, 10], [0, 59, 0, 119, 10]])  # 6/60 = 0.1 not > 0.1; 5/60
    _, kept = A.random_affine(grey(), rows, m, S)
    assert len(kept) == 0


def test_draw_affine_follows_the_formula():
    ops = ("scale", "translate")
    rng, ref = np.random.default_rng(3), np.random.default_rng(3)
    m = A.draw_affine(rng, 2 * S, S, ops)
    s = ref.uniform(0.5, 1.5)
    tx, ty = ref.uniform(0.4, 0.6, 2) * S
    assert (m.s, m.dx, m.dy) == pytest.approx((s, tx - s * S, ty - s * S))
    still = A.draw_affine(np.random.default_rng(0), 2 * S, S, ())
    assert (still.s, still.dx, still.dy) == (1.0, -S / 2, -S / 2)  # the centre crop
    only_scale = A.draw_affine(np.random.default_rng(3), S, S, ("scale",))
    assert only_scale.dx == pytest.approx(S / 2 - s * S / 2) == pytest.approx(only_scale.dy)


def test_warp_integer_shift_is_exact_and_fills_grey():
    image = np.random.default_rng(0).integers(0, 256, (S, S, 3)).astype(np.uint8)
    out = A.warp(image, A.Affine(1.0, 5.0, -3.0), S)
    np.testing.assert_array_equal(out[:-3, 5:], image[3:, :-5])
    assert (out[:, :5] == A.PAD).all() and (out[-3:] == A.PAD).all()


def test_warped_pixels_follow_the_warped_box():
    """A white box on grey lands where the affine sends its corners (to the nearest pixel)."""
    image = grey()
    image[16:40, 8:32] = 255  # box [8, 16, 32, 40]
    rows = np.array([[0, 8, 16, 32, 40.0]])
    m = A.draw_affine(A.sample_rng(7, 0, 0), S, S, ("scale", "translate"))
    out, kept = A.random_affine(image, rows, m, S)
    ys, xs = np.nonzero(out[:, :, 0] > 191)  # more than half white
    found = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
    np.testing.assert_allclose(found, kept[0, 1:], atol=1.0)
    np.testing.assert_allclose(kept[0, 1:], np.array([8, 16, 32, 40]) * m.s + [m.dx, m.dy] * 2)


def _tiles():
    """Four flat samples (values 10, 20, 30, 40), each with one box [16, 16, 48, 48] of class k."""
    label = lambda k: np.array([[k, 0.5, 0.5, 0.5, 0.5]])  # noqa: E731
    return [(grey(10 * (k + 1)), label(k)) for k in range(4)]


def test_mosaic_puts_each_tile_in_its_quadrant_with_exact_offsets():
    canvas, rows = A.mosaic(_tiles(), (40, 70))
    assert canvas.shape == (2 * S, 2 * S, 3)
    # tiles' corners: (-24, 6), (40, 6), (-24, 70), (40, 70)
    assert (canvas[6:70, 0:40] == 10).all() and (canvas[6:70, 40:104] == 20).all()
    assert (canvas[70:128, 0:40] == 30).all() and (canvas[70:128, 40:104] == 40).all()
    assert (canvas[:6] == A.PAD).all() and (canvas[:, 104:] == A.PAD).all()
    np.testing.assert_array_equal(
        rows,
        [[0, 0, 22, 24, 54], [1, 56, 22, 88, 54], [2, 0, 86, 24, 118], [3, 56, 86, 88, 118]],
    )  # [16, 16, 48, 48] + the corner, clipped to the canvas (x1 = −8 → 0)


def test_mosaic_alone_is_the_centre_crop_of_the_canvas():
    tiles = _tiles()
    rng, ref = A.sample_rng(0, 0, 3), A.sample_rng(0, 0, 3)
    image, labels = A.augment(lambda i: tiles[i], 0, 4, ("mosaic",), rng)
    assert ref.random() < 1.0
    others = ref.integers(0, 4, 3)
    centre = tuple(int(c) for c in ref.uniform(S / 2, 3 * S / 2, 2))
    canvas, rows = A.mosaic([tiles[0], *(tiles[j] for j in others)], centre)
    np.testing.assert_array_equal(image, canvas[S // 2 : 3 * S // 2, S // 2 : 3 * S // 2])
    shifted = rows[:, 1:] - S / 2
    clipped = shifted.clip(0, S)
    keep = A.box_candidates(shifted, clipped)
    np.testing.assert_allclose(labels, A.to_labels(rows[keep, 0], clipped[keep], S))


def test_hsv_keeps_boxes_and_range_and_is_the_formula():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (S, S, 3)).astype(np.uint8)
    labels = np.array([[1, 0.5, 0.5, 0.2, 0.3]])
    load = lambda i: (image, labels)  # noqa: E731
    out, kept = A.augment(load, 0, 1, ("hsv",), A.sample_rng(1, 0, 0))
    np.testing.assert_array_equal(kept, labels)
    assert out.dtype == np.uint8 and out.shape == image.shape and 0 <= out.min() <= out.max() <= 255
    g = 1 + A.sample_rng(1, 0, 0).uniform(-1, 1, 3) * np.array([0.015, 0.7, 0.4])
    px = image[3, 5] / 255
    h, s, v = colorsys.rgb_to_hsv(*px)
    want = colorsys.hsv_to_rgb((h * g[0]) % 1, min(s * g[1], 1), min(v * g[2], 1))
    np.testing.assert_allclose(out[3, 5], np.rint(np.array(want) * 255), atol=1)
    assert not np.array_equal(out, image)


def test_hsv_conversions_match_colorsys_and_zero_gain_is_identity():
    rgb = np.random.default_rng(2).random((200, 3))
    h, s, v = A.rgb_to_hsv(rgb)
    ref = np.array([colorsys.rgb_to_hsv(*p) for p in rgb])
    np.testing.assert_allclose(np.stack([h, s, v], 1), ref, atol=1e-12)
    np.testing.assert_allclose(A.hsv_to_rgb(h, s, v), rgb, atol=1e-12)
    image = (rgb.reshape(10, 20, 3) * 255).astype(np.uint8)
    same = A.hsv_jitter(image, np.random.default_rng(0), (0.0, 0.0, 0.0))
    np.testing.assert_array_equal(same, image)


def test_flip_mirrors_image_and_centres():
    image = np.arange(S * S * 3, dtype=np.uint8).reshape(S, S, 3)
    out, labels = A.flip_lr(image, np.array([[0, 0.25, 0.5, 0.1, 0.2]]))
    np.testing.assert_array_equal(out, image[:, ::-1])
    np.testing.assert_allclose(labels, [[0, 0.75, 0.5, 0.1, 0.2]])


def test_all_ops_are_reproducible_by_seed_epoch_and_index():
    tiles = _tiles()
    load = lambda i: tiles[i]  # noqa: E731
    ops = A.OPS
    one = A.augment(load, 1, 4, ops, A.sample_rng(0, 2, 1))
    two = A.augment(load, 1, 4, ops, A.sample_rng(0, 2, 1))
    other = A.augment(load, 1, 4, ops, A.sample_rng(0, 3, 1))
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])
    assert not np.array_equal(one[0], other[0])
    assert one[0].shape == (S, S, 3) and one[0].dtype == np.uint8
    assert ((one[1][:, 1:] >= 0) & (one[1][:, 1:] <= 1)).all()


def test_parse_ops_and_size_refusals():
    assert A.parse_ops("mosaic, FLIP") == ("flip", "mosaic")  # pipeline order
    assert A.parse_ops("none") == () and A.parse_ops(A.DEFAULT_OPS) == ("flip",)
    assert A.parse_ops("all") == A.OPS and A.parse_ops(None) == ("flip",)
    with pytest.raises(DltoolError, match="unknown augmentation 'blur'") as err:
        A.parse_ops("flip,blur")
    assert "flip, hsv, scale, translate, mosaic" in err.value.hint
    assert A.check_size(320) == 320
    with pytest.raises(DltoolError, match="not a multiple of the network stride 32") as err:
        A.check_size(100)
    assert err.value.hint == "the nearest valid sizes are 96 or 128"


def test_grid_rows_and_png(tmp_path):
    from dltool_yolo.plots import augment_grid

    tiles = [(image, labels * [1, 0.5, 1, 1, 1]) for image, labels in _tiles()]  # x_c 0.25
    rows = A.grid_rows(lambda i: tiles[i], 4, ("flip", "mosaic"), seed=0, columns=3)
    assert [name for name, _ in rows] == ["none", "flip", "mosaic", "all"]
    assert all(len(samples) == 3 for _, samples in rows)
    for k in range(3):  # the flip row flips every sample
        np.testing.assert_allclose(rows[1][1][k][1], [[k, 0.75, 0.5, 0.5, 0.5]])
    augment_grid(tmp_path / "grid.png", rows, ["a", "b", "c", "d"])
    assert (tmp_path / "grid.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_with_input_size_sets_the_net_side_only():
    from dltool_yolo.cfg import parse_cfg, tiny_cfg, with_input_size

    text = with_input_size(tiny_cfg(4, 0.5, 128), 96)
    net = parse_cfg(text)[0]
    assert (net.int("width"), net.int("height")) == (96, 96)
    assert text.count("width=") == 1
    mine = "[net]\n# mine\nwidth = 608 # comment\nchannels=3\n[convolutional]\nwidth=5\n"
    assert with_input_size(mine, 320) == (
        "[net]\nheight=320\n# mine\nwidth=320\nchannels=3\n[convolutional]\nwidth=5\n"
    )


def test_cli_completes_the_same_ops():
    from dltool_yolo.cli import AUGMENT_OPS, _complete_ops

    assert AUGMENT_OPS == A.OPS
    assert _complete_ops("") == [*A.OPS, "all", "none"]
    assert _complete_ops("flip,") == ["flip,hsv", "flip,scale", "flip,translate", "flip,mosaic"]
    assert _complete_ops("hsv,m") == ["hsv,mosaic"]


def test_images_without_boxes_pass_every_op():
    empty = [(grey(50 * k), np.zeros((0, 5))) for k in range(3)]
    image, labels = A.augment(lambda i: empty[i], 0, 3, A.OPS, A.sample_rng(0, 0, 0))
    assert image.shape == (S, S, 3) and labels.shape == (0, 5)
