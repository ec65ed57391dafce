"""Export a torch model to ONNX or TorchScript, check it, and describe it in a JSON beside it.

ONNX goes through ``torch.export`` and ``torch.onnx.export`` (the torch.export-based
exporter, opset :data:`OPSET`); the graph is checked with ``onnx.checker`` (full check,
shape inference included) before it is written. TorchScript is ``torch.jit.trace``'d and
saved with the metadata as an extra file (``dltool.json``). Both are then run once on the
caller's inputs and compared with the eager model: :func:`max_difference`.

Both plugins that export (``cnn``, ``yolo``) share this module; it knows nothing of them.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dltool import atomic
from dltool.errors import DltoolError

OPSET = 18
FORMATS = ("onnx", "torchscript")
SUFFIX = {"onnx": ".onnx", "torchscript": ".torchscript"}
META_KEY = "dltool"  # ONNX metadata_props key, and TorchScript extra file "dltool.json"
MAX_PROTO = 2**31 - 1  # protobuf's limit on one serialized message
EXPORT_HINT = "export with --format torchscript, or replace that layer with standard operators"


def need_onnx() -> None:
    """Raise a DltoolError naming the extra when onnx, onnxscript or onnxruntime is missing."""
    from importlib.util import find_spec

    missing = [m for m in ("onnx", "onnxscript", "onnxruntime") if find_spec(m) is None]
    if missing:
        raise DltoolError(
            f"ONNX export needs {', '.join(missing)}", hint="pip install 'dltool[export]'"
        )


@contextlib.contextmanager
def quiet_export() -> Iterator[None]:
    """Silence the exporters' warnings, log lines and prints (stdout is for results)."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def versions() -> dict[str, str]:
    """Return the dltool and torch versions (and onnx's where installed)."""
    import torch

    import dltool

    out = {"dltool": dltool.__version__, "torch": torch.__version__}
    with contextlib.suppress(ImportError):
        import onnx

        out["onnx"] = onnx.__version__
    return out


def file_sha256(path: str | Path) -> str:
    """Return the hex SHA-256 of a file."""
    from dltool.artifacts import sha256_file

    return sha256_file(Path(path))


def _unsupported(exc: Exception, program: Any) -> DltoolError:
    """Return the one-line error of an operator ONNX cannot express, naming its layer."""
    text = str(exc)
    found = re.search(r"No ONNX function found for <OpOverload\(op='([\w.]+)'", text)
    found = found or re.search(r"target=torch\.ops\.([\w.]+?)(?:\.default)?\]?\(", text)
    if not found:
        first = next((ln for ln in text.splitlines() if ln.strip()), type(exc).__name__)
        return DltoolError(f"ONNX export failed: {first.strip()}", hint=EXPORT_HINT)
    op = found.group(1)
    short = op.split(".")[-1]
    for node in program.graph.nodes:
        stack = node.meta.get("nn_module_stack") or {}
        if node.op == "call_function" and short in str(node.target) and stack:
            path, cls = list(stack.values())[-1]
            kind = str(getattr(cls, "__name__", cls)).rsplit(".", 1)[-1]
            return DltoolError(
                f"ONNX cannot express layer {path} ({kind}): no ONNX operator for {op}",
                hint=EXPORT_HINT,
            )
    return DltoolError(f"ONNX cannot express the operator {op}", hint=EXPORT_HINT)


def trace_program(model: Any, example: Any, dynamic_shapes: Any = None) -> Any:
    """Return ``torch.export.export`` of model on (example,), dynamic shapes refused clearly."""
    import torch

    try:
        with quiet_export():
            return torch.export.export(model, (example,), dynamic_shapes=dynamic_shapes)
    except Exception as exc:  # torch.export's errors are many; the user gets the first line
        first = next((ln for ln in str(exc).splitlines() if ln.strip()), type(exc).__name__)
        raise DltoolError(
            f"torch.export cannot capture the model: {first.strip()}",
            hint="export without --dynamic, or with --format torchscript",
        ) from None


