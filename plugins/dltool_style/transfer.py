"""The style transfer loop: minimize J(G) = α J_content + β J_style (+ γ J_tv) over pixels.

As in the notes: the content activations a_C come from one hidden layer, the style Gram
matrices G_S from several layers weighted by λ_l, and the generated image G starts as the
content image plus noise, ``G = (1 − r) C + r U(0, 1)`` with r the noise ratio. Pixels are
optimized directly. Adam clips them to [0, 1] after every step, as the course does; L-BFGS
instead minimizes J(clip(G)), one fixed function, because clipping between its steps
breaks the curvature pairs and its line search (it stalled after ~9 steps). Several style
images are blended: J_style = Σ_k w_k J_style(S_k, G).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from dltool_style import cost_torch as tc
from dltool_style.features import FeatureNet

INITS = ("noise", "content", "random")
OPTIMIZERS = ("adam", "lbfgs")
DEFAULT_LR = {"adam": 0.03, "lbfgs": 1.0}


@dataclass
class Settings:
    """Hyperparameters of one transfer (the command's options, resolved)."""

    content_layer: str
    style_layers: dict[str, float]
    blend: list[float] = field(default_factory=lambda: [1.0])
    iterations: int = 300
    alpha: float = tc.ALPHA
    beta: float = tc.BETA
    tv_weight: float = 0.0
    init: str = "noise"
    noise_ratio: float = 0.6
    optimizer: str = "adam"
    lr: float | None = None

    @property
    def learning_rate(self) -> float:
        """Return --lr, or the optimizer's default (0.03 for Adam, 1 for L-BFGS)."""
        return self.lr if self.lr is not None else DEFAULT_LR[self.optimizer]

    @property
    def layers(self) -> list[str]:
        """Return the layers the network must produce (content first, no duplicates)."""
        return list(dict.fromkeys([self.content_layer, *self.style_layers]))


@dataclass
class Step:
    """Costs at one iteration, measured on the image before that iteration's update."""

    iteration: int
    J: float
    J_content: float
    J_style: float
    J_tv: float


class NonFiniteCost(Exception):
    """The cost (or the image) became NaN or infinite; ``last_good`` is the last finite image."""

    def __init__(
        self, iteration: int, value: float, last_good: torch.Tensor, what: str = "the cost"
    ) -> None:
        super().__init__(f"{what} became {value} at iteration {iteration}")
        self.iteration, self.value, self.last_good, self.what = iteration, value, last_good, what


def initial_image(
    content: torch.Tensor, init: str, noise_ratio: float, generator: torch.Generator | None
) -> torch.Tensor:
    """Return G₀ = (1 − r) C + r U(0, 1): r = noise_ratio (noise), 0 (content) or 1 (random)."""
    r = {"noise": noise_ratio, "content": 0.0, "random": 1.0}[init]
    noise = torch.rand(content.shape, generator=generator, device="cpu").to(content)  # (1, 3, H, W)
    return ((1.0 - r) * content + r * noise).clamp(0.0, 1.0).contiguous()


@torch.no_grad()
def targets(
    net: FeatureNet, content: torch.Tensor, styles: list[torch.Tensor], settings: Settings
) -> tuple[torch.Tensor, list[dict[str, torch.Tensor]]]:
    """Return a_C at the content layer and, per style image, its Gram matrices {layer: G_S}."""
    a_C = net(content, [settings.content_layer])[settings.content_layer]  # (1, n_C, n_H, n_W)
    layers = list(settings.style_layers)
    grams = [{k: tc.gram_matrix(a) for k, a in net(s, layers).items()} for s in styles]
    return a_C, grams


def costs(
    net: FeatureNet,
    x: torch.Tensor,
    a_C: torch.Tensor,
    grams: list[dict[str, torch.Tensor]],
    settings: Settings,
) -> tuple[torch.Tensor, ...]:
    """Return (J, J_content, J_style, J_tv) of the generated image x (1, 3, H, W)."""
    acts = net(x, settings.layers)
    J_content = tc.content_cost(a_C, acts[settings.content_layer]).sum()
    J_style = tc.blended_style_cost(grams, settings.blend, acts, settings.style_layers).sum()
    J_tv = tc.total_variation(x).sum() if settings.tv_weight else x.new_zeros(())
    J = tc.total_cost(J_content, J_style, settings.alpha, settings.beta) + settings.tv_weight * J_tv
    return J, J_content, J_style, J_tv


def make_optimizer(x: torch.Tensor, settings: Settings) -> torch.optim.Optimizer:
    """Return Adam or L-BFGS (one iteration per step, strong-Wolfe line search) over x."""
    if settings.optimizer == "lbfgs":
        return torch.optim.LBFGS(
            [x],
            lr=settings.learning_rate,
            max_iter=1,
            history_size=20,
            line_search_fn="strong_wolfe",
        )
    return torch.optim.Adam([x], lr=settings.learning_rate)


def optimize(
    net: FeatureNet,
    content: torch.Tensor,
    styles: list[torch.Tensor],
    settings: Settings,
    generator: torch.Generator | None = None,
    on_step: Callable[[Step, torch.Tensor], None] | None = None,
) -> torch.Tensor:
    """Return the generated image after ``settings.iterations`` steps; raise NonFiniteCost."""
    a_C, grams = targets(net, content, styles, settings)
    x = initial_image(content, settings.init, settings.noise_ratio, generator).requires_grad_(True)
    opt = make_optimizer(x, settings)
    seen: list[tuple[torch.Tensor, ...]] = []

    clip_in_cost = settings.optimizer == "lbfgs"

    def closure() -> torch.Tensor:
        opt.zero_grad(set_to_none=True)
        image = x.clamp(0.0, 1.0) if clip_in_cost else x  # (1, 3, H, W)
        values = costs(net, image, a_C, grams, settings)
        values[0].backward()
        seen.append(tuple(v.detach() for v in values))
        return values[0]

    for it in range(1, settings.iterations + 1):
        before = x.detach().clamp(0.0, 1.0)
        seen.clear()
        opt.step(closure)
        finite_x = torch.isfinite(x.detach()).all().to(seen[0][0].dtype)
        J, J_content, J_style, J_tv, ok = torch.stack([*seen[0], finite_x]).tolist()  # one sync
        if not math.isfinite(J):
            raise NonFiniteCost(it, J, before)
        if not ok:  # ReLU6 would hide NaN pixels from the cost
            raise NonFiniteCost(it, float("nan"), before, "the image")
        if not clip_in_cost:
            with torch.no_grad():
                x.clamp_(0.0, 1.0)
        if on_step is not None:
            on_step(Step(it, J, J_content, J_style, J_tv), x.detach().clamp(0.0, 1.0))
    return x.detach().clamp(0.0, 1.0)
