"""The registries plugin hooks fill: named entries, each remembering the plugin that added it.

Commands, models and artifacts each have a registry built on :class:`Registry`; a name is
taken once, and everything a failing plugin added can be dropped again.
"""

from __future__ import annotations

from typing import Any

from dltool.errors import DltoolError


class Registry:
    """Base of the registries handed to hooks: remembers which plugin is adding."""

    kind = "entry"

    def __init__(self) -> None:
        self.entries: dict[str, Any] = {}
        self.current_plugin = "dltool"

    def _add(self, name: str, entry: Any) -> None:
        """Store ``entry`` under ``name``, refusing a name another plugin took."""
        if name in self.entries:
            other = self.entries[name].plugin
            raise DltoolError(
                f"{self.kind} '{name}' is already registered by plugin '{other}'",
                hint=f"rename the {self.kind}, or disable one plugin with DLTOOL_PLUGINS",
            )
        self.entries[name] = entry

    def drop_plugin(self, plugin: str) -> None:
        """Forget everything ``plugin`` registered (used when its hook fails)."""
        self.entries = {k: v for k, v in self.entries.items() if v.plugin != plugin}

    def names_of(self, plugin: str) -> list[str]:
        """Return the names ``plugin`` registered."""
        return [k for k, v in self.entries.items() if v.plugin == plugin]
