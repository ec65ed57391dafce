"""Feature networks: BatchNorm folding, VGG-19 built here and its state-dict checks, images."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from dltool_style import features, images, memory, vgg

from dltool.data.images import read_rgb, sample_path
from dltool.errors import DltoolError
from dltool.nn import efficientnet as E


@pytest.fixture(scope="module")
def effnet():
    return features.efficientnet_lite0()


def test_folded_efficientnet_keeps_activations(effnet):
    ref = E.load_efficientnet_lite0()
    x = torch.rand(1, 3, 67, 90, generator=torch.Generator().manual_seed(0))
    layers = [effnet.content_layer, *effnet.style_layers, "head"]
    with torch.no_grad():
        want = E.activations(ref, E.normalize(x), layers)
        got = effnet(x, layers)
    for name in layers:
        torch.testing.assert_close(got[name], want[name], rtol=1e-4, atol=1e-4)
    assert not any(p.requires_grad for p in effnet.model.parameters())
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in effnet.model.modules())


def test_default_layers_exist_and_unknown_layer_lists_them(effnet):
    effnet.check_layers([effnet.content_layer, *effnet.style_layers])
    with pytest.raises(DltoolError, match="no layer 'conv4_2'") as err:
        effnet.check_layers(["conv4_2"])
    assert "blocks.5.expand" in err.value.hint


def test_vgg19_layout_matches_torchvision_numbering():
    table = {name: (i, c) for name, i, c in vgg.layer_table()}
    assert table["conv1_1"] == (1, 64) and table["conv4_2"] == (22, 512)
    assert table["conv5_1"] == (29, 512) and table["pool5"] == (36, 512)
    shapes = vgg.conv_shapes()
    assert len(shapes) == 32 and shapes["features.34.weight"] == (512, 512, 3, 3)
    model = vgg.vgg19_features()
    assert {f"features.{k}" for k in model.state_dict()} == set(shapes)
    assert sum(p.numel() for p in model.parameters()) == 20_024_384  # VGG-19 conv parameters


def _vgg16_like() -> dict:
    convs = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]
    return {f"features.{i}.{p}": torch.zeros(1) for i in convs for p in ("weight", "bias")}


def test_vgg19_state_dict_checks(tmp_path):
    with pytest.raises(DltoolError, match="not a VGG-19 state dict .13 conv weights"):
        vgg.check_state_dict(_vgg16_like(), tmp_path / "vgg16.pth")
    state = {k: torch.empty(s) for k, s in vgg.conv_shapes().items()}
    state["features.10.weight"] = torch.empty(256, 128, 5, 5)
    with pytest.raises(DltoolError, match=r"features.10.weight has shape \(256, 128, 5, 5\)"):
        vgg.check_state_dict(state, tmp_path / "x.pth")
    bn = {**state, "features.1.running_mean": torch.zeros(64)}
    with pytest.raises(DltoolError, match="batch-normalized"):
        vgg.check_state_dict(bn, tmp_path / "x.pth")
    torch.save(torch.nn.Linear(2, 2), tmp_path / "module.pth")
    with pytest.raises(DltoolError, match="pickled Python objects"):
        vgg.load_vgg19(tmp_path / "module.pth")
    (tmp_path / "text.pth").write_text("hello")
    with pytest.raises(DltoolError, match="not a PyTorch weights file"):
        vgg.load_vgg19(tmp_path / "text.pth")


def test_vgg19_round_trip_through_torchvision_format(tmp_path):
    torch.manual_seed(0)
    model = vgg.vgg19_features()
    state = {f"module.features.{k}": v for k, v in model.state_dict().items()}
    state["module.classifier.6.weight"] = torch.zeros(10, 4096)  # a fine-tuned head is ignored
    torch.save({"state_dict": state}, tmp_path / "vgg19.pth")
    loaded = features.vgg19(tmp_path / "vgg19.pth")
    x = torch.rand(1, 3, 40, 48)
    with torch.no_grad():
        acts = loaded(x, ["conv1_1", "conv4_2", "pool5"])
        ref = model(E.normalize(x))
    assert acts["conv1_1"].shape == (1, 64, 40, 48) and acts["conv4_2"].shape == (1, 512, 5, 6)
    torch.testing.assert_close(acts["pool5"], ref)
    assert (acts["conv1_1"] >= 0).all()  # convB_I is the output of its ReLU


def test_parse_style_layers():
    assert features.parse_style_layers("a:0.5,b:0.25") == {"a": 0.5, "b": 0.25}
    assert features.parse_style_layers("a, b") == {"a": 0.5, "b": 0.5}
    assert features.parse_style_layers("a:0.6,b,c") == pytest.approx({"a": 0.6, "b": 0.2, "c": 0.2})
    with pytest.raises(DltoolError, match="not a number"):
        features.parse_style_layers("a:x")
    for bad in ("a:-1", "a:inf", "a:nan,b"):
        with pytest.raises(DltoolError, match="finite and not negative"):
            features.parse_style_layers(bad)
    with pytest.raises(DltoolError, match="every layer weight is 0"):
        features.parse_style_layers("a:0,b:0")


def test_image_sizes_and_colors():
    assert images.fit_size(300, 451, 256) == (170, 256)
    assert images.fit_size(100, 80, 256) == (100, 80)  # never enlarged
    img = read_rgb(sample_path("chelsea"))
    crop = images.cover(img, (50, 50))
    assert crop.shape == (50, 50, 3)
    x = images.to_tensor(img)
    assert x.shape == (1, 3, 300, 451) and float(x.max()) <= 1.0
    np.testing.assert_array_equal(images.to_uint8(x), img)
    rgb = np.random.default_rng(0).uniform(0, 255, size=(8, 8, 3))
    np.testing.assert_allclose(images.ycbcr_to_rgb(images.rgb_to_ycbcr(rgb)), rgb, atol=1e-3)
    gray = np.full((8, 8, 3), 128, dtype=np.uint8)
    kept = images.preserve_colors(gray, img[:8, :8])
    y_kept = images.rgb_to_ycbcr(kept.astype(float))
    y_content = images.rgb_to_ycbcr(img[:8, :8].astype(float))
    np.testing.assert_allclose(y_kept[..., 0], 128, atol=2.5)  # luma of the result
    np.testing.assert_allclose(y_kept[..., 1:], y_content[..., 1:], atol=3)  # chroma of content


def test_memory_estimate_scales_with_area(effnet):
    layers = [effnet.content_layer, *effnet.style_layers]
    per_px = memory.elements_per_pixel(effnet, layers)
    assert 100 < per_px < 1000
    small, big = (memory.estimate_bytes(effnet, layers, s, s) for s in (256, 512))
    params = sum(p.numel() * 4 for p in effnet.model.parameters())
    assert (big - params) == pytest.approx(4 * (small - params), rel=1e-6)
    assert memory.available_bytes(torch.device("cpu")) > 0
    assert memory.human(3 * 1024**3) == "3.0 GiB"
