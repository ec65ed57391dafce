"""The reliability sweep of issue 15, generated from the Click commands themselves.

Every command of the core and of every built-in plugin is run in-process (the shared ``cli``
fixture) with

* each of its file arguments (a Click path, or an argument/option whose name says it is a
  file, an image, data, vectors, a config, a database, weights, a run…) ``missing``,
  ``empty``, a directory (``dir``) and ``unreadable``: a path whose parent is a regular file
  (``afile.txt/x``), which no user, root included, can open — ``chmod 000`` does not stop
  root, and the sweep runs as root in CI;
* each numeric option at 0, -1, NaN, inf and 1e12.

Each case runs in a fresh working directory (``DLTOOL_RUNS`` and ``DLTOOL_FACE_DB`` inside
it) with ``--threads 1`` and small valid values for the other arguments (``BASE``), so that
it reaches the argument under test. A case must end with exit 0, 1 or 2; a failure shows
one ``error:`` and one ``hint:`` line (exit 1; ``facerec verify`` reports errors with 2)
or Click's usage error (exit 2), never a traceback or an "unexpected …" error, and leaves
nothing behind: a failed case adds no file to its working directory (empty ``runs/P/C``
parents aside), a finished one leaves no temporary ``.part`` file and no run folder holding
only ``config.yaml``, and no case touches the shared inputs.

Refusals: NaN, inf and 1e12 must be refused (exit 1 or 2), except 1e12 by the options in
``UNBOUNDED`` (each with its reason); every bad kind of an input file must be refused except
the combinations in ``VALID_FILES`` (an empty ``--config`` sets no option, an empty face
database is an empty SQLite file…); an output whose parent is a file must be refused, and so
must a folder given as an output file and a file given as a run folder (``--out``). Any
other case may also succeed (exit 0).

Rule for real work: a value that passes (say ``--l2 0``) runs the command on the tiny
``BASE`` inputs (one or two epochs, one trial, one iteration, a 32-pixel image), so each
accepted case takes well under a second; a case still running after ``CASE_LIMIT_S`` fails.
A value that would start unbounded work even so is skipped by listing it in ``LONG`` (none
today: every "0 means no limit" option is bounded by another BASE value, like ``--max-steps``).

Cases that fail today in plugins whose owners are still changing them are listed in
``KNOWN`` (xfail, not strict; each says what happens); fixing one shows it as XPASS.
"""

from __future__ import annotations

import importlib
import shutil
import signal
from pathlib import Path

import pytest
import typer
from typer._click import types as click_types  # the click typer ships (dltool.commands too)

from dltool.cli import create_app
from dltool.plugins import PluginManager

BUILTIN = ("basicnn", "optimizers", "cnn", "yolo", "facerec", "style", "rnn", "wordvec")
NUMBERS = ("0", "-1", "nan", "inf", "1e12")
HUGE = ("nan", "inf", "1e12")
KINDS = ("missing", "empty", "dir", "unreadable")
FILE_WORDS = (
    "file",
    "image",
    "data",
    "vectors",
    "config",
    "db",
    "weights",
    "model",
    "source",
    "corpus",
    "labels",
    "space",
    "encoder",
    "cfg",
    "names",
    "pairs",
    "analogies",
    "similarity",
    "resume",
    "directory",
    "out",
    "output",
)
NOT_FILES = {"data_seed", "init_seed"}  # names holding a file word that are numbers
OUTPUT_NAMES = {"out", "output", "directory"}
OUTPUTS = {("facerec", "export"): {"file"}}  # outputs under another name
CASE_LIMIT_S = 60  # a case that runs longer is a failure (it should be refused or tiny)

