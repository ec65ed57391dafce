"""Device manager: choose cpu/cuda/mps, seed every generator, size the thread pools.

On glibc, freed blocks of up to 32 MiB stay in the heap (``keep_freed_memory``): by
default glibc hands such blocks back to the kernel, and a CPU forward pass that
allocates and frees activations of a few MiB then page-faults fresh memory each time
(measured: YOLOv3-tiny took 67 ms or 88 ms per image depending on the process).

Threads: one policy for every command. ``--threads N`` (the session) sets torch's pool and
the BLAS pool together; where a command's steps are too small to share between threads it
runs them in ``thread_limit(small_step_threads(user_threads))``, which is one thread unless
the user fixed ``--threads`` (then the user's width), and restores both pools afterwards.
Math modules take these numbers as arguments; only command jobs read the session.

``auto`` prefers CUDA, then MPS, then CPU. The spec is checked for form without
importing torch; availability is checked when a command first asks for the device.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Iterator
from typing import Any

from dltool.errors import DltoolError

_SPEC = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")
THREAD_ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameter numbers


def check_spec(spec: str) -> str:
    """Return the normalized device spec, or raise if it is not a known form."""
    norm = spec.strip().lower()
    if not _SPEC.match(norm):
        raise DltoolError(
            f"unknown device '{spec}'",
            hint="use one of: auto, cpu, cuda, cuda:N, mps",
        )
    return norm


def available_devices() -> list[str]:
    """Return the devices torch can use here, e.g. ``['cuda:0', 'cpu']``."""
    import torch

    found = (
        [f"cuda:{i}" for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    )
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    return [*found, "cpu"]


def select_device(spec: str = "auto") -> Any:
    """Return the torch.device for ``spec``; an absent device is a DltoolError."""
    import torch

    norm = check_spec(spec)
    available = available_devices()
    if norm == "auto":
        return torch.device(available[0])
    name = "cuda:0" if norm == "cuda" else norm
    if name not in available:
        raise DltoolError(
            f"device '{spec}' is not available here; available: {', '.join(available)}",
            hint="use --device auto to pick the best available device",
        )
    return torch.device(name)


def keep_freed_memory(limit: int = 32 << 20) -> bool:
    """Serve blocks < ``limit`` bytes from the heap and never trim it (glibc); return success.

    glibc accepts a threshold of at most 32 MiB on 64-bit systems and 512 KiB on 32-bit ones.
    """
    if not sys.platform.startswith("linux"):
        return False
    import ctypes
    import platform

    if platform.libc_ver()[0] != "glibc":
        return False
    if ctypes.sizeof(ctypes.c_void_p) == 4:
        limit = min(limit, 512 << 10)
    libc = ctypes.CDLL(None)
    mmap_ok = libc.mallopt(M_MMAP_THRESHOLD, limit)
    trim_ok = libc.mallopt(M_TRIM_THRESHOLD, 2**31 - 1)
    return bool(mmap_ok and trim_ok)


def seed_everything(seed: int) -> None:
    """Seed python's ``random``, NumPy's legacy global generator and torch (all devices)."""
    import random

    random.seed(seed)
    import numpy as np

    np.random.seed(seed)
    if "torch" in sys.modules:
        seed_torch(seed)


def seed_torch(seed: int) -> None:
    """Seed torch's CPU and CUDA generators."""
    import torch

    torch.manual_seed(seed)


def set_threads(n: int) -> None:
    """Give torch's intra-op pool and the BLAS pool the same width ``n``."""
    if n < 1:
        raise DltoolError(f"--threads must be at least 1, got {n}", hint="give --threads 1 or more")
    for var in THREAD_ENV_VARS:  # read by OpenBLAS/MKL/OpenMP when first loaded
        os.environ[var] = str(n)
    if "numpy" in sys.modules:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=n)
    if "torch" in sys.modules:
        import torch

        torch.set_num_threads(n)


def small_step_threads(user_threads: int | None) -> int:
    """Return the width for steps too small to share: the user's --threads, else 1."""
    return user_threads if user_threads is not None else 1


@contextlib.contextmanager
def thread_limit(n: int | None) -> Iterator[None]:
    """Run the block with torch's and the BLAS pool at width ``n`` (None: as they are)."""
    if n is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n):
            yield
    finally:
        if torch is not None:
            torch.set_num_threads(before)


def available_bytes(device: Any = None) -> int | None:
    """Return the memory free for a new allocation on ``device`` (CPU: MemAvailable), or None."""
    kind = getattr(device, "type", "cpu")
    if kind == "cuda":
        import torch

        return int(torch.cuda.mem_get_info(device)[0])
    if kind != "cpu":
        return None
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def thread_report() -> dict[str, Any]:
    """Return the current width of torch's pool and of each BLAS/OpenMP pool."""
    import torch
    from threadpoolctl import threadpool_info

    pools = {f"{p['internal_api']} ({p['user_api']})": p["num_threads"] for p in threadpool_info()}
    return {"torch": torch.get_num_threads(), **pools}
