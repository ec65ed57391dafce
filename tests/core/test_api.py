"""The Python API: each plugin's ``__all__`` resolves lazily, and ``dltool.api.run`` returns
what ``--json`` prints, raising the command's error and hint as a ``DltoolError``."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest
from dltool_support import HEAVY

from dltool import api
from dltool.errors import DltoolError

BUILTIN = ("basicnn", "optimizers", "cnn", "yolo", "facerec", "style", "rnn", "wordvec")
TINY_VECTORS = "king 1 0 0\nqueen 0.9 0.1 0\nman 0 1 0\nwoman 0 0.9 0.1\napple 0 0 1\n"


@pytest.mark.parametrize("name", BUILTIN)
def test_every_public_name_resolves(name):
    package = importlib.import_module(f"dltool_{name}")
    assert package.__all__, name
    for public in package.__all__:
        assert getattr(package, public) is not None, public
        assert public in vars(package)  # cached after the first look-up
    with pytest.raises(AttributeError):
        package.no_such_name  # noqa: B018


@pytest.mark.parametrize("name", BUILTIN)
def test_no_public_name_shadows_a_submodule(name):
    import pkgutil

    package = importlib.import_module(f"dltool_{name}")
    modules = {m.name for m in pkgutil.iter_modules(package.__path__)}
    for public, target in package._EXPORTS.items():  # `from pkg import search` must stay the module
        assert public not in modules or target == f"dltool_{name}.{public}", public


def test_importing_the_plugins_imports_nothing_heavy():
    code = (
        "import sys\n"
        f"for name in {BUILTIN!r}: __import__('dltool_' + name)\n"
        "import dltool_yolo; print(sorted(dltool_yolo.__all__))\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    names, heavy = run.stdout.splitlines()
    assert "Detector" in names and "default_detector" in names
    assert heavy == ""


def test_flags_from_keywords():
    import typer

    app = typer.Typer()

    @app.command()
    def x(
        size: int = 0,
        exist_ok: bool = False,
        force: bool = typer.Option(False, "--force"),
        klass: list[str] = typer.Option([], "-c", "--class"),
    ) -> None:
        """Do nothing."""

    command = typer.main.get_command(app)
    line = api.command_line(
        command, {"size": 320, "exist_ok": False, "force": True, "klass": ["a", "b"]}
    )
    assert line == ["--size", "320", "--no-exist-ok", "--force", "--class", "a", "--class", "b"]
    assert api.command_line(command, {"force": False, "size": None}) == []
    with pytest.raises(api.UsageError, match="unknown option"):
        api.command_line(command, {"bogus": 1})


@pytest.mark.parametrize(
    ("words", "options", "argv"),
    [
        (
            ["rnn", "shapes"],
            {"cell": "lstm", "T": 3},
            ["rnn", "shapes", "--cell", "lstm", "--T", "3"],
        ),
        (
            ["cnn", "shapes"],
            {"input": "32x32x3", "layers": "conv:f=3,s=1,p=same,c=8; pool:f=2,s=2"},
            [
                "cnn",
                "shapes",
                "--input",
                "32x32x3",
                "--layers",
                "conv:f=3,s=1,p=same,c=8; pool:f=2,s=2",
            ],
        ),
    ],
)
def test_run_returns_what_json_prints(cli, words, options, argv):
    printed = cli("--json", *argv)
    assert printed.exit_code == 0, printed.stderr
    assert api.call(words, **options) == json.loads(printed.stdout)


def test_run_with_arguments_and_a_file(cli, tmp_path):
    vectors = tmp_path / "tiny.txt"
    vectors.write_text(TINY_VECTORS, encoding="utf-8")
    printed = cli("--json", "wordvec", "similar", "king", "-n", "2", "--vectors", vectors)
    assert printed.exit_code == 0, printed.stderr
    got = api.run("wordvec", "similar", "king", n=2, vectors=vectors)
    assert got == json.loads(printed.stdout)
    assert [row["word"] for row in next(iter(got.values()))][0] == "queen"


def test_a_failure_is_a_dltool_error_with_its_hint(tmp_path):
    with pytest.raises(DltoolError) as caught:
        api.run("wordvec", "similar", "king", vectors=tmp_path / "missing.txt")
    assert caught.value.exit_code == 1
    assert "missing.txt" in caught.value.message and caught.value.hint


def test_a_refused_command_line_is_an_error_with_exit_code_2():
    with pytest.raises(DltoolError) as caught:
        api.run("rnn", "shapes", cell="nope")
    assert caught.value.exit_code == 2 and "--cell" in caught.value.message
    with pytest.raises(api.UsageError, match="no command"):
        api.run("rnn", "no-such-command")