def to_onnx(program: Any, output_names: list[str], metadata: dict[str, Any]) -> Any:
    """Return the checked ONNX ModelProto of an exported program, ``metadata`` attached."""
    import onnx
    import torch

    try:
        with quiet_export():
            onnx_program = torch.onnx.export(
                program, f=None, opset_version=OPSET, dynamo=True, verbose=False,
                input_names=["images"], output_names=output_names,
            )  # fmt: skip
    except Exception as exc:  # ConversionError and friends: name the layer
        raise _unsupported(exc, program) from None
    proto = onnx_program.model_proto
    entry = proto.metadata_props.add()
    entry.key, entry.value = META_KEY, json.dumps(metadata)
    if proto.ByteSize() > MAX_PROTO:
        raise DltoolError(
            "the ONNX graph is over 2 GB, protobuf's limit for one file",
            hint="export with --format torchscript",
        )
    try:
        onnx.checker.check_model(proto, full_check=True)
    except Exception as exc:  # onnx.checker.ValidationError, shape inference errors
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DltoolError(f"the exported ONNX graph fails onnx.checker: {first}",
                          hint=EXPORT_HINT) from None  # fmt: skip
    return proto


def write_onnx(proto: Any, path: Path) -> Path:
    """Write an ONNX ModelProto atomically."""
    return atomic.write_bytes(path, proto.SerializeToString())


def dynamic_axes(proto: Any) -> list[str]:
    """Return the names of the ONNX input's axes that are symbolic (N, C, H, W order)."""
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    names = ("batch", "channels", "height", "width")
    return [names[i] for i, d in enumerate(dims) if i < len(names) and not d.HasField("dim_value")]


def onnx_session(path: str | Path, threads: int | None = None, device: Any = None) -> Any:
    """Return an onnxruntime InferenceSession (CUDA where asked and available, else CPU)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
    opts.log_severity_level = 3  # errors only
    providers = ["CPUExecutionProvider"]
    if getattr(device, "type", None) == "cuda" and "CUDAExecutionProvider" in (
        ort.get_available_providers()
    ):
        providers.insert(0, "CUDAExecutionProvider")
    try:
        return ort.InferenceSession(str(path), sess_options=opts, providers=providers)
    except Exception as exc:  # InvalidProtobuf, InvalidGraph, NoSuchFile, Fail
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DltoolError(
            f"onnxruntime cannot load {path}: {first}",
            hint="give an .onnx file written by 'dltool yolo export' or another ONNX exporter",
        ) from None


def run_onnx(session: Any, x: Any) -> list[Any]:
    """Return the outputs (NumPy arrays) of an onnxruntime session for input x (a tensor)."""
    name = session.get_inputs()[0].name
    return session.run(None, {name: x.detach().cpu().numpy()})


def trace_torchscript(model: Any, example: Any) -> Any:
    """Return ``torch.jit.trace`` of model on example (list outputs allowed)."""
    import torch

    try:
        with quiet_export(), torch.no_grad():
            return torch.jit.trace(model, example, check_trace=False, strict=False)
    except Exception as exc:  # tracer errors: one line
        first = next((ln for ln in str(exc).splitlines() if ln.strip()), type(exc).__name__)
        raise DltoolError(f"TorchScript tracing failed: {first.strip()}",
                          hint="export with --format onnx") from None  # fmt: skip


def write_torchscript(module: Any, path: Path, metadata: dict[str, Any]) -> Path:
    """Save a ScriptModule atomically, ``metadata`` as its extra file ``dltool.json``."""
    import torch

    buffer = io.BytesIO()
    with quiet_export():  # torch.jit.save's DeprecationWarning
        torch.jit.save(module, buffer, _extra_files={f"{META_KEY}.json": json.dumps(metadata)})
    return atomic.write_bytes(path, buffer.getvalue())


def load_torchscript(path: str | Path) -> tuple[Any, dict[str, Any]]:
    """Return (ScriptModule on the CPU, its dltool metadata) of a saved TorchScript file."""
    import torch

    extra = {f"{META_KEY}.json": ""}
    with quiet_export():  # torch.jit.load's DeprecationWarning
        module = torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
    text = extra[f"{META_KEY}.json"]
    return module, (json.loads(text) if text else {})


def onnx_metadata(proto_or_session: Any) -> dict[str, Any]:
    """Return the dltool metadata of an ONNX model or onnxruntime session ({} if none)."""
    if hasattr(proto_or_session, "get_modelmeta"):
        props = proto_or_session.get_modelmeta().custom_metadata_map
        text = props.get(META_KEY)
    else:
        text = next((p.value for p in proto_or_session.metadata_props if p.key == META_KEY), None)
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def as_list(outputs: Any) -> list[Any]:
    """Return a model's output(s) as a list of tensors/arrays."""
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def max_difference(expected: list[Any], got: list[Any]) -> float:
    """Return max |expected − got| over paired outputs; inf where a shape differs."""
    import numpy as np

    worst = 0.0
    for e, g in zip(expected, got, strict=True):
        e = e.detach().cpu().numpy() if hasattr(e, "detach") else np.asarray(e)
        g = g.detach().cpu().numpy() if hasattr(g, "detach") else np.asarray(g)
        if e.shape != g.shape:
            return float("inf")
        if e.size:
            worst = max(worst, float(np.nanmax(np.abs(e.astype(np.float64) - g))))
    return worst


