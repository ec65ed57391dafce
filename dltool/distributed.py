"""Distributed data-parallel training on torch.distributed: one code path for two launches.

* Under ``torchrun`` (one machine or several), the launcher's environment (``RANK``,
  ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``/``MASTER_PORT``) is present: :func:`join`
  joins the process group from it.
* ``--nproc N`` on a command: :func:`launch` starts N local workers through torch's own
  elastic launcher (:func:`torch.distributed.launcher.api.elastic_launch`, what ``torchrun``
  runs), each re-running the same command line; each worker then takes the path above.

Backend: NCCL on CUDA (one GPU per local rank), gloo on CPU. Only rank 0 writes (run folder,
checkpoints, logs, progress, tables); the other ranks stay quiet. A worker that dies ends the
job: the elastic agent stops the others, and :func:`launch` turns its report into one
DltoolError naming the rank and the cause; a worker's own error reaches the launcher through
torch's error file (:func:`report_to_launcher`) and is printed once. A worker leaves through
:func:`exit_if_joined` (``os._exit``), never tearing its group down (that can deadlock).

Without the launcher's environment and with ``--nproc 1`` nothing here is used: the command
runs in one process without DDP (:attr:`Dist.active` is False).
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from dltool.errors import DltoolError

MAX_NPROC = 256
LAUNCHER_ENV = "DLTOOL_NPROC_LAUNCHER"  # set for workers that `--nproc` started
ENV_KEYS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
_JOINED: list = []  # this process's Dist once it joined a group
_KEEP: list = []  # DDP models: never freed before the process ends (see exit_if_joined)


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
    if nproc > cores and warn is not None and not launched():  # the launcher warns, once
        warn(f"--nproc {nproc} starts more workers than this machine's {cores} CPU cores")
    return nproc


def join(device: Any) -> tuple[Dist, Any]:
    """Join the process group from the launcher's environment; return (Dist, this rank's device).

    Without that environment return the single-process Dist and ``device`` unchanged. A group
    that does not fill within DLTOOL_DIST_TIMEOUT seconds is one DltoolError.
    """
    if not launched():
        return Dist(), device
    import torch
    import torch.distributed as dist

    local_rank = int(os.environ["LOCAL_RANK"])
    if device.type == "cuda":
        device = torch.device("cuda", local_rank % max(torch.cuda.device_count(), 1))
        torch.cuda.set_device(device)
    die_with_the_agent()
    if not dist.is_initialized():
        _init_group("nccl" if device.type == "cuda" else "gloo")
    here = Dist(dist.get_rank(), dist.get_world_size(), local_rank, True)
    _JOINED.append(here)
    _on_signals(here)
    return here, device


def _on_signals(here: Dist) -> None:
    """SIGTERM (the agent stopping us) ends the command as a failure, so run.json says so;
    under an agent, ranks other than 0 ignore Ctrl-C (rank 0 saves, then the agent stops them).
    """
    import signal

    def stopped(signum, frame):
        """Leave through SystemExit(143): the run's status becomes failed."""
        raise SystemExit(128 + signal.SIGTERM)

    signal.signal(signal.SIGTERM, stopped)
    if here.rank != 0 and "TORCHELASTIC_RUN_ID" in os.environ:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def timeout_s() -> float:
    """Return DLTOOL_DIST_TIMEOUT (seconds a rendezvous or collective may wait; default 600)."""
    raw = os.environ.get("DLTOOL_DIST_TIMEOUT", "600")
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value < 1e7:
        raise DltoolError(f"DLTOOL_DIST_TIMEOUT={raw!r} is not a number of seconds",
                          hint="set it to e.g. 600, or unset it")  # fmt: skip
    return value


def _init_group(backend: str) -> None:
    """init_process_group from the env; a group that does not fill in time is one line."""
    import datetime

    import torch.distributed as dist

    limit = timeout_s()
    try:
        dist.init_process_group(backend, timeout=datetime.timedelta(seconds=limit))
    except (RuntimeError, TimeoutError) as exc:
        where = f"{os.environ['MASTER_ADDR']}:{os.environ['MASTER_PORT']}"
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise DltoolError(
            f"rank {os.environ['RANK']} of {os.environ['WORLD_SIZE']} could not join the "
            f"group at {where} within {limit:g} s ({first})",
            hint="start every worker with the same rendezvous endpoint and world size, "
            "or raise DLTOOL_DIST_TIMEOUT",
        ) from None


def die_with_the_agent() -> None:
    """Under an elastic agent (torchrun, --nproc): ask Linux to kill us if the agent dies."""
    if "TORCHELASTIC_RUN_ID" not in os.environ or not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return


@contextmanager
def joined(session: Any) -> Iterator[tuple[Dist, Any]]:
    """Join the group (if launched) for a command; ranks other than 0 report nothing.

    A collective that fails because another worker died is one line naming this rank.
    """
    here, device = join(session.device)
    if not here.writer:
        from dltool.report import Reporter

        session._reporter = Reporter(json_mode=False, quiet=True)  # warnings still show
    try:
        yield here, device
    except RuntimeError as exc:
        if not here.active or not _lost_peer(exc):
            raise
        if os.environ.get(LAUNCHER_ENV):  # --nproc: the launcher names the rank that failed
            raise SystemExit(1) from None
        raise DltoolError(
            f"rank {here.rank} of {here.world} lost contact with another worker "
            "(it failed or was stopped)",
            hint="see the other workers' messages",
        ) from None


