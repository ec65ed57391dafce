"""Darknet cfg parsing, layers, .weights round trips and the errors a user can trigger."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from dltool_yolo.cfg import parse_cfg, tiny_cfg
from dltool_yolo.darknet import (
    Darknet,
    MaxPool,
    load_weights,
    reorg,
    reorg_reference,
    save_weights,
    weights_count,
)

from dltool.errors import DltoolError

V2_CFG = """
[net]
width=64
height=64
channels=3

[convolutional]
batch_normalize=1
filters=8
size=3
stride=1
pad=1
activation=leaky

[maxpool]
size=2
stride=2

[convolutional]
batch_normalize=1
filters=16
size=3
stride=1
pad=1
activation=leaky

[maxpool]
size=2
stride=2

[convolutional]
filters=16
size=3
stride=1
pad=1
activation=leaky

[route]
layers=-3

[reorg]
stride=2

[route]
layers=-1,-3

[convolutional]
size=1
stride=1
pad=1
filters=35
activation=linear

[region]
anchors=1.08,1.19, 3.42,4.41, 6.63,11.38, 9.42,5.11, 16.62,10.52
classes=2
num=5
"""

V3_CFG = """
[net]
width=64
height=64

[convolutional]
batch_normalize=1
filters=8
size=3
stride=2
pad=1
activation=leaky

[convolutional]
batch_normalize=1
filters=8
size=3
stride=1
pad=1
activation=leaky

[shortcut]
from=-2
activation=linear

[maxpool]
size=2
stride=1

[convolutional]
size=1
stride=1
pad=1
filters=21
activation=linear

[yolo]
mask=0,1,2
anchors=10,14, 23,27, 37,58
classes=2
num=3

[route]
layers=-3

[upsample]
stride=2

[convolutional]
size=1
stride=1
pad=1
filters=21
activation=linear

[yolo]
mask=0,1,2
anchors=10,14, 23,27, 37,58
classes=2
num=3
"""


def randomize(model: Darknet, seed: int = 0) -> Darknet:
    """Give every parameter and BN statistic random (valid) values."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for conv in model.convs():
            conv.conv.weight.copy_(torch.randn(conv.conv.weight.shape, generator=g) * 0.3)
            if conv.norm is None:
                conv.conv.bias.copy_(torch.randn(conv.filters, generator=g))
            else:
                n = conv.norm
                for p in (n.weight, n.bias, n.running_mean):
                    p.copy_(torch.randn(conv.filters, generator=g))
                n.running_var.copy_(torch.rand(conv.filters, generator=g) + 0.5)
    return model.eval()


def test_yolov2_region_reorg_shapes():
    model = Darknet(parse_cfg(V2_CFG))
    (out,) = model(torch.rand(2, 3, 64, 64))
    assert out.shape == (2, 35, 16, 16)
    assert model.heads[0].kind == "region" and len(model.heads[0].anchors) == 5


def test_yolov3_shortcut_upsample_route_maxpool_stride1():
    model = Darknet(parse_cfg(V3_CFG))
    small, big = model(torch.rand(1, 3, 64, 64))
    assert small.shape == (1, 21, 32, 32) and big.shape == (1, 21, 64, 64)


def test_maxpool_darknet_padding_known_values():
    x = torch.arange(9.0).view(1, 1, 3, 3)
    s = parse_cfg("[net]\n[maxpool]\nsize=2\nstride=1\n[yolo]\nanchors=1,1\nclasses=1\n")[1]
    out = MaxPool(s)(x)  # pads right/bottom: out[i, j] = max of x[i:i+2, j:j+2]
    np.testing.assert_array_equal(out[0, 0].numpy(), [[4, 5, 5], [7, 8, 8], [7, 8, 8]])


@pytest.mark.parametrize(("size", "stride", "hw"), [(2, 2, 8), (2, 2, 7), (2, 1, 5), (3, 1, 6)])
def test_maxpool_fast_paths_match_generic(size, stride, hw):
    text = f"[net]\n[maxpool]\nsize={size}\nstride={stride}\n[yolo]\nanchors=1,1\nclasses=1\n"
    pool = MaxPool(parse_cfg(text)[1])
    x = torch.randn(2, 3, hw, hw + 2)
    lo, hi = pool.pads
    generic = F.max_pool2d(F.pad(x, (lo, hi, lo, hi), value=float("-inf")), size, stride)
    torch.testing.assert_close(pool(x), generic, rtol=0, atol=0)


