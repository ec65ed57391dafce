"""The entry-point reader agrees with importlib.metadata and the file format."""

from __future__ import annotations

import importlib.metadata

from dltool.entry_points import entry_points, normalize, parse_group

TEXT = """
[console_scripts]
tool = pkg.cli:main

[dltool]
# a comment
yolo = dltool_yolo
extra = other.mod:obj [cuda]
"""


def test_parse_group_reads_only_its_section_and_drops_extras():
    assert list(parse_group(TEXT, "dltool")) == [
        ("yolo", "dltool_yolo"),
        ("extra", "other.mod:obj"),
    ]
    assert list(parse_group(TEXT, "missing")) == []


def test_normalize():
    assert normalize("Zope.Interface") == "zope_interface"
    assert normalize("a-b__c") == "a_b_c"


def test_agrees_with_importlib_metadata_on_this_environment():
    for group in ("console_scripts", "dltool", "pytest11"):
        ours = sorted((e.name, e.value) for e in entry_points(group))
        theirs = sorted(
            (e.name, e.value.partition("[")[0].strip())
            for e in importlib.metadata.entry_points(group=group)
        )
        assert ours == theirs, group


def test_first_distribution_on_the_path_wins(tmp_path):
    for where, target in (("a", "first"), ("b", "second")):
        info = tmp_path / where / "plug-1.0.dist-info"
        info.mkdir(parents=True)
        (info / "entry_points.txt").write_text(f"[dltool]\nplug = {target}\n")
    (tmp_path / "b" / "other.egg-info").mkdir()
    (tmp_path / "b" / "other.egg-info" / "entry_points.txt").write_text("[dltool]\no = o\n")
    found = entry_points("dltool", [str(tmp_path / "a"), str(tmp_path / "b"), "/nonexistent"])
    assert [(e.name, e.value) for e in found] == [("plug", "first"), ("o", "o")]