def _lost_peer(exc: BaseException) -> bool:
    """Return True for torch.distributed's errors: a peer closed, reset or timed out."""
    import torch.distributed as dist

    text = str(exc)
    return isinstance(exc, getattr(dist, "DistError", ())) or any(
        k in text for k in ("Connection closed by peer", "Connection reset", "Timed out")
    )


def exit_if_joined(code: int, with_traceback: bool = False) -> None:
    """End a process that joined a group with ``code`` at once (after flushing its output).

    Tearing a gloo group down from Python can deadlock (its worker thread waits for the GIL
    while the main thread joins it in the destructor), so a worker leaves without teardown.
    ``with_traceback``: print the exception being handled first (--debug).
    """
    if not _JOINED:
        return
    if with_traceback:
        import traceback

        traceback.print_exc()
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def wrap(model: Any, here: Dist, device: Any) -> Any:
    """Return ``model`` in DistributedDataParallel for a group of 2+ ranks, else as is.

    One rank has nothing to average: DDP's gradient hooks would only cost time (~2 ms a step
    on LeNet-5, ~20 %), so a group of one trains the bare model.
    """
    if not here.active or here.world == 1:
        return model
    from torch.nn.parallel import DistributedDataParallel

    ids = [device.index] if device.type == "cuda" else None
    wrapped = DistributedDataParallel(model, device_ids=ids, gradient_as_bucket_view=True)
    _KEEP.append(wrapped)
    return wrapped


def several_ranks(nproc: int) -> bool:
    """Return True when the command trains on 2+ ranks (--nproc N > 1, or a launcher's group)."""
    return nproc > 1 or (launched() and int(os.environ["WORLD_SIZE"]) > 1)


def check_sync_bn(sync_bn: bool, nproc: int, device: Any) -> None:
    """Refuse --sync-bn with several ranks off CUDA: torch's SyncBatchNorm runs on GPUs only."""
    if sync_bn and several_ranks(nproc) and device.type != "cuda":
        raise DltoolError(
            f"--sync-bn needs CUDA: torch's SyncBatchNorm does not run on {device.type}",
            hint="leave out --sync-bn (each rank then normalizes its own share of the batch)",
        )


def has_batchnorm(model: Any) -> bool:
    """Return True when ``model`` holds a BatchNorm layer (1d, 2d or 3d)."""
    from torch import nn

    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


def sync_batchnorm(model: Any, here: Dist, warn: Any, name: str) -> Any:
    """Return ``model`` with each BatchNorm a SyncBatchNorm (statistics over the global batch)
    when ``here`` has 2+ ranks; rank 0 warns (``warn``) when --sync-bn cannot act."""
    from torch import nn

    if not has_batchnorm(model):
        if here.writer:
            warn(f"--sync-bn: {name} has no batch norm layers; it trains as without --sync-bn")
        return model
    if here.world > 1:
        return nn.SyncBatchNorm.convert_sync_batchnorm(model)  # the same parameters, buffers
    if here.writer:
        warn("--sync-bn acts with --nproc > 1 or under torchrun; "
             "one process normalizes over the whole batch already")  # fmt: skip
    return model


def all_sum(tensor: Any, here: Dist) -> Any:
    """Return ``tensor`` summed over the ranks (itself in one process or a group of one)."""
    if not here.active or here.world == 1:
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


def report_to_launcher(message: str, hint: str | None) -> bool:
    """In a worker that --nproc started: hand the error to the launcher, which prints it once
    (torch's error file, which the agent reads); print nothing and return True. Else False."""
    path = os.environ.get("TORCHELASTIC_ERROR_FILE")
    if not os.environ.get(LAUNCHER_ENV) or not path:
        return False
    import json
    import time

    rank = int(os.environ.get("RANK", "0"))
    record = {"rank": rank, "message": message, "hint": hint, "time": time.time()}
    data = {
        "message": f"rank {rank}: {message}",
        "timestamp": int(record["time"]),
        "dltool": record,
    }
    try:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
    except OSError:
        return False
    return True


def _reported(exc: Any) -> DltoolError | None:
    """Return the first error a failed worker handed over (report_to_launcher), or None."""
    import json

    found = []
    for failure in exc.failures.values():
        try:
            with open(failure.error_file, encoding="utf-8") as fh:
                record = json.load(fh)["dltool"]
            found.append((float(record["time"]), int(record["rank"]), record))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    if not found:
        return None
    _, rank, record = min(found, key=lambda f: (f[0], f[1]))
    return DltoolError(f"rank {rank}: {record['message']}", hint=record.get("hint"))


