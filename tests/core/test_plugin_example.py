"""The third-party plugin example of the docs (examples/dltool-hello) installs and runs.

It is installed the way a user would (pip, from its own pyproject, into a folder of its
own) and found by dltool only through its entry point, with no change to dltool.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "dltool-hello"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict[str, str]:
    """Install the example into a temporary folder; return the environment that sees it."""
    target = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("build")
    source = build / "dltool-hello"  # a copy: pip's build/ and egg-info stay out of the tree
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "TMPDIR": str(build)}
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", str(target), str(source)],
        check=True, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert (target / "dltool_hello" / "__init__.py").is_file()
    env = {k: v for k, v in os.environ.items() if k != "DLTOOL_PLUGINS"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(target), env.get("PYTHONPATH")]))
    return env


def _dltool(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dltool", *args],
        env=env, capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip


def test_example_plugin_is_found_and_runs(installed) -> None:
    listed = _dltool(installed, "--json", "plugins")
    assert listed.returncode == 0, listed.stderr
    assert "hello" in listed.stdout and "dltool-hello" in listed.stdout

    greeted = _dltool(installed, "--json", "hello", "greet", "Ada", "--times", "2")
    assert greeted.returncode == 0, greeted.stderr
    assert json.loads(greeted.stdout) == {"greetings": ["Hello, Ada!", "Hello, Ada!"]}

    plain = _dltool(installed, "hello", "greet", "Ada")
    assert plain.stdout.splitlines() == ["Hello, Ada!"]


def test_example_plugin_bad_input_is_a_usage_error(installed) -> None:
    result = _dltool(installed, "hello", "greet", "Ada", "--times", "11")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_example_plugin_absent_without_its_folder() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DLTOOL_PLUGINS"}
    result = _dltool(env, "--json", "plugins")
    assert result.returncode == 0 and "dltool_hello" not in result.stdout