# 1e12 accepted on purpose (NaN and inf never are): (command, option) -> why it is unbounded
UNBOUNDED: dict[tuple[str, str], str] = {
    ("rnn train", "--clip"): "a clip threshold above every gradient means no clipping",
    ("rnn train", "--time-limit"): "seconds this invocation may run; a long limit stops nothing",
    ("rnn train", "--max-steps"): "a step limit past the run's end stops nothing",
    ("rnn sample", "--temperature"): "a hot softmax tends to uniform sampling; no work grows",
    **{
        key: "every N steps/epochs: N past the run's end means never"
        for key in (
            ("rnn train", "--sample-every"),
            ("rnn train", "--checkpoint-every"),
            ("optimizers schedule", "--interval"),
            ("optimizers schedule", "--every"),
            ("optimizers compare", "--interval"),
        )
    },
    **{
        key: "rows shown: more than there are shows them all"
        for key in (
            ("basicnn predict", "--limit"),
            ("optimizers minibatches", "--show"),
            ("optimizers tune", "--top"),
        )
    },
    **{
        key: "a batch larger than the data set is the whole set; no memory grows"
        for key in (
            ("basicnn train", "--batch-size"),
            ("optimizers compare", "--batch-size"),
            ("optimizers minibatches", "--size"),
        )
    },
    **{
        key: "any integer seeds NumPy's default_rng; no work grows"
        for key in (
            ("facerec train", "--init-seed"),
            ("yolo anchors", "--init-seed"),
            ("yolo synth", "--data-seed"),
        )
    },
    **{
        ("style transfer", flag): "only the ratios of α, β, γ matter (Adam); a cost that "
        "overflows stops the transfer, keeping the last finite image"
        for flag in ("--content-weight", "--style-weight", "--tv-weight")
    },
}

# bad input files that are valid: (command or "*", param, kind) -> why
VALID_FILES: dict[tuple[str, str, str], str] = {
    ("*", "config", "empty"): "an empty YAML file sets no option",
    ("facerec enroll", "db", "missing"): "enroll creates the database",
    ("facerec import", "db", "missing"): "import creates the database",
    ("facerec enroll", "db", "empty"): "an empty file is an empty SQLite database",
    ("facerec import", "db", "empty"): "an empty file is an empty SQLite database",
    ("facerec people", "db", "empty"): "an empty database lists no one",
    ("facerec export", "db", "empty"): "an empty database exports no one",
}

# cases that fail today in plugins still being changed by their owners: case id -> what
# happens (xfail, not strict: a fix shows as XPASS; then delete the line)
_ACCEPTED = "accepted (exit 0)"
KNOWN: dict[str, str] = {}

# numeric values never run: (command, option, value) -> the unbounded work they start
LONG: dict[tuple[str, str, str], str] = {}