def _failure_line(exc: Any) -> str:
    """Return one line naming the failed rank(s) and the cause from a ChildFailedError."""
    import signal

    parts = []
    stopped = (-signal.SIGTERM, 128 + signal.SIGTERM)  # ranks the agent stopped
    failures = {r: f for r, f in exc.failures.items() if f.exitcode not in stopped}
    for rank, failure in sorted((failures or exc.failures).items()):
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


def shard_order(n: int, seed: int, epoch: int, here: Dist) -> Any:
    """Return this rank's positions of epoch ``epoch``'s shuffled order of ``n`` items.

    A DistributedSampler (seed + epoch) for every world size: one process gets randperm(n),
    rank r of W gets positions r, r+W, … of the same permutation, so rank r's batch k of size
    b holds its share of the one-process batch k of size b·W.
    """
    import torch
    from torch.utils.data.distributed import DistributedSampler

    sampler = DistributedSampler(range(n), here.world, here.rank, shuffle=True, seed=seed)
    sampler.set_epoch(epoch)
    return torch.tensor(list(sampler), dtype=torch.long)


def spawned(nproc: int, batch_size: int, session: Any, command: str, run: dict) -> bool:
    """Start ``nproc`` local workers for this command and return True (its work is done), or
    return False: this process trains, alone or as a rank a launcher (torchrun) started."""
    if launched():
        if nproc > 1 and not os.environ.get(LAUNCHER_ENV):  # our own workers see --nproc too
            session.reporter.warn(f"--nproc {nproc} is ignored: torchrun started the workers")
        return False
    if nproc == 1:
        return False
    start_workers(nproc, batch_size, session, command, run)
    return True


def start_workers(nproc: int, batch_size: int, session: Any, command: str, run: dict) -> None:
    """Start ``nproc`` local workers re-running this command line (rank 0 prints the results).

    ``run`` holds --out and --exist-ok: an --out that rank 0 would refuse is refused here.
    """
    from dltool.runs import check_out

    rank_batch(batch_size, Dist(0, nproc, 0, True))
    check_out(run.get("out"), run.get("exist_ok", False))
    timeout_s()
    _check_gpus(nproc, session.device)
    if os.path.basename(sys.argv[0]) not in ("dltool", "__main__.py", "dltool.exe"):
        raise DltoolError(
            "--nproc N starts workers from the dltool command line, and there is none here",
            hint=f"run `dltool {command} … --nproc N` in a shell, or launch with torchrun",
        )
    session.reporter.flushed = True  # rank 0 prints the results (and the JSON document)
    launch(nproc, sys.argv[1:])


def _check_gpus(nproc: int, device: Any) -> None:
    """On CUDA each local rank takes one GPU: refuse more workers than GPUs."""
    if device.type != "cuda":
        return
    import torch

    count = torch.cuda.device_count()
    if nproc > count:
        raise DltoolError(
            f"--nproc {nproc} needs {nproc} GPUs, and this machine has {count}",
            hint=f"use --nproc {count} (one worker per GPU), or --device cpu",
        )


def _quiet_agent(debug: bool) -> None:
    """Keep torch's elastic agent to errors dltool does not report itself (all with --debug)."""
    import logging

    if debug:
        return
    names = [n for n in logging.root.manager.loggerDict if n.startswith("torch.distributed")]
    for name in ["torch.distributed.elastic", *names]:  # each sets its own level
        logging.getLogger(name).setLevel(logging.CRITICAL)


def launch(nproc: int, argv: list[str], rdzv_timeout_s: int = 120) -> None:
    """Run ``dltool ARGV`` in ``nproc`` local workers through torch's elastic launcher.

    Each worker joins the group from the environment the launcher gives it (on 127.0.0.1).
    A failed worker is a DltoolError naming its rank and cause (the agent stops the others
    first); Ctrl-C reaches rank 0 through the agent and ends as KeyboardInterrupt.
    """
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    config = LaunchConfig(
        min_nodes=1,
        max_nodes=1,
        nproc_per_node=nproc,
        run_id=f"dltool-{uuid.uuid4().hex[:8]}",
        rdzv_backend="c10d",
        rdzv_endpoint="127.0.0.1:0",
        rdzv_configs={"timeout": rdzv_timeout_s},
        max_restarts=0,
        monitor_interval=0.1,
        start_method="spawn",
        local_addr="127.0.0.1",
    )
    saved = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", LAUNCHER_ENV)}
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # else torchrun's warning; --threads wins
    os.environ[LAUNCHER_ENV] = "1"
    _quiet_agent(debug="--debug" in argv or os.environ.get("DLTOOL_DEBUG", "") not in ("", "0"))
    try:
        elastic_launch(config, sys.executable)(*_worker_argv(argv))
    except ChildFailedError as exc:
        reported = _reported(exc)
        if reported is not None:
            raise reported from None
        raise DltoolError(
            _failure_line(exc),
            hint="a killed worker often ran out of memory: try a smaller --batch-size",
        ) from None
    except SignalException as exc:
        import signal

        if exc.sigval == signal.SIGINT:  # rank 0 saved and said "interrupted"
            raise SystemExit(130) from None
        raise DltoolError(f"stopped by {exc.sigval.name}; the workers were stopped") from None
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
