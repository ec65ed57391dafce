"""Detection augmentations as ultralytics applies them, in NumPy: mosaic, affine, HSV, flip.

A sample is an image (S, S, 3) uint8 and its labels (n, 5), rows [class, x_c, y_c, w, h]
as fractions of the side S (a letterboxed training sample). Inside, boxes are pixel corners
(n, 4) [x1, y1, x2, y2] in continuous coordinates: pixel i covers [i, i + 1).

* mosaic (ultralytics ``load_mosaic``, p = 1): four samples on a 2S × 2S grey canvas around
  a centre (x_c, y_c) ~ U(S/2, 3S/2)²; the tiles' top-left corners are (x_c − S, y_c − S),
  (x_c, y_c − S), (x_c − S, y_c) and (x_c, y_c), and each box moves by its tile's corner.
* affine (``random_perspective`` without rotation, shear or perspective): x' = s·(x − c) + t,
  c the input's centre, s ~ U(1 − scale, 1 + scale) (``scale``), t = S·U(0.5 − translate,
  0.5 + translate) (``translate``; t = S/2 without it). After a mosaic it always runs, and
  maps the 2S canvas to S (the crop around the centre when s = 1, t = S/2). The image is
  sampled bilinearly at out⁻¹(p); a box's corners go through the same map, are clipped to
  [0, S] and the box is kept when w', h' > 2 px, w'h' / (s²·wh) > 0.1 and its aspect ratio
  is below 100 (``box_candidates``).
* hsv: gains g = 1 + U(−1, 1)·(0.015, 0.7, 0.4); H' = (H·g_h) mod 1, S' = min(S·g_s, 1),
  V' = min(V·g_v, 1); boxes unchanged.
* flip: x → S − x (x_c → 1 − x_c) with probability 1/2.

The order is ultralytics': mosaic, affine, HSV, flip. Each sample draws from its own
generator seeded by (seed, epoch, index), so a run gives the same samples with any number
of data workers or ranks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dltool.errors import DltoolError

OPS = ("flip", "hsv", "scale", "translate", "mosaic")
DEFAULT_OPS = "flip"  # what `yolo train` did before the switches (and what old runs resume with)
PAD = 127  # grey of the letterbox padding (dataset.py), also the fill of mosaic and affine
GRID_EPOCH = 1 << 30  # the grid's draws: an epoch no run reaches
STRIDE = 32  # the largest stride of a YOLO network: its input side is a multiple of it

Sample = tuple[np.ndarray, np.ndarray]  # image (S, S, 3) uint8, labels (n, 5) normalised
Loader = Callable[[int], Sample]


@dataclass(frozen=True)
class Gains:
    """The ultralytics defaults: hsv_h/s/v, scale, translate, fliplr and mosaic probability."""

    hsv: tuple[float, float, float] = (0.015, 0.7, 0.4)
    scale: float = 0.5
    translate: float = 0.1
    flip: float = 0.5
    mosaic: float = 1.0


GAINS = Gains()


def parse_ops(text: str | None) -> tuple[str, ...]:
    """Return the ops of the comma list ``text`` in pipeline order ('none', 'all'; None: flip)."""
    text = DEFAULT_OPS if text is None else text
    names = [o.strip().lower() for o in text.split(",") if o.strip()]
    if names in (["none"], ["all"]):
        return () if names == ["none"] else OPS
    unknown = [o for o in names if o not in OPS]
    if unknown:
        raise DltoolError(
            f"unknown augmentation '{','.join(unknown)}' in --augment {text}",
            hint=f"a comma list of {', '.join(OPS)}; or all, or none",
        )
    return tuple(o for o in OPS if o in names)


def check_size(size: int, stride: int = STRIDE) -> int:
    """Return ``size`` if it is a positive multiple of ``stride``; else name the nearest ones."""
    if size >= stride and size % stride == 0:
        return size
    below = max(stride, size // stride * stride)
    above = below + stride if below < size else below
    nearest = f"{below} or {above}" if below != above else str(below)
    raise DltoolError(
        f"--size {size} is not a multiple of the network stride {stride}",
        hint=f"the nearest valid sizes are {nearest}",
    )


def sample_rng(seed: int, epoch: int, index: int) -> np.random.Generator:
    """Return the generator of sample ``index`` in ``epoch``: seeded by (seed, epoch, index)."""
    return np.random.default_rng([seed, epoch, index])


# --- boxes ------------------------------------------------------------------------------


def to_corners(labels: np.ndarray, size: int) -> np.ndarray:
    """Return pixel corners (n, 4) [x_c − w/2, y_c − h/2, x_c + w/2, y_c + h/2]·S of labels."""
    xy, wh = labels[:, 1:3] * size, labels[:, 3:5] * size  # (n, 2) each
    return np.concatenate([xy - wh / 2, xy + wh / 2], 1)  # (n, 4)


def to_labels(classes: np.ndarray, corners: np.ndarray, size: int) -> np.ndarray:
    """Return label rows (n, 5) [class, (x1 + x2)/2S, (y1 + y2)/2S, (x2 − x1)/S, (y2 − y1)/S]."""
    xy = (corners[:, :2] + corners[:, 2:]) / (2 * size)  # (n, 2)
    wh = (corners[:, 2:] - corners[:, :2]) / size  # (n, 2)
    return np.concatenate([classes[:, None], xy, wh], 1).astype(np.float64)  # (n, 5)


def box_candidates(before: np.ndarray, after: np.ndarray, min_wh=2.0, min_area=0.1, max_ar=100.0):
    """Return the mask of boxes with w', h' > min_wh, w'h'/wh > min_area, aspect < max_ar."""
    w1, h1 = before[:, 2] - before[:, 0], before[:, 3] - before[:, 1]  # (n,)
    w2, h2 = after[:, 2] - after[:, 0], after[:, 3] - after[:, 1]  # (n,)
    ar = np.maximum(w2 / (h2 + 1e-16), h2 / (w2 + 1e-16))
    return (w2 > min_wh) & (h2 > min_wh) & (w2 * h2 / (w1 * h1 + 1e-16) > min_area) & (ar < max_ar)


# --- the ops ----------------------------------------------------------------------------


def hsv_jitter(image: np.ndarray, rng: np.random.Generator, gains=GAINS.hsv) -> np.ndarray:
    """Return the image with H·g_h mod 1, S·g_s, V·g_v (clipped), g = 1 + U(−1, 1)·gains."""
    g = (1 + rng.uniform(-1, 1, 3) * np.asarray(gains)).astype(np.float32)  # (3,)
    h, s, v = rgb_to_hsv(image.astype(np.float32) / 255)  # (H, W) each, in [0, 1]
    rgb = hsv_to_rgb((h * g[0]) % 1.0, np.clip(s * g[1], 0, 1), np.clip(v * g[2], 0, 1))
    return np.clip(np.rint(rgb * 255), 0, 255).astype(np.uint8)  # (H, W, 3)


def rgb_to_hsv(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (H, S, V) of rgb (…, 3) in [0, 1]: V = max, S = (max − min)/max, H in [0, 1)."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    v, lo = rgb.max(-1), rgb.min(-1)
    c = v - lo  # chroma; 0 for greys, whose hue is 0 (then v == r and g − b = 0)
    s = c / np.maximum(v, 1e-12)
    inv = 1 / np.maximum(c, 1e-12)
    h = np.where(v == r, (g - b) * inv, np.where(v == g, (b - r) * inv + 2, (r - g) * inv + 4))
    return (h / 6) % 1.0, s, v


def hsv_to_rgb(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Return rgb (…, 3) of H, S, V in [0, 1]: V·(1 − S·clip(min(k, 4 − k), 0, 1)), k = n + 6H."""
    k = (np.array([5, 3, 1], h.dtype) + 6 * h[..., None]) % 6  # (…, 3) for R, G, B
    return v[..., None] * (1 - s[..., None] * np.clip(np.minimum(k, 4 - k), 0, 1))  # (…, 3)


