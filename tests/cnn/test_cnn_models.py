"""Classic CNNs: published parameter counts and a forward pass at the native input size."""

from __future__ import annotations

import pytest
import torch
from dltool_cnn import MODELS, models


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Run torch on one thread: small models are fastest so, whatever else loads the cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# Published / reference counts (1000 ImageNet classes; LeNet-5 with 10 digits).
PARAMS = {
    "lenet5": 60_850,  # the paper's 60,000 trainable weights (C1…F6) + linear 84→10 (850)
    "alexnet": 60_965_224,  # two-group conv2/4/5 as published ("60 million parameters")
    "vgg16": 138_357_544,
    "resnet18": 11_689_512,
    "resnet34": 21_797_672,
    "resnet50": 25_557_032,
    "googlenet": 6_998_552,  # Inception v1 per Table 1 with biases, no auxiliary heads
}


def _count(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_parameter_count(name):
    with torch.device("meta"):
        model = getattr(models, name)()
    assert _count(model) == PARAMS[name]


def test_lenet5_layers_match_the_paper():
    """C1 156, S2 12, C3 1,516, S4 32, C5 48,120, F6 10,164: 60,000 in total."""
    net = models.lenet5()
    per = [_count(net[i]) for i in (0, 2, 3, 5, 6, 9)]
    assert per == [156, 12, 1516, 32, 48120, 10164]
    assert sum(per) == 60_000


def test_resnet50_has_identity_and_convolutional_blocks():
    net = models.resnet50()
    blocks = [b for stage in net.stages for b in stage]
    conv_blocks = [b for b in blocks if b.shortcut is not None]
    assert len(blocks) == 16 and len(conv_blocks) == 4  # one convolutional block per stage


# Input (C, H, W) of each paper: LeNet-5 32x32 digits, AlexNet 227 (the 224 of the paper
# does not divide), the rest ImageNet's 224.
PUBLISHED_INPUT = {name: (3, 224, 224) for name in PARAMS}
PUBLISHED_INPUT |= {"lenet5": (1, 32, 32), "alexnet": (3, 227, 227)}
FIXED_SIZE = ("lenet5", "alexnet", "vgg16")  # flatten into fully connected layers


def test_registered_input_sizes_match_builders():
    import dltool_cnn
    from dltool_cnn.summary import build_meta, smallest_input, try_forward

    assert {name for name, *_ in MODELS} == set(PARAMS)
    registered = {}

    class Registry:
        def add(self, name, target, description, input_size):
            registered[name] = (target, tuple(input_size))

    dltool_cnn.register_models(Registry())
    assert set(registered) == set(PARAMS)
    for name, (target, size) in registered.items():
        assert size == PUBLISHED_INPUT[name], name
        module, _, attr = target.partition(":")
        assert module == "dltool_cnn.models"
        net = build_meta(getattr(models, attr))
        first = next(m for m in net.modules() if isinstance(m, torch.nn.Conv2d))
        assert first.in_channels == size[0], name
        assert try_forward(net, size), name
        if name in FIXED_SIZE:
            assert smallest_input(net, size) == size, name
            assert not try_forward(net, (size[0], 2 * size[1], 2 * size[2])), name


@pytest.mark.parametrize("name,builder,_desc,size", MODELS, ids=[m[0] for m in MODELS])
def test_forward_at_native_size(name, builder, _desc, size):
    torch.manual_seed(0)
    model = getattr(models, builder)().eval()
    with torch.no_grad():
        y = model(torch.randn(1, *size))
    assert y.shape == (1, 10 if name == "lenet5" else 1000)
    assert torch.isfinite(y).all()


def test_models_take_num_classes_and_channels():
    model = models.resnet18(num_classes=3, in_channels=1).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 1, 64, 64)).shape == (2, 3)
