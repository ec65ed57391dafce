"""dltool_cnn.course: the course's CNN functions against dltool_cnn.conv (its loop oracles),
torch (batch norm, residual blocks) and the course's published expected outputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from dltool_cnn import conv, course
from dltool_support import caught_in_a_notebook, raises_one_line

from dltool.errors import MissingKeyError, ParameterError, ShapeError

CASES = [((2, 5, 7, 3), 3, 4, 1, 1), ((3, 6, 6, 2), 2, 3, 2, 0), ((1, 9, 8, 4), 5, 2, 3, 2)]


def _conv_inputs(shape, f, n_C, seed):
    rng = np.random.RandomState(seed)
    A = rng.randn(*shape)
    return A, rng.randn(f, f, shape[3], n_C), rng.randn(1, 1, 1, n_C)


@pytest.mark.parametrize("shape,f,n_C,stride,pad", CASES)
def test_conv_matches_the_loops(shape, f, n_C, stride, pad):
    A, W, b = _conv_inputs(shape, f, n_C, sum(shape))
    hp = {"stride": stride, "pad": pad}
    Z, cache = course.conv_forward(A, W, b, hp)
    Z_loop, _ = conv.conv_forward_loop(A, W, b, stride, pad)
    np.testing.assert_allclose(Z, Z_loop, rtol=1e-12, atol=1e-12)
    assert cache[0] is A and cache[3] is hp
    dZ = np.random.RandomState(1).randn(*Z.shape)
    for got, want in zip(
        course.conv_backward(dZ, cache), conv.conv_backward_loop(dZ, cache), strict=True
    ):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(course.zero_pad(A, pad), conv.zero_pad(A, pad))
    z = course.conv_single_step(A[0, :f, :f], W[..., 0], b[..., 0])
    assert isinstance(z, np.float64)
    if pad == 0:  # the first output is the first window's single step
        assert z == pytest.approx(Z_loop[0, 0, 0, 0], rel=1e-12)


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize(
    "shape,f,stride", [((2, 5, 7, 3), 2, 2), ((3, 6, 6, 2), 3, 1), ((1, 8, 5, 4), 2, 3)]
)
def test_pool_matches_the_loops(mode, shape, f, stride):
    A = np.random.RandomState(f + stride).randn(*shape)
    hp = {"f": f, "stride": stride}
    P, cache = course.pool_forward(A, hp, mode)
    P_loop, _ = conv.pool_forward_loop(A, f, stride, mode)
    np.testing.assert_allclose(P, P_loop, rtol=1e-13)
    assert cache[0] is A and cache[1] is hp
    dA = np.random.RandomState(2).randn(*P.shape)
    got = course.pool_backward(dA, cache, mode)
    np.testing.assert_allclose(
        got, conv.pool_backward_loop(dA, cache, mode), rtol=1e-12, atol=1e-14
    )


def test_mask_and_distribute_value():
    x = np.array([[1.0, 3.0], [4.0, 2.0]])
    np.testing.assert_array_equal(
        course.create_mask_from_window(x), [[False, False], [True, False]]
    )
    np.testing.assert_array_equal(course.distribute_value(2.0, (2, 2)), np.full((2, 2), 0.5))


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_matches_torch(training):
    rng = np.random.RandomState(4)
    Z = rng.randn(3, 4, 5, 6) * 2 + 1
    gamma, beta = rng.rand(6) + 0.5, rng.randn(6)
    mean, var = rng.randn(6), rng.rand(6) + 0.5
    got = conv.batchnorm_forward(Z, gamma, beta, *((None, None) if training else (mean, var)))
    t = torch.as_tensor(Z).permute(0, 3, 1, 2)
    want = torch.nn.functional.batch_norm(
        t,
        torch.as_tensor(mean),
        torch.as_tensor(var),
        torch.as_tensor(gamma),
        torch.as_tensor(beta),
        training=training,
        eps=conv.BN_EPSILON,
    )
    np.testing.assert_allclose(got, want.permute(0, 2, 3, 1).numpy(), rtol=1e-12, atol=1e-12)


def _torch_block(params, f, s, shortcut, training):
    """Return the torch twin of the block: Conv2d (bias) + BatchNorm2d(eps=1e-3), float64."""

    def conv_bn(k, stride, pad):
        W = torch.as_tensor(params[f"W{k}"]).permute(3, 2, 0, 1)  # (n_C, n_C_prev, f, f)
        c = torch.nn.Conv2d(W.shape[1], W.shape[0], W.shape[2], stride, pad).double()
        bn = torch.nn.BatchNorm2d(W.shape[0], eps=conv.BN_EPSILON).double()
        with torch.no_grad():
            c.weight.copy_(W)
            c.bias.copy_(torch.as_tensor(params[f"b{k}"]).reshape(-1))
            bn.weight.copy_(torch.as_tensor(params[f"gamma{k}"]))
            bn.bias.copy_(torch.as_tensor(params[f"beta{k}"]))
            bn.running_mean.copy_(torch.as_tensor(params[f"mean{k}"]))
            bn.running_var.copy_(torch.as_tensor(params[f"var{k}"]))
        return torch.nn.Sequential(c, bn).train(training)

    main = torch.nn.Sequential(
        conv_bn(1, s, 0), torch.nn.ReLU(), conv_bn(2, 1, f // 2), torch.nn.ReLU(), conv_bn(3, 1, 0)
    )
    side = conv_bn(4, s, 0) if shortcut else torch.nn.Identity()
    return lambda x: torch.relu(main(x) + side(x))


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("block", ["identity", "convolutional"])
def test_residual_blocks_match_torch(training, block):
    rng = np.random.RandomState(7)
    shortcut = block == "convolutional"
    X = rng.randn(2, 6, 6, 4)
    filters = [3, 5, 2] if shortcut else [3, 5, 4]
    params = course.block_parameters(4, 3, filters, shortcut=shortcut, seed=3)
    for key in params:
        if key.startswith(("b", "beta", "mean")):
            params[key] = params[key] + rng.randn(*params[key].shape) * 0.1
        if key.startswith(("gamma", "var")):
            params[key] = params[key] + rng.rand(*params[key].shape) * 0.5
    if shortcut:
        got = course.convolutional_block(X, 3, filters, 2, training, params)
    else:
        got = course.identity_block(X, 3, filters, training, params)
    twin = _torch_block(params, 3, 2 if shortcut else 1, shortcut, training)
    with torch.no_grad():
        want = twin(torch.as_tensor(X).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).numpy()
    assert got.shape == want.shape == ((2, 3, 3, 2) if shortcut else (2, 6, 6, 4))
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_shapes_are_checked_at_the_boundary():
    with pytest.raises(
        ValueError, match=r"conv_forward: A_prev must be \(m, n_H, n_W, n_C\), got \(3, 4\)"
    ):
        course.conv_forward(
            np.zeros((3, 4)),
            np.zeros((1, 1, 4, 1)),
            np.zeros((1, 1, 1, 1)),
            {"stride": 1, "pad": 0},
        )
    with pytest.raises(ValueError, match=r"pool_forward: A_prev must be"):
        course.pool_forward(np.zeros((4, 4, 3)), {"f": 2, "stride": 2})


_A = np.zeros((2, 5, 5, 3))
_W, _b = np.zeros((3, 3, 3, 4)), np.zeros((1, 1, 1, 4))
_HP = {"stride": 1, "pad": 1}

BAD = [
    (
        lambda: course.conv_forward(_A, np.zeros((3, 3, 2, 4)), _b, _HP),
        ShapeError,
        "conv_forward: W must be (f, f, n_C_prev, n_C) with n_C_prev = 3, got (3, 3, 2, 4)",
    ),
    (
        lambda: course.conv_forward(_A, np.zeros((3, 2, 3, 4)), _b, _HP),
        ShapeError,
        "conv_forward: W must be (f, f, n_C_prev, n_C) with f = 3, got (3, 2, 3, 4)",
    ),
    (
        lambda: course.conv_forward(_A, _W, np.zeros(4), _HP),
        ShapeError,
        "conv_forward: b must be (1, 1, 1, n_C), got (4,)",
    ),
    (
        lambda: course.conv_forward(_A, _W, _b, {"stride": 1}),
        MissingKeyError,
        "conv_forward: hparameters has no pad",
    ),
    (
        lambda: course.conv_forward(_A, _W, _b, {"stride": 0, "pad": 1}),
        ParameterError,
        "conv_forward: hparameters['stride'] must be an integer in [1, inf), got 0",
    ),
    (
        lambda: course.conv_forward(_A, np.zeros((9, 9, 3, 4)), _b, _HP),
        ParameterError,
        "conv_forward: the window f = 9 is larger than the input (7 wide)",
    ),
    (
        lambda: course.zero_pad(_A, -1),
        ParameterError,
        "zero_pad: pad must be an integer in [0, inf), got -1",
    ),
    (
        lambda: course.pool_forward(_A, {"f": 2, "stride": 2}, mode="min"),
        ParameterError,
        "pool_forward: mode must be one of 'max', 'average', got 'min'",
    ),
    (
        lambda: course.conv_backward(np.zeros((2, 5, 5, 2)), (_A, _W, _b, _HP)),
        ShapeError,
        "conv_backward: dZ must be (m, n_H, n_W, n_C) with n_C = 4, got (2, 5, 5, 2)",
    ),
    (
        lambda: course.pool_backward(np.zeros((2, 2, 2, 3)), (_A,)),
        ShapeError,
        "pool_backward: cache must be (A_prev, hparameters), got 1 items",
    ),
    (
        lambda: course.create_mask_from_window(np.zeros(3)),
        ShapeError,
        "create_mask_from_window: x must be (f, f), got (3,)",
    ),
    (
        lambda: course.distribute_value(2.0, (0, 2)),
        ParameterError,
        "distribute_value: shape's n_H must be an integer in [1, inf), got 0",
    ),
    (
        lambda: course.identity_block(_A, 3, [2, 2, 4]),
        ShapeError,
        "identity_block: X must be (m, n_H, n_W, n_C) with n_C = 4, got (2, 5, 5, 3)",
    ),
    (
        lambda: course.convolutional_block(_A, 3, [2, 2, 4], s=0),
        ParameterError,
        "convolutional_block: s must be an integer in [1, inf), got 0",
    ),
]


@pytest.mark.parametrize(("call", "kind", "message"), BAD)
def test_bad_input_raises_one_line_naming_function_argument_and_layout(call, kind, message):
    raises_one_line(call, kind, message)


def test_a_notebook_catches_them_as_dltool_errors():
    caught = caught_in_a_notebook([call for call, _, _ in BAD], course)
    assert len(caught) == len(BAD) and all(caught)
    assert course.ShapeError is ShapeError


# The course's published expected outputs: public_tests.py of "Convolutional Model: Step by
# Step" (read_file id 643087219, the same values in 9466766830) and of "Residual Networks"
# (id 355254092), read in the code index (it showed no repository name for them). Inputs as in
# the published tests; Silva-6/deeplearning.AI-deep_learning's
# 2-convolutional_neural_network/0-CNN_step_by_step/2-conv_forward.py shows the first one.


def _close(actual, desired, atol=1e-8):
    np.testing.assert_allclose(actual, desired, rtol=0, atol=atol)


def test_published_conv_single_step_and_forward():
    np.random.seed(3)
    a, W, b = np.random.randn(5, 5, 3), np.random.randn(5, 5, 3), np.random.randn(1, 1, 1)
    assert course.conv_single_step(a, W, b) == pytest.approx(-3.5443670581382474, rel=1e-12)
    np.random.seed(1)
    A_prev, W, b = (
        np.random.randn(2, 5, 7, 4),
        np.random.randn(3, 3, 4, 8),
        np.random.randn(1, 1, 1, 8),
    )
    Z, cache = course.conv_forward(A_prev, W, b, {"pad": 1, "stride": 2})
    assert Z.mean() == pytest.approx(0.5511276474566768, rel=1e-10)
    _close(
        Z[0, 2, 1],
        [
            -2.17796037,
            8.07171329,
            -0.5772704,
            3.36286738,
            4.48113645,
            -2.89198428,
            10.99288867,
            3.03171932,
        ],
    )
    _close(cache[0][1][2][3], [-1.1191154, 1.9560789, -0.3264995, -1.34267579])
    np.random.seed(3)
    A_prev, W, b = (
        np.random.randn(2, 5, 7, 4),
        np.random.randn(3, 3, 4, 8),
        np.random.randn(1, 1, 1, 8),
    )
    assert course.conv_forward(A_prev, W, b, {"pad": 3, "stride": 1})[0].shape == (2, 9, 11, 8)
    assert course.conv_forward(A_prev, W, b, {"pad": 0, "stride": 2})[0].shape == (2, 2, 3, 8)
    W, b = np.random.randn(5, 5, 4, 8), np.random.randn(1, 1, 1, 8)
    Z, cache = course.conv_forward(A_prev, W, b, {"pad": 6, "stride": 1})
    assert Z.shape == (2, 13, 15, 8) and Z.mean() == pytest.approx(-0.5384027772160062, rel=1e-10)
    _close(cache[0][1, 2, 0], [1.98848968, 1.19505834, -0.0952376, -0.52718778])


def test_published_pool_forward():
    np.random.seed(1)
    A_prev = np.random.randn(2, 5, 5, 3)
    A, _ = course.pool_forward(A_prev, {"stride": 1, "f": 2}, mode="max")
    _close(
        A[1, 1],
        [
            [1.19891788, 0.74055645, 0.07734007],
            [0.31515939, 0.84616065, 0.07734007],
            [0.69803203, 0.84616065, 1.2245077],
            [0.69803203, 1.12141771, 1.2245077],
        ],
    )
    A, _ = course.pool_forward(A_prev, {"stride": 1, "f": 2}, mode="average")
    _close(
        A[1, 1],
        [
            [0.11583785, 0.34545544, -0.6561907],
            [-0.2334108, 0.3364666, -0.69382351],
            [0.25497093, -0.21741362, -0.07342615],
            [-0.04092568, -0.01110394, 0.12495022],
        ],
    )


def test_published_identity_block():
    X = np.concatenate([np.ones((1, 4, 4, 3)) * v for v in (-1, 1, 3)]).astype(np.float32)
    ones = course.block_parameters(3, 2, [4, 4, 3], value=1)  # the test's constant(value=1)
    A3 = course.identity_block(X, 2, [4, 4, 3], training=False, parameters=ones)
    assert A3.shape == (3, 4, 4, 3)
    resume = A3[:, (0, -1), :, :].mean(axis=3)
    _close(
        resume[1],
        [[192.71236, 192.71236, 192.71236, 96.85619], [96.85619, 96.85619, 96.85619, 48.9281]],
        1e-4,
    )
    _close(
        resume[2],
        [[578.1371, 578.1371, 578.1371, 290.56854], [290.56854, 290.56854, 290.56854, 146.78427]],
        1e-4,
    )
    assert not resume[0].any()
    ones = course.block_parameters(3, 3, [3, 3, 3], value=1)
    A4 = course.identity_block(X, 3, [3, 3, 3], training=True, parameters=ones)
    resume = A4[:, (0, -1), :, :].mean(axis=3)
    _close(resume[1], np.full((2, 4), 0.37394285), 1e-5)
    _close(resume[2], [[3.2379014, 4.1394243, 4.1394243, 3.2379014]] * 2, 1e-5)
