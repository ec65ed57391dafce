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
from dltool.registry import Registry

ENTRY_POINT_GROUP = "dltool"
ENV_LOAD = "DLTOOL_PLUGINS"
ENV_STRICT = "DLTOOL_STRICT_PLUGINS"
HOOK_NAMES = ("register_commands", "register_models", "register_artifacts")
CORE_COMMANDS = (
    "plugins",
    "models",
    "weights",
    "runs",
    "doctor",
    "completion",
)  # mounted by the core
CORE_MODELS = (  # name, builder, description, input size: models of dltool/nn used by plugins
    (
        "efficientnet-lite0",
        "dltool.nn.efficientnet:architecture",
        "EfficientNet-Lite0, 1000 ImageNet classes (cnn transfer, style; artifact weights)",
        (3, 224, 224),
    ),
)


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


class CommandRegistry(Registry):
    """Sub-apps added by ``register_commands``."""

    kind = "command"

    def _add(self, name: str, entry: Any) -> None:
        """Store ``entry``, refusing a core command's name as already registered by dltool."""
        if name in CORE_COMMANDS:
            raise DltoolError(
                f"command '{name}' is already registered by plugin 'dltool'",
                hint=f"core commands keep their names ({', '.join(CORE_COMMANDS)}): rename it",
            )
        super()._add(name, entry)

    def add_lazy(self, name: str, import_path: str, help: str) -> None:
        """Mount ``module:attr`` (a typer.Typer) as ``dltool NAME``, imported on first use."""
        if ":" not in import_path:
            raise DltoolError(
                f"command '{name}': import path must be 'module:attr'",
                hint="register e.g. 'my_plugin.cli:app' (the module, a colon, the Typer app)",
            )
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


class ModelRegistry(Registry):
    """Model builders added by ``register_models``, after the core's own (``CORE_MODELS``)."""

    kind = "model"

    @classmethod
    def with_core(cls) -> ModelRegistry:
        """Return a registry holding the models the core itself provides."""
        registry = cls()
        for name, builder, description, input_size in CORE_MODELS:
            registry.add(name, builder, description, input_size)
        return registry

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
        self.models = ModelRegistry.with_core()
        self.warn = warn
        self._artifacts = None

    @classmethod
    def from_entry_points(cls, warn: bool = True) -> PluginManager:
        """Discover and load every plugin in the ``dltool`` entry-point group."""
        from dltool.entry_points import entry_points

        manager = cls(warn=warn)
        selected = _selected_names()
        seen: set[str] = set()
        found = list(entry_points(group=ENTRY_POINT_GROUP))
        for ep in found:
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
        manager._check_selection(selected, {ep.name for ep in found})
        return manager

    def _check_selection(self, selected: set[str] | None, installed: set[str]) -> None:
        """Warn (strict mode: fail) when ``DLTOOL_PLUGINS`` names plugins that are not installed."""
        unknown = sorted((selected or set()) - installed)
        if not unknown:
            return
        names = ", ".join(unknown)
        message = f"{ENV_LOAD} names no installed plugin: {names}"
        hint = (
            f"installed plugins: {', '.join(sorted(installed)) or 'none'}; "
            f"unset {ENV_LOAD} to load them all"
        )
        if env_flag(ENV_STRICT):
            raise DltoolError(message, hint=hint)
        if self.warn:
            sys.stderr.write(f"warning: {message}\nhint: {hint}\n")

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

    def _call(self, info: PluginInfo, hook: str, registry: Registry) -> bool:
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


def manager_of(ctx: Any) -> PluginManager:
    """Return the plugin manager behind the running CLI (``ctx`` is any of its contexts)."""
    return ctx.find_root().command.plugin_manager
