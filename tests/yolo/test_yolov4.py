"""YOLOv4 and YOLOv4-tiny in the Darknet loader: shapes, BFLOPs and sizes as Darknet prints
them, the layers YOLOv4 adds (mish, grouped route, SPP max pools, scale_x_y, new_coords),
.weights round trips, and one clear line for what the loader does not support.

The expected numbers are Darknet's own (AlexeyAB/darknet): the per-layer table and
"Total BFLOPS" it prints when loading ``cfg/yolov4-tiny.cfg`` at 416 (6.910) and
``cfg/yolov4.cfg`` at 608 (128.459) and 416 (60.137), and the byte sizes of the released
``yolov4-tiny.weights`` (24,251,276) and ``yolov4.weights`` (257,717,640): a 20-byte header
then float32 values, so 6,062,814 and 64,429,405 values.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from dltool_yolo import boxes as B
from dltool_yolo import boxes_torch as T
from dltool_yolo.cfg import DARKNET_CFGS, parse_cfg, yolov4_cfg, yolov4_tiny_cfg
from dltool_yolo.darknet import (
    Darknet,
    MaxPool,
    activation,
    build,
    check_trainable,
    layer_table,
    load_weights,
    save_weights,
    weights_count,
)

from dltool.errors import DltoolError

# Darknet's table for yolov4-tiny.cfg at 416: layer, kind, output C×H×W, BFLOPs
V4_TINY_DARKNET = """
0 convolutional 32 208 0.075
1 convolutional 64 104 0.399
2 convolutional 64 104 0.797
3 route 32 104 0
4 convolutional 32 104 0.199
5 convolutional 32 104 0.199
6 route 64 104 0
7 convolutional 64 104 0.089
8 route 128 104 0
9 maxpool 128 52 0.001
10 convolutional 128 52 0.797
11 route 64 52 0
12 convolutional 64 52 0.199
13 convolutional 64 52 0.199
14 route 128 52 0
15 convolutional 128 52 0.089
16 route 256 52 0
17 maxpool 256 26 0.001
18 convolutional 256 26 0.797
19 route 128 26 0
20 convolutional 128 26 0.199
21 convolutional 128 26 0.199
22 route 256 26 0
23 convolutional 256 26 0.089
24 route 512 26 0
25 maxpool 512 13 0.000
26 convolutional 512 13 0.797
27 convolutional 256 13 0.044
28 convolutional 512 13 0.399
29 convolutional 255 13 0.044
30 yolo 255 13 0
31 route 256 13 0
32 convolutional 128 13 0.011
33 upsample 128 26 0
34 route 384 26 0
35 convolutional 256 26 1.196
36 convolutional 255 26 0.088
37 yolo 255 26 0
"""

# Rows of Darknet's table for yolov4.cfg at 608 (stem, CSP stages, SPP, PANet, heads)
V4_DARKNET = """
0 convolutional 32 608 0.639
1 convolutional 64 304 3.407
7 shortcut 64 304 0.006
9 route 128 304 0
10 convolutional 64 304 1.514
23 convolutional 128 152 0.757
54 convolutional 256 76 0.757
85 convolutional 512 38 0.757
104 convolutional 1024 19 0.757
108 maxpool 512 19 0.005
110 maxpool 512 19 0.015
112 maxpool 512 19 0.031
113 route 2048 19 0
117 convolutional 256 19 0.095
118 upsample 256 38 0
121 route 512 38 0
128 upsample 128 76 0
138 convolutional 255 76 0.754
141 convolutional 256 38 0.852
142 route 512 38 0
149 convolutional 255 38 0.377
152 convolutional 512 19 0.852
153 route 1024 19 0
160 convolutional 255 19 0.189
"""


def _rows(text: str) -> list[tuple[int, str, tuple[int, int, int], float]]:
    """Return (layer, kind, (C, H, W), BFLOPs) rows of a table above."""
    out = []
    for line in text.strip().splitlines():
        i, kind, c, hw, bf = line.split()
        out.append((int(i), kind, (int(c), int(hw), int(hw)), float(bf)))
    return out


def _check_table(got, expected) -> None:
    """Assert every expected row: kind, output shape and BFLOPs to Darknet's 3 decimals."""
    for i, kind, shape, bf in expected:
        assert got[i][0] == kind, i
        assert got[i][1] == shape, i
        assert round(got[i][2], 3) == bf, (i, got[i][2])


