"""A FaceNet-style face encoder in torch: Inception-ResNet blocks, 128-d L2-normalized output.

After Szegedy et al. 2016 (Inception-ResNet) as FaceNet used it, scaled down so it trains
on a laptop: stem convolutions, residual blocks whose branch is an Inception module
(1×1 | 1×1→3×3 | 1×1→3×3→3×3, concatenated, 1×1 back to the width, scaled and added),
stride-2 reductions, global average pooling, a linear 128-d embedding and
f(x) = z / ‖z‖₂, so ‖f(a) − f(b)‖² ∈ [0, 4] as the triplet loss with α = 0.2 expects.

Encoder files are core torch checkpoints (``dltool.checkpoints``, format ``dltool-facenet``)
holding the config, the weights and the verification threshold chosen on the training faces.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from dltool.artifacts import sha256_file
from dltool.errors import DltoolError

FORMAT = "dltool-facenet"
INPUT_SIZE = 96
DIM = 128


def conv_bn(c_in: int, c_out: int, k: int, stride: int = 1) -> nn.Sequential:
    """Return conv(k×k) → BatchNorm → ReLU with 'same' padding."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class InceptionResBlock(nn.Module):
    """Return relu(x + s · W[b1 | b2 | b3]) with three Inception branches of width c/4."""

    def __init__(self, c: int, scale: float = 0.2):
        super().__init__()
        b = c // 4
        self.b1 = conv_bn(c, b, 1)
        self.b2 = nn.Sequential(conv_bn(c, b, 1), conv_bn(b, b, 3))
        self.b3 = nn.Sequential(conv_bn(c, b, 1), conv_bn(b, b, 3), conv_bn(b, b, 3))
        self.up = nn.Conv2d(3 * b, c, 1)
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ReLU(x + scale · W_up · concat(branches))."""
        branches = torch.cat([self.b1(x), self.b2(x), self.b3(x)], 1)  # (m, 3c/4, H, W)
        return torch.relu(x + self.scale * self.up(branches))  # (m, c, H, W)


class Reduction(nn.Module):
    """Halve H and W: concat(3×3 stride-2 conv, 3×3 stride-2 max-pool)."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv = conv_bn(c_in, c_out - c_in, 3, 2)
        self.pool = nn.MaxPool2d(3, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return concat(3×3 stride-2 conv, max-pool), H and W halved."""
        return torch.cat([self.conv(x), self.pool(x)], 1)  # (m, c_out, H/2, W/2)


class FaceNet(nn.Module):
    """f(x) = normalize(W · avgpool(InceptionResNet(x))) ∈ R^dim, ‖f(x)‖₂ = 1."""

    def __init__(self, width: int = 32, blocks: tuple[int, ...] = (1, 2, 1), dim: int = DIM):
        super().__init__()
        layers: list[nn.Module] = [conv_bn(3, width, 3, 2), conv_bn(width, width, 3)]
        c = width
        for i, n in enumerate(blocks):
            if i > 0:
                layers.append(Reduction(c, 2 * c))
                c *= 2
            layers.extend(InceptionResBlock(c) for _ in range(n))
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.embed = nn.Linear(c, dim)
        self.config = {"width": width, "blocks": list(blocks), "dim": dim}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the L2-normalized embeddings f(x), shape (m, dim)."""
        z = self.embed(self.features(x))  # (m, dim)
        return nn.functional.normalize(z, dim=1)  # (m, dim), unit rows


def facenet_small(**kwargs: Any) -> FaceNet:
    """Return the default FaceNet-style encoder (96×96 RGB chips → 128-d)."""
    return FaceNet(**kwargs)


def chips_to_tensor(chips: np.ndarray, device: Any = None) -> torch.Tensor:
    """Return uint8 chips (m, H, W, 3) as floats (m, 3, H, W) scaled to [−1, 1]."""
    x = torch.from_numpy(np.ascontiguousarray(chips)).to(device)
    return x.permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


@torch.no_grad()
def embed_chips(
    model: FaceNet, chips: np.ndarray, device: Any = None, batch: int = 64
) -> np.ndarray:
    """Return f(chip) for uint8 chips (m, H, W, 3) as float64 (m, dim)."""
    model.eval()
    out = [
        model(chips_to_tensor(chips[i : i + batch], device)).cpu()
        for i in range(0, len(chips), batch)
    ]
    return torch.cat(out).double().numpy()


WHAT = "dltool face encoder"
ENCODER_HINT = "give encoder.pt (or the run folder) written by 'dltool facerec train'"


def save_encoder(model: FaceNet, path: Path, threshold: float) -> None:
    """Write the encoder file (config, weights, threshold) atomically, through the core."""
    from dltool.checkpoints import save_torch

    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    payload = {
        "version": 1,
        "config": model.config,
        "input_size": INPUT_SIZE,
        "threshold": float(threshold),
        "state_dict": state,
    }
    save_torch(path, payload, FORMAT)


def load_encoder(path: Path, device: Any = None) -> tuple[FaceNet, dict[str, Any]]:
    """Return (model on ``device``, metadata with name, dim, input_size, threshold).

    Loaded with ``weights_only=True`` (nothing in the file can run); NaN/inf weights refused.
    """
    from dltool.checkpoints import load_torch, require_finite

    payload = load_torch(path, FORMAT, WHAT)
    try:
        config = payload["config"]
        model = FaceNet(config["width"], tuple(config["blocks"]), config["dim"])
        model.load_state_dict(payload["state_dict"])
    except (KeyError, TypeError, ValueError, RuntimeError):
        raise DltoolError(
            f"{path} is not a {WHAT} (its weights do not fit its config)", hint=ENCODER_HINT
        ) from None
    require_finite(payload["state_dict"], path, "face encoder")
    digest = sha256_file(Path(path))[:12]
    meta = {
        "name": f"facenet-{digest}",
        "dim": config["dim"],
        "input_size": payload.get("input_size", INPUT_SIZE),
        "threshold": payload.get("threshold", 1.0),
    }
    return model.to(device).eval(), meta
