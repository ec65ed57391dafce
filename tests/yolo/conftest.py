"""Run the yolo tests on one torch thread: their tensors are small, and on a busy CI
machine two spinning OpenMP threads cost far more than they save."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