def test_yolov4_tiny_layers_and_bflops_equal_darknets():
    table = layer_table(parse_cfg(yolov4_tiny_cfg(), "yolov4-tiny"))
    assert len(table) == 38
    _check_table(table, _rows(V4_TINY_DARKNET))
    assert round(sum(r[2] for r in table), 3) == 6.910


def test_yolov4_layers_and_bflops_equal_darknets():
    sections = parse_cfg(yolov4_cfg(), "yolov4")
    table = layer_table(sections)  # the cfg's own 608×608
    assert len(table) == 162
    _check_table(table, _rows(V4_DARKNET))
    assert [i for i, r in enumerate(table) if r[0] == "yolo"] == [139, 150, 161]
    assert round(sum(r[2] for r in table), 3) == 128.459
    assert round(sum(r[2] for r in layer_table(sections, 416, 416)), 3) == 60.137


@pytest.mark.parametrize(
    ("name", "values", "trainable"),
    [("yolov4-tiny", 6_062_814, 6_056_606), ("yolov4", 64_429_405, 64_363_101)],
)
def test_parameter_counts_equal_the_released_weight_files(name, values, trainable):
    with torch.device("meta"):
        model = build(name)
    assert weights_count(model) == values  # (file bytes − 20) / 4
    assert 20 + 4 * weights_count(model) == {"yolov4-tiny": 24_251_276, "yolov4": 257_717_640}[name]
    assert sum(p.numel() for p in model.parameters()) == trainable  # less BN running stats


def test_heads_read_scale_x_y_masks_and_nms_options():
    with torch.device("meta"):
        tiny, v4 = build("yolov4-tiny"), Darknet(parse_cfg(yolov4_cfg(3), "yolov4"))
    assert [h.anchors for h in tiny.heads] == [
        [(81, 82), (135, 169), (344, 319)],
        [(23, 27), (37, 58), (81, 82)],  # Darknet's mask = 1,2,3 kept as written
    ]
    assert [h.scale_xy for h in tiny.heads] == [1.05, 1.05]
    assert [h.scale_xy for h in v4.heads] == [1.2, 1.1, 1.05]
    assert {(h.nms_kind, h.beta_nms, h.iou_thresh) for h in v4.heads} == {("greedynms", 0.6, 0.213)}
    assert v4.classes == 3 and v4.heads[0].anchors[0] == (12, 16)


def _randomize(model: Darknet, seed: int = 0) -> Darknet:
    """Give every weight, bias and batch-norm statistic a random value (fixed seed)."""
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
    return model.eval()