# small valid arguments per command: {param name: value}; "{name}" is an asset path
BASE: dict[str, dict[str, object]] = {
    "": {},
    "basicnn train": {"samples": 30, "epochs": 2},
    "basicnn predict": {"model": "{basicnn_run}", "data_source": "{csv}"},
    "basicnn logreg": {"samples": 30, "epochs": 2},
    "basicnn gradcheck": {"examples": 2},
    "basicnn diagnose": {"train_error": 15, "dev_error": 16},
    "cnn summary": {"model": "lenet5"},
    "cnn conv": {"image": "{img}"},
    "cnn augment": {"image": "{img}", "n": 1, "size": 16},
    "cnn train": {"data": "{cnn_data}", "epochs": 1, "batch_size": 4},
    "cnn predict": {"source": "{cnn_run}", "images": ["{img}"]},
    "cnn export": {"source": "{cnn_run}", "format": "torchscript"},
    "facerec detect": {"images": ["{face}"]},
    "facerec enroll": {"name": "x", "images": ["{face}"]},
    "facerec verify": {"image": "{face}", "name": "astronaut"},
    "facerec identify": {"images": ["{face}"]},
    "facerec forget": {"name": "astronaut"},
    "facerec export": {"file": "export.json"},
    "facerec import": {"file": "{export}"},
    "facerec train": {
        "data": "{faces}",
        "epochs": 1,
        "people_per_batch": 2,
        "images_per_person": 2,
    },
    "facerec evaluate": {"data": "{faces}"},
    "optimizers schedule": {"epochs": 5},
    "optimizers compare": {"samples": 20, "epochs": 2, "batch_size": 8},
    "optimizers tune": {"space": "{space}", "trials": 1},
    "rnn train": {
        "text_file": "{text}",
        "hidden": 4,
        "seq_len": 4,
        "batch_size": 2,
        "epochs": 1,
        "max_steps": 2,
        "sample_every": 0,
    },
    "rnn sample": {"run_or_model": "{rnn_run}", "n": 1, "max_len": 5},
    "rnn gradcheck": {"n_a": 2, "n_x": 2, "m": 2, "T": 2},
    "style layers": {"size": 32},
    "style transfer": {"images": ["{img}", "{img2}"], "size": 32, "iterations": 1},
    "wordvec similar": {"word": "king", "vectors": "{vec}"},
    "wordvec similarity": {"word1": "king", "word2": "queen", "vectors": "{vec}"},
    "wordvec analogy": {"a": "man", "b": "woman", "c": "king", "vectors": "{vec}"},
    "wordvec doesnt-match": {"words": ["king", "queen", "river"], "vectors": "{vec}"},
    "wordvec bias": {"words": ["nurse", "engineer"], "vectors": "{vec}"},
    "wordvec debias": {"vectors": "{vec}", "skip_missing": True, "restrict": 10},
    "wordvec evaluate": {
        "vectors_arg": "{vec}",
        "analogies": "{analogies}",
        "similarity_file": "{wordsim}",
        "restrict": 10,
    },
    "wordvec plot": {"words": ["king", "queen", "river"], "vectors": "{vec}"},
    "wordvec train": {"corpus": "{text}", "dim": 4, "epochs": 1, "min_count": 1, "workers": 1},
    "yolo detect": {"sources": ["{img}"], "size": 64},
    "yolo anchors": {"labels": "{synth}", "k": 2, "size": 64},
    "yolo synth": {"out": "syn", "n": 2, "size": 32},
    "yolo train": {"data": "{synth}", "epochs": 1, "batch_size": 2},
    "yolo evaluate": {"data": "{synth}", "weights": "{yolo_run}"},
    "yolo export": {"weights": "{yolo_run}", "format": "torchscript", "size": 64},
}
# what a case of one parameter changes in BASE to reach it (None: leave the option out)
FOR_PARAM: dict[tuple[str, str], dict[str, object]] = {
    ("style layers", "weights"): {"net": "vgg19"},
    ("style transfer", "weights"): {"net": "vgg19"},
    ("wordvec evaluate", "vectors"): {"vectors_arg": None},
    ("facerec export", "output"): {"file": None},
}
ROOT_COMMAND = ["plugins"]  # the core command the root's own options are swept on
OUT_SUFFIX = {  # the suffix an output file case gets (the format the command writes)
    "basicnn predict": ".csv",
    "facerec export": ".json",
    "wordvec debias": ".txt",
    "wordvec train": ".txt",
}


def _root():
    """Return the root Click group with every built-in plugin."""
    modules = {name: importlib.import_module(f"dltool_{name}") for name in BUILTIN}
    return typer.main.get_command(create_app(PluginManager.from_modules(modules)))


def _commands():
    """Yield (name, click command) for the root and every visible leaf command."""
    root = _root()
    yield "", root
    ctx = root.make_context("dltool", ["--help"], resilient_parsing=True)
    for name in root.list_commands(ctx):
        group = root.get_command(ctx, name)
        subs = getattr(group, "commands", None)
        if subs is None:
            yield name, group
            continue
        for sub_name, sub in subs.items():
            if not sub.hidden:
                yield f"{name} {sub_name}", sub


def _is_number(param) -> bool:
    """Return whether ``param`` takes an int or a float (ranges included)."""
    numbers = (click_types.IntParamType, click_types.FloatParamType)
    return not getattr(param, "is_flag", False) and isinstance(param.type, numbers)


def _is_file(param) -> bool:
    """Return whether ``param`` names a file or folder, by its type or its name."""
    if type(param.type).__name__ in ("Path", "TyperPath"):
        return True
    if param.name in NOT_FILES or getattr(param, "is_flag", False) or _is_number(param):
        return False
    return any(word in param.name for word in FILE_WORDS)


def _is_output(command: str, param) -> bool:
    """Return whether ``param`` is written rather than read."""
    plugin_command = tuple(command.split())
    return param.name in OUTPUT_NAMES or param.name in OUTPUTS.get(plugin_command, ())


def _known(case_id: str) -> list:
    """Return the xfail mark of a case listed in KNOWN, else no mark."""
    if case_id not in KNOWN:
        return []
    return [pytest.mark.xfail(reason=KNOWN[case_id], strict=False)]


