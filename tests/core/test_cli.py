"""Exit codes, error lines, global options, config precedence and run directories."""

from __future__ import annotations

import json

import pytest
import yaml

from dltool.cli import hoist_global_options


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
    ],
)
def test_bad_config_files(fake_app, invoke, tmp_path, text, message):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    result = invoke(fake_app, "hello", "train", "--config", str(cfg))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "runs").exists()


def test_unknown_key_lists_valid_keys(fake_app, invoke, tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("momentum: 0.9\n")
    result = invoke(fake_app, "hello", "train", "--config", str(cfg))
    assert "valid keys: epochs, lr, optimizer" in result.stderr


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
