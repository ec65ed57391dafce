"""The built wheel works on its own: the plugin checks pass against it, not only editable.

The wheel is the one CI built (``DLTOOL_WHEEL=path/to/dltool-*.whl``, set by ``.ci/run``) or,
without it, one built here from a copy of the source files (``python -m build --wheel
--no-isolation``, nothing written into the tree). It is installed with ``pip install --no-deps
--target TMP``; every check then runs in a subprocess with ``PYTHONPATH=TMP`` first (the
dependencies come from the venv, ``python -S`` so the editable install's import hook is not
loaded) and its cwd outside the repository, and asserts that the
modules it imports come from TMP, so a file missing from the wheel cannot be covered up by
the source tree.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WHEEL_ENV = "DLTOOL_WHEEL"
DATA_SUFFIXES = (".yaml", ".json", ".txt")  # pyproject's [tool.setuptools.package-data]
SOURCES = ("pyproject.toml", "README.md", "LICENSE")
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")

PROBE = """
import json, sys
import dltool
from dltool.plugins import ENTRY_POINT_GROUP
from dltool.entry_points import entry_points
from dltool_wordvec import wordlists
mods = {ep.name: __import__(ep.value).__file__ for ep in entry_points(ENTRY_POINT_GROUP)}
read = {n: wordlists.pairs if n.endswith("_pairs") else wordlists.words for n in wordlists.FILES}
lists = {name: len(fn(name)) for name, fn in read.items()}
lists["weat"] = len(wordlists.weat_sets())
print(json.dumps({"dltool": dltool.__file__, "plugins": mods, "wordlists": lists}))
"""


def _pyproject() -> str:
    return (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def _section(name: str) -> str:
    """Return the body of the TOML table ``[name]`` of pyproject.toml (up to the next table)."""
    match = re.search(rf"^\[{re.escape(name)}\]\n(.*?)(?=^\[|\Z)", _pyproject(), re.M | re.S)
    assert match, f"pyproject.toml has no [{name}]"
    return match.group(1)


def _declared_plugins() -> set[str]:
    return set(re.findall(r"^(\w+)\s*=", _section("project.entry-points.dltool"), re.M))


def _package_dirs() -> list[tuple[Path, str]]:
    """Return (source folder, installed name) of every top-level package the wheel ships."""
    return [(ROOT / "dltool", "dltool")] + [
        (p, p.name) for p in sorted((ROOT / "plugins").glob("dltool_*")) if p.is_dir()
    ]


def _data_files() -> set[str]:
    """Return the installed relative paths of the package data the source tree holds.

    Every ``*.yaml/*.json/*.txt`` on disk in a package folder, and every other non-Python
    file git tracks there (a data file of a new kind must be declared, not silently dropped).
    """
    tracked: set[Path] = set()
    if (ROOT / ".git").exists() and shutil.which("git"):
        out = subprocess.run(
            ["git", "ls-files", "dltool", "plugins"], cwd=ROOT, capture_output=True, text=True
        )
        tracked = {ROOT / line for line in out.stdout.splitlines() if out.returncode == 0}
    found = set()
    for src, name in _package_dirs():
        for path in src.rglob("*"):
            skip = "__pycache__" in path.parts or path.suffix in (".py", ".pyc")
            wanted = path.suffix in DATA_SUFFIXES or path in tracked
            if path.is_file() and wanted and not skip:
                found.add(f"{name}/{path.relative_to(src).as_posix()}")
    return found


def _build_wheel(out: Path) -> Path:
    """Build a wheel from a copy of the source files (the tree itself gets no build/ folder)."""
    pytest.importorskip("build", reason="the dev extra installs 'build'")
    src = out / "src"
    src.mkdir()
    for name in SOURCES:
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "dltool", src / "dltool", ignore=IGNORE)
    for pkg, name in _package_dirs()[1:]:
        shutil.copytree(pkg, src / "plugins" / name, ignore=IGNORE)
    cmd = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), src]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return next(out.glob("dltool-*.whl"))


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """Return the --target folder the wheel is installed into."""
    given = os.environ.get(WHEEL_ENV)
    if given:
        wheel = Path(given)
        assert wheel.is_file(), f"{WHEEL_ENV}={given} is not a file"
    else:
        wheel = _build_wheel(tmp_path_factory.mktemp("wheel"))
    target = tmp_path_factory.mktemp("target")
    cmd = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-compile"]
    cmd += ["--disable-pip-version-check", "--target", str(target), str(wheel)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return target


def _run(target: Path, *args: str) -> str:
    """Run ``python -S args`` with the wheel first on the path, from outside the repository.

    ``-S`` skips the venv's ``.pth`` files: the editable install's import hook would otherwise
    serve a module the wheel lacks from the source tree. The venv's site-packages come after
    the wheel on PYTHONPATH, for the dependencies.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("_DLTOOL", "COMP_"))}
    paths = sysconfig.get_paths()
    site = dict.fromkeys([str(target), paths["purelib"], paths["platlib"]])
    env["PYTHONPATH"] = os.pathsep.join(site)
    env["NO_COLOR"] = "1"
    cwd = target.parent
    assert ROOT not in cwd.parents
    cmd = [sys.executable, "-S", *args]
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


def test_wheel_imports_its_own_files_with_entry_points_and_word_lists(installed):
    probe = json.loads(_run(installed, "-c", PROBE))
    assert Path(probe["dltool"]).is_relative_to(installed)
    assert set(probe["plugins"]) == _declared_plugins() and len(probe["plugins"]) == 8
    for name, path in probe["plugins"].items():
        assert Path(path).is_relative_to(installed), (name, path)
    assert all(n > 0 for n in probe["wordlists"].values()), probe["wordlists"]


def test_wheel_holds_package_data_and_license(installed):
    expected = _data_files()
    assert "dltool_wordvec/data/professions.yaml" in expected
    missing = sorted(f for f in expected if not (installed / f).is_file())
    assert not missing, f"package data missing from the wheel: {missing}"
    licenses = list(installed.glob("dltool-*.dist-info/licenses/LICENSE"))
    assert licenses and licenses[0].read_bytes() == (ROOT / "LICENSE").read_bytes()


def test_wheel_console_script_version_plugins_and_completion(installed):
    script = installed / "bin" / "dltool"
    version = re.search(r'^version = "([^"]+)"', _pyproject(), re.M).group(1)
    assert _run(installed, str(script), "--version").strip() == f"dltool {version}"
    plugins = json.loads(_run(installed, str(script), "plugins", "--json"))["plugins"]
    assert {p["name"] for p in plugins} == _declared_plugins()
    assert all(p["status"] == "ok" and p["distribution"] == "dltool" for p in plugins), plugins
    bash = _run(installed, str(script), "completion", "show", "bash")
    assert bash == (ROOT / "completions" / "dltool.bash").read_text(encoding="utf-8")
