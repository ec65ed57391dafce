"""The optimization loop on the real EfficientNet-Lite0: costs fall, NaN stops it cleanly."""

from __future__ import annotations

import math

import pytest
import torch
from dltool_style import cost_torch as tc
from dltool_style import features, images, transfer

from dltool.data.images import read_rgb, sample_path


def _sample(name):
    return read_rgb(sample_path(name))


@pytest.fixture(scope="module")
def setup():
    net = features.efficientnet_lite0()
    content = images.to_tensor(images.resize(_sample("chelsea"), (48, 72)))
    style = images.to_tensor(images.cover(_sample("immunohistochemistry"), (48, 72)))
    return net, content, style


def test_initial_image_follows_noise_ratio():
    content = torch.full((1, 3, 4, 5), 0.5)
    gen = torch.Generator().manual_seed(0)
    torch.testing.assert_close(transfer.initial_image(content, "content", 0.6, gen), content)
    g = transfer.initial_image(content, "noise", 0.6, torch.Generator().manual_seed(0))
    u = transfer.initial_image(content, "random", 0.6, torch.Generator().manual_seed(0))
    torch.testing.assert_close(g, 0.4 * content + 0.6 * u)
    assert float(u.min()) >= 0.0 and float(u.max()) <= 1.0


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_costs_fall_and_targets_match_reference(setup, optimizer):
    net, content, style = setup
    settings = transfer.Settings(
        net.content_layer, net.style_layers, iterations=4, optimizer=optimizer, tv_weight=0.1
    )
    steps = []
    result = transfer.optimize(
        net,
        content,
        [style],
        settings,
        torch.Generator().manual_seed(0),
        lambda s, x: steps.append(s),
    )
    assert [s.iteration for s in steps] == list(range(1, 5))
    assert steps[-1].J < 0.8 * steps[0].J and steps[-1].J_style < steps[0].J_style
    assert result.shape == content.shape and 0 <= float(result.min()) <= float(result.max()) <= 1
    first = steps[0]
    assert pytest.approx(10 * first.J_content + 40 * first.J_style + 0.1 * first.J_tv) == first.J
    # the first cost is the one of the noisy initial image, recomputed by hand
    x0 = transfer.initial_image(content, "noise", 0.6, torch.Generator().manual_seed(0))
    with torch.no_grad():
        a_C = net(content, [net.content_layer])[net.content_layer]
        a_G = net(x0, settings.layers)
        j_c = tc.content_cost(a_C, a_G[net.content_layer]).item()
        a_S = net(style, list(net.style_layers))
        j_s = sum(
            lam * tc.layer_style_cost(a_S[k], a_G[k]).item() for k, lam in net.style_layers.items()
        )
    assert first.J_content == pytest.approx(j_c, rel=1e-4)
    assert first.J_style == pytest.approx(j_s, rel=1e-4)


def test_nan_cost_stops_with_last_good_image(setup, monkeypatch):
    net, content, style = setup
    real = transfer.costs
    calls = [0]

    def flaky(*args):
        calls[0] += 1
        values = real(*args)
        if calls[0] >= 4:
            return (values[0] * float("nan"), *values[1:])
        return values

    monkeypatch.setattr(transfer, "costs", flaky)
    seen = []
    settings = transfer.Settings(net.content_layer, net.style_layers, iterations=10)
    with pytest.raises(transfer.NonFiniteCost) as err:
        transfer.optimize(net, content, [style], settings, None, lambda s, x: seen.append(x))
    assert err.value.iteration == 4 and math.isnan(err.value.value)
    torch.testing.assert_close(err.value.last_good, seen[-1])  # the image after step 3
    assert torch.isfinite(err.value.last_good).all()


def test_lbfgs_keeps_descending(setup):
    """Clipping between L-BFGS steps made it stall (J flat from step ~11 here); J(clip(G)) not."""
    net, _, _ = setup
    content = images.to_tensor(images.resize(_sample("chelsea"), (64, 64)))
    style = images.to_tensor(images.cover(_sample("hubble_deep_field"), (64, 64)))
    settings = transfer.Settings(
        net.content_layer, net.style_layers, iterations=16, optimizer="lbfgs"
    )
    steps = []
    gen = torch.Generator().manual_seed(0)
    transfer.optimize(net, content, [style], settings, gen, lambda s, x: steps.append(s))
    assert steps[-1].J < 0.9 * steps[10].J
