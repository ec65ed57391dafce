"""Augmentations keep shape and range, and do what their formulas say; shapes data; transfer."""

from __future__ import annotations

import numpy as np
import pytest
from dltool_cnn import augment as A
from dltool_cnn import data as D


@pytest.fixture
def img():
    from skimage import data
    from skimage.transform import resize

    return resize(data.astronaut(), (48, 64), anti_aliasing=True).astype(np.float32)


@pytest.mark.parametrize("op", A.OPS)
def test_every_op_keeps_shape_dtype_and_range(op, img):
    out = A.TRANSFORMS[op](img, np.random.default_rng(0))
    assert out.shape == img.shape and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1
    assert not np.allclose(out, img)


def test_mirror_is_an_involution(img):
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(A.mirror(A.mirror(img, rng), rng), img)
    np.testing.assert_array_equal(A.mirror(img, rng)[:, 0], img[:, -1])


def test_zero_affine_is_identity(img):
    np.testing.assert_allclose(A._affine(img, 0.0, 0.0), img, atol=1e-5)


def test_pca_color_adds_one_shift_along_the_principal_axes():
    rng = np.random.default_rng(1)
    base = rng.uniform(0.45, 0.55, (3,))
    img = (base + rng.normal(0, 0.03, (20, 20, 3)) @ np.diag([2.0, 1.0, 0.2])).astype(np.float32)
    out = A.pca_color(img, np.random.default_rng(2))
    delta = (out - img).reshape(-1, 3)
    np.testing.assert_allclose(delta, np.broadcast_to(delta[0], delta.shape), atol=1e-6)
    eigval, eigvec = np.linalg.eigh(np.cov(img.reshape(-1, 3), rowvar=False))
    alpha = np.random.default_rng(2).normal(0.0, 0.1, 3)
    np.testing.assert_allclose(delta[0], eigvec @ (alpha * np.sqrt(eigval) * 3.0), atol=1e-6)


def test_random_augment_is_reproducible(img):
    ops = A.parse_ops("mirror,crop,rotate,color")
    a, applied_a = A.random_augment(img, np.random.default_rng(5), ops, p=1.0)
    b, applied_b = A.random_augment(img, np.random.default_rng(5), ops, p=1.0)
    np.testing.assert_array_equal(a, b)
    assert applied_a == applied_b == ops


def test_random_augment_reports_and_can_force_one_op(img):
    ops = ["mirror", "color"]
    same, none = A.random_augment(img, np.random.default_rng(0), ops, p=0.0)
    assert none == [] and same is img
    out, one = A.random_augment(img, np.random.default_rng(0), ops, p=0.0, at_least_one=True)
    assert len(one) == 1 and one[0] in ops and not np.allclose(out, img)
    rng = np.random.default_rng(3)
    for _ in range(20):
        out, applied = A.random_augment(img, rng, ["mirror"], p=0.5)
        np.testing.assert_array_equal(out, A.mirror(img, rng) if applied else img)


def test_shapes_data_and_split():
    data = D.shapes(16, n=30, seed=0)
    assert data.X.shape == (30, 16, 16, 3) and sorted(set(data.y)) == [0, 1, 2]
    train, dev = D.split(data, 0.2, seed=0)
    assert len(train.y) + len(dev.y) == 30
    assert sorted(np.bincount(dev.y)) == [2, 2, 2]  # stratified


def test_transfer_freeze_modes():
    from dltool_cnn.transfer import build_pretrained

    trainable = {}
    for freeze in ("backbone", "4", "none"):
        model, mean, std = build_pretrained("efficientnet-lite0", 3, freeze, weights=False)
        trainable[freeze] = sum(p.numel() for p in model.parameters() if p.requires_grad)
        model.train()
        frozen_bn = [m for m in model.net._blocks[0].modules() if "BatchNorm" in type(m).__name__]
        assert all(not m.training for m in frozen_bn) == (freeze != "none")
    assert trainable["backbone"] == 1280 * 3 + 3
    model, _, _ = build_pretrained("efficientnet-lite0", 3, "backbone", weights=False)
    model.train()
    assert model.net._dropout.training and model.net._fc.training  # the head trains
    assert not model.net._bn1.training and not model.net._blocks[15].training
    assert trainable["backbone"] < trainable["4"] < trainable["none"]
    assert len(mean) == 3 and len(std) == 3
