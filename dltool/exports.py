"""Lazy public names for plugin packages (PEP 562): ``__all__`` without importing anything.

Every plugin's ``__init__.py`` runs at start-up (for its hooks), so this module imports
only ``importlib`` and ``sys``; each exported object is imported on first use.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, table: dict[str, str]) -> tuple[list[str], Callable[[str], Any]]:
    """Return ``(__all__, __getattr__)`` for ``package``: each name imported on first use.

    ``table`` maps a public name to ``"module:attribute"`` or to ``"module"`` (the module
    itself). ``__dir__`` is left alone on purpose: pluggy reads every attribute ``dir()``
    lists when it registers a plugin.
    """
    names = list(table)
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        if name not in table:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, _, attribute = table[name].partition(":")
        value = importlib.import_module(module)
        value = getattr(value, attribute) if attribute else value
        namespace[name] = value  # the next look-up is a plain attribute
        return value

    return sorted(names), __getattr__
