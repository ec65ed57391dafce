"""Device selection, seeding, threads, atomic files, run directories and reporter output."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch

from dltool import atomic, device
from dltool.context import Session
from dltool.errors import DltoolError
from dltool.report import Reporter, figure
from dltool.runs import RunDir


@pytest.mark.parametrize("spec", ["auto", "cpu", "CUDA", "cuda:1", "mps"])
def test_valid_specs(spec):
    assert device.check_spec(spec) == spec.lower()


@pytest.mark.parametrize("spec", ["gpu", "cuda:", "cuda:x", "", "cpu0"])
def test_invalid_specs(spec):
    with pytest.raises(DltoolError, match="unknown device"):
        device.check_spec(spec)


def test_auto_and_cpu_select_a_real_device():
    assert device.select_device("cpu") == torch.device("cpu")
    assert device.select_device("auto").type in {"cpu", "cuda", "mps"}
    assert device.available_devices()[-1] == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_absent_cuda_lists_available():
    with pytest.raises(DltoolError, match=r"device 'cuda:0' is not available here; available: cpu"):
        device.select_device("cuda:0")


def test_seed_makes_numpy_and_torch_reproducible():
    session = Session(device_spec="cpu", seed=123)
    session.apply()
    _ = session.device
    first = (np.random.rand(3), torch.rand(3))
    session = Session(device_spec="cpu", seed=123)
    session.apply()
    _ = session.device
    second = (np.random.rand(3), torch.rand(3))
    np.testing.assert_array_equal(first[0], second[0])
    assert torch.equal(first[1], second[1])


def test_threads_set_torch_and_blas_together():
    from threadpoolctl import threadpool_info

    before = torch.get_num_threads()
    try:
        device.set_threads(1)
        assert torch.get_num_threads() == 1
        assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
        assert all(p["num_threads"] == 1 for p in threadpool_info() if p["user_api"] == "blas")
    finally:
        device.set_threads(before)
    with pytest.raises(DltoolError):
        device.set_threads(0)


FAULTS = """
import ctypes, resource, sys
from dltool import device
ctypes.CDLL(None).prctl(41, 1, 0, 0, 0)  # PR_SET_THP_DISABLE: 4 KiB pages, as counted below
if sys.argv[1] == "keep":
    assert device.keep_freed_memory()
def step():
    blocks = [bytearray(n << 20) for n in (4, 8, 12)]  # freed together: 24 MiB at the heap top
for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def test_freed_blocks_stay_in_the_heap():
    import ctypes
    import platform
    import subprocess
    import sys

    if platform.libc_ver()[0] != "glibc" or ctypes.sizeof(ctypes.c_void_p) != 8:
        pytest.skip("glibc's mallopt on a 64-bit system")
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"
    }  # glibc's defaults
    faults = {
        mode: int(subprocess.run([sys.executable, "-c", FAULTS, mode], capture_output=True,
                                 text=True, check=True, env=env).stdout)
        for mode in ("default", "keep")
    }  # fmt: skip
    assert faults["default"] > 20 * 4096  # 24 MiB (6144 pages) trimmed and faulted in again
    assert faults["keep"] < 200


def test_atomic_write_gives_the_usual_file_mode(tmp_path):
    umask = os.umask(0o022)
    try:
        path = atomic.write_text(tmp_path / "x.txt", "hi")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.bin"
    atomic.write_bytes(target, b"old")
    with pytest.raises(RuntimeError), atomic.atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("interrupted")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


def test_atomic_write_to_a_directory_is_a_user_error_before_any_work(tmp_path):
    from dltool.errors import DltoolError

    worked = []
    with (
        pytest.raises(DltoolError, match="is a directory") as info,
        atomic.atomic_path(tmp_path) as tmp,
    ):
        worked.append(tmp)
    assert info.value.hint == "give a file path" and worked == []
    with pytest.raises(DltoolError, match="is a directory"):
        atomic.write_text(tmp_path, "x")
    assert list(tmp_path.iterdir()) == []


def test_run_dir_numbering_and_out(tmp_path, monkeypatch):
    monkeypatch.setenv("DLTOOL_RUNS", str(tmp_path / "r"))
    a = RunDir.create("p", "c")
    b = RunDir.create("p", "c")
    assert (a.path.name, b.path.name) == ("1", "2")
    out = RunDir.create("p", "c", tmp_path / "mine")
    assert out.path == tmp_path / "mine" and out.path.is_dir()
    a.write_json("m.json", {"x": np.float32(1.5), "a": np.arange(2)})
    assert json.loads(a.file("m.json").read_text()) == {"x": 1.5, "a": [0, 1]}


