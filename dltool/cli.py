"""The root ``dltool`` command: global options, core commands and lazily mounted plugins.

``create_app`` is an app factory: it takes a plugin manager (tests build one with the
plugins they choose) and returns the Typer app. Plugin sub-apps are listed in
``--help`` and completion from their registration alone; a plugin's command module is
imported only when its sub-app is invoked.
"""

from __future__ import annotations

import errno
import os
import sys
from typing import Any

import typer
from typer._click.exceptions import ClickException, NoArgsIsHelpError
from typer.core import TyperGroup

from dltool import COMPLETE_VAR, PROG, __version__
from dltool.context import Session, activate, peek
from dltool.errors import EXIT_INTERRUPTED, DltoolError, env_flag, print_error
from dltool.plugins import CommandEntry, PluginManager, load_object

GLOBAL_FLAGS = ("--json", "--quiet", "-q", "--debug")
GLOBAL_VALUED = ("--device", "--seed", "--threads")
MAX_SEED = 2**32 - 1  # NumPy's legacy seed range
MAX_THREADS = 1024
# OSErrors about a path the user named: printed as one line, not as a bug to report
_USER_ERRNOS = {
    errno.EACCES: "check the permissions, or choose another path",
    errno.EPERM: "check the permissions, or choose another path",
    errno.EROFS: "the file system is read-only: choose another path",
    errno.ENOSPC: "free some disk space, or choose another path",
    errno.EDQUOT: "free some disk space, or choose another path",
    errno.EISDIR: "give a file path, not a folder",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.ENOENT: "check the path",
    errno.ENAMETOOLONG: "give a shorter path",
}
_COMPLETION_PARAMS = ("install_completion", "show_completion")


def hoist_global_options(args: list[str], declared: dict[str, bool] | None = None) -> list[str]:
    """Move global options given after a sub-command to the front (``dltool x --json``).

    ``declared`` maps the option names of the sub-command to whether they take a value:
    a sub-command's own option is never taken, nor is the value that follows one.
    """
    declared = declared or {}
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        name = arg.split("=", 1)[0]
        if arg == "--":
            rest.extend(args[i:])
            break
        if name in declared:
            takes = declared[name] and "=" not in arg and i + 1 < len(args)
            rest.extend(args[i : i + 2] if takes else [arg])
            i += 2 if takes else 1
            continue
        if name in GLOBAL_FLAGS and "=" not in arg:
            front.append(arg)
        elif name in GLOBAL_VALUED and ("=" in arg or i + 1 < len(args)):
            front.extend([arg] if "=" in arg else [arg, args[i + 1]])
            i += 0 if "=" in arg else 1
        else:
            rest.append(arg)
        i += 1
    return front + rest


def _options_of(command: Any) -> dict[str, bool]:
    """Return ``{option name: takes a value}`` for the options of ``command``."""
    out: dict[str, bool] = {}
    for param in getattr(command, "params", []):
        if getattr(param, "param_type_name", "") == "option":
            for opt in [*param.opts, *param.secondary_opts]:
                out[opt] = not (param.is_flag or param.count)
    return out


