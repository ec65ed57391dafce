"""YOLO-format datasets: label files (``class x_c y_c w h`` in 0..1) and ``data.yaml``.

A ``data.yaml`` names the image folders of the splits (``train``, ``val``, relative to
``path``), the class count ``nc`` and ``names``; each image ``images/<split>/x.png``
has its labels in ``labels/<split>/x.txt``. Malformed lines are reported with the file
and line number.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dltool.data.images import images_in
from dltool.errors import DltoolError

LABEL_HINT = "YOLO label lines read 'class x_center y_center width height', values in 0..1"
DATA_HINT = "a data.yaml names the split folders (train: images/train, val: images/val) and names"


def read_label_file(path: Path, nc: int | None = None) -> np.ndarray:
    """Return the (n, 5) rows ``class x_c y_c w h`` of a YOLO label file."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise DltoolError(
            f"cannot read label file {path}: {exc.strerror}", hint=LABEL_HINT
        ) from exc
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        rows.append(_parse_line(line, f"{path}:{number}", nc))
    return np.array(rows, dtype=np.float64).reshape(-1, 5)


def _parse_line(line: str, where: str, nc: int | None) -> list[float]:
    """Return one label line as [class, x_c, y_c, w, h], or raise naming ``where``."""
    parts = line.split()
    if len(parts) != 5:
        raise DltoolError(
            f"{where}: expected 'class x_center y_center width height', got {line!r}",
            hint=LABEL_HINT,
        )
    try:
        cls, *box = (float(p) for p in parts)
    except ValueError:
        raise DltoolError(f"{where}: non-numeric value in {line!r}", hint=LABEL_HINT) from None
    if cls != int(cls) or cls < 0 or (nc is not None and cls >= nc):
        raise DltoolError(
            f"{where}: class {parts[0]} is not an index in 0..{(nc or 1) - 1}", hint=LABEL_HINT
        )
    if not all(0.0 <= v <= 1.0 for v in box) or box[2] <= 0 or box[3] <= 0:
        raise DltoolError(
            f"{where}: box values must lie in 0..1 with positive size: {line!r}", hint=LABEL_HINT
        )
    return [cls, *box]


def label_files(source: Path) -> list[Path]:
    """Return the label files of a folder (recursively) or of a data.yaml's splits."""
    source = Path(source)
    if source.suffix in (".yaml", ".yml"):
        data = read_data_yaml(source)
        pairs = [p for split in ("train", "val") for p in data.labelled(split)]
        return [lab for _img, lab in pairs if lab.is_file()]
    if source.is_dir():
        files = sorted(source.rglob("*.txt"))
        if not files:
            raise DltoolError(f"{source} holds no .txt label files", hint=LABEL_HINT)
        return files
    if source.is_file():
        return [source]
    raise DltoolError(f"labels not found: {source}", hint=LABEL_HINT)


def read_wh(source: Path) -> np.ndarray:
    """Return the (n, 2) box widths and heights (0..1) of every label under ``source``."""
    boxes = [read_label_file(f)[:, 3:5] for f in label_files(source)]
    wh = np.concatenate(boxes) if boxes else np.zeros((0, 2))
    if len(wh) == 0:
        raise DltoolError(f"no boxes found in the labels under {source}", hint=LABEL_HINT)
    return wh


@dataclass
class DataSpec:
    """A parsed data.yaml: root folder, split folders, class names."""

    root: Path
    splits: dict[str, Path]
    names: list[str]

    def pairs(self, split: str) -> list[tuple[Path, Path]]:
        """Return (image, label file) pairs of ``split``; a missing label file means no boxes."""
        if split not in self.splits:
            raise DltoolError(f"data.yaml has no '{split}' split", hint=DATA_HINT)
        folder = self.splits[split]
        images = images_in(folder)
        if not images:
            raise DltoolError(f"no images in {folder} ({split} split)", hint=DATA_HINT)
        return [(img, label_path(img)) for img in images]

    def labelled(self, split: str) -> list[tuple[Path, Path]]:
        """Return ``pairs(split)``, refusing a split none of whose images has a label file."""
        pairs = self.pairs(split)
        if not any(lab.is_file() for _img, lab in pairs):
            folder = pairs[0][1].parent
            raise DltoolError(
                f"none of the {len(pairs)} {split} images has a label file (looked in {folder})",
                hint="YOLO layout: labels/<split>/x.txt beside images/<split>/x.png",
            )
        return pairs


def label_path(image: Path) -> Path:
    """Return labels/…/x.txt for images/…/x.png (the YOLO layout)."""
    parts = list(image.parts)
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            break
    return Path(*parts).with_suffix(".txt")


def read_data_yaml(path: Path) -> DataSpec:
    """Return the DataSpec of a YOLO ``data.yaml``."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise DltoolError(f"cannot read {path}: {exc.strerror}", hint=DATA_HINT) from exc
    except yaml.YAMLError as exc:
        raise DltoolError(f"{path} is not valid YAML: {exc}", hint=DATA_HINT) from exc
    if not isinstance(data, dict) or "names" not in data:
        raise DltoolError(
            f"{path} must be a mapping with 'names' and the split folders", hint=DATA_HINT
        )
    root = Path(path).parent / str(data.get("path", "."))
    names = data["names"]
    if isinstance(names, dict):
        names = [names[k] for k in sorted(names)]
    names = [str(n) for n in names]
    if "nc" in data and int(data["nc"]) != len(names):
        raise DltoolError(
            f"{path}: nc is {data['nc']} but {len(names)} names are listed", hint=DATA_HINT
        )
    splits = {s: root / str(data[s]) for s in ("train", "val") if s in data}
    return DataSpec(root, splits, names)
