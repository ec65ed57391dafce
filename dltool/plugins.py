"""Plugin manager: entry-point discovery, registration and failure isolation.

Plugins are modules named in the entry-point group ``dltool``; built-in plugins are
registered exactly like third-party ones. Each is imported and asked for its hooks
on its own, so one broken plugin is reported (``dltool plugins``) and the rest of the
CLI keeps working. ``DLTOOL_PLUGINS=a,b`` loads only those (empty: none);
``DLTOOL_STRICT_PLUGINS=1`` turns a plugin failure into an error.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy

from dltool import hookspecs
from dltool.errors import DltoolError, env_flag

ENTRY_POINT_GROUP = "dltool"
ENV_LOAD = "DLTOOL_PLUGINS"
ENV_STRICT = "DLTOOL_STRICT_PLUGINS"
HOOK_NAMES = ("register_commands", "register_models", "register_artifacts")
CORE_COMMANDS = ("plugins", "models", "weights", "doctor", "completion")  # mounted by the core


@dataclass
class PluginInfo:
    """What ``dltool plugins`` shows about one plugin."""

    name: str
    module: str
    dist_path: str | None = None  # the .dist-info folder; its METADATA is read only on demand
    status: str = "ok"
    hooks: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    artifacts: list[str] = field(default_factory=list)

    def _dist(self) -> Any:
        """Return the importlib.metadata Distribution of the plugin, or None."""
        if self.dist_path is None:
            return None
        from importlib.metadata import PathDistribution

        return PathDistribution(Path(self.dist_path))

    @property
    def distribution(self) -> str | None:
        """Return the name of the distribution that installed the plugin."""
        dist = self._dist()
        return dist.metadata["Name"] if dist is not None else None

    @property
    def version(self) -> str | None:
        """Return the version of the plugin's distribution."""
        dist = self._dist()
        return dist.version if dist is not None else None

    @property
    def ok(self) -> bool:
        """Return True when the plugin loaded and registered without error."""
        return self.status == "ok"


@dataclass
class CommandEntry:
    """One sub-app: its name, one-line help and where it comes from."""

    name: str
    plugin: str
    help: str = ""
    import_path: str | None = None
    app: Any = None


class _Registry:
    """Base of the registries handed to hooks: remembers which plugin is adding."""

    kind = "entry"

    def __init__(self) -> None:
        self.entries: dict[str, Any] = {}
        self.current_plugin = "dltool"

    def _add(self, name: str, entry: Any) -> None:
        """Store ``entry`` under ``name``, refusing a name another plugin took."""
        if name in self.entries:
            other = self.entries[name].plugin
            raise DltoolError(f"{self.kind} '{name}' is already registered by plugin '{other}'")
        self.entries[name] = entry

    def drop_plugin(self, plugin: str) -> None:
        """Forget everything ``plugin`` registered (used when its hook fails)."""
        self.entries = {k: v for k, v in self.entries.items() if v.plugin != plugin}

    def names_of(self, plugin: str) -> list[str]:
        """Return the names ``plugin`` registered."""
        return [k for k, v in self.entries.items() if v.plugin == plugin]


class CommandRegistry(_Registry):
    """Sub-apps added by ``register_commands``."""

    kind = "command"

    def _add(self, name: str, entry: Any) -> None:
        """Store ``entry``, refusing a core command's name as already registered by dltool."""
        if name in CORE_COMMANDS:
            raise DltoolError(f"command '{name}' is already registered by plugin 'dltool'")
        super()._add(name, entry)

    def add_lazy(self, name: str, import_path: str, help: str) -> None:
        """Mount ``module:attr`` (a typer.Typer) as ``dltool NAME``, imported on first use."""
        if ":" not in import_path:
            raise DltoolError(f"command '{name}': import path must be 'module:attr'")
        self._add(name, CommandEntry(name, self.current_plugin, help, import_path=import_path))

    def add_typer(self, app: Any, name: str, help: str | None = None) -> None:
        """Mount an already built typer.Typer (or click command) as ``dltool NAME``."""
        info_help = help or getattr(getattr(app, "info", None), "help", None) or ""
        self._add(name, CommandEntry(name, self.current_plugin, str(info_help), app=app))


@dataclass
class ModelEntry:
    """A named model builder: ``builder`` is ``module:function`` returning an nn.Module."""

    name: str
    plugin: str
    builder: str
    description: str = ""
    input_size: tuple[int, ...] | None = None


class ModelRegistry(_Registry):
    """Model builders added by ``register_models``."""

    kind = "model"

    def add(
        self,
        name: str,
        builder: str,
        description: str = "",
        input_size: tuple[int, ...] | None = None,
    ) -> None:
        """Register ``builder`` (``module:function``) under ``name``."""
        self._add(name, ModelEntry(name, self.current_plugin, builder, description, input_size))

    def build(self, name: str, **kwargs: Any) -> Any:
        """Import the builder of ``name`` and call it; an import failure names the plugin."""
        if name not in self.entries:
            known = ", ".join(sorted(self.entries)) or "none"
            raise DltoolError(f"unknown model '{name}'", hint=f"registered models: {known}")
        entry = self.entries[name]
        try:
            builder = load_object(entry.builder)
        except Exception as exc:
            raise DltoolError(
                f"plugin '{entry.plugin}' could not load model '{name}' ({entry.builder}): "
                f"{type(exc).__name__}: {exc}",
                hint="reinstall the plugin; 'dltool plugins' shows every plugin's status",
            ) from exc
        return builder(**kwargs)


