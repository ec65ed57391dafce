"""One command convention in every plugin, checked on the built Click commands.

Every option of every command has help text; every option whose value is one of a fixed set
is a Click choice (so TAB completes it); and real bash, through the committed completion
script, offers those choices (``dltool cnn train --model <TAB>``).
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import typer
from dltool_support import BASH_COMPLETE, ROOT, SHELL_ENV

from dltool.cli import create_app
from dltool.data.images import SAMPLES

# a help text that lists the values an option takes: "adam|sgd", "one of: a, b"
LISTS_VALUES = re.compile(r"\b[a-z][\w-]*\|[a-z][\w-]*\|?")


def _commands():
    """Yield (path, click command) for every leaf command of every built-in plugin."""
    root = typer.main.get_command(create_app())
    ctx = root.make_context("dltool", ["--help"], resilient_parsing=True)
    for name in root.list_commands(ctx):
        group = root.get_command(ctx, name)
        subs = getattr(group, "commands", None)
        if subs is None:
            yield (name,), group
            continue
        for sub_name, sub in subs.items():
            yield (name, sub_name), sub


COMMANDS = sorted(_commands(), key=lambda item: item[0])


def _options(command):
    """Return the command's options without help/completion switches."""
    return [
        p
        for p in command.params
        if p.param_type_name == "option" and p.name not in ("help", "install_completion")
    ]


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_option_has_help_and_choices_are_choices(path, command):
    for opt in _options(command):
        assert (opt.help or "").strip(), f"dltool {' '.join(path)} {opt.opts[0]} has no help"
        assert not opt.help.rstrip().endswith(" ."), f"{opt.opts[0]}: help ends in ' .'"
        is_choice = hasattr(opt.type, "choices")
        if not is_choice and not opt.is_flag and LISTS_VALUES.search(opt.help or ""):
            listed = LISTS_VALUES.search(opt.help).group()
            pytest.fail(f"dltool {' '.join(path)} {opt.opts[0]} lists {listed!r} but is no choice")


CHOICES = [
    (path, opt.opts[0], [str(c) for c in opt.type.choices])
    for path, command in COMMANDS
    for opt in _options(command)
    if hasattr(opt.type, "choices")
]


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completes_every_choice_option():
    assert any(p == ("cnn", "train") and o == "--model" for p, o, _ in CHOICES)
    script = "\n".join(
        BASH_COMPLETE.format(words=f"dltool {' '.join(path)} {flag} ''", cword=len(path) + 2)
        + "echo ---"
        for path, flag, _ in CHOICES
    )
    out = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, env=SHELL_ENV, cwd=ROOT, timeout=600
    )
    assert out.returncode == 0, out.stderr
    *replies, rest = out.stdout.split("---\n")
    assert rest == ""
    for (path, flag, choices), reply in zip(CHOICES, replies, strict=True):
        assert sorted(reply.split()) == sorted(choices), f"dltool {' '.join(path)} {flag}"


DEMOS = ("chelsea", "china")  # readline puts the reply after the ':' bash broke the word at
VALUE_LISTS = [  # (words, the cursor's word index, the expected reply)
    ("dltool cnn train --data ''", 4, ["digits", "shapes"]),
    ("dltool cnn train --data s", 4, ["shapes"]),
    ("dltool cnn train --data runs/", 4, []),  # a folder: bash completes file names
    ("dltool wordvec train ''", 3, ["lee", "lee-test"]),
    ("dltool weights fetch yolo", 3, ["yolov3-tiny"]),
    ("dltool weights path e", 3, ["efficientnet-lite0"]),
    ("dltool yolo detect demo:ch", 3, list(DEMOS)),
    ("dltool yolo detect a.png demo:ch", 4, list(DEMOS)),
    ("dltool yolo detect demo : ch", 5, list(DEMOS)),  # the words as bash breaks them at ':'
    ("dltool yolo detect demo :", 4, list(SAMPLES)),
    ("dltool facerec verify demo : ch", 5, list(DEMOS)),
    ("dltool cnn conv demo : ch", 5, list(DEMOS)),
    ("dltool yolo detect ph", 3, []),  # not demo: -> bash completes file names
    ("dltool cnn predict efficientnet-lite0 demo:ch", 4, list(DEMOS)),
    ("dltool cnn conv demo:ch", 3, list(DEMOS)),
    ("dltool facerec detect demo:ch", 3, list(DEMOS)),
    ("dltool facerec identify demo:ch", 3, list(DEMOS)),
    ("dltool facerec verify demo:ch", 3, list(DEMOS)),
    ("dltool facerec enroll ann demo:ch", 4, list(DEMOS)),
    ("dltool style transfer demo:chelsea demo:ch", 4, list(DEMOS)),
]


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completes_value_lists_and_demo_images():
    script = "\n".join(
        BASH_COMPLETE.format(words=words, cword=cword) + "echo ---"
        for words, cword, _ in VALUE_LISTS
    )
    out = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, env=SHELL_ENV, cwd=ROOT, timeout=600
    )
    assert out.returncode == 0, out.stderr
    *replies, rest = out.stdout.split("---\n")
    assert rest == ""
    for (words, _, expected), reply in zip(VALUE_LISTS, replies, strict=True):
        assert sorted(reply.split()) == sorted(expected), words


def test_completed_corpora_are_the_built_in_ones():
    from dltool_wordvec.cli import BUILTIN_CORPORA
    from dltool_wordvec.train import BUILTIN

    assert tuple(BUILTIN) == BUILTIN_CORPORA


PLUGIN_DIRS = sorted((ROOT / "plugins").glob("dltool_*"))
ROLE_FILES = {  # what a module does -> the one file name it has in every plugin
    re.compile(r"\bfigure\("): "plots.py",  # dltool.report.figure: plots
    re.compile(r"\bArtifact\("): "weights.py",  # artifact declarations
}


@pytest.mark.parametrize("plugin", PLUGIN_DIRS, ids=[p.name for p in PLUGIN_DIRS])
def test_same_role_same_file_name(plugin):
    for module in sorted(plugin.glob("*.py")):
        text = module.read_text(encoding="utf-8")
        for pattern, name in ROLE_FILES.items():
            if pattern.search(text) and "def figure(" not in text:
                assert module.name == name, f"{plugin.name}/{module.name}: belongs in {name}"