def _cases():
    """Yield pytest params (command, click command, param, kind or value)."""
    for name, command in _commands():
        params = [p for p in command.params if p.name not in ("help", "version")]
        if name == "":
            params = [p for p in params if _is_number(p)]
        for p in params:
            if _is_number(p):
                for value in NUMBERS:
                    case_id = f"{name} {p.opts[0]}={value}"
                    skip = LONG.get((name, p.opts[0], value))
                    marks = [pytest.mark.skip(reason=skip)] if skip else _known(case_id)
                    yield pytest.param(name, command, p, value, id=case_id, marks=marks)
            elif _is_file(p):
                for kind in KINDS:
                    label = p.opts[0] if p.param_type_name == "option" else p.name.upper()
                    case_id = f"{name} {label}:{kind}"
                    yield pytest.param(name, command, p, kind, id=case_id, marks=_known(case_id))


CASES = list(_cases())


class CaseTimeout(BaseException):
    """Raised by the alarm in a case that runs too long (not an Exception: dltool lets it out)."""


def _invoke(app, args: list[str], env: dict[str, str] | None = None):
    """Run dltool ARGS in-process under the case time limit."""
    from typer.testing import CliRunner

    def _alarm(signum, frame):
        raise CaseTimeout(f"dltool {' '.join(args)} ran over {CASE_LIMIT_S} s")

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(CASE_LIMIT_S)
    try:
        return CliRunner().invoke(app, [str(a) for a in args], env=env, prog_name="dltool")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _made(app, args: list[str], env: dict[str, str]):
    """Run a set-up command and insist that it worked."""
    res = _invoke(app, ["--quiet", "--threads", "1", *args], env)
    assert res.exit_code == 0, (args, res.stdout, res.stderr)
    return res


