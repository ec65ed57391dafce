"""Word lists shipped with the plugin (``data/*.yaml``) or given by the user (YAML/JSON).

Definitional pairs, equalize pairs, gender-specific words, professions and the WEAT sets
are data, not code: each file is a mapping whose one list is read here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dltool.errors import DltoolError

DATA = Path(__file__).parent / "data"
FILES = {
    "definitional_pairs": ("definitional_pairs.yaml", "pairs"),
    "equalize_pairs": ("equalize_pairs.yaml", "pairs"),
    "gender_specific": ("gender_specific.yaml", "words"),
    "professions": ("professions.yaml", "professions"),
}
HINT = "give a UTF-8 YAML or JSON file holding a list (e.g. words: [nurse, engineer])"


def _read(path: Path) -> Any:
    """Return the YAML or JSON document at ``path``."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DltoolError(f"word list {path} does not exist", hint=HINT) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise DltoolError(f"cannot read word list {path}: {reason}", hint=HINT) from None
    try:
        return json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError, RecursionError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DltoolError(f"word list {path} is not valid YAML/JSON: {reason}", HINT) from None


def _payload(doc: Any, key: str, path: Path) -> list:
    """Return the list in ``doc``: the document itself or its ``key`` entry."""
    if isinstance(doc, dict):
        doc = doc.get(key, next(iter(doc.values())) if len(doc) == 1 else None)
    if not isinstance(doc, list):
        raise DltoolError(
            f"word list {path} must be a list (or a mapping with key '{key}')", hint=HINT
        )
    return doc


def words(name: str, path: Path | None = None) -> list[str]:
    """Return the word list ``name`` (shipped) or the one at ``path``."""
    fname, key = FILES[name]
    path = path or DATA / fname
    items = _payload(_read(path), key, path)
    if not all(isinstance(w, str) for w in items):
        raise DltoolError(f"word list {path} must hold words (strings)", hint=HINT)
    return items


def pairs(name: str, path: Path | None = None) -> list[tuple[str, str]]:
    """Return the pair list ``name`` (shipped) or the one at ``path``, as (w1, w2) tuples."""
    fname, key = FILES[name]
    path = path or DATA / fname
    items = _payload(_read(path), key, path)
    for i, item in enumerate(items, 1):
        if not (
            isinstance(item, list) and len(item) == 2 and all(isinstance(w, str) for w in item)
        ):
            raise DltoolError(
                f"word list {path}: entry {i} is not a pair of words: {item!r}",
                hint="write each pair as [word1, word2]",
            )
    return [(a, b) for a, b in items]


def weat_sets() -> dict[str, dict[str, list[str]]]:
    """Return the WEAT target and attribute sets."""
    return _read(DATA / "weat.yaml")
