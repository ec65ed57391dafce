"""Exit codes, error lines, global options, config precedence and run directories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
import yaml

from dltool.cli import hoist_global_options
from dltool.errors import DltoolError


def test_user_error_is_one_line_plus_hint_exit_1(fake_app, invoke):
    result = invoke(fake_app, "hello", "greet", "--fail")
    assert result.exit_code == 1
    assert result.stderr == "error: bad name\nhint: use another name\n"


def test_usage_error_exits_2(fake_app, invoke):
    assert invoke(fake_app, "hello", "greet", "--no-such-flag").exit_code == 2
    assert invoke(fake_app, "nosuchcommand").exit_code == 2


def test_ctrl_c_exits_130_without_traceback(fake_app, invoke):
    result = invoke(fake_app, "hello", "greet", "--interrupt")
    assert result.exit_code == 130
    assert "Traceback" not in result.output and "interrupted" in result.stderr


def test_unexpected_error_is_one_line_unless_debug(fake_app, invoke):
    result = invoke(fake_app, "hello", "greet", "--crash")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "error: unexpected RuntimeError: boom"
    assert "Traceback" not in result.output
    debug = invoke(fake_app, "--debug", "hello", "greet", "--crash")
    assert isinstance(debug.exception, RuntimeError)


def test_global_options_anywhere_and_json_document(fake_app, invoke):
    result = invoke(fake_app, "hello", "greet", "--name", "ada", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"greeting": [{"name": "ada", "text": "hello ada"}]}


def test_hoisting_keeps_values_and_stops_at_double_dash():
    args = ["x", "y", "--device", "cpu", "--seed=3", "-q", "--", "--json"]
    assert hoist_global_options(args) == [
        "--device",
        "cpu",
        "--seed=3",
        "-q",
        "x",
        "y",
        "--",
        "--json",
    ]


def test_unknown_device_is_one_line(fake_app, invoke):
    result = invoke(fake_app, "--device", "tpu", "hello", "greet")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: unknown device 'tpu'")


def test_unknown_device_from_env_is_one_line_without_traceback():
    from dltool_support import run_dltool

    run = run_dltool("plugins", env={"DLTOOL_DEVICE": "tpu"})
    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        "error: unknown device 'tpu'",
        "hint: use one of: auto, cpu, cuda, cuda:N, mps",
    ]


def test_config_precedence_flags_over_file_over_defaults(fake_app, invoke, tmp_path):
    cfg = tmp_path / "run.yaml"
    cfg.write_text("lr: 0.5\nepochs: 7\n")
    result = invoke(fake_app, "--json", "hello", "train", "--config", str(cfg), "--epochs", "2")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["params"] == {"lr": 0.5, "epochs": 2, "optimizer": "adam"}
    run = tmp_path / "runs" / "hello" / "train" / "1"
    assert doc["run_dir"] == str(run)
    assert yaml.safe_load((run / "config.yaml").read_text()) == doc["params"]
    lines = (run / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["step"] for x in lines] == [0, 1]
    second = invoke(fake_app, "--json", "hello", "train")
    assert json.loads(second.stdout)["run_dir"].endswith("/hello/train/2")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lr: 0.5\nbatch: 3\n", "unknown key 'batch' in"),
        ("epochs: many\n", "config key 'epochs' in"),
        ("lr: [1, 2\n", "is not valid YAML at line"),
        ("- 1\n- 2\n", "must be a mapping"),
        ("!!python/object/apply:os.system ['echo hi']\n", "is not valid YAML"),
        ("epochs: " + "[" * 10000 + "]" * 10000 + "\n", "is nested too deeply"),
        ("epochs: null\n", "config key 'epochs' in"),
        ("epochs: {a: 1}\n", "expects one value, not a mapping"),
    ],
)
def test_bad_config_files(fake_app, invoke, tmp_path, text, message):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    result = invoke(fake_app, "hello", "train", "--config", str(cfg))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert [line.split(":")[0] for line in result.stderr.splitlines()] == ["error", "hint"]
    assert not (tmp_path / "runs").exists()


def test_unknown_key_lists_valid_keys(fake_app, invoke, tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("momentum: 0.9\n")
    result = invoke(fake_app, "hello", "train", "--config", str(cfg))
    assert "valid keys: epochs, lr, optimizer" in result.stderr


def test_unreadable_config_file_exits_1_with_a_hint(fake_app, invoke, tmp_path, monkeypatch):
    cfg = tmp_path / "secret.yaml"
    cfg.write_text("epochs: 1\n")
    real = Path.read_text

    def denied(self, *args, **kwargs):
        if self == cfg:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", denied)
    result = invoke(fake_app, "hello", "train", "--config", str(cfg))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: cannot read config file {cfg}: Permission denied",
        "hint: give the path of a readable YAML file to --config",
    ]
    folder = invoke(fake_app, "hello", "train", "--config", str(tmp_path))
    assert folder.exit_code == 1 and "cannot read config file" in folder.stderr


@pytest.mark.parametrize(
    ("option", "value"), [("--seed", "-1"), ("--seed", str(2**32)), ("--threads", "0")]
)
def test_global_options_out_of_range_are_usage_errors(fake_app, invoke, option, value):
    result = invoke(fake_app, option, value, "hello", "greet", "--name", "x")
    assert result.exit_code == 2
    assert f"Invalid value for '{option}'" in result.stderr
    assert "unexpected" not in result.stderr and "Traceback" not in result.output


def test_largest_seed_is_accepted(fake_app, invoke):
    result = invoke(fake_app, "--seed", str(2**32 - 1), "hello", "greet", "--name", "x")
    assert result.exit_code == 0, result.stderr


def test_os_errors_about_a_users_path_are_one_line_not_a_bug():
    from dltool.cli import _unexpected

    message, hint = _unexpected(PermissionError(13, "Permission denied", "/ro/out.png"))
    assert (message, hint) == (
        "Permission denied: /ro/out.png",
        "check the permissions, or choose another path",
    )
    message, _ = _unexpected(IsADirectoryError(21, "Is a directory", "out"))
    assert message == "Is a directory: out"
    assert _unexpected(ValueError("bug"))[0] == "unexpected ValueError: bug"
    assert _unexpected(OSError(5, "I/O error"))[0].startswith("unexpected OSError")


def test_missing_config_file(fake_app, invoke, tmp_path):
    result = invoke(fake_app, "hello", "train", "--config", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 1 and "does not exist" in result.stderr


def test_version(fake_app, invoke):
    from dltool import __version__

    assert invoke(fake_app, "--version").stdout.strip() == f"dltool {__version__}"


def test_python_dash_m_runs_the_same_cli():
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-m", "dltool", "--version"], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0 and run.stdout.startswith("dltool ")


def test_json_document_survives_a_commands_own_exit_code(fake_app, invoke):
    result = invoke(fake_app, "--json", "hello", "greet", "--name", "x", "--exit-code", "3")
    assert result.exit_code == 3
    assert json.loads(result.stdout) == {"greeting": [{"name": "x", "text": "hello x"}]}


def test_hoisting_leaves_a_subcommands_own_options_and_their_values():
    declared = {"--seed": True, "--prefix": True, "--flag": False}
    args = ["sample", "R", "--seed", "7", "--prefix", "--json", "--flag", "--quiet"]
    assert hoist_global_options(args, declared) == [
        "--quiet",
        "sample",
        "R",
        "--seed",
        "7",
        "--prefix",
        "--json",
        "--flag",
    ]


def test_option_value_that_looks_global_reaches_the_command(fake_app, invoke):
    result = invoke(fake_app, "--json", "hello", "greet", "--name", "--quiet")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["greeting"][0]["name"] == "--quiet"


def test_tab_on_a_plugin_whose_module_is_missing_prints_no_traceback(fake_site):
    import os

    from dltool_support import run_dltool

    broken = fake_site / "fakeplug" / "cli.py"
    broken.rename(broken.with_name("gone.py"))
    env = {
        "PYTHONPATH": os.pathsep.join([str(fake_site), os.environ.get("PYTHONPATH", "")]),
        "_DLTOOL_COMPLETE": "complete_bash",
        "COMP_WORDS": "dltool hello ",
        "COMP_CWORD": "2",
    }
    run = run_dltool(env=env)
    assert run.returncode == 0 and "Traceback" not in run.stderr


def test_completion_write_to_a_bad_place_is_a_user_error(fake_app, invoke, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = invoke(fake_app, "completion", "write", str(blocker))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot write") and "unexpected" not in result.stderr


def test_numeric_yaml_value_for_a_path_option(tmp_path):
    from typer.testing import CliRunner

    from dltool.config import resolve_config

    app = typer.Typer()
    seen = {}

    @app.command()
    def run(ctx: typer.Context, log: Path = Path("x"), config: Path = typer.Option(None)):
        seen.update(resolve_config(ctx, config))

    cfg = tmp_path / "run.yaml"
    cfg.write_text("log: 5\n")
    result = CliRunner().invoke(app, ["--config", str(cfg)])
    assert result.exit_code == 0, result.output
    assert str(seen["log"]) == "5"
    cfg.write_text("log: null\n")  # as a saved config.yaml holds an unset path
    result = CliRunner().invoke(app, ["--config", str(cfg)])
    assert result.exit_code == 0, result.output
    assert seen["log"] is None


def test_saved_config_with_nulls_round_trips(fake_app, invoke, tmp_path):
    first = invoke(fake_app, "--json", "hello", "train", "--out", str(tmp_path / "a"))
    assert first.exit_code == 0, first.stderr
    cfg = tmp_path / "a" / "config.yaml"
    again = invoke(fake_app, "--json", "hello", "train", "--config", str(cfg))
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout)["params"] == json.loads(first.stdout)["params"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("epochs: 2.7\n", "config key 'epochs' in"),
        ("epochs: true\n", "config key 'epochs' in"),
        ("flag: 3\n", "config key 'flag' in"),
        ("lr: [1, 2]\n", "config key 'lr' in"),
        ("lr: {a: 1}\n", "config key 'lr' in"),
    ],
)
def test_config_values_are_parsed_like_flags_not_coerced(tmp_path, text, message):
    from typer.testing import CliRunner

    from dltool.config import resolve_config

    app = typer.Typer(pretty_exceptions_enable=False)
    seen = {}

    @app.command()
    def run(
        ctx: typer.Context,
        epochs: int = 3,
        lr: float = 0.1,
        flag: bool = False,
        config: Path = typer.Option(None),
    ):
        seen.update(resolve_config(ctx, config))

    cfg = tmp_path / "run.yaml"
    cfg.write_text(text)
    result = CliRunner().invoke(app, ["--config", str(cfg)])
    assert isinstance(result.exception, DltoolError), result.output
    assert message in str(result.exception) and not seen
    cfg.write_text("epochs: 4\nlr: 1\nflag: yes\n")
    result = CliRunner().invoke(app, ["--config", str(cfg)])
    assert result.exit_code == 0, result.output
    assert {k: seen[k] for k in ("epochs", "lr", "flag")} == {"epochs": 4, "lr": 1.0, "flag": True}


def test_usage_errors_are_one_error_line_and_a_hint(fake_app, invoke):
    result = invoke(fake_app, "hello", "train", "--epochs", "x")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: Invalid value for '--epochs'")
    assert lines[1] == "hint: see 'dltool hello train --help'"
    root = invoke(fake_app, "--threads", "0", "plugins")
    assert root.exit_code == 2 and root.stderr.splitlines()[-1] == "hint: see 'dltool --help'"
    assert invoke(fake_app, "nope").stderr.startswith("error: No such command 'nope'.")
