"""dltool.precision: --amp autocast on CPU (bfloat16), the scaled step, refusals."""

from __future__ import annotations

import pytest
import torch

from dltool.errors import DltoolError
from dltool.precision import Precision, check_amp


def _net():
    """Return a seeded 4→3 linear layer and its SGD optimizer."""
    torch.manual_seed(0)
    net = torch.nn.Linear(4, 3)
    return net, torch.optim.SGD(net.parameters(), lr=0.1)


def test_off_is_float32_and_the_plain_step():
    """Without --amp: no autocast, step = backward + optimizer.step (θ ← θ − lr·∇)."""
    net, opt = _net()
    p = Precision(torch.device("cpu"), False)
    x = torch.ones(2, 4)
    with p.autocast():
        y = net(x)
    assert y.dtype == torch.float32 and not p.enabled and p.state_dict() == {}
    before = net.weight.detach().clone()
    p.step(y.sum(), opt)
    torch.testing.assert_close(net.weight, before - 0.1 * torch.full((3, 4), 2.0))


def test_cpu_amp_autocasts_to_bfloat16():
    """--amp on CPU: matmuls run in bfloat16, no scaler; the update still lands in float32."""
    net, opt = _net()
    p = Precision(torch.device("cpu"), True)
    assert p.dtype_name == "bfloat16" and p.scaler is None
    with p.autocast():
        y = net(torch.ones(2, 4))
    assert y.dtype == torch.bfloat16
    p.step(y.float().sum(), opt)
    assert net.weight.dtype == torch.float32


def test_scaled_step_unscales_before_clipping():
    """With a gradient scaler: the step equals the unscaled one (S·loss, then ∇/S), clip too."""
    net, opt = _net()
    p = Precision(torch.device("cpu"), False)
    p.scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)
    ref, ref_opt = _net()
    x = torch.arange(8.0).reshape(2, 4)
    p.step(net(x).sum(), opt, clip=0.5, params=net.parameters())
    ref(x).sum().backward()
    torch.nn.utils.clip_grad_norm_(ref.parameters(), 0.5)
    ref_opt.step()
    torch.testing.assert_close(net.weight, ref.weight)
    assert p.state_dict()["scale"] > 0


def test_amp_refused_where_torch_has_none():
    """A device kind without autocast in dltool (here: meta) is one DltoolError."""
    assert check_amp(torch.device("meta"), False) is None
    with pytest.raises(DltoolError, match="--amp is not available on device meta"):
        check_amp(torch.device("meta"), True)