def _expected(model: Any, inputs: list[Any]) -> list[list[Any]]:
    """Return the eager outputs of model on each input (no grad)."""
    import torch

    with torch.no_grad():
        return [[t.clone() for t in as_list(model(x))] for x in inputs]


def _check(path: Path, expected: list[list[Any]], got: list[list[Any]], rtol: float) -> float:
    """Return the largest difference; remove ``path`` and refuse when one passes rtol·scale."""
    worst = 0.0
    for e, g in zip(expected, got, strict=True):
        diff = max_difference(e, g)
        scale = max([1.0] + [float(t.abs().max()) for t in e if t.numel()])
        if not diff <= rtol * scale:  # NaN refused too
            path.unlink(missing_ok=True)
            raise DltoolError(
                f"the exported model's outputs differ from torch's by {diff:.3g}",
                hint="report it with the model; --format torchscript may export it",
            )
        worst = max(worst, diff)
    return worst


def export_model(
    model: Any,
    example: Any,
    fmt: str,
    path: Path,
    metadata: dict[str, Any],
    dynamic_shapes: Any = None,
    checks: list[Any] | tuple = (),
    rtol: float = 1e-3,
) -> dict[str, Any]:
    """Export model (CPU, eval) as ``fmt`` to ``path``; run it on ``checks`` against torch.

    Returns {file, format, bytes, max_abs_diff, dynamic_axes (ONNX), opset (ONNX)}.
    """
    inputs = list(checks) or [example]
    expected = _expected(model, inputs)
    info: dict[str, Any] = {"format": fmt}
    if fmt == "onnx":
        need_onnx()
        program = trace_program(model, example, dynamic_shapes)
        names = [f"output{i}" for i in range(len(expected[0]))]
        proto = to_onnx(program, names, metadata)
        write_onnx(proto, path)
        session = onnx_session(path)
        got = [run_onnx(session, x) for x in inputs]
        info |= {"opset": OPSET, "dynamic_axes": dynamic_axes(proto)}
    else:
        import torch

        write_torchscript(trace_torchscript(model, example), path, metadata)
        module, _ = load_torchscript(path)
        with torch.no_grad():
            got = [as_list(module(x)) for x in inputs]
    info["max_abs_diff"] = _check(path, expected, got, rtol)
    return info | {"file": str(path), "bytes": path.stat().st_size}
