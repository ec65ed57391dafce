"""Plugin discovery through entry points, isolation of broken plugins, lazy sub-apps."""

from __future__ import annotations

import json
import os
import sys

import pytest
from dltool_support import run_dltool

from dltool.plugins import PluginManager


def _env(site, **extra):
    return {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]), **extra}


def test_external_plugin_shows_in_help_and_plugins(fake_site):
    help_run = run_dltool("--help", env=_env(fake_site))
    assert help_run.returncode == 0
    assert "hello" in help_run.stdout and "Say hello (fake plugin)." in help_run.stdout
    assert "warning: plugin 'broken' disabled" in help_run.stderr
    assert "a_module_that_does_not_exist_42" in help_run.stderr

    listing = run_dltool("plugins", "--json", env=_env(fake_site))
    assert listing.returncode == 0, listing.stderr
    rows = {r["name"]: r for r in json.loads(listing.stdout)["plugins"]}
    assert rows["hello"]["status"] == "ok"
    assert rows["hello"]["distribution"] == "fakeplug"
    assert rows["hello"]["version"] == "1.2.3"
    assert rows["hello"]["commands"] == "hello"
    assert "register_commands" in rows["hello"]["hooks"]
    assert rows["broken"]["status"].startswith("import failed: ModuleNotFoundError")


def test_broken_plugin_does_not_break_other_commands(fake_site):
    run = run_dltool("hello", "greet", "--name", "ada", env=_env(fake_site))
    assert run.returncode == 0, run.stderr
    assert "hello ada" in run.stdout


def test_strict_mode_turns_plugin_failure_into_error(fake_site):
    run = run_dltool("plugins", env=_env(fake_site, DLTOOL_STRICT_PLUGINS="1"))
    assert run.returncode == 1
    assert run.stderr.startswith("error: plugin 'broken' failed")
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("value", ["on", "TRUE", "yes"])
def test_strict_mode_accepts_every_true_word(fake_site, value):
    run = run_dltool("plugins", env=_env(fake_site, DLTOOL_STRICT_PLUGINS=value))
    assert run.returncode == 1 and run.stderr.startswith("error: plugin 'broken' failed")


def test_env_flag_is_one_rule_for_debug_and_strict(monkeypatch):
    from dltool.errors import env_flag

    for value, expected in [("on", True), (" Yes ", True), ("1", True), ("0", False), ("", False)]:
        monkeypatch.setenv("DLTOOL_X", value)
        assert env_flag("DLTOOL_X") is expected, value


def test_load_only_selected_plugins(fake_site):
    run = run_dltool("plugins", "--json", env=_env(fake_site, DLTOOL_PLUGINS="hello"))
    names = [r["name"] for r in json.loads(run.stdout)["plugins"]]
    assert names == ["hello"] and run.stderr == ""
    none = run_dltool("plugins", "--json", env=_env(fake_site, DLTOOL_PLUGINS=""))
    assert json.loads(none.stdout)["plugins"] == []
    assert "hello" not in run_dltool("--help", env=_env(fake_site, DLTOOL_PLUGINS="")).stdout


def test_help_does_not_import_the_plugin_command_module(fake_app, invoke):
    sys.modules.pop("fakeplug.cli", None)
    result = invoke(fake_app, "--help")
    assert result.exit_code == 0
    assert "Plugin commands" in result.stdout and "hello" in result.stdout
    assert "fakeplug.cli" not in sys.modules
    result = invoke(fake_app, "hello", "greet")
    assert result.exit_code == 0, result.stderr
    assert "fakeplug.cli" in sys.modules
    sub_help = invoke(fake_app, "hello", "--help").stdout
    assert "greet" in sub_help and "--install-completion" not in sub_help


def test_failing_hook_is_isolated_and_rolled_back():
    import types

    import dltool

    good = types.ModuleType("good")
    bad = types.ModuleType("bad")

    @dltool.hookimpl
    def register_commands(commands):
        commands.add_lazy("good", "good.cli:app", help="good")

    @dltool.hookimpl
    def register_commands_bad(commands):
        commands.add_lazy("half", "bad.cli:app", help="registered before the failure")
        raise ValueError("oops")

    good.register_commands = register_commands
    bad.register_commands = register_commands_bad
    manager = PluginManager.from_modules({"good": good, "bad": bad}, warn=False)
    assert list(manager.commands.entries) == ["good"]
    assert manager.infos["bad"].status == "register_commands failed: ValueError: oops"
    assert manager.infos["good"].ok


def test_duplicate_command_name_is_reported_for_the_second_plugin():
    import types

    import dltool

    first, second = types.ModuleType("first"), types.ModuleType("second")

    @dltool.hookimpl
    def register_commands(commands):
        commands.add_lazy("same", "x.cli:app", help="x")

    first.register_commands = register_commands
    second.register_commands = register_commands
    manager = PluginManager.from_modules({"first": first, "second": second}, warn=False)
    assert manager.commands.entries["same"].plugin == "first"
    assert "already registered by plugin 'first'" in manager.infos["second"].status


