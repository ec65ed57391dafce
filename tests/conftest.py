"""Shared fixtures: isolated run directories, CLI runners and a fake plugin on disk."""

from __future__ import annotations

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


@pytest.fixture
def invoke():
    """Run the CLI in-process: invoke(app, *args) -> Result with stdout/stderr/exit_code."""
    runner = CliRunner()

    def _invoke(app, *args, env=None):
        return runner.invoke(app, list(args), env=env, prog_name="dltool")

    return _invoke
