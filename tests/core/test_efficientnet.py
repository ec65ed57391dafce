"""The shared EfficientNet-Lite0 loader: real ImageNet weights, named activations."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dltool.errors import DltoolError
from dltool.nn import efficientnet as E


@pytest.fixture(scope="module")
def model():
    return E.load_efficientnet_lite0(device="cpu")


def _chelsea(size: int) -> torch.Tensor:
    """Return scikit-image's chelsea cat photo as (1, 3, size, size) RGB in [0, 1]."""
    from PIL import Image
    from skimage import data

    img = Image.fromarray(data.chelsea()).resize((size, size), Image.BILINEAR)
    return torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1)[None]


def test_classifies_real_cat_photo(model):
    probs, idx = E.classify(model, _chelsea(224), k=3)
    assert 281 <= int(idx[0, 0]) <= 285  # tabby, tiger cat, Persian, Siamese, Egyptian cat
    assert float(probs[0, 0]) > 0.5


def test_not_pretrained_is_not_a_cat_classifier():
    torch.manual_seed(0)
    model = E.load_efficientnet_lite0(pretrained=False)
    assert not model.training
    probs, _ = E.classify(model, _chelsea(96), k=1)
    assert float(probs[0, 0]) < 0.5


def test_activations_reproduce_forward_on_odd_sizes(model):
    x = E.normalize(torch.rand(2, 3, 97, 131, generator=torch.Generator().manual_seed(1)))
    acts = E.activations(model, x, E.layer_names())
    with torch.no_grad():
        ref = model(x)
    torch.testing.assert_close(acts["logits"], ref)
    assert acts["stem"].shape == (2, 32, 49, 66)
    assert acts["blocks.4"].shape == (2, 40, 13, 17)
    assert acts["blocks.6.expand"].shape == (2, 480, 7, 9)
    assert acts["head"].shape == (2, 1280, 4, 5)


def test_activations_stop_early_and_reject_unknown_layers(model):
    acts = E.activations(model, torch.zeros(1, 3, 64, 64), ["stem", "blocks.2"])
    assert set(acts) == {"stem", "blocks.2"}
    with pytest.raises(DltoolError, match="no layer 'conv4_2'") as err:
        E.activations(model, torch.zeros(1, 3, 64, 64), ["conv4_2"])
    assert "blocks.0.dw" in err.value.hint
