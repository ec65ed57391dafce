"""Update rules, schedules and mini-batches against torch.optim and known values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dltool.data import minibatches
from dltool.nn import optimizers as opt
from dltool.nn.schedules import Schedule

SHAPES = [(5, 3), (5, 1), (1, 5), (7,), (4, 3, 2)]


def _problem(seed: int):
    """Return params {W1, …} and a list of 40 gradient dicts {dW1, …} (float64)."""
    rng = np.random.default_rng(seed)
    params = {f"W{i}": rng.standard_normal(sh) for i, sh in enumerate(SHAPES, start=1)}
    grads = [
        {f"dW{i}": rng.standard_normal(sh) * (i / 2) for i, sh in enumerate(SHAPES, start=1)}
        for _ in range(40)
    ]
    return params, grads


def _torch_run(make, params, grads):
    """Return the parameters after torch optimizer ``make(list)`` applied ``grads``."""
    tensors = {k: torch.nn.Parameter(torch.tensor(v)) for k, v in params.items()}
    o = make(list(tensors.values()))
    for g in grads:
        for k, t in tensors.items():
            t.grad = torch.tensor(g["d" + k])
        o.step()
    return {k: t.detach().numpy() for k, t in tensors.items()}


@pytest.mark.parametrize(
    ("lr", "b1", "b2", "eps"),
    [(0.01, 0.9, 0.999, 1e-8), (0.3, 0.5, 0.9, 1e-3), (1e-3, 0.0, 0.99, 1e-6)],
)
def test_adam_equals_torch_adam_step_for_step(lr, b1, b2, eps):
    params, grads = _problem(0)
    ours = {k: v.copy() for k, v in params.items()}
    o = opt.Optimizer("adam", lr, b1, b2, eps)
    for g in grads:
        o.step(ours, g)
    ref = _torch_run(lambda p: torch.optim.Adam(p, lr=lr, betas=(b1, b2), eps=eps), params, grads)
    for k in params:
        np.testing.assert_allclose(ours[k], ref[k], rtol=1e-12, atol=1e-13)
    assert o.t == 40 and set(o.v) == {f"dW{i}" for i in range(1, 6)}


def test_adam_blocks_span_block_edges():
    params, grads = _problem(5)
    big = {"W1": np.random.default_rng(1).standard_normal((300, 70))}  # 21000 > one block
    gs = [{"dW1": np.random.default_rng(i).standard_normal((300, 70))} for i in range(5)]
    ours = {"W1": big["W1"].copy()}
    o = opt.Optimizer("adam", 0.01)
    for g in gs:
        o.step(ours, g)
    ref = _torch_run(lambda p: torch.optim.Adam(p, lr=0.01), big, gs)
    np.testing.assert_allclose(ours["W1"], ref["W1"], rtol=1e-12, atol=1e-14)


def test_notes_adam_function_matches_the_class():
    params, grads = _problem(1)
    a = {k: v.copy() for k, v in params.items()}
    b = {k: v.copy() for k, v in params.items()}
    v, s = opt.initialize_adam(a)
    o = opt.Optimizer("adam", 0.02, 0.8, 0.99, 1e-7)
    for t, g in enumerate(grads, start=1):
        opt.update_parameters_with_adam(a, g, v, s, t, 0.02, 0.8, 0.99, 1e-7)
        o.step(b, g)
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=1e-12)
        np.testing.assert_allclose(v["d" + k], o.v["d" + k], rtol=1e-12)


@pytest.mark.parametrize(("lr", "b2", "eps"), [(0.01, 0.999, 1e-8), (0.1, 0.9, 1e-4)])
def test_rmsprop_equals_torch_rmsprop_step_for_step(lr, b2, eps):
    params, grads = _problem(2)
    ours = {k: v.copy() for k, v in params.items()}
    notes = {k: v.copy() for k, v in params.items()}
    o, s = opt.Optimizer("rmsprop", lr, beta2=b2, eps=eps), opt.initialize_rmsprop(notes)
    for g in grads:
        o.step(ours, g)
        opt.update_parameters_with_rmsprop(notes, g, s, b2, lr, eps)
    ref = _torch_run(lambda p: torch.optim.RMSprop(p, lr=lr, alpha=b2, eps=eps), params, grads)
    for k in params:
        np.testing.assert_allclose(ours[k], ref[k], rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(notes[k], ref[k], rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("beta", [0.5, 0.9, 0.99])
def test_momentum_equals_torch_sgd_with_lr_times_one_minus_beta(beta):
    """v = βv + (1 − β)g, θ −= αv  ≡  SGD(lr = α(1 − β), momentum = β), since v = (1 − β)b."""
    params, grads = _problem(3)
    alpha = 0.05
    ours = {k: v.copy() for k, v in params.items()}
    notes = {k: v.copy() for k, v in params.items()}
    o, v = opt.Optimizer("momentum", alpha, beta1=beta), opt.initialize_velocity(notes)
    for g in grads:
        o.step(ours, g)
        opt.update_parameters_with_momentum(notes, g, v, beta, alpha)
    make = opt.torch_optimizer("momentum", [torch.zeros(1)], alpha, beta1=beta)
    assert make.defaults["lr"] == pytest.approx(alpha * (1 - beta))
    ref = _torch_run(
        lambda p: torch.optim.SGD(p, lr=alpha * (1 - beta), momentum=beta), params, grads
    )
    naive = _torch_run(lambda p: torch.optim.SGD(p, lr=alpha, momentum=beta), params, grads)
    for k in params:
        np.testing.assert_allclose(ours[k], ref[k], rtol=1e-11, atol=1e-13)
        np.testing.assert_allclose(notes[k], ref[k], rtol=1e-11, atol=1e-13)
        assert not np.allclose(ours[k], naive[k])  # without the rescaling they differ


def test_gd_and_validation():
    params, grads = _problem(4)
    ours = {k: v.copy() for k, v in params.items()}
    opt.Optimizer("gd", 0.1).step(ours, grads[0])
    for k in params:
        np.testing.assert_allclose(ours[k], params[k] - 0.1 * grads[0]["d" + k])
    for bad in (
        {"name": "sgd2"},
        {"lr": 0.0},
        {"lr": -1.0},
        {"beta1": 1.0},
        {"beta2": -0.1},
        {"eps": 0.0},
    ):
        with pytest.raises(ValueError):
            opt.Optimizer(**{"name": "adam", **bad})


def test_optimizer_on_torch_tensors_with_plain_keys():
    params, grads = _problem(6)
    ours = {k: torch.tensor(v) for k, v in params.items()}
    o = opt.Optimizer("adam", 0.01, prefix="")
    for g in grads[:10]:
        o.step(ours, {k: torch.tensor(g["d" + k]) for k in params})
    ref = _torch_run(lambda p: torch.optim.Adam(p, lr=0.01), params, grads[:10])
    for k in params:
        np.testing.assert_allclose(ours[k].numpy(), ref[k], rtol=1e-12, atol=1e-13)


def test_schedules_known_values():
    assert Schedule("inverse", 0.1, decay_rate=1).lr(0) == pytest.approx(0.1)
    assert Schedule("inverse", 0.1, decay_rate=1).lr(4) == pytest.approx(0.02)
    assert Schedule("inverse", 0.5, decay_rate=0.3).lr(10) == pytest.approx(0.125)
    assert Schedule("exponential", 0.2).lr(10) == pytest.approx(0.2 * 0.95**10)
    assert Schedule("exponential", 0.2, base=0.5, interval=10).lr(25) == pytest.approx(0.05)
    assert Schedule("sqrt", 0.1, k=2).lr(16) == pytest.approx(0.05)
    assert Schedule("sqrt", 0.1, k=2).lr(0) == pytest.approx(0.2)
    stair = Schedule("staircase", 0.1, decay_rate=1, interval=10)
    assert [round(stair.lr(e), 6) for e in (0, 9, 10, 19, 20, 35)] == [
        0.1,
        0.1,
        0.05,
        0.05,
        round(0.1 / 3, 6),
        0.025,
    ]
    manual = Schedule("manual", values=(0.1, 0.05, 0.01), interval=2)
    assert [manual.lr(e) for e in range(8)] == [0.1, 0.1, 0.05, 0.05, 0.01, 0.01, 0.01, 0.01]
    assert Schedule("constant", 0.3).lr(99) == 0.3
    assert Schedule("exponential", 0.2).factor(2) == pytest.approx(0.95**2)


@pytest.mark.parametrize(
    "kw",
    [
        {"kind": "cosine"},
        {"kind": "inverse", "lr0": 0.0},
        {"kind": "inverse", "decay_rate": -1},
        {"kind": "exponential", "base": 1.5},
        {"kind": "staircase", "interval": 0},
        {"kind": "manual"},
        {"kind": "manual", "values": (0.1, -0.1)},
    ],
)
def test_schedule_rejects_bad_values(kw):
    with pytest.raises(ValueError):
        Schedule(**kw)


def test_mini_batch_partition_sizes():
    assert minibatches.partition_sizes(148, 64) == [64, 64, 20]
    assert minibatches.partition_sizes(128, 64) == [64, 64]
    assert minibatches.partition_sizes(5, 1) == [1] * 5
    assert minibatches.partition_sizes(10, 64) == [10]
    with pytest.raises(ValueError):
        minibatches.partition_sizes(10, 0)


def test_random_mini_batches_use_one_permutation_for_x_and_y():
    m = 148
    X = np.arange(3 * m, dtype=float).reshape(3, m)
    Y = (np.arange(m) % 2).reshape(1, m).astype(float) + 10 * np.arange(m)
    batches = minibatches.random_mini_batches(X, Y, 64, seed=0)
    assert [b[0].shape for b in batches] == [(3, 64), (3, 64), (3, 20)]
    cols = np.concatenate([b[0][0] for b in batches]).astype(int)
    assert sorted(cols) == list(range(m)) and cols.tolist() != list(range(m))
    for Xb, Yb in batches:  # every column of Y travelled with its column of X
        idx = Xb[0].astype(int)
        np.testing.assert_array_equal(Yb, Y[:, idx])
        np.testing.assert_array_equal(Xb, X[:, idx])
    np.random.seed(0)
    np.testing.assert_array_equal(cols, np.random.permutation(m))  # the notes' permutation
    again = minibatches.random_mini_batches(X, Y, 64, seed=0)
    np.testing.assert_array_equal(again[2][0], batches[2][0])
    other = minibatches.random_mini_batches(X, Y, 64, seed=1)
    assert not np.array_equal(other[0][0], batches[0][0])


def test_schedule_lr_is_finite_for_long_runs():
    s = Schedule("exponential", 0.1)
    assert all(math.isfinite(s.lr(e)) and s.lr(e) >= 0 for e in range(0, 5000, 97))


def test_small_torch_steps_run_on_one_thread_and_restore_the_count():
    torch = pytest.importorskip("torch")
    from dltool.nn import training

    X = np.random.RandomState(0).randn(2, 32)
    y = (X[0] > 0).astype(np.int64)
    params = training.initial_parameters([2, 4, 1], 0)
    seen = []
    before = torch.get_num_threads()
    s = training.Settings("relu", 0.1, 2, optimizer="adam")
    training.fit(
        X, y, params, s, "torch", "cpu", lambda e, c, p: seen.append(torch.get_num_threads())
    )
    assert seen == [1, 1] and torch.get_num_threads() == before


def test_settings_reject_non_finite_values():
    from dltool.nn.optimizers import HyperparameterError
    from dltool.nn.training import Settings

    for field in ("learning_rate", "lambd", "keep_prob", "beta1", "beta2", "epsilon"):
        for bad in (float("nan"), float("inf")):
            with pytest.raises(HyperparameterError) as info:
                Settings(**{field: bad})
            assert info.value.name == field