def _images(root: Path) -> dict[str, str]:
    """Write two small RGB photos and a tiny two-class image folder."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    out = {}
    for name in ("img", "img2"):
        pixels = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / f"{name}.png")
        out[name] = str(root / f"{name}.png")
    for label in ("a", "b"):
        (root / "cnn_data" / label).mkdir(parents=True)
        for k in range(3):
            pixels = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / "cnn_data" / label / f"{k}.png")
    out["cnn_data"] = str(root / "cnn_data")
    return out


def _texts(root: Path) -> dict[str, str]:
    """Write the text inputs: CSV, corpus, word vectors, analogies, similarities, a space."""
    import numpy as np

    rng = np.random.default_rng(1)
    rows = "\n".join(f"{a:.3f},{b:.3f},{int(a + b > 0)}" for a, b in rng.normal(size=(20, 2)))
    words = [
        "man",
        "woman",
        "king",
        "queen",
        "he",
        "she",
        "his",
        "her",
        "boy",
        "girl",
        "nurse",
        "engineer",
        "river",
        "table",
    ]
    vectors = "\n".join(w + " " + " ".join(f"{x:.4f}" for x in rng.normal(size=8)) for w in words)
    files = {
        "csv": ("data.csv", f"x1,x2,label\n{rows}\n"),
        "text": ("text.txt", "the quick brown fox jumps over the lazy dog. " * 40),
        "vec": ("vectors.txt", vectors + "\n"),
        "analogies": ("questions.txt", ": family\nman woman king queen\nhe she his her\n"),
        "wordsim": ("wordsim.tsv", "king\tqueen\t8.5\nman\twoman\t8.3\nriver\ttable\t1.0\n"),
        "space": (
            "space.yaml",
            "data: {dataset: moons, samples: 30, noise: 0.2, split: '0.8,0.2'}\n"
            "params:\n  lr: {distribution: uniform, range: [1.0e-3, 0.1], scale: log}\n"
            "  epochs: 2\n",
        ),
    }
    out = {}
    for key, (name, text) in files.items():
        (root / name).write_text(text, encoding="utf-8")
        out[key] = str(root / name)
    return out


def _faces(root: Path) -> dict[str, str]:
    """Write a half-size astronaut photo and DATA/<person>/k.png crops of two faces."""
    import numpy as np
    from facerec_data import ASTRONAUT, ASTRONAUT_FACE, GRACE, GRACE_FACE, augmented_crops
    from PIL import Image

    with Image.open(ASTRONAUT) as im:
        im.convert("RGB").resize((256, 256)).save(root / "face.png")
    rng = np.random.default_rng(0)
    for name, path, box in (("astronaut", ASTRONAUT, ASTRONAUT_FACE), ("grace", GRACE, GRACE_FACE)):
        (root / "faces" / name).mkdir(parents=True)
        augmented_crops(path, box, 2, rng, root / "faces" / name)
    return {"face": str(root / "face.png"), "faces": str(root / "faces")}


@pytest.fixture(scope="session")
def assets(app, tmp_path_factory):
    """Build every valid input once: files, folders, trained runs, a face database."""
    root = tmp_path_factory.mktemp("assets")
    env = {"DLTOOL_RUNS": str(root / "runs"), "DLTOOL_FACE_DB": str(root / "faces.sqlite3")}
    out = {**_images(root), **_texts(root), **_faces(root)}
    _made(app, ["yolo", "synth", root / "syn", "--n", "4", "--size", "32"], env)
    out["synth"] = str(root / "syn" / "data.yaml")
    runs = {
        "basicnn_run": ["basicnn", "train", "-d", "planar", "--samples", "30", "--epochs", "2"],
        "rnn_run": ["rnn", "train", out["text"], "--hidden", "4", "--seq-len", "4",
                    "--batch-size", "2", "--epochs", "1", "--max-steps", "2"],
        "cnn_run": ["cnn", "train", "--data", out["cnn_data"], "--epochs", "1",
                    "--batch-size", "4"],
        "yolo_run": ["yolo", "train", "--data", out["synth"], "--epochs", "1",
                     "--batch-size", "2"],
    }  # fmt: skip
    for key, args in runs.items():
        _made(app, [*args, "--out", root / key], env)
        out[key] = str(root / key)
    _made(app, ["facerec", "enroll", "astronaut", out["face"]], env)
    out["db"] = env["DLTOOL_FACE_DB"]
    _made(app, ["facerec", "export", root / "export.json"], env)
    out["export"] = str(root / "export.json")
    out["_root"] = str(root)
    out["_cache"] = str(tmp_path_factory.mktemp("wordvec-cache"))
    return out


def _resolve(value: object, assets: dict[str, str]) -> object:
    """Return ``value`` with "{asset}" names replaced by their paths."""
    if isinstance(value, list):
        return [_resolve(v, assets) for v in value]
    return value.format_map(assets) if isinstance(value, str) else value


def _suffix(command: str, param, base: object) -> str:
    """Return the suffix a bad path gets: the valid value's, else the command's output's."""
    first = base[0] if isinstance(base, list) else base
    if isinstance(first, str) and Path(first).suffix:
        return Path(first).suffix
    if _is_output(command, param):
        return OUT_SUFFIX.get(command, ".png") if param.name not in ("out", "directory") else ""
    return ".txt"


def _bad_path(cwd: Path, kind: str, suffix: str) -> str:
    """Create (or not) the bad file of ``kind`` in ``cwd`` and return its relative path."""
    if kind == "missing":
        return f"missing{suffix}"
    if kind == "empty":
        (cwd / f"empty{suffix}").touch()
        return f"empty{suffix}"
    if kind == "dir":
        (cwd / f"adir{suffix}").mkdir()
        return f"adir{suffix}"
    (cwd / "afile.txt").write_text("a file, not a folder\n", encoding="utf-8")
    return f"afile.txt/x{suffix}"


def _argv(name: str, command, values: dict[str, object]) -> list[str]:
    """Return the command line that gives ``command`` these values (options as --opt=value)."""
    options: list[str] = []
    positional: list[str] = []
    for p in command.params:
        if p.name not in values:
            continue
        value = values[p.name]
        if p.param_type_name == "argument":
            positional += [str(v) for v in value] if isinstance(value, list) else [str(value)]
        elif getattr(p, "is_flag", False):
            options += [p.opts[0]] if value else []
        else:
            long = [o for o in p.opts if o.startswith("--")]
            options += [f"{long[0]}={value}"] if long else [p.opts[0], str(value)]
    if name == "":
        return [*options, *ROOT_COMMAND]
    return ["--threads", "1", *name.split(), *options, *positional]


