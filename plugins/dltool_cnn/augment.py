"""Data augmentation from the notes: mirroring, random cropping, rotation, shearing,
local warping and color shifting (including AlexNet's PCA color augmentation).

Every transform takes an image (H, W, C) float32 in [0, 1] and a ``np.random.Generator`` and
returns an image of the same shape, so ``cnn augment`` and ``cnn train --augment`` share them.
PCA color augmentation (Krizhevsky et al. 2012) adds Σ_i α_i λ_i p_i to every pixel, where
p_i, λ_i are eigenvectors/values of the RGB covariance and α_i ~ N(0, σ²).
"""

from __future__ import annotations

import numpy as np

from dltool.errors import DltoolError

OPS = ("mirror", "crop", "rotate", "shear", "warp", "color", "pca")


def mirror(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Return the image flipped left-right."""
    return img[:, ::-1].copy()


def random_crop(img: np.ndarray, rng: np.random.Generator, scale=(0.6, 1.0)) -> np.ndarray:
    """Return a random crop covering scale·H × scale·W, resized back to H × W."""
    from skimage.transform import resize

    H, W, _ = img.shape
    s = rng.uniform(*scale)
    h, w = max(1, int(H * s)), max(1, int(W * s))
    top, left = rng.integers(0, H - h + 1), rng.integers(0, W - w + 1)
    crop = img[top : top + h, left : left + w]
    return resize(crop, img.shape, order=1, mode="edge", anti_aliasing=False).astype(np.float32)


def _affine(img: np.ndarray, rotation: float = 0.0, shear: float = 0.0) -> np.ndarray:
    """Return img warped by a rotation/shear (radians) about its centre, edges reflected."""
    from skimage.transform import AffineTransform, warp

    H, W, _ = img.shape
    centre = np.array([W / 2, H / 2])
    shift = AffineTransform(translation=-centre)
    core = AffineTransform(rotation=rotation, shear=shear)
    back = AffineTransform(translation=centre)
    matrix = back.params @ core.params @ shift.params
    return warp(img, AffineTransform(matrix=matrix).inverse, order=1, mode="reflect").astype(
        np.float32
    )


def rotate(img: np.ndarray, rng: np.random.Generator, degrees: float = 25.0) -> np.ndarray:
    """Return the image rotated by an angle ~ U(−degrees, degrees)."""
    return _affine(img, rotation=np.deg2rad(rng.uniform(-degrees, degrees)))


def shear(img: np.ndarray, rng: np.random.Generator, degrees: float = 20.0) -> np.ndarray:
    """Return the image sheared by an angle ~ U(−degrees, degrees)."""
    return _affine(img, shear=np.deg2rad(rng.uniform(-degrees, degrees)))


def warp_local(img: np.ndarray, rng: np.random.Generator, alpha=0.04, sigma=0.12) -> np.ndarray:
    """Return the image under a smooth random displacement field (local, elastic warping)."""
    from scipy.ndimage import gaussian_filter, map_coordinates

    H, W, C = img.shape
    size = max(H, W)
    dy, dx = (
        gaussian_filter(rng.uniform(-1, 1, (H, W)), sigma * size, mode="reflect") for _ in range(2)
    )
    for d in (dy, dx):
        peak = np.abs(d).max()
        d *= alpha * size / peak if peak > 0 else 0.0
    yy, xx = np.meshgrid(np.arange(H), np.arange(W), indexing="ij")
    coords = [yy + dy, xx + dx]
    channels = [map_coordinates(img[:, :, c], coords, order=1, mode="reflect") for c in range(C)]
    return np.stack(channels, axis=2).astype(np.float32)


def color_shift(img: np.ndarray, rng: np.random.Generator, amount: float = 0.12) -> np.ndarray:
    """Return img + (r, g, b) with each shift ~ U(−amount, amount), clipped to [0, 1]."""
    shift = rng.uniform(-amount, amount, img.shape[2]).astype(np.float32)
    return np.clip(img + shift, 0.0, 1.0)


def pca_color(img: np.ndarray, rng: np.random.Generator, sigma: float = 0.1) -> np.ndarray:
    """Return img + P (α ⊙ λ) with P, λ the eigenvectors/values of the pixel covariance."""
    C = img.shape[2]
    if C == 1:
        return np.clip(img + rng.normal(0, sigma) * img.std(), 0.0, 1.0)
    pixels = img.reshape(-1, C).astype(np.float64)  # (H·W, C)
    cov = np.cov(pixels, rowvar=False)  # (C, C)
    eigval, eigvec = np.linalg.eigh(cov)
    alpha = rng.normal(0.0, sigma, C)
    delta = eigvec @ (alpha * np.maximum(eigval, 0.0) ** 0.5 * 3.0)  # (C,)
    return np.clip(img + delta.astype(np.float32), 0.0, 1.0)


TRANSFORMS = {
    "mirror": mirror,
    "crop": random_crop,
    "rotate": rotate,
    "shear": shear,
    "warp": warp_local,
    "color": color_shift,
    "pca": pca_color,
}


def parse_ops(text: str) -> list[str]:
    """Return the augmentation names in the comma-separated ``text``; unknown names are refused."""
    ops = [o.strip().lower() for o in text.split(",") if o.strip()]
    unknown = [o for o in ops if o not in TRANSFORMS]
    if unknown or not ops:
        raise DltoolError(
            f"unknown augmentation '{','.join(unknown) or text}'", hint=f"ops: {', '.join(OPS)}"
        )
    return ops


def apply_op(img: np.ndarray, rng: np.random.Generator, op: str) -> np.ndarray:
    """Return img after ``op``; 'color' is the RGB shift followed by PCA color augmentation."""
    out = TRANSFORMS[op](img, rng)
    return pca_color(out, rng) if op == "color" else out


def random_augment(
    img: np.ndarray, rng: np.random.Generator, ops: list[str], p=0.5, at_least_one=False
) -> tuple[np.ndarray, list[str]]:
    """Return (img after each op applied with probability p, the ops applied, in order).

    With ``at_least_one``, a draw that picked nothing applies one op chosen uniformly instead.
    """
    out, applied = img, []
    for op in ops:
        if rng.random() < p:
            out = apply_op(out, rng, op)
            applied.append(op)
    if at_least_one and not applied:
        op = ops[rng.integers(len(ops))]
        out = apply_op(out, rng, op)
        applied.append(op)
    return out, applied