def flip_lr(image: np.ndarray, labels: np.ndarray) -> Sample:
    """Return the image mirrored left-right and its labels with x_c → 1 − x_c."""
    out = labels.copy()
    out[:, 1] = 1 - out[:, 1]
    return image[:, ::-1].copy(), out


def mosaic(samples: list[Sample], centre: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Return the 2S × 2S canvas of four samples around ``centre`` and its rows [class, x1..y2].

    Sample k's top-left corner is at (x_c − S, y_c − S), (x_c, y_c − S), (x_c − S, y_c),
    (x_c, y_c) for k = 0..3; its boxes move by that corner and are clipped to the canvas.
    """
    size = samples[0][0].shape[0]
    xc, yc = centre
    canvas = np.full((2 * size, 2 * size, 3), PAD, np.uint8)  # (2S, 2S, 3)
    rows = []
    for (image, labels), (ox, oy) in zip(samples, tile_corners(size, xc, yc), strict=True):
        _paste(canvas, image, ox, oy)
        corners = to_corners(labels, size) + [ox, oy, ox, oy]  # (n, 4)
        rows.append(np.concatenate([labels[:, :1], corners.clip(0, 2 * size)], 1))
    boxes = np.concatenate(rows)  # (N, 5)
    keep = (boxes[:, 3] > boxes[:, 1]) & (boxes[:, 4] > boxes[:, 2])  # area left on the canvas
    return canvas, boxes[keep]


def tile_corners(size: int, xc: int, yc: int) -> list[tuple[int, int]]:
    """Return the top-left corners of the four mosaic tiles: TL, TR, BL, BR of (xc, yc)."""
    return [(xc - size, yc - size), (xc, yc - size), (xc - size, yc), (xc, yc)]


def _paste(canvas: np.ndarray, image: np.ndarray, ox: int, oy: int) -> None:
    """Copy ``image`` into ``canvas`` with its top-left pixel at (ox, oy), cut at the edges."""
    h, w = image.shape[:2]
    H, W = canvas.shape[:2]
    x1, y1, x2, y2 = max(ox, 0), max(oy, 0), min(ox + w, W), min(oy + h, H)
    if x2 > x1 and y2 > y1:
        canvas[y1:y2, x1:x2] = image[y1 - oy : y2 - oy, x1 - ox : x2 - ox]


@dataclass(frozen=True)
class Affine:
    """The map x' = s·x + dx, y' = s·y + dy (pixel coordinates, continuous)."""

    s: float
    dx: float
    dy: float

    def boxes(self, corners: np.ndarray) -> np.ndarray:
        """Return the corners (n, 4) through the map: s·[x1, y1, x2, y2] + [dx, dy, dx, dy]."""
        return corners * self.s + np.array([self.dx, self.dy, self.dx, self.dy])


def draw_affine(rng: np.random.Generator, src: int, out: int, ops, gains=GAINS) -> Affine:
    """Return x' = s·(x − src/2) + t: s ~ U(1 ± scale) with 'scale', t = out·U(0.5 ± translate)."""
    s = rng.uniform(1 - gains.scale, 1 + gains.scale) if "scale" in ops else 1.0
    if "translate" in ops:
        tx, ty = rng.uniform(0.5 - gains.translate, 0.5 + gains.translate, 2) * out
    else:
        tx = ty = 0.5 * out
    return Affine(float(s), float(tx - s * src / 2), float(ty - s * src / 2))


def warp(image: np.ndarray, m: Affine, out: int) -> np.ndarray:
    """Return the out × out image whose pixel p is the bilinear sample of image at m⁻¹(p)."""
    padded = np.pad(image.astype(np.float32), ((1, 1), (1, 1), (0, 0)), constant_values=PAD)
    ys = _source(m.s, m.dy, out, image.shape[0])  # (out,) rows of padded, with weights
    xs = _source(m.s, m.dx, out, image.shape[1])
    rows = padded[ys[0]] * (1 - ys[2])[:, None, None] + padded[ys[1]] * ys[2][:, None, None]
    cols = rows[:, xs[0]] * (1 - xs[2])[None, :, None] + rows[:, xs[1]] * xs[2][None, :, None]
    return np.clip(np.rint(cols), 0, 255).astype(np.uint8)  # (out, out, 3)


def _source(s: float, d: float, out: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (lower index, upper index, weight) in the 1-padded axis of x = (p + ½ − d)/s − ½."""
    x = (np.arange(out) + 0.5 - d) / s - 0.5 + 1  # +1: the padding; pixel centres at i + ½
    x = np.clip(x, 0, n + 1)  # beyond the padding: the padding's grey
    lo = np.minimum(np.floor(x).astype(int), n)
    return lo, lo + 1, x - lo


def random_affine(image, boxes: np.ndarray, m: Affine, out: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the warped image and the kept rows [class, x1..y2] (clipped, box_candidates)."""
    before = m.boxes(boxes[:, 1:5])  # (n, 4) before the clip
    after = before.clip(0, out)
    keep = box_candidates(before, after)
    return warp(image, m, out), np.concatenate([boxes[:, :1], after], 1)[keep]


# --- the pipeline -----------------------------------------------------------------------


def augment(load: Loader, index: int, n: int, ops, rng: np.random.Generator, gains=GAINS) -> Sample:
    """Return sample ``index`` of ``load`` (n samples) after ``ops``: mosaic, affine, hsv, flip."""
    image, labels = load(index)
    if {"mosaic", "scale", "translate"} & set(ops):
        image, labels = geometric(load, (image, labels), n, ops, rng, gains)
    if "hsv" in ops:
        image = hsv_jitter(image, rng, gains.hsv)
    if "flip" in ops and rng.random() < gains.flip:
        image, labels = flip_lr(image, labels)
    return image, labels


def geometric(load: Loader, sample: Sample, n: int, ops, rng, gains=GAINS) -> Sample:
    """Return the sample after mosaic (3 more samples of ``load``) and the affine, boxes moved."""
    image, labels = sample
    size = image.shape[0]
    boxes = np.concatenate([labels[:, :1], to_corners(labels, size)], 1)  # (n, 5) [c, x1..y2]
    if "mosaic" in ops and rng.random() < gains.mosaic:
        others = [load(int(j)) for j in rng.integers(0, n, 3)]
        centre = tuple(int(c) for c in rng.uniform(size / 2, 3 * size / 2, 2))
        image, boxes = mosaic([sample, *others], centre)
    if image.shape[0] != size or "scale" in ops or "translate" in ops:
        m = draw_affine(rng, image.shape[0], size, ops, gains)
        image, boxes = random_affine(image, boxes, m, size)
    return image, to_labels(boxes[:, 0], boxes[:, 1:5], size)


def grid_rows(load: Loader, n: int, ops, seed: int, columns: int = 4) -> list[tuple[str, list]]:
    """Return [(row name, [(image, labels) per column])]: none, each op alone, then all ops."""
    shown = list(range(min(n, columns)))
    rows = [("none", [load(i) for i in shown])]
    sure = Gains(flip=1.0)  # the flip row shows a flip in every column
    for name, row_ops in [(op, (op,)) for op in ops] + ([("all", ops)] if len(ops) > 1 else []):
        row = [augment(load, i, n, row_ops, sample_rng(seed, GRID_EPOCH + len(rows), i), sure)
               for i in shown]  # fmt: skip
        rows.append((name, row))
    return rows
