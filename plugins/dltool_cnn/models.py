"""The classic CNNs of the notes' "Model Examples Summary", written in PyTorch.

LeNet-5 (LeCun et al. 1998, with the C3 connection table and trainable subsampling),
AlexNet (Krizhevsky et al. 2012, two-group convolutions and LRN as published), VGG-16
(Simonyan & Zisserman 2014, configuration D), ResNet-18/34/50 (He et al. 2015; identity and
convolutional blocks) and GoogLeNet / Inception v1 (Szegedy et al. 2014, without the
auxiliary heads). Every builder takes ``num_classes`` and ``in_channels``.
"""

from __future__ import annotations

import torch
from torch import nn

# ---------------------------------------------------------------- input normalization


class Normalize(nn.Module):
    """Return (x − mean) / std per channel; kept inside the model so predict needs no extras."""

    def __init__(self, mean, std) -> None:
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return (x − mean) / std per channel."""
        return (x - self.mean) / self.std


# ---------------------------------------------------------------- LeNet-5


class ScaledTanh(nn.Module):
    """Return 1.7159 · tanh(2x/3), LeNet-5's squashing function."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return 1.7159 · tanh(2x/3)."""
        return 1.7159 * torch.tanh(x * (2.0 / 3.0))


class Subsampling(nn.Module):
    """Return sigmoid(coef_c · Σ 2×2 window + bias_c): LeNet-5's trainable average pooling."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.coef = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return sigmoid(coef_c · Σ 2×2 window + bias_c), shape (m, C, H/2, W/2)."""
        s = nn.functional.avg_pool2d(x, 2) * 4.0  # (m, C, H/2, W/2) window sums
        return torch.sigmoid(s * self.coef[:, None, None] + self.bias[:, None, None])


# Table I of the paper: which S2 maps (rows) each of the 16 C3 maps reads.
C3_TABLE = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5), (0, 1, 2, 3, 4, 5),
)  # fmt: skip


class SparseC3(nn.Module):
    """LeNet-5's C3: 16 maps of 5×5 kernels over the S2 maps listed in C3_TABLE (60 kernels)."""

    def __init__(self) -> None:
        super().__init__()
        pairs = [(o, i) for o, ins in enumerate(C3_TABLE) for i in ins]
        self.register_buffer("out_idx", torch.tensor([o for o, _ in pairs]), persistent=False)
        self.register_buffer("in_idx", torch.tensor([i for _, i in pairs]), persistent=False)
        bound = torch.tensor([(25.0 * len(C3_TABLE[o])) ** -0.5 for o, _ in pairs])  # (60,)
        self.weight = nn.Parameter((torch.rand(len(pairs), 5, 5) * 2 - 1) * bound[:, None, None])
        self.bias = nn.Parameter(torch.zeros(16))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return C3's 16 maps, each convolving only the S2 maps Table I names."""
        full = self.weight.new_zeros(16, 6, 5, 5)
        full = full.index_put((self.out_idx, self.in_idx), self.weight)  # (16, 6, 5, 5)
        return nn.functional.conv2d(x, full, self.bias)


def lenet5(num_classes: int = 10, in_channels: int = 1) -> nn.Module:
    """Return LeNet-5: C1-S2-C3-S4-C5-F6 (60,000 weights) and a linear 84→classes output."""
    return nn.Sequential(
        nn.Conv2d(in_channels, 6, 5),  # (m, 6, 28, 28)
        ScaledTanh(),
        Subsampling(6),  # (m, 6, 14, 14)
        SparseC3(),  # (m, 16, 10, 10)
        ScaledTanh(),
        Subsampling(16),  # (m, 16, 5, 5)
        nn.Conv2d(16, 120, 5),  # (m, 120, 1, 1)
        ScaledTanh(),
        nn.Flatten(),
        nn.Linear(120, 84),
        ScaledTanh(),
        nn.Linear(84, num_classes),
    )


# ---------------------------------------------------------------- AlexNet and VGG-16