def test_run_dir_error_is_user_error(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DltoolError, match="lies under .*, a file"):
        RunDir.create("p", "c", blocker / "sub")
    monkeypatch.setenv("DLTOOL_RUNS", str(blocker / "runs"))  # numbered runs: mkdir fails
    with pytest.raises(DltoolError, match="cannot create run directory"):
        RunDir.create("p", "c")


def test_reporter_json_document(capsys):
    rep = Reporter(json_mode=True)
    rep.table("Top classes", [{"class": "cat", "p": np.float64(0.9)}])
    rep.result("accuracy", 0.5)
    rep.line("not in json")
    rep.flush()
    assert json.loads(capsys.readouterr().out) == {
        "top_classes": [{"class": "cat", "p": 0.9}],
        "accuracy": 0.5,
    }


def test_reporter_table_and_quiet_progress(capsys):
    rep = Reporter(quiet=True)
    rep.table("T", [{"a": 1, "b": 0.123456}])
    with rep.progress(3, "train") as bar:
        for _ in range(3):
            bar.advance(loss=0.5)
    out, err = capsys.readouterr()
    assert "0.1235" in out and err == ""
    assert bar.steps == 3 and bar.metrics == {"loss": 0.5}


def test_progress_shows_metrics_on_stderr(capsys):
    rep = Reporter()
    with rep.progress(2, "fit") as bar:
        bar.advance(loss=0.25)
        bar.advance(loss=0.125)
    err = capsys.readouterr().err
    assert "fit" in err and "loss=0.125" in err and "2/2" in err


def test_figure_writes_png(tmp_path):
    path = tmp_path / "plot.png"
    with figure(path) as (fig, ax):
        ax.plot([0, 1], [1, 0])
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError), figure(tmp_path / "bad.png") as (fig, ax):
        raise ValueError("no")
    assert not (tmp_path / "bad.png").exists()


def test_text_is_printed_as_is_not_as_markup(capsys):
    rep = Reporter()
    rep.line("[bold]x[/bold] a[1]")
    rep.table("T", [{"a [f, s]": "[red]y"}])
    rep.info("[z]")
    rep.warn("[w]")
    out, err = capsys.readouterr()
    assert "[bold]x[/bold] a[1]" in out and "[red]y" in out and "a [f, s]" in out
    assert "[z]" in err and "warning: [w]" in err


def test_json_output_has_no_bare_nan(capsys):
    rep = Reporter(json_mode=True)
    rep.result("x", {"a": np.float64("nan"), "b": np.array([1.0, np.inf])})
    rep.flush()
    text = capsys.readouterr().out
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"x": {"a": "nan", "b": [1.0, "inf"]}}


def test_reused_out_starts_metrics_anew_and_resume_appends(tmp_path):
    first = RunDir.create("p", "c", tmp_path / "run")
    first.log_metrics(step=0)
    first.log_metrics(step=1)
    again = RunDir.create("p", "c", tmp_path / "run")
    again.log_metrics(step=0)
    assert len((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()) == 1
    resumed = RunDir(tmp_path / "run")
    resumed.log_metrics(step=1)
    assert len((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()) == 2


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (4652008, "4,652,008"),
        (12345.678, "12,346"),
        (-25000.0, "-25,000"),
        (0.123456, "0.1235"),
        (9999.5, "10,000"),
        (9999.4, "9999"),
        (float("nan"), "nan"),
        (True, "True"),
        (None, ""),
        ("a\x1b[31m", "a\\x1b[31m"),
    ],
)
def test_table_cells_have_thousands_separators(value, text):
    from dltool.report import _cell

    assert _cell(value) == text


def test_titles_and_labels_are_data_not_markup(capsys):
    rep = Reporter()
    rep.table("faces in /tmp/[bold]x[/bold]\x1b]8;;", [{"a": 1}])
    rep.result("k", 1, label="name\x1b[31m")
    out = capsys.readouterr().out
    assert "[bold]x[/bold]" in out and "\x1b" not in out
    assert "name\\x1b[31m: 1" in out