def test_random_yolov4_tiny_weights_round_trip_in_darknet_format(tmp_path):
    model = _randomize(build("yolov4-tiny"))
    path = tmp_path / "yolov4-tiny.weights"
    save_weights(model, path, seen=64)
    assert path.stat().st_size == 24_251_276
    again = build("yolov4-tiny")
    assert load_weights(again, path) == (0, 2, 0)
    for (k, a), b in zip(model.state_dict().items(), again.state_dict().values(), strict=True):
        if a.is_floating_point():
            assert torch.equal(a, b), k
    x = torch.rand(1, 3, 128, 160, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want = model(x)
        got = again.eval()(x)
        fused = again.fuse()(x)
    assert [t.shape for t in want] == [(1, 255, 4, 5), (1, 255, 8, 10)]
    for w, g, f in zip(want, got, fused, strict=True):
        assert torch.equal(w, g)
        torch.testing.assert_close(f, w, rtol=1e-4, atol=1e-4)


def test_grouped_route_takes_the_group_id_th_slice_of_each_input():
    cfg = """[net]
width=8
height=8
channels=3
[convolutional]
filters=8
size=1
stride=1
activation=linear
[route]
layers=-1
groups=2
group_id=1
[route]
layers=-2,-1
groups=4
group_id=0
[convolutional]
filters=18
size=1
activation=linear
[yolo]
mask=0,1,2
anchors=1,1, 2,2, 3,3
classes=1
num=3
"""
    model = Darknet(parse_cfg(cfg)).eval()
    x = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        outs, _ = model.run(x)
    assert torch.equal(outs[1], outs[0][:, 4:8])
    assert torch.equal(outs[2], torch.cat([outs[0][:, 0:2], outs[1][:, 0:1]], 1))


def _darknet_maxpool(x: np.ndarray, size: int, stride: int) -> np.ndarray:
    """Return Darknet's forward_maxpool_layer of x (C, H, W), loop for loop (pad = size − 1)."""
    c, h, w = x.shape
    pad = size - 1
    off = -(pad // 2)  # C's -l.pad/2 for a non-negative pad
    oh, ow = (h + pad - size) // stride + 1, (w + pad - size) // stride + 1
    out = np.full((c, oh, ow), -np.inf, dtype=x.dtype)
    for k in range(c):
        for i in range(oh):
            for j in range(ow):
                for n in range(size):
                    for m in range(size):
                        y, z = off + i * stride + n, off + j * stride + m
                        if 0 <= y < h and 0 <= z < w:
                            out[k, i, j] = max(out[k, i, j], x[k, y, z])
    return out


@pytest.mark.parametrize(("size", "stride"), [(5, 1), (9, 1), (13, 1), (2, 1), (3, 2)])
def test_maxpool_equals_darknets_loop_including_spp_sizes(size, stride):
    x = np.random.default_rng(size).standard_normal((2, 11, 9)).astype(np.float32)
    text = f"[maxpool]\nsize={size}\nstride={stride}\n"
    pool = MaxPool(parse_cfg("[net]\n" + text + "[yolo]\nanchors=1,1\n")[1])
    got = pool(torch.from_numpy(x)[None])[0].numpy()
    np.testing.assert_array_equal(got, _darknet_maxpool(x, size, stride))


def test_mish_is_x_tanh_softplus():
    x = torch.linspace(-30, 30, 601, dtype=torch.float64)
    want = x * torch.tanh(torch.log1p(torch.exp(x)))
    torch.testing.assert_close(activation("mish", x), want, rtol=1e-12, atol=1e-12)


def test_decode_with_scale_x_y_and_new_coords_numpy_and_torch_agree():
    rng = np.random.default_rng(0)
    feats = rng.standard_normal((3, 4, 3 * 7))  # (H, W, A·(5+C)), C = 2
    anchors = np.array([[10.0, 14.0], [23.0, 27.0], [37.0, 58.0]])
    raw = torch.from_numpy(feats).permute(2, 0, 1)[None]  # (1, A·(5+C), H, W)
    for s, new in [(1.05, False), (1.2, False), (2.0, True)]:
        f = 1 / (1 + np.exp(-feats)) if new else feats  # new_coords: the conv was logistic
        r = torch.sigmoid(raw) if new else raw
        ref = B.decode_head(f, anchors, 2, (64, 96), scale_xy=s, new_coords=new)
        tw = T.decode_head(r, torch.from_numpy(anchors), 2, (64, 96), scale_xy=s, new_coords=new)
        for a, b in zip(ref, tw, strict=True):
            np.testing.assert_allclose(b[0].numpy(), a, rtol=1e-12, atol=1e-12)
    zero = np.zeros((1, 1, 7))
    zero[..., 0:2] = [60.0, -60.0]  # σ → 1 and 0: the centre reaches (s+1)/2 and −(s−1)/2
    _c, xy, wh, _p = B.decode_head(zero, anchors[:1], 2, (32, 32), scale_xy=1.2)
    np.testing.assert_allclose(xy[0, 0, 0], [1.1, -0.1], atol=1e-12)
    half = np.full((1, 1, 7), 0.5)
    _c, xy, wh, p = B.decode_head(half, anchors[:1], 2, (32, 32), scale_xy=2.0, new_coords=True)
    np.testing.assert_allclose(xy[0, 0, 0], [0.5, 0.5])  # s·0.5 − (s−1)/2
    np.testing.assert_allclose(wh[0, 0, 0], anchors[0] / 32)  # (2·0.5)²·p
    np.testing.assert_allclose(p[0, 0, 0], [0.5, 0.5])  # no second logistic


def test_detector_runs_yolov4_tiny_end_to_end():
    from dltool_yolo.detect import Detector

    model = _randomize(build("yolov4-tiny"), seed=3)
    detector = Detector(model, [f"c{i}" for i in range(80)], torch.device("cpu"), 128)
    image = np.random.default_rng(0).integers(0, 255, (96, 160, 3), dtype=np.uint8)
    dets = detector.detect(image, score_threshold=0.0, max_boxes=5)
    assert len(dets) == 5 and all(0 <= d.score <= 1 for d in dets)


def _with(cfg: str, old: str, new: str) -> str:
    """Return ``cfg`` with its first ``old`` replaced by ``new``."""
    assert old in cfg
    return cfg.replace(old, new, 1)


def _line(text: str, needle: str) -> int:
    """Return the 1-based number of the first line of ``text`` holding ``needle``."""
    return next(i for i, ln in enumerate(text.splitlines(), 1) if needle in ln)


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ("activation=mish", "activation=mish\ndilation=2", "option dilation=2 is not supported"),
        ("activation=mish", "activation=mish\nwobble=1", "does not know: 'wobble'"),
        ("nms_kind=greedynms", "nms_kind=diounms", "nms_kind=diounms is not supported"),
        ("iou_thresh=0.213", "iou_thresh=0.213\nnew_coords=2", "new_coords=2 is not supported"),
        ("scale_x_y = 1.2", "scale_x_y = nan", "scale_x_y=nan is not supported"),
        ("size=5", "size=5\nmaxpool_depth=1", "option maxpool_depth=1"),
        ("[upsample]\nstride=2", "[upsample]\nstride=2\nscale=0.5", "option scale=0.5"),
        ("[shortcut]\nfrom=-3", "[shortcut]\nfrom=-3\nweights_type=per_channel", "weights_type"),
        ("activation=mish", "activation=gelu", "activation 'gelu' is not supported"),
    ],
)  # fmt: skip
def test_what_the_loader_cannot_do_is_refused_naming_file_line_and_option(old, new, says):
    text = _with(yolov4_cfg(), old, new)
    needle = new.splitlines()[-1]
    with pytest.raises(DltoolError) as err, torch.device("meta"):
        Darknet(parse_cfg(text, "my.cfg"))
    assert says in err.value.message
    assert err.value.message.startswith(f"my.cfg:{_line(text, needle)}: ")