class DltoolGroup(TyperGroup):
    """Root group: lists plugin sub-apps without importing them, loads them on use."""

    plugin_manager: PluginManager

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._listing = False
        self._loaded: dict[str, Any] = {}
        self._path: list[str] = []  # the sub-command path of the running command line

    @property
    def lazy(self) -> dict[str, CommandEntry]:
        """Return the plugin sub-apps by name."""
        return self.plugin_manager.commands.entries

    def list_commands(self, ctx: Any) -> list[str]:
        """Return core commands, then plugin sub-apps in name order."""
        return [*self.commands, *sorted(n for n in self.lazy if n not in self.commands)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """Return a command; plugin sub-apps are stubs while listing, real when used."""
        if cmd_name in self.commands or cmd_name not in self.lazy:
            return self.commands.get(cmd_name)
        entry = self.lazy[cmd_name]
        if self._listing and cmd_name not in self._loaded:
            return TyperGroup(name=cmd_name, help=entry.help)
        if cmd_name not in self._loaded:
            try:
                self._loaded[cmd_name] = self._load(entry)
            except DltoolError:
                if ctx is not None and ctx.resilient_parsing:  # TAB: offer nothing, no traceback
                    return TyperGroup(name=cmd_name, help=entry.help)
                raise
        return self._loaded[cmd_name]

    @staticmethod
    def _load(entry: CommandEntry) -> Any:
        """Import a plugin sub-app and turn it into a click command."""
        try:
            app = entry.app if entry.app is not None else load_object(entry.import_path or "")
        except Exception as exc:
            raise DltoolError(
                f"plugin '{entry.plugin}' could not load command '{entry.name}': "
                f"{type(exc).__name__}: {exc}",
                hint="reinstall the plugin; 'dltool plugins' shows every plugin's status",
            ) from exc
        command = typer.main.get_command(app) if isinstance(app, typer.Typer) else app
        # completion is the root's business: drop the options Typer adds to every app
        command.params = [p for p in command.params if p.name not in _COMPLETION_PARAMS]
        command.name = entry.name
        if not command.help and entry.help:
            command.help = entry.help
        return command

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """Write the core commands and the plugin commands as two sections."""
        self._listing = True
        try:
            for title, names in (
                ("Commands", [n for n in self.commands if not self.commands[n].hidden]),
                ("Plugin commands", sorted(n for n in self.lazy if n not in self.commands)),
            ):
                rows = [(n, self.get_command(ctx, n).get_short_help_str(80)) for n in names]
                if rows:
                    with formatter.section(title):
                        formatter.write_dl(rows)
        finally:
            self._listing = False

    def shell_complete(self, ctx: Any, incomplete: str) -> list[Any]:
        """Complete sub-command names and options without importing plugin modules."""
        self._listing = True
        try:
            return super().shell_complete(ctx, incomplete)
        finally:
            self._listing = False

    def make_context(
        self, info_name: Any, args: list[str], parent: Any = None, **extra: Any
    ) -> Any:
        """Parse with global options hoisted to the front."""
        args = list(args)
        declared, self._path = self._walk(args)
        try:
            return super().make_context(
                info_name, hoist_global_options(args, declared), parent=parent, **extra
            )
        except ClickException as exc:  # a bad global option
            raise _usage_exit(exc, info_name or PROG) from None

    def _walk(self, args: list[str]) -> tuple[dict[str, bool], list[str]]:
        """Return the options declared along the sub-command path ``args`` names, and the path."""
        declared: dict[str, bool] = {}
        path: list[str] = []
        command: Any = self
        i = 0
        while i < len(args) and isinstance(command, TyperGroup):
            arg = args[i]
            if arg == "--":
                break
            if arg.startswith("-"):
                valued = arg in GLOBAL_VALUED or declared.get(arg, False)
                i += 2 if valued and "=" not in arg else 1
                continue
            try:
                command = command.get_command(None, arg)
            except DltoolError:
                return declared, path  # the normal parse reports the broken plugin
            if command is None:
                break
            declared.update(_options_of(command))
            path.append(arg)
            i += 1
        return declared, path

    def invoke(self, ctx: Any) -> Any:
        """Run the command; turn user errors, Ctrl-C and bugs into one line and an exit code.

        The handlers only peek at the session: when the root callback itself failed (a bad
        ``DLTOOL_DEVICE``) there is none, and building one would fail the same way again.
        """
        from dltool import runlog  # only when a command runs: --help and TAB never get here

        try:
            with runlog.recording(_reporter):  # run.json: finished, interrupted or failed
                result = super().invoke(ctx)
            _flush()
            return result
        except DltoolError as exc:
            _after_failure(keep_document=True)
            _fail(exc.message, exc.hint or f"see '{self._help_path(ctx)} --help'")
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            sys.stderr.write("interrupted\n")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except typer.Exit:
            _flush()  # a command's own exit code (verify: 1 = no match) keeps its output
            raise
        except NoArgsIsHelpError:
            raise  # `dltool yolo`: the help, as Click shows it
        except ClickException as exc:
            raise _usage_exit(exc, self._help_path(ctx)) from None
        except typer.Abort:
            raise
        except BrokenPipeError:  # `dltool … | head`: the reader left; Typer exits quietly
            raise
        except Exception as exc:
            session = peek()
            if (session is not None and session.debug) or env_flag("DLTOOL_DEBUG"):
                raise
            _after_failure(keep_document=False)
            _fail(*_unexpected(exc))
            raise typer.Exit(1) from None

    def _help_path(self, ctx: Any) -> str:
        """Return the command line that shows the failed command's help (``dltool yolo detect``)."""
        return " ".join([ctx.command_path, *self._path])


def _fail(message: str, hint: str | None) -> None:
    """Print the error, or hand it to the --nproc launcher, which prints the first one once."""
    group = sys.modules.get("dltool.distributed")  # a worker imported it to join its group
    if group is None or not group.report_to_launcher(message, hint):
        print_error(message, hint)


def _usage_exit(exc: ClickException, path: str) -> typer.Exit:
    """Print a Click usage error as the house's error and hint lines; return its exit."""
    where = getattr(getattr(exc, "ctx", None), "command_path", None) or path
    print_error(exc.format_message(), f"see '{where} --help'")
    return typer.Exit(exc.exit_code)


def _after_failure(keep_document: bool) -> None:
    """Remove the run folders a failed start left empty; print what ``--json`` had collected."""
    session = peek()
    if session is None:
        return
    reporter = session._reporter
    if keep_document and reporter is not None and reporter.document:
        reporter.flush()  # what was found before the error (weights verify's table)
    session.discard_failed_runs()


def _unexpected(exc: Exception) -> tuple[str, str]:
    """Return (message, hint) for an exception no command turned into a DltoolError.

    An OSError about a path (permissions, read-only or full disk, a folder where a file
    belongs) is the user's to fix; anything else is a bug to report.
    """
    if isinstance(exc, OSError) and exc.filename is not None and exc.errno in _USER_ERRNOS:
        return f"{exc.strerror}: {exc.filename}", _USER_ERRNOS[exc.errno]
    return (
        f"unexpected {type(exc).__name__}: {exc}",
        "rerun with --debug for the traceback and report it",
    )


def _reporter() -> Any:
    """Return the running session's reporter (the runs' epoch lines), or None before it."""
    session = peek()
    return None if session is None else session.reporter


def _flush() -> None:
    """Print what the running session's reporter collected, if a session was made."""
    session = peek()
    if session is not None:
        session.flush()


def _complete_device(incomplete: str) -> list[str]:
    """Return device specs starting with ``incomplete``."""
    return [d for d in ("auto", "cpu", "cuda", "mps") if d.startswith(incomplete)]


def _version(value: bool) -> None:
    """Print the version and exit."""
    if value:
        typer.echo(f"{PROG} {__version__}")
        raise typer.Exit()


def _root(
    ctx: typer.Context,
    device: str = typer.Option(
        "auto",
        "--device",
        envvar="DLTOOL_DEVICE",
        autocompletion=_complete_device,
        help="auto|cpu|cuda|cuda:N|mps (auto: CUDA, then MPS, then CPU).",
    ),
    seed: int | None = typer.Option(
        None,
        "--seed",
        min=0,
        max=MAX_SEED,
        help="Seed python, NumPy and torch (0 to 2**32-1).  [default: none, not seeded]",
    ),
    threads: int | None = typer.Option(
        None,
        "--threads",
        min=1,
        max=MAX_THREADS,
        help="Threads for torch and the BLAS pool together.  [default: the libraries' own]",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON document on stdout."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Hide progress and logs."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks of unexpected errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Deep-learning course math as command-line tools.

    Global options may also be given after the sub-command.
    """
    session = Session(
        device_spec=device, seed=seed, threads=threads, json=json_output, quiet=quiet, debug=debug
    )
    activate(session)
    session.apply()


def create_app(manager: PluginManager | None = None) -> typer.Typer:
    """Build the dltool Typer app with the plugins of ``manager`` (default: entry points)."""
    from dltool import core_commands

    if manager is None:
        manager = PluginManager.from_entry_points(warn=COMPLETE_VAR not in os.environ)
    group_cls = type("DltoolGroup", (DltoolGroup,), {"plugin_manager": manager})
    app = typer.Typer(
        name=PROG,
        cls=group_cls,
        rich_markup_mode=None,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(_root)
    core_commands.register(app)
    return app


def main(argv: list[str] | None = None, prog_name: str = PROG) -> None:
    """Console-script entry point."""
    if "TORCHELASTIC_RUN_ID" in os.environ:  # a worker: die with its launcher from the start
        from dltool.distributed import die_with_the_agent

        die_with_the_agent()
    try:
        command = typer.main.get_command(create_app())
    except DltoolError as exc:
        print_error(exc.message, exc.hint)
        sys.exit(exc.exit_code)
    try:
        command.main(args=argv, prog_name=prog_name, complete_var=COMPLETE_VAR)
    except SystemExit as done:
        _leave_group(done.code)
        raise
    except BaseException:  # --debug re-raises: a worker shows the traceback and leaves safely
        _leave_group(1, with_traceback=True)
        raise


def _leave_group(code: Any, with_traceback: bool = False) -> None:
    """A distributed worker ends here without tearing its group down (see distributed.py)."""
    if "dltool.distributed" in sys.modules:
        from dltool.distributed import exit_if_joined

        status = code if isinstance(code, int) else int(code is not None)
        exit_if_joined(status, with_traceback)
