"""YAML config files for commands with hyperparameters.

Precedence: command-line flags > ``--config FILE.yaml`` > the command's defaults.
Keys are the command's option names (``batch_size`` or ``batch-size``); unknown keys
are rejected with the list of valid ones. Every scalar value is turned back into text and
parsed by the option's own Click type, exactly as if it had been typed on the command
line: ``epochs: 2.7`` or ``epochs: true`` is refused, not truncated to 2 or 1, and the
error names its key. Only ``yaml.safe_load`` is used.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dltool.errors import DltoolError

_FROM_DEFAULT = ("DEFAULT", "DEFAULT_MAP")
_NULLABLE = ("text", "path", "filename")  # Click types for which null means "not given"
_HINT_PATH = "give the path of a readable YAML file to --config"
_HINT_YAML = "write one 'option_name: value' line per option, e.g. 'epochs: 10'"


def _parse_yaml(text: str, path: Path) -> Any:
    """Return ``yaml.safe_load(text)``; invalid or too deeply nested YAML is a DltoolError."""
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise DltoolError(
            f"config file {path} is not valid YAML{where}: {problem}", hint=_HINT_YAML
        ) from exc
    except RecursionError as exc:
        raise DltoolError(f"config file {path} is nested too deeply", hint=_HINT_YAML) from exc


def load_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """Return the mapping in the YAML file at ``path``; any problem is a DltoolError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise DltoolError(f"config file {path} does not exist", hint=_HINT_PATH) from exc
    except UnicodeDecodeError as exc:
        raise DltoolError(f"config file {path} is not UTF-8 text: {exc}", hint=_HINT_YAML) from exc
    except OSError as exc:
        raise DltoolError(
            f"cannot read config file {path}: {exc.strerror or exc}", hint=_HINT_PATH
        ) from exc
    data = _parse_yaml(text, path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise DltoolError(
            f"config file {path} must be a mapping of option names to values, "
            f"not a {type(data).__name__}",
            hint=_HINT_YAML,
        )
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def _as_text(raw: Any) -> Any:
    """Return ``raw`` as the text a user would type (lists item by item); None stays None.

    YAML has already typed the value (``2.7``, ``true``); Click's types would coerce those
    silently, while text goes through the same parsing and messages as a flag does.
    """
    if raw is None:
        return raw
    if isinstance(raw, (list, tuple)):
        return [_as_text(item) for item in raw]
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


def given_options(ctx: Any, config_path: str | os.PathLike | None = None) -> dict[str, str]:
    """Return {option name: its flag} for what the user gave: flags, env vars, --config keys.

    Built on Click's public ``get_parameter_source``; ``ctx`` is the command's context.
    """
    flags = {
        p.name: (p.opts[0] if p.param_type_name == "option" else p.human_readable_name)
        for p in ctx.command.params
    }
    given = {}
    for name, flag in flags.items():
        source = ctx.get_parameter_source(name)
        if source is not None and source.name not in _FROM_DEFAULT:
            given[name] = flag
    if config_path is not None:
        given.update({k: flags[k] for k in load_config_file(config_path) if k in flags})
    return given


def resolve_config(
    ctx: Any, config_path: str | os.PathLike | None, exclude: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Merge the command's defaults, the config file and the flags given on the command line.

    ``ctx`` is the command's ``typer.Context``; returns ``{option name: value}``.
    """
    params = {p.name: p for p in ctx.command.params if p.name not in ("config", *exclude)}
    values = {name: ctx.params.get(name) for name in params}
    if config_path is None:
        return values
    data = load_config_file(config_path)
    unknown = sorted(set(data) - set(params))
    if unknown:
        raise DltoolError(
            f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(repr(k) for k in unknown)} "
            f"in {config_path}",
            hint=f"valid keys: {', '.join(sorted(params))}",
        )
    typed = given_options(ctx)
    for name, raw in data.items():
        if name not in typed:  # a flag on the command line wins over the file
            values[name] = _config_value(ctx, params[name], raw, config_path)
    return values


def _config_value(ctx: Any, param: Any, raw: Any, config_path: str | os.PathLike) -> Any:
    """Return the value of ``param`` that the config file gives as ``raw``, parsed as a flag is.

    ``null`` leaves a text or path option unset (as a saved config.yaml holds it) and an
    option whose default is None at None; a number, flag or choice needs a value.
    """
    where = f"config key '{param.name}' in {config_path}"
    flag = param.opts[0] if getattr(param, "opts", None) else param.name
    hint = f"give '{param.name}' a value as you would give it to {flag}"
    if raw is None and param.default is not None and param.type.name not in _NULLABLE:
        raise DltoolError(f"{where}: needs a value, not null", hint=hint)
    single = param.nargs == 1 and not getattr(param, "multiple", False)
    if isinstance(raw, dict) or (single and isinstance(raw, list)):
        what = "mapping" if isinstance(raw, dict) else "list"
        raise DltoolError(f"{where}: expects one value, not a {what}", hint=hint)
    try:
        return param.type_cast_value(ctx, _as_text(raw))
    except Exception as exc:  # click's BadParameter and friends
        msg = getattr(exc, "message", None) or str(exc)
        raise DltoolError(f"{where}: {msg}", hint=hint) from exc