def test_reorg_matches_darknet_loop():
    x = torch.arange(2 * 8 * 4 * 6, dtype=torch.float64).view(2, 8, 4, 6)
    ref = reorg_reference(x.numpy(), 2)
    np.testing.assert_array_equal(reorg(x, 2).numpy(), ref)
    assert ref.shape == (2, 32, 2, 3)


@pytest.mark.parametrize("cfg", [V2_CFG, V3_CFG])
def test_fuse_keeps_outputs(cfg):
    model = randomize(Darknet(parse_cfg(cfg)).double())
    x = torch.rand(1, 3, 64, 64, dtype=torch.float64)
    before = [o.clone() for o in model(x)]
    after = model.fuse()(x)
    for a, b in zip(before, after, strict=True):
        torch.testing.assert_close(a, b, atol=1e-9, rtol=1e-9)


def write_header(path, major, minor, body):
    seen = np.array([123], dtype="<i8" if major * 10 + minor >= 2 else "<i4")
    path.write_bytes(np.array([major, minor, 0], "<i4").tobytes() + seen.tobytes() + body)


@pytest.mark.parametrize("version", [(0, 1), (0, 2), (1, 0)])
def test_weights_round_trip_32_and_64_bit_seen(tmp_path, version):
    model = randomize(Darknet(parse_cfg(V3_CFG)), seed=1)
    save_weights(model, tmp_path / "a.weights")
    body = (tmp_path / "a.weights").read_bytes()[20:]
    write_header(tmp_path / "b.weights", *version, body)
    other = Darknet(parse_cfg(V3_CFG)).eval()
    assert load_weights(other, tmp_path / "b.weights") == (*version, 0)
    x = torch.rand(1, 3, 64, 64)
    for a, b in zip(model(x), other(x), strict=True):
        torch.testing.assert_close(a, b)
    assert len(body) == 4 * weights_count(model)


def test_weights_size_mismatch_says_both_numbers(tmp_path):
    model = Darknet(parse_cfg(V2_CFG))
    need = 20 + 4 * weights_count(model)
    write_header(tmp_path / "w.weights", 0, 2, b"\0" * (need - 20 - 8))
    with pytest.raises(DltoolError) as err:
        load_weights(model, tmp_path / "w.weights")
    assert f"{need - 8:,} bytes" in err.value.message and f"needs {need:,}" in err.value.message


def test_cfg_errors_name_the_line():
    with pytest.raises(DltoolError, match=r"<cfg>:3: unknown section \[gru\]"):
        parse_cfg("[net]\nwidth=32\n[gru]\n")
    with pytest.raises(DltoolError, match="must start with"):
        parse_cfg("[convolutional]\nfilters=3\n[yolo]\n")
    with pytest.raises(DltoolError, match="expected 'key=value'"):
        parse_cfg("[net]\nwidth 32\n")
    bad_head = V3_CFG.replace("filters=21", "filters=20", 1)
    with pytest.raises(DltoolError, match="needs 21 input channels, the layer before gives 20"):
        Darknet(parse_cfg(bad_head))


HEAD_CFG = "[net]\nwidth=64\nheight=64\n[convolutional]\nfilters=18\nsize=1\nactivation=linear\n"
HEAD_CFG += "[yolo]\nmask=0,1,2\nanchors=1,1, 2,2, 3,3\nclasses=1\n"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("filters=18", "filters=abc", "m.cfg:5: option 'filters' must be an integer, got 'abc'"),
        ("width=64", "width=6.4", "m.cfg:2: option 'width' must be an integer, got '6.4'"),
        ("anchors=1,1,", "anchors=1,x,", "m.cfg:10: option 'anchors' must be a list of numbers"),
        ("mask=0,1,2", "mask = 3,4,9", "m.cfg:9: mask refers to anchor 3, but anchors has 3 pairs"),
        ("mask=0,1,2", "mask=0,1,-1", "m.cfg:9: mask refers to anchor -1"),
        ("3,3\n", "3,3, 4\n", "m.cfg:10: anchors must be width,height pairs, got 7 value(s)"),
    ],
)
def test_malformed_cfg_values_name_file_and_line(old, new, message):
    assert old in HEAD_CFG
    Darknet(parse_cfg(HEAD_CFG, "m.cfg"))  # the unedited cfg builds
    with pytest.raises(DltoolError) as err:
        Darknet(parse_cfg(HEAD_CFG.replace(old, new), "m.cfg"))
    assert message in err.value.message


def test_tiny_cfg_matches_darknet_yolov3_tiny_size():
    model = Darknet(parse_cfg(tiny_cfg(80)))
    assert weights_count(model) * 4 + 20 == 35_434_956  # size of the published .weights