def _must_refuse(name: str, param, case: str) -> bool:
    """Return whether the case must end in exit 1 or 2 (see the module docstring)."""
    if case in NUMBERS:
        return case in HUGE and not (case == "1e12" and (name, param.opts[0]) in UNBOUNDED)
    if not _is_output(name, param):
        return not {(name, param.name, case), ("*", param.name, case)} & VALID_FILES.keys()
    if param.name in ("out", "directory"):  # a folder to write into
        return case in ("empty", "unreadable")
    return case in ("dir", "unreadable")


def _listing(root: Path) -> set[str]:
    """Return every path under ``root``, folders with a trailing slash."""
    return {str(p.relative_to(root)) + ("/" if p.is_dir() else "") for p in root.rglob("*")}


def _state(root: Path) -> dict[str, tuple[int, int]]:
    """Return (size, mtime in ns) of every file under ``root``: what a write would change."""
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file()
    }


def _left_behind(cwd: Path, before: set[str], failed: bool) -> list[str]:
    """Return what a case left that it should not have (see the module docstring)."""
    new = sorted(_listing(cwd) - before)
    stray = [p for p in new if p.endswith(".part") or Path(p).name.startswith(".")]
    for p in new:
        folder = cwd / p
        if p.endswith("/") and [c.name for c in folder.iterdir()] == ["config.yaml"]:
            stray.append(f"{p} (only config.yaml)")
    if failed:  # nothing new but the empty parents runs/<plugin>/<command>/
        files = [p for p in new if not p.endswith("/")]
        scaffold = [p for p in new if p.startswith("runs/") and p.count("/") <= 3]
        stray += [p for p in new if p not in scaffold]
        stray += [p for p in scaffold if any(f.startswith(p) for f in files)]
    return sorted(set(stray))


def _check_output(name: str, res) -> None:
    """Assert the exit code and, on failure, one error and one hint line or a usage error."""
    err = res.stderr
    assert res.exit_code in (0, 1, 2), (res.exit_code, res.stdout, err)
    assert "Traceback" not in res.stdout + err, err
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise AssertionError(f"{type(res.exception).__name__}: {res.exception}")
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    if res.exit_code == 0 or (name == "facerec verify" and res.exit_code == 1 and not errors):
        return  # verify: exit 1 is "no match", a result
    if res.exit_code == 2 and not errors:
        assert "Error:" in err and "Usage:" in err, err  # Click's usage error
        return
    hints = [line for line in err.splitlines() if line.startswith("hint:")]
    assert len(errors) == 1 and len(hints) == 1, err
    assert "unexpected" not in errors[0], err


def _case_env(name: str, cwd: Path, assets: dict[str, str]) -> dict[str, str]:
    """Return the environment of a case: runs and face database inside ``cwd``."""
    env = {"DLTOOL_RUNS": str(cwd / "runs"), "DLTOOL_FACE_DB": str(cwd / "faces.sqlite3")}
    if name.startswith("facerec"):
        for path in Path(assets["db"]).parent.glob(Path(assets["db"]).name + "*"):
            shutil.copy(path, cwd / path.name)
    if name.startswith("wordvec"):
        env["DLTOOL_CACHE"] = assets["_cache"]
    return env


@pytest.mark.parametrize(("name", "command", "param", "case"), CASES)
def test_sweep(app, assets, tmp_path, monkeypatch, name, command, param, case):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    env = _case_env(name, cwd, assets)
    values = {**BASE.get(name, {}), **FOR_PARAM.get((name, param.name), {})}
    values = {k: _resolve(v, assets) for k, v in values.items() if v is not None}
    if case in NUMBERS:
        whole = isinstance(param.type, click_types.IntParamType) and case == "1e12"
        values[param.name] = str(10**12) if whole else case  # ints: 1e12 is no int literal
    else:
        valid = values.get(param.name)
        bad = _bad_path(cwd, case, _suffix(name, param, valid))
        values[param.name] = [bad, *valid[1:]] if isinstance(valid, list) else bad
    before, shared = _listing(cwd), _state(Path(assets["_root"]))
    res = _invoke(app, _argv(name, command, values), env)
    _check_output(name, res)
    if _must_refuse(name, param, case):
        assert res.exit_code in (1, 2), f"accepted: {res.stdout[-500:]}"
    assert not _left_behind(cwd, before, res.exit_code != 0), res.stderr
    assert _state(Path(assets["_root"])) == shared, "a shared input changed"
