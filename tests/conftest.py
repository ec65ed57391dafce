"""Shared fixtures: isolated run directories, the one app and CLI runner, the failure check.

``app`` is dltool with every built-in plugin (their CLIs load on use), ``cli(*args)`` runs it
in-process, and ``fails(result, text)`` checks the error contract: the exit code, one
``error:`` line holding ``text``, one ``hint:`` line, no traceback.
"""

from __future__ import annotations

import importlib

import pytest
from dltool_support import FAKE_CLI, FAKE_INIT, FAKE_MODELS, write_package
from typer.testing import CliRunner


@pytest.fixture(autouse=True)
def _isolated_runs(tmp_path, monkeypatch):
    """Send run directories of every test to a temporary folder."""
    monkeypatch.setenv("DLTOOL_RUNS", str(tmp_path / "runs"))


@pytest.fixture
def fake_site(tmp_path, monkeypatch):
    """A site directory with an installed fake plugin 'hello' and a broken plugin."""
    site = tmp_path / "site"
    site.mkdir()
    files = {"__init__.py": FAKE_INIT, "cli.py": FAKE_CLI, "models.py": FAKE_MODELS}
    write_package(site, "fakeplug", files, "[dltool]\nhello = fakeplug\n")
    broken = {"__init__.py": "import dltool\nimport a_module_that_does_not_exist_42\n"}
    write_package(site, "brokenplug", broken, "[dltool]\nbroken = brokenplug\n")
    monkeypatch.syspath_prepend(str(site))
    return site


@pytest.fixture
def fake_app(fake_site):
    """The dltool app built with only the fake plugin (in-process)."""
    import fakeplug

    from dltool.cli import create_app
    from dltool.plugins import PluginManager

    return create_app(PluginManager.from_modules({"hello": fakeplug}))


BUILTIN = ("basicnn", "optimizers", "cnn", "yolo", "facerec", "style", "rnn", "wordvec")


@pytest.fixture(scope="session")
def app():
    """The dltool app with every built-in plugin, in-process."""
    from dltool.cli import create_app
    from dltool.plugins import PluginManager

    modules = {name: importlib.import_module(f"dltool_{name}") for name in BUILTIN}
    return create_app(PluginManager.from_modules(modules))


@pytest.fixture
def cli(app):
    """Run ``dltool ARGS…`` in-process: cli(*args) -> Result (stdout, stderr, exit_code)."""
    runner = CliRunner()

    def _run(*args, env=None):
        return runner.invoke(app, [str(a) for a in args], env=env, prog_name="dltool")

    return _run


def check_failure(result, text: str, code: int = 1):
    """Assert ``result`` failed with ``code``: one error line holding ``text``, one hint line."""
    err = result.stderr
    assert result.exit_code == code, (result.stdout, err)
    assert "Traceback" not in result.output + err, err
    lines = err.strip().splitlines()
    assert [line.split(":")[0] for line in lines[-2:]] == ["error", "hint"], err
    assert text in lines[-2], err
    return result


@pytest.fixture
def fails():
    """Return the failure check: fails(result, text, code=1)."""
    return check_failure


@pytest.fixture
def invoke():
    """Run the CLI in-process: invoke(app, *args) -> Result with stdout/stderr/exit_code."""
    runner = CliRunner()

    def _invoke(app, *args, env=None):
        return runner.invoke(app, list(args), env=env, prog_name="dltool")

    return _invoke
