"""Shell completion: committed scripts match the CLI, and real shells complete with them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from dltool_support import BASH_COMPLETE, SHELL_ENV, run_dltool

from dltool.core_commands import COMPLETION_FILES, completion_script

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "completions"
ENV = SHELL_ENV


@pytest.mark.parametrize("shell", sorted(COMPLETION_FILES))
def test_committed_scripts_are_up_to_date(shell):
    committed = (SCRIPTS / COMPLETION_FILES[shell]).read_text()
    assert committed == completion_script(shell), "run: dltool completion write completions"
    assert run_dltool("completion", "show", shell).stdout == committed


def _shell(shell: str, script: str) -> str:
    if shutil.which(shell) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{shell} is not installed; .ci/run installs it")
        pytest.skip(f"{shell} is not installed")
    run = subprocess.run(
        [shell, "-c", script], capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=120
    )
    assert run.returncode == 0, run.stderr
    return run.stdout


BASH = BASH_COMPLETE

ZSH = """
autoload -Uz compinit && compinit -u -D
source completions/_dltool
_arguments() {{ print -r -- "$@" }}
words=({words}); CURRENT={current}
_dltool_completion
"""

FISH = "source completions/dltool.fish; complete -C '{line}'"


def test_bash_completes_commands_and_options():
    assert _shell("bash", BASH.format(words="dltool pl", cword=1)).split() == ["plugins"]
    options = _shell("bash", BASH.format(words="dltool weights fetch --", cword=3)).split()
    assert "--force" in options
    assert _shell("bash", BASH.format(words="dltool --device c", cword=2)).split() == [
        "cpu",
        "cuda",
    ]


def test_zsh_completes_commands_and_options():
    assert '"plugins":' in _shell("zsh", ZSH.format(words="dltool pl", current=2))
    assert '"--force":' in _shell("zsh", ZSH.format(words="dltool weights fetch --", current=4))


def test_fish_completes_commands_and_options():
    assert _shell("fish", FISH.format(line="dltool pl")).startswith("plugins\t")
    assert "--force" in _shell("fish", FISH.format(line="dltool weights fetch --"))


def test_completion_prints_only_candidates_even_with_broken_plugins(fake_site):
    env = {
        "PYTHONPATH": str(fake_site),
        "_DLTOOL_COMPLETE": "complete_bash",
        "COMP_WORDS": "dltool he",
        "COMP_CWORD": "1",
    }
    run = run_dltool(env=env)
    assert run.returncode == 0
    assert run.stdout.split() == ["hello"] and run.stderr == ""
