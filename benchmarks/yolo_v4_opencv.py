"""dltool's Darknet loader against OpenCV's Darknet importer on YOLOv4-tiny (and YOLOv4).

Random weights (fixed seed: every convolution weight, bias and batch-norm statistic) are
written in the Darknet ``.weights`` format beside the cfg dltool regenerates
(``dltool_yolo.cfg.DARKNET_CFGS``); ``cv2.dnn.readNetFromDarknet`` reads the same two files.
Both run one random input (fixed seed) and the script prints, per detection head:

- the raw head map (the last convolution before ``[yolo]``): largest |dltool − OpenCV|,
  absolute and relative to the map's largest magnitude;
- the decoded boxes of OpenCV's ``[yolo]`` layer (centre, size with ``scale_x_y``,
  objectness) against ``dltool_yolo.boxes_torch.decode_head`` on dltool's map.

Target (issue 17): the head outputs agree to 1e-4.

OpenCV (opencv-python-headless < 5) is not a dltool dependency: install it into the venv
for the run (``.venv/bin/pip install "opencv-python-headless<5"``) and uninstall it after.

    .venv/bin/python benchmarks/yolo_v4_opencv.py --model yolov4-tiny --size 416
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch


def randomize(model, seed: int) -> None:
    """Give every weight, bias and batch-norm statistic a random value, scaled by fan-in."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for conv in model.convs():
            w = conv.conv.weight
            w.copy_(torch.randn(w.shape, generator=g) / w[0].numel() ** 0.5)
            if conv.norm is None:
                conv.conv.bias.copy_(torch.randn(conv.filters, generator=g) * 0.1)
                continue
            n = conv.norm
            n.weight.copy_(torch.rand(conv.filters, generator=g) + 0.5)
            n.bias.copy_(torch.randn(conv.filters, generator=g) * 0.1)
            n.running_mean.copy_(torch.randn(conv.filters, generator=g) * 0.1)
            n.running_var.copy_(torch.rand(conv.filters, generator=g) + 0.5)


def opencv_outputs(cfg: Path, weights: Path, x: np.ndarray, names: list[str], threads: int):
    """Return OpenCV's outputs of the layers ``names`` for the input x (1, 3, S, S)."""
    import cv2

    cv2.setNumThreads(threads)
    net = cv2.dnn.readNetFromDarknet(str(cfg), str(weights))
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    net.setInput(x)
    return cv2.__version__, net.forward(names)


def compare_head(head, raw: torch.Tensor, cv_raw: np.ndarray, cv_yolo: np.ndarray, size: int):
    """Return max |diff| of the raw map, its max |value|, max |diff| decoded x,y,w,h,obj."""
    from dltool_yolo import boxes_torch as bt

    ours = raw.numpy()
    d_raw = float(np.abs(ours - cv_raw).max())
    scale = float(np.abs(ours).max())
    conf, xy, wh, _ = bt.decode_head(
        raw, torch.tensor(head.anchors), head.classes, (size, size), False, head.scale_xy,
        head.new_coords,
    )  # fmt: skip
    mine = torch.cat([xy, wh, conf], -1)[0].reshape(-1, 5).numpy()  # rows (y, x, anchor)
    d_dec = float(np.abs(mine - cv_yolo[:, :5]).max())
    return d_raw, scale, d_dec


def main() -> None:
    """Run both, print the table of differences."""
    from dltool_yolo.cfg import DARKNET_CFGS
    from dltool_yolo.darknet import Conv, build, save_weights

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=sorted(DARKNET_CFGS), default="yolov4-tiny")
    ap.add_argument("--size", type=int, default=416)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = build(args.model)
    randomize(model, args.seed)
    model.eval()
    x = torch.rand(1, 3, args.size, args.size, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        heads = model(x)
    # OpenCV names Darknet layers by their index: conv_<i> for a convolution, yolo_<i> for a head
    before = [h.layer - 1 for h in model.heads]
    assert all(isinstance(model.layers[i], Conv) for i in before)
    names = [f"conv_{i}" for i in before] + [f"yolo_{h.layer}" for h in model.heads]
    with tempfile.TemporaryDirectory() as tmp:
        cfg, weights = Path(tmp) / f"{args.model}.cfg", Path(tmp) / f"{args.model}.weights"
        text = DARKNET_CFGS[args.model]().replace("width=608", f"width={args.size}")
        text = text.replace("height=608", f"height={args.size}")
        text = text.replace("width=416", f"width={args.size}").replace(
            "height=416", f"height={args.size}"
        )
        cfg.write_text(text)
        save_weights(model, weights)
        version, outs = opencv_outputs(cfg, weights, x.numpy(), names, args.threads)
    n = len(model.heads)
    print(f"{args.model} at {args.size}, random weights (seed {args.seed}), OpenCV {version}, "
          f"torch {torch.__version__}, {args.threads} threads")  # fmt: skip
    worst = 0.0
    for k, head in enumerate(model.heads):
        d_raw, scale, d_dec = compare_head(head, heads[k], outs[k], outs[n + k], args.size)
        rel = d_raw / max(scale, 1.0)
        worst = max(worst, rel, d_dec)
        print(
            f"head {k} (layer {head.layer}, {tuple(heads[k].shape)}, scale_x_y {head.scale_xy}): "
            f"raw map max |diff| {d_raw:.2e} (max |value| {scale:.2f}); "
            f"decoded x,y,w,h,obj max |diff| {d_dec:.2e}"
        )
    print(f"worst {worst:.2e}: {'PASS' if worst <= 1e-4 else 'FAIL'} (target <= 1e-4)")


if __name__ == "__main__":
    main()
