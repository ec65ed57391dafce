"""dltool: deep-learning course math as command-line tools.

The core knows nothing about any topic: it builds the CLI, finds plugins through
the ``dltool`` entry-point group and gives every command a device, a reporter and
a run directory.
"""

import pluggy

from dltool.errors import DltoolError, MissingKeyError, ParameterError, ShapeError

__all__ = ["DltoolError", "MissingKeyError", "ParameterError", "ShapeError", "hookimpl"]

__version__ = "0.1.0"
PROG = "dltool"
COMPLETE_VAR = "_DLTOOL_COMPLETE"  # the environment variable of shell completion

hookimpl = pluggy.HookimplMarker("dltool")
"""Marker for plugin hook implementations: ``@dltool.hookimpl``."""
