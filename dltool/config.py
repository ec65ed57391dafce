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


def load_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """Return the mapping in the YAML file at ``path``; any problem is a DltoolError."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise DltoolError(f"config file {path} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DltoolError(f"cannot read config file {path}: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise DltoolError(f"config file {path} is not valid YAML{where}: {problem}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise DltoolError(
            f"config file {path} must be a mapping of option names to values, "
            f"not a {type(data).__name__}"
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
        p.name: (p.opts[0] if getattr(p, "opts", None) else p.name) for p in ctx.command.params
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
            f"in {config_path}; valid keys: {', '.join(sorted(params))}"
        )
    typed = given_options(ctx)
    for name, raw in data.items():
        if name in typed:
            continue  # a flag on the command line wins over the file
        param = params[name]
        single = param.nargs == 1 and not getattr(param, "multiple", False)
        if isinstance(raw, dict) or (single and isinstance(raw, list)):
            what = "mapping" if isinstance(raw, dict) else "list"
            raise DltoolError(
                f"config key '{name}' in {config_path}: expects one value, not a {what}"
            )
        try:
            values[name] = param.type_cast_value(ctx, _as_text(raw))
        except Exception as exc:  # click's BadParameter and friends
            msg = getattr(exc, "message", None) or str(exc)
            raise DltoolError(f"config key '{name}' in {config_path}: {msg}") from exc
    return values
