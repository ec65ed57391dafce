"""Training pieces: batching, unigram baseline, Adam, backend parity, config, models."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from dltool_rnn import charmodel, sampling
from dltool_rnn.corpus import Vocabulary
from dltool_rnn.optim import Adam
from dltool_rnn.train import NumpyBackend, TorchBackend, clip, streams, unigram_loss

from dltool.data.text import decode_text
from dltool.errors import DltoolError


def test_streams_are_contiguous_and_shifted():
    ids = np.arange(103)
    X, Y = streams(ids, batch=4, seq_len=5)
    assert X.shape == (4, 25) and Y.shape == (4, 25)
    np.testing.assert_array_equal(X[1], np.arange(25, 50))
    np.testing.assert_array_equal(Y, X + 1)
    X, _ = streams(np.arange(12), batch=32, seq_len=5)  # fewer streams when the text is short
    assert X.shape == (2, 5)


def test_unigram_loss_is_the_entropy_of_frequencies():
    ids = np.array([0, 0, 0, 1] * 50)
    expected = -(0.75 * np.log(151 / 202) + 0.25 * np.log(51 / 202))
    assert unigram_loss(ids, ids, 2) == pytest.approx(expected)


def test_adam_matches_torch_adam():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 2))
    ours, adam = {"w": w.copy()}, Adam(lr=0.1)
    ref = torch.nn.Parameter(torch.tensor(w))
    opt = torch.optim.Adam([ref], lr=0.1, betas=(0.9, 0.999), eps=1e-8)
    for _ in range(5):
        g = rng.standard_normal((3, 2))
        adam.step(ours, {"w": g})
        ref.grad = torch.tensor(g)
        opt.step()
    np.testing.assert_allclose(ours["w"], ref.detach().numpy(), atol=1e-12)


def test_numpy_and_torch_backends_take_the_same_step():
    rng = np.random.default_rng(1)
    params = charmodel.init_model("lstm", 6, 8, 2, rng, dtype=np.float32)
    X, Y = rng.integers(0, 6, (3, 7)), rng.integers(0, 6, (3, 7))
    nb = NumpyBackend({k: v.copy() for k, v in params.items()})
    tb = TorchBackend(params, torch.device("cpu"))
    loss_n, grads_n, _ = nb.loss_and_grads(X, Y, nb.zero_state(3))
    loss_t, grads_t, _ = tb.loss_and_grads(X, Y, tb.zero_state(3))
    assert loss_n == pytest.approx(loss_t, rel=1e-5)
    for k in params:
        np.testing.assert_allclose(grads_n[k], grads_t[k].numpy(), rtol=1e-3, atol=1e-6)
    for backend, grads in ((nb, grads_n), (tb, grads_t)):
        Adam(lr=0.01).step(backend.tensors(), clip(grads, "norm", 0.5)[0])
    after_n, after_t = nb.to_flat(), tb.to_flat()
    for k in params:
        np.testing.assert_allclose(after_n[k], after_t[k], atol=1e-5)


def test_sampling_follows_the_softmax():
    p = charmodel.init_model("rnn", 3, 4, 1, dtype=np.float64)
    p = {k: np.zeros_like(v) for k, v in p.items()}
    p["by"][:, 0] = np.log([0.7, 0.2, 0.1])  # ŷ ignores the input: a fixed distribution
    texts = sampling.sample(p, "abc", n=50, max_len=40, rng=np.random.default_rng(0))
    counts = np.array([sum(t.count(c) for t in texts) for c in "abc"]) / 2000
    np.testing.assert_allclose(counts, [0.7, 0.2, 0.1], atol=0.03)
    probs = sampling.temperature_probs(np.log(np.array([[0.7], [0.2], [0.1]])), 0.5)
    np.testing.assert_allclose(probs[:, 0], np.array([49, 4, 1]) / 54)


def test_vocabulary_and_decoding():
    v = Vocabulary("hello world")
    assert v.chars == " dehlorw" and v.decode(v.encode("low")) == "low"
    assert v.missing("hey!") == ["!", "y"]
    assert decode_text("é".encode("latin-1"), "f", "latin-1") == "é"
    with pytest.raises(DltoolError, match="not valid utf-8"):
        decode_text(b"ok \xff", "f")


def test_config_file_and_registered_models(tmp_path, cli):
    text = tmp_path / "t.txt"
    text.write_text("abcabcabd " * 60)
    cfg = tmp_path / "run.yaml"
    cfg.write_text("hidden: 6\nseq-len: 8\nepochs: 1\nbackend: numpy\ncell: rnn\n")
    out = tmp_path / "run"
    result = cli("rnn", "train", text, "--config", cfg, "--out", out, "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["steps"] >= 1
    assert "hidden: 6" in (out / "config.yaml").read_text()
    cfg.write_text("hiden: 6\n")
    bad = cli("rnn", "train", text, "--config", cfg)
    assert bad.exit_code == 1 and "unknown key 'hiden'" in bad.stderr
    models = cli("models", "--json")
    rows = {r["name"]: r for r in json.loads(models.stdout)["models"]}
    expected = sum(v.size for v in charmodel.init_model("lstm", 81, 128).values())
    assert rows["char-lstm"]["parameters"] == expected


@pytest.mark.parametrize("mode,value", [("norm", 0.5), ("norm", 100.0), ("value", 0.1), ("", 0)])
def test_clip_computes_the_global_norm_once(monkeypatch, mode, value):
    from dltool_rnn import clipping

    calls = []
    real = clipping.global_norm
    monkeypatch.setattr(clipping, "global_norm", lambda g: calls.append(1) or real(g))
    grads = {"a": np.array([3.0, -4.0]), "b": np.array([[12.0]])}
    clipped, norm = clip(grads, mode, value)
    assert norm == pytest.approx(13.0) and len(calls) == 1
    assert real(clipped) <= (value if mode == "norm" else 13.0) + 1e-9
