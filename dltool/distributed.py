"""Distributed data-parallel training on torch.distributed: one code path for two launches.

* Under ``torchrun`` (one machine or several), the launcher's environment (``RANK``,
  ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``/``MASTER_PORT``) is present: :func:`join`
  joins the process group from it.
* ``--nproc N`` on a command: :func:`launch` starts N local workers through torch's own
  elastic launcher (:func:`torch.distributed.launcher.api.elastic_launch`, what ``torchrun``
  runs), each re-running the same command line; each worker then takes the path above.

Backend: NCCL on CUDA (one GPU per local rank), gloo on CPU. Only rank 0 writes (run folder,
checkpoints, logs, progress, tables); the other ranks stay quiet unless they fail. A worker
that dies ends the job: the elastic agent stops the others, and :func:`launch` turns its
report into one DltoolError naming the rank and the cause.

Without the launcher's environment and with ``--nproc 1`` nothing here is used: the command
runs in one process without DDP (:attr:`Dist.active` is False).
"""

from __future__ import annotations

import os
import sys
import uuid
from dataclasses import dataclass
from typing import Any

from dltool.errors import DltoolError

MAX_NPROC = 256
FAULT_ENV = "DLTOOL_TEST_KILL_RANK"  # tests: the rank named here kills itself after joining
ENV_KEYS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


@dataclass(frozen=True)
class Dist:
    """This process's place in the group: rank, world size, local rank; ``active`` if joined."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    active: bool = False

    @property
    def writer(self) -> bool:
        """Return True on the rank that writes files and reports (rank 0)."""
        return self.rank == 0


def launched() -> bool:
    """Return True when a torch launcher (torchrun, elastic, --nproc) set this process's env."""
    return all(k in os.environ for k in ENV_KEYS)


def check_nproc(nproc: Any, warn=None) -> int:
    """Refuse an --nproc below 1; warn (through ``warn``) when it exceeds the CPU cores."""
    if not isinstance(nproc, int) or isinstance(nproc, bool) or not 1 <= nproc <= MAX_NPROC:
        raise DltoolError(
            f"--nproc {nproc!r} is not a number of workers from 1 to {MAX_NPROC}",
            hint="use --nproc 1 (one process) or --nproc N for N local workers",
        )
    cores = os.cpu_count() or 1
    if nproc > cores and warn is not None:
        warn(f"--nproc {nproc} starts more workers than this machine's {cores} CPU cores")
    return nproc


def join(device: Any) -> tuple[Dist, Any]:
    """Join the process group from the launcher's environment; return (Dist, this rank's device).

    Without that environment return the single-process Dist and ``device`` unchanged.
    """
    if not launched():
        return Dist(), device
    import datetime

    import torch
    import torch.distributed as dist

    local_rank = int(os.environ["LOCAL_RANK"])
    if device.type == "cuda":
        device = torch.device("cuda", local_rank % max(torch.cuda.device_count(), 1))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        timeout = datetime.timedelta(seconds=float(os.environ.get("DLTOOL_DIST_TIMEOUT", 600)))
        dist.init_process_group(backend, timeout=timeout)
    here = Dist(dist.get_rank(), dist.get_world_size(), local_rank, True)
    if os.environ.get(FAULT_ENV) == str(here.rank):  # the fault test: this rank dies
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
    return here, device


def leave() -> None:
    """Leave the process group if this process joined one."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def wrap(model: Any, here: Dist, device: Any) -> Any:
    """Return ``model`` in DistributedDataParallel when the group is active, else as is."""
    if not here.active:
        return model
    from torch.nn.parallel import DistributedDataParallel

    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids)


def all_sum(tensor: Any, here: Dist) -> Any:
    """Return ``tensor`` summed over the ranks (itself in one process)."""
    if not here.active:
        return tensor
    import torch.distributed as dist

    out = tensor.clone()
    dist.all_reduce(out, op=dist.ReduceOp.SUM)
    return out


def rank_batch(batch_size: int, here: Dist) -> int:
    """Return each rank's share of the global ``batch_size``; refuse one that does not split."""
    if batch_size % here.world:
        raise DltoolError(
            f"--batch-size {batch_size} does not split evenly over {here.world} workers",
            hint=f"use a multiple of {here.world}, e.g. --batch-size "
            f"{max(here.world, batch_size - batch_size % here.world)}",
        )
    return batch_size // here.world


def _worker_argv(argv: list[str]) -> list[str]:
    """Return the worker's command line: ``python -m dltool`` and the user's words."""
    return ["-m", "dltool", *argv]


def _failure_line(exc: Any) -> str:
    """Return one line naming the failed rank(s) and the cause from a ChildFailedError."""
    import signal

    parts = []
    for rank, failure in sorted(exc.failures.items()):
        code = failure.exitcode
        if code is not None and code < 0:
            try:
                cause = f"killed by {signal.Signals(-code).name}"
            except ValueError:
                cause = f"killed by signal {-code}"
        else:
            cause = f"exit code {code}"
        message = (failure.message or "").strip().splitlines()
        if message and "To enable traceback" not in message[0] and "Signal" not in message[0]:
            cause += f": {message[0]}"
        parts.append(f"rank {rank} ({cause})")
    return "worker " + "; ".join(parts) + " failed; the other workers were stopped"


def launch(nproc: int, argv: list[str], timeout_s: int = 120) -> None:
    """Run ``dltool ARGV`` in ``nproc`` local workers through torch's elastic launcher.

    Each worker joins the group from the environment the launcher gives it. A failed worker
    is a DltoolError naming its rank and cause (the agent stops the others first).
    """
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    config = LaunchConfig(
        min_nodes=1,
        max_nodes=1,
        nproc_per_node=nproc,
        run_id=f"dltool-{uuid.uuid4().hex[:8]}",
        rdzv_backend="c10d",
        rdzv_endpoint="127.0.0.1:0",
        rdzv_configs={"timeout": timeout_s},
        max_restarts=0,
        monitor_interval=0.1,
        start_method="spawn",
    )
    env_threads = os.environ.get("OMP_NUM_THREADS")
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # else torchrun's warning; --threads wins
    try:
        elastic_launch(config, sys.executable)(*_worker_argv(argv))
    except ChildFailedError as exc:
        raise DltoolError(
            _failure_line(exc), hint="see the failing worker's message above"
        ) from None
    finally:
        if env_threads is None:
            os.environ.pop("OMP_NUM_THREADS", None)