def alexnet(num_classes: int = 1000, in_channels: int = 3) -> nn.Module:
    """Return AlexNet on 227×227: 5 conv (conv2/4/5 split into two groups), LRN, 3 FC."""
    return nn.Sequential(
        nn.Conv2d(in_channels, 96, 11, stride=4),  # (m, 96, 55, 55)
        nn.ReLU(inplace=True),
        nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0),
        nn.MaxPool2d(3, 2),  # (m, 96, 27, 27)
        nn.Conv2d(96, 256, 5, padding=2, groups=2),  # (m, 256, 27, 27)
        nn.ReLU(inplace=True),
        nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0),
        nn.MaxPool2d(3, 2),  # (m, 256, 13, 13)
        nn.Conv2d(256, 384, 3, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(384, 384, 3, padding=1, groups=2),
        nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, 3, padding=1, groups=2),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(3, 2),  # (m, 256, 6, 6)
        nn.Flatten(),
        nn.Dropout(0.5),
        nn.Linear(256 * 6 * 6, 4096),
        nn.ReLU(inplace=True),
        nn.Dropout(0.5),
        nn.Linear(4096, 4096),
        nn.ReLU(inplace=True),
        nn.Linear(4096, num_classes),
    )


VGG16_CONFIG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
                512, 512, 512, "M")  # fmt: skip


def vgg16(num_classes: int = 1000, in_channels: int = 3) -> nn.Module:
    """Return VGG-16: 13 CONV 3×3 s=1 same + MAX-POOL 2×2 s=2 blocks, then FC 4096-4096-classes."""
    layers: list[nn.Module] = []
    channels = in_channels
    for item in VGG16_CONFIG:
        if item == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(channels, item, 3, padding=1), nn.ReLU(inplace=True)]
            channels = item
    layers += [
        nn.Flatten(),  # (m, 512·7·7)
        nn.Linear(512 * 7 * 7, 4096),
        nn.ReLU(inplace=True),
        nn.Dropout(0.5),
        nn.Linear(4096, 4096),
        nn.ReLU(inplace=True),
        nn.Dropout(0.5),
        nn.Linear(4096, num_classes),
    ]
    return nn.Sequential(*layers)


# ---------------------------------------------------------------- ResNets


def conv_bn(c_in: int, c_out: int, f: int, stride: int = 1) -> nn.Sequential:
    """Return CONV f×f (no bias, "same"-style padding) followed by BatchNorm."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, f, stride=stride, padding=f // 2, bias=False),
        nn.BatchNorm2d(c_out),
    )


class BasicBlock(nn.Module):
    """Return ReLU(F(x) + shortcut(x)) with F = two 3×3 CONV-BN layers (ResNet-18/34)."""

    expansion = 1

    def __init__(self, c_in: int, c_mid: int, stride: int = 1) -> None:
        super().__init__()
        c_out = c_mid * self.expansion
        self.main = nn.Sequential(
            conv_bn(c_in, c_mid, 3, stride), nn.ReLU(inplace=True), conv_bn(c_mid, c_out, 3)
        )
        self.shortcut = conv_bn(c_in, c_out, 1, stride) if stride != 1 or c_in != c_out else None
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ReLU(F(x) + shortcut(x))."""
        out = self.main(x)  # (m, C_out, H/s, W/s)
        return self.relu(out + (x if self.shortcut is None else self.shortcut(x)))


class Bottleneck(BasicBlock):
    """Return ReLU(F(x) + shortcut(x)) with F = 1×1 → 3×3 → 1×1 (×4) CONV-BN (ResNet-50).

    With an identity shortcut this is the notes' identity block; with a 1×1 CONV-BN
    shortcut (when the shape changes) it is the convolutional block.
    """

    expansion = 4

    def __init__(self, c_in: int, c_mid: int, stride: int = 1) -> None:
        super().__init__(c_in, c_mid, stride)
        self.main = nn.Sequential(
            conv_bn(c_in, c_mid, 1),
            nn.ReLU(inplace=True),
            conv_bn(c_mid, c_mid, 3, stride),
            nn.ReLU(inplace=True),
            conv_bn(c_mid, c_mid * 4, 1),
        )


