"""Entry points of installed distributions, read straight from their metadata folders.

``importlib.metadata`` gives the same answer but costs tens of milliseconds on every
start-up (its import and e-mail parsing of METADATA), and start-up runs on every TAB
press. So dltool walks ``sys.path`` for ``*.dist-info`` / ``*.egg-info`` folders, reads
their ``entry_points.txt`` (the PyPA entry-points file format) and parses a distribution's
METADATA only when a command shows it. Like importlib.metadata, the first distribution of a
name found on ``sys.path`` wins.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator

_SUFFIXES = (".dist-info", ".egg-info")


class EntryPoint:
    """One ``name = module[:attr]`` line of an entry-point group, with its distribution folder."""

    __slots__ = ("name", "value", "dist_path")

    def __init__(self, name: str, value: str, dist_path: str) -> None:
        self.name, self.value, self.dist_path = name, value, dist_path

    def __repr__(self) -> str:
        return f"EntryPoint({self.name!r}, {self.value!r})"


def normalize(name: str) -> str:
    """Return a PEP 503-normalized name with underscores: ``Foo.Bar`` → ``foo_bar``."""
    return re.sub(r"[-_.]+", "_", name).lower()


def parse_group(text: str, group: str) -> Iterator[tuple[str, str]]:
    """Yield ``(name, value)`` of the lines in section ``[group]`` of an entry_points.txt."""
    section = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
        elif section == group and "=" in line:
            name, _, value = line.partition("=")
            yield name.strip(), value.partition("[")[0].strip()  # drop "[extras]"


def _distributions(paths: list[str]) -> Iterator[tuple[str, str]]:
    """Yield ``(normalized name, folder)`` of the first distribution of each name on ``paths``."""
    seen: set[str] = set()
    for entry in paths:
        try:
            names = sorted(os.listdir(entry or "."))
        except OSError:
            continue
        for fname in names:
            if not fname.endswith(_SUFFIXES):
                continue
            stem = fname.rsplit(".", 1)[0]  # "zope.interface-5.0.dist-info" -> "zope.interface-5.0"
            dist = normalize(stem.split("-", 1)[0])
            if dist not in seen:
                seen.add(dist)
                yield dist, os.path.join(entry or ".", fname)


def entry_points(group: str, paths: list[str] | None = None) -> list[EntryPoint]:
    """Return the entry points of ``group`` declared by the distributions on ``sys.path``."""
    found = []
    for _, folder in _distributions(sys.path if paths is None else paths):
        try:
            with open(os.path.join(folder, "entry_points.txt"), encoding="utf-8") as fh:
                text = fh.read()
        except OSError:
            continue
        found += [EntryPoint(name, value, folder) for name, value in parse_group(text, group)]
    return found
