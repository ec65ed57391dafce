"""Fixtures of the cnn tests: one torch thread, the cnn CLI quiet (and as JSON)."""

from __future__ import annotations

import json

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Run torch on one thread: small models are fastest so, whatever else loads the cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def run(cli):
    """Run ``dltool --quiet --threads 1 cnn ARGS…`` in-process."""

    def _run(*args):
        return cli("--quiet", "--threads", "1", "cnn", *args)

    return _run


@pytest.fixture
def run_json(cli):
    """Run ``dltool --quiet --json --threads 1 cnn ARGS…`` and return the parsed document."""

    def _run(*args):
        res = cli("--quiet", "--json", "--threads", "1", "cnn", *args)
        assert res.exit_code == 0, res.stderr
        return json.loads(res.stdout)

    return _run