class ResNet(nn.Module):
    """Return the ResNet stem (CONV 7×7 s=2, MAX-POOL 3×3 s=2), four stages, global pool, FC."""

    def __init__(self, block, depths, num_classes: int = 1000, in_channels: int = 3) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            conv_bn(in_channels, 64, 7, 2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, padding=1)
        )
        stages, c_in = [], 64
        for i, (width, depth) in enumerate(zip((64, 128, 256, 512), depths, strict=True)):
            blocks = []
            for j in range(depth):
                blocks.append(block(c_in, width, 2 if (j == 0 and i > 0) else 1))
                c_in = width * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c_in, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the class scores (m, classes): stem, stages, average pool, FC."""
        x = self.stages(self.stem(x))  # (m, C, H/32, W/32)
        return self.fc(torch.flatten(self.pool(x), 1))  # (m, classes)


def resnet18(num_classes: int = 1000, in_channels: int = 3) -> nn.Module:
    """Return ResNet-18: basic blocks [2, 2, 2, 2]."""
    return ResNet(BasicBlock, (2, 2, 2, 2), num_classes, in_channels)


def resnet34(num_classes: int = 1000, in_channels: int = 3) -> nn.Module:
    """Return ResNet-34: basic blocks [3, 4, 6, 3]."""
    return ResNet(BasicBlock, (3, 4, 6, 3), num_classes, in_channels)


def resnet50(num_classes: int = 1000, in_channels: int = 3) -> nn.Module:
    """Return ResNet-50: bottleneck (identity/convolutional) blocks [3, 4, 6, 3]."""
    return ResNet(Bottleneck, (3, 4, 6, 3), num_classes, in_channels)


# ---------------------------------------------------------------- GoogLeNet / Inception v1


def conv_relu(c_in: int, c_out: int, f: int, stride: int = 1) -> nn.Sequential:
    """Return CONV f×f ("same" padding for odd f) followed by ReLU."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, f, stride=stride, padding=f // 2), nn.ReLU(inplace=True)
    )


class Inception(nn.Module):
    """Return concat(1×1, 1×1→3×3, 1×1→5×5, MAX-POOL 3×3→1×1) along channels."""

    def __init__(self, c_in, c1, c3r, c3, c5r, c5, pool_proj) -> None:
        super().__init__()
        self.b1 = conv_relu(c_in, c1, 1)
        self.b2 = nn.Sequential(conv_relu(c_in, c3r, 1), conv_relu(c3r, c3, 3))
        self.b3 = nn.Sequential(conv_relu(c_in, c5r, 1), conv_relu(c5r, c5, 5))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, padding=1), conv_relu(c_in, pool_proj, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the four branches concatenated along channels."""
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)  # (m, ΣC, H, W)


# Table 1 of the paper: #1×1, #3×3 reduce, #3×3, #5×5 reduce, #5×5, pool proj.
INCEPTION_TABLE = {
    "3a": (192, 64, 96, 128, 16, 32, 32),
    "3b": (256, 128, 128, 192, 32, 96, 64),
    "4a": (480, 192, 96, 208, 16, 48, 64),
    "4b": (512, 160, 112, 224, 24, 64, 64),
    "4c": (512, 128, 128, 256, 24, 64, 64),
    "4d": (512, 112, 144, 288, 32, 64, 64),
    "4e": (528, 256, 160, 320, 32, 128, 128),
    "5a": (832, 256, 160, 320, 32, 128, 128),
    "5b": (832, 384, 192, 384, 48, 128, 128),
}


def googlenet(num_classes: int = 1000, in_channels: int = 3) -> nn.Module:
    """Return GoogLeNet (Inception v1) without auxiliary classifiers, as in Table 1 of the paper."""
    inc = {k: Inception(*v) for k, v in INCEPTION_TABLE.items()}
    lrn = {"size": 5, "alpha": 1e-4, "beta": 0.75, "k": 1.0}
    return nn.Sequential(
        conv_relu(in_channels, 64, 7, 2),  # (m, 64, 112, 112)
        nn.MaxPool2d(3, 2, ceil_mode=True),  # (m, 64, 56, 56)
        nn.LocalResponseNorm(**lrn),
        conv_relu(64, 64, 1),
        conv_relu(64, 192, 3),
        nn.LocalResponseNorm(**lrn),
        nn.MaxPool2d(3, 2, ceil_mode=True),  # (m, 192, 28, 28)
        inc["3a"],
        inc["3b"],
        nn.MaxPool2d(3, 2, ceil_mode=True),  # (m, 480, 14, 14)
        *(inc[k] for k in ("4a", "4b", "4c", "4d", "4e")),
        nn.MaxPool2d(3, 2, ceil_mode=True),  # (m, 832, 7, 7)
        inc["5a"],
        inc["5b"],
        nn.AdaptiveAvgPool2d(1),  # (m, 1024, 1, 1): the paper's 7×7 average pool at 224
        nn.Flatten(),
        nn.Dropout(0.4),
        nn.Linear(1024, num_classes),
    )