def load_object(import_path: str) -> Any:
    """Return the object at ``module:attr``."""
    module_name, _, attr = import_path.partition(":")
    obj: Any = importlib.import_module(module_name.strip())
    for part in filter(None, attr.strip().split(".")):
        obj = getattr(obj, part)
    return obj


def _selected_names() -> set[str] | None:
    """Return the plugin names DLTOOL_PLUGINS allows, or None for all."""
    raw = os.environ.get(ENV_LOAD)
    if raw is None:
        return None
    return {n.strip() for n in raw.split(",") if n.strip()}


class PluginManager:
    """Loads plugins one by one and collects what they register."""

    def __init__(self, warn: bool = True) -> None:
        self.pm = pluggy.PluginManager("dltool")
        self.pm.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}
        self.commands = CommandRegistry()
        self.models = ModelRegistry()
        self.warn = warn
        self._artifacts = None

    @classmethod
    def from_entry_points(cls, warn: bool = True) -> PluginManager:
        """Discover and load every plugin in the ``dltool`` entry-point group."""
        from dltool.entry_points import entry_points

        manager = cls(warn=warn)
        selected = _selected_names()
        seen: set[str] = set()
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if selected is not None and ep.name not in selected:
                continue
            if ep.name in seen:
                if manager.warn:
                    sys.stderr.write(
                        f"warning: plugin name '{ep.name}' ({ep.value}) is taken by an earlier "
                        "plugin; this one is not loaded\n"
                    )
                continue
            seen.add(ep.name)
            info = PluginInfo(ep.name, ep.value, dist_path=ep.dist_path)
            try:
                module = load_object(ep.value)
            except Exception as exc:  # a broken plugin must not break the CLI
                manager._fail(info, f"import failed: {type(exc).__name__}: {exc}")
                continue
            manager.add_plugin(module, info)
        return manager

    @classmethod
    def from_modules(cls, modules: dict[str, Any], warn: bool = True) -> PluginManager:
        """Build a manager from plugin objects chosen by the caller (tests, embedding)."""
        manager = cls(warn=warn)
        for name, module in modules.items():
            manager.add_plugin(module, PluginInfo(name, getattr(module, "__name__", name)))
        return manager

    def add_plugin(self, module: Any, info: PluginInfo) -> None:
        """Register ``module`` and run its command and model hooks in isolation."""
        self.infos[info.name] = info
        try:
            self.pm.register(module, name=info.name)
        except Exception as exc:
            self._fail(info, f"invalid plugin: {type(exc).__name__}: {exc}")
            return
        info.hooks = [h.name for h in self.pm.get_hookcallers(module) or []]
        for hook, registry in (
            ("register_commands", self.commands),
            ("register_models", self.models),
        ):
            if not self._call(info, hook, registry):
                return
        info.commands = self.commands.names_of(info.name)
        info.models = self.models.names_of(info.name)

    def _call(self, info: PluginInfo, hook: str, registry: _Registry) -> bool:
        """Call ``info``'s implementation of ``hook``; on failure undo and report it."""
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            if impl.plugin_name != info.name:
                continue
            registry.current_plugin = info.name
            try:
                impl.function(**{impl.argnames[0]: registry})
            except Exception as exc:
                for reg in (self.commands, self.models, registry):
                    reg.drop_plugin(info.name)
                info.commands, info.models, info.artifacts = [], [], []
                self._fail(info, f"{hook} failed: {type(exc).__name__}: {exc}")
                return False
            finally:
                registry.current_plugin = "dltool"
        return True

    def _fail(self, info: PluginInfo, message: str) -> None:
        """Mark ``info`` as failed; warn on stderr, or raise in strict mode."""
        info.status = message
        self.infos[info.name] = info
        if self.pm.get_plugin(info.name) is not None:
            self.pm.unregister(name=info.name)
        if env_flag(ENV_STRICT):
            raise DltoolError(
                f"plugin '{info.name}' failed: {message}",
                hint=f"unset {ENV_STRICT} to skip broken plugins",
            )
        if self.warn:
            sys.stderr.write(f"warning: plugin '{info.name}' disabled: {message}\n")

    def checked_infos(self) -> list[PluginInfo]:
        """Return every plugin's info by name, after all hooks (artifacts too) have run."""
        _ = self.artifacts  # a failing register_artifacts changes a plugin's status
        return sorted(self.infos.values(), key=lambda i: i.name)

    @property
    def artifacts(self):
        """Return the artifact registry: the core's artifacts plus every plugin's."""
        if self._artifacts is None:
            from dltool.artifacts import ArtifactRegistry

            registry = ArtifactRegistry.with_core()
            for info in list(self.infos.values()):
                if info.ok and self._call(info, "register_artifacts", registry):
                    info.artifacts = registry.names_of(info.name)
            self._artifacts = registry
        return self._artifacts