def test_bad_grouped_route_is_refused_with_its_line():
    text = _with(yolov4_tiny_cfg(), "group_id=1", "group_id=2")
    with pytest.raises(DltoolError, match=r"my\.cfg:\d+: \[route\] groups=2 group_id=2"):
        Darknet(parse_cfg(text, "my.cfg"))


def test_training_refuses_scale_x_y_and_new_coords_naming_the_line():
    text = yolov4_tiny_cfg(2)
    with pytest.raises(DltoolError) as err:
        check_trainable(Darknet(parse_cfg(text, "t.cfg")))
    assert err.value.message.startswith(f"t.cfg:{_line(text, 'scale_x_y')}: [yolo] scale_x_y=1.05")
    plain = text.replace("scale_x_y = 1.05", "scale_x_y = 1")
    check_trainable(Darknet(parse_cfg(plain, "t.cfg")))  # YOLOv3 coding: accepted


def test_darknet_cfgs_are_named_and_parse_without_unknown_options():
    assert set(DARKNET_CFGS) == {"yolov4", "yolov4-tiny"}
    for make in DARKNET_CFGS.values():
        sections = parse_cfg(make(), "x")
        assert sections[0].type == "net"
    model = Darknet(parse_cfg(yolov4_tiny_cfg(), "t")).eval()
    x = torch.zeros(1, 3, 64, 64)
    assert [tuple(h.shape) for h in model(x)] == [(1, 255, 2, 2), (1, 255, 4, 4)]


def test_dltool_models_lists_the_yolov4_family(cli):
    import json

    result = cli("--json", "models")
    rows = {r["name"]: r for r in json.loads(result.stdout)["models"]}
    assert rows["yolov4-tiny"]["parameters"] == 6_056_606  # trainable, as computed above
    assert rows["yolov4"]["parameters"] == 64_363_101