def test_models_command_counts_parameters(fake_app, invoke):
    result = invoke(fake_app, "--json", "models")
    assert result.exit_code == 0, result.stderr
    (row,) = [r for r in json.loads(result.stdout)["models"] if r["plugin"] == "hello"]
    assert row["name"] == "tiny-mlp" and row["parameters"] == 4 * 8 + 8 + 8 * 2 + 2


def test_models_lists_the_cores_efficientnet_lite0(fake_app, invoke):
    result = invoke(fake_app, "--json", "models")
    rows = {r["name"]: r for r in json.loads(result.stdout)["models"]}
    row = rows["efficientnet-lite0"]
    assert row["plugin"] == "dltool" and row["input"] == "3x224x224"
    assert row["status"] == "ok" and row["parameters"] == 4_652_008
    text = invoke(fake_app, "models").stdout
    assert "4,652,008" in text


def test_second_plugin_with_a_taken_name_is_named_in_a_warning(fake_site):
    info = fake_site / "otherplug-0.1.dist-info"
    info.mkdir()
    (info / "entry_points.txt").write_text("[dltool]\nhello = otherplug\n")
    run = run_dltool("plugins", env=_env(fake_site, DLTOOL_PLUGINS="hello"))
    assert run.returncode == 0
    assert "warning: plugin name 'hello' (otherplug) is taken by an earlier plugin" in run.stderr


def _artifact_failing_plugin():
    """Return a plugin whose commands and models register but whose artifacts hook fails."""
    import types

    import dltool

    mod = types.ModuleType("late")

    @dltool.hookimpl
    def register_commands(commands):
        commands.add_lazy("late", "late.cli:app", help="late")

    @dltool.hookimpl
    def register_models(models):
        models.add("late-net", "late.models:net")

    @dltool.hookimpl
    def register_artifacts(artifacts):
        raise RuntimeError("no weights")

    mod.register_commands = register_commands
    mod.register_models = register_models
    mod.register_artifacts = register_artifacts
    return mod


def test_plugins_and_doctor_agree_on_a_plugin_whose_artifacts_hook_fails(invoke):
    from dltool.cli import create_app

    status = "register_artifacts failed: RuntimeError: no weights"
    for command in ("plugins", "doctor"):
        manager = PluginManager.from_modules({"late": _artifact_failing_plugin()}, warn=False)
        result = invoke(create_app(manager), "--json", command)
        assert result.exit_code == 0, result.stderr
        (row,) = json.loads(result.stdout)["plugins"]
        assert row["status"] == status, command
        if command == "plugins":
            assert row["commands"] == "" and row["models"] == 0
        else:
            assert "plugins disabled: late" in result.stderr
        assert manager.commands.entries == {} and manager.models.names_of("late") == []


def test_models_lists_a_model_whose_builder_cannot_be_imported(fake_site, invoke):
    import types

    import fakeplug

    import dltool
    from dltool.cli import create_app

    ghost = types.ModuleType("ghost")

    @dltool.hookimpl
    def register_models(models):
        models.add("ghost-net", "no_such_module_42.nets:build", description="missing")

    ghost.register_models = register_models
    manager = PluginManager.from_modules({"hello": fakeplug, "ghost": ghost}, warn=False)
    result = invoke(create_app(manager), "--json", "models")
    assert result.exit_code == 0, result.stderr
    rows = {r["name"]: r for r in json.loads(result.stdout)["models"]}
    assert rows["tiny-mlp"]["status"] == "ok" and rows["tiny-mlp"]["parameters"] == 58
    assert rows["ghost-net"]["parameters"] is None
    assert rows["ghost-net"]["status"].startswith(
        "plugin 'ghost' could not load model 'ghost-net' (no_such_module_42.nets:build): "
        "ModuleNotFoundError"
    )


def test_plugin_cannot_take_a_core_command_name():
    import types

    import dltool

    squatter = types.ModuleType("squatter")

    @dltool.hookimpl
    def register_commands(commands):
        commands.add_lazy("doctor", "squatter.cli:app", help="not the real doctor")

    squatter.register_commands = register_commands
    manager = PluginManager.from_modules({"squatter": squatter}, warn=False)
    assert manager.commands.entries == {}
    assert manager.infos["squatter"].status == (
        "register_commands failed: DltoolError: "
        "command 'doctor' is already registered by plugin 'dltool'"
    )


def test_unknown_name_in_dltool_plugins_is_a_warning_with_a_hint(fake_site):
    run = run_dltool("plugins", "--json", env=_env(fake_site, DLTOOL_PLUGINS="hello,junk"))
    assert run.returncode == 0
    assert [r["name"] for r in json.loads(run.stdout)["plugins"]] == ["hello"]
    warning, hint = run.stderr.strip().splitlines()
    assert warning == "warning: DLTOOL_PLUGINS names no installed plugin: junk"
    assert hint.startswith("hint: installed plugins: ") and "hello" in hint
    strict = run_dltool(
        "plugins", env=_env(fake_site, DLTOOL_PLUGINS="junk", DLTOOL_STRICT_PLUGINS="1")
    )
    assert strict.returncode == 1
    assert strict.stderr.splitlines()[0] == "error: DLTOOL_PLUGINS names no installed plugin: junk"
    assert strict.stderr.splitlines()[1].startswith("hint: installed plugins:")
