"""One sdist from the package index pip is configured to use, verified before it is opened.

The index is asked through the simple repository API (PEP 503 HTML or PEP 691 JSON) at
``<index-url>/<project>/``; the file is the exact ``NAME-VERSION.tar.gz``, downloaded and
hashed, and kept only when its SHA-256 equals the one the index lists (``#sha256=`` or the
JSON ``hashes``) and the one the artifact declares, where it declares one. No build backend
runs and nothing of the archive is read before that check.

pip's own settings are honoured: ``index-url``, ``extra-index-url``, ``no-index``,
``find-links`` (folders and pages), ``cert``, ``proxy`` and ``timeout``, from pip's
configuration files and ``PIP_*`` variables (read with ``python -m pip config list``);
proxies also from ``https_proxy``/``no_proxy``, certificates also from
``REQUESTS_CA_BUNDLE``.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import html.parser
import os
import re
import ssl
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from dltool.errors import DltoolError

PYPI = "https://pypi.org/simple"
ACCEPT = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"
CHUNK = 1 << 20
_RANK = {"global": 0, "download": 1, ":env:": 2}  # later sections win, as in pip download
_NET_HINT = "check the network connection and pip's index settings ('pip config list')"


@dataclass(frozen=True)
class Settings:
    """Where pip looks for distributions and how it connects."""

    index_urls: tuple[str, ...] = (PYPI,)
    find_links: tuple[str, ...] = ()
    cert: str | None = None
    proxy: str | None = None
    timeout: float = 60.0


@dataclass(frozen=True)
class Candidate:
    """A file an index offers: where it is, its SHA-256 (if listed) and size (if known)."""

    filename: str
    url: str
    sha256: str | None = None
    size: int | None = None


def normalize(name: str) -> str:
    """Return the PEP 503 normalized project name (``Foo_Bar`` -> ``foo-bar``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def split_requirement(requirement: str) -> tuple[str, str]:
    """Return (name, version) of a pinned ``NAME==VERSION`` requirement."""
    match = re.fullmatch(
        r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([A-Za-z0-9._+!-]+)\s*", requirement
    )
    if match is None:
        raise DltoolError(
            f"artifact source '{requirement}' is not a pinned NAME==VERSION",
            hint="declare the SdistSource with an exact version, e.g. 'package==1.2.3'",
        )
    return match.group(1), match.group(2)


def _pip_config() -> dict[str, str]:
    """Return pip's settings for ``pip download``: {option: value}, env over files."""
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "config", "list"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return {}
    found: dict[str, tuple[int, str]] = {}
    for line in proc.stdout.splitlines():
        key, sep, raw = line.partition("=")
        section, _, option = key.rpartition(".")
        option = "timeout" if option == "default-timeout" else option  # one option, two names
        if not sep or section not in _RANK:
            continue
        try:
            value = str(ast.literal_eval(raw))
        except (ValueError, SyntaxError):
            value = raw.strip("'\"")
        if option not in found or found[option][0] <= _RANK[section]:
            found[option] = (_RANK[section], value)
    return {option: value for option, (_, value) in found.items()}


def _true(value: str | None) -> bool:
    """Return True for pip's spellings of yes (``1``, ``true``, ``yes``, ``on``)."""
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def pip_settings() -> Settings:
    """Return the index, links, certificate, proxy and timeout pip would use."""
    conf = _pip_config()
    indexes = [conf.get("index-url") or PYPI, *conf.get("extra-index-url", "").split()]
    if _true(conf.get("no-index")):
        indexes = []
    timeout = conf.get("timeout") or "60"
    try:
        seconds = float(timeout)
    except ValueError:
        seconds = 60.0
    return Settings(
        index_urls=tuple(indexes),
        find_links=tuple(conf.get("find-links", "").split()),
        cert=conf.get("cert") or os.environ.get("REQUESTS_CA_BUNDLE") or None,
        proxy=conf.get("proxy") or None,
        timeout=seconds,
    )


def _opener(settings: Settings) -> urllib.request.OpenerDirector:
    """Return a urllib opener with pip's proxy (else the environment's) and certificates."""
    proxies = {"http": settings.proxy, "https": settings.proxy} if settings.proxy else None
    context = ssl.create_default_context(cafile=settings.cert) if settings.cert else None
    return urllib.request.build_opener(
        urllib.request.ProxyHandler(proxies), urllib.request.HTTPSHandler(context=context)
    )


def _request(url: str) -> urllib.request.Request:
    """Return a request for ``url``; user:password in the URL becomes Basic authentication."""
    parts = urllib.parse.urlsplit(url)
    headers = {"Accept": ACCEPT, "User-Agent": "dltool"}
    if parts.username is not None:
        user = urllib.parse.unquote(parts.username)
        password = urllib.parse.unquote(parts.password or "")
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        url = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    return urllib.request.Request(url, headers=headers)


def _local(url: str) -> Path | None:
    """Return the path of a ``file:`` URL or plain path; None for a web URL."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "file":
        return Path(urllib.request.url2pathname(parts.path))
    if parts.scheme in ("http", "https"):
        return None
    return Path(url).expanduser()


def open_url(url: str, settings: Settings) -> tuple[IO[bytes], str, int | None]:
    """Return (stream, content type, length) of ``url``; a folder gives its index.html."""
    path = _local(url)
    if path is not None:
        path = path / "index.html" if path.is_dir() else path
        return open(path, "rb"), "text/html", path.stat().st_size
    response = _opener(settings).open(_request(url), timeout=settings.timeout)
    length = response.headers.get("Content-Length")
    kind = response.headers.get_content_type() or ""
    return response, kind, int(length) if length and length.isdigit() else None


class _Links(html.parser.HTMLParser):
    """Collect the ``href`` of every ``<a>`` of a simple-API page."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Remember an anchor's target."""
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def parse_page(text: str, kind: str, base: str) -> list[Candidate]:
    """Return the files listed by a simple-API page (JSON or HTML) found at ``base``."""
    import json

    if "json" in kind:
        files = json.loads(text).get("files", [])
        return [
            Candidate(
                f["filename"],
                urllib.parse.urljoin(base, f["url"]),
                (f.get("hashes") or {}).get("sha256"),
                f.get("size"),
            )
            for f in files
            if isinstance(f, dict) and "filename" in f and "url" in f
        ]
    parser = _Links()
    parser.feed(text)
    found = []
    for href in parser.hrefs:
        url, _, fragment = urllib.parse.urljoin(base, href).partition("#")
        name = urllib.parse.unquote(url.rstrip("/").rsplit("/", 1)[-1])
        sha = fragment[len("sha256=") :] if fragment.startswith("sha256=") else None
        found.append(Candidate(name, url, sha))
    return found


def is_sdist_of(filename: str, name: str, version: str) -> bool:
    """Return True when ``filename`` is exactly the sdist ``NAME-VERSION.tar.gz``."""
    if not filename.endswith(".tar.gz"):
        return False
    project, _, ver = filename[: -len(".tar.gz")].rpartition("-")
    return normalize(project) == normalize(name) and ver == version


def _page_urls(settings: Settings, name: str) -> list[str]:
    """Return the pages to look at: each index's project page, then each find-links entry."""
    pages = [f"{index.rstrip('/')}/{normalize(name)}/" for index in settings.index_urls]
    return pages + list(settings.find_links)


def _in_folder(folder: Path, name: str, version: str) -> Candidate | None:
    """Return the sdist in a find-links folder, if it holds one."""
    for path in sorted(folder.iterdir()):
        if is_sdist_of(path.name, name, version):
            return Candidate(path.name, path.as_uri(), None, path.stat().st_size)
    return None


def _on_page(page: str, settings: Settings, name: str, version: str) -> Candidate | None:
    """Return the sdist listed on ``page`` (a project page, a find-links folder or page)."""
    local = _local(page)
    if local is not None and local.is_dir() and not (local / "index.html").is_file():
        return _in_folder(local, name, version)
    stream, kind, _ = open_url(page, settings)
    with stream:
        text = stream.read().decode("utf-8", errors="replace")
    base = page if local is None else local.resolve().as_uri() + ("/" if local.is_dir() else "")
    for candidate in parse_page(text, kind, base):
        if is_sdist_of(candidate.filename, name, version):
            return candidate
    return None


def find_sdist(settings: Settings, requirement: str) -> Candidate:
    """Return the exact ``NAME-VERSION.tar.gz`` of ``requirement`` from the first index with it."""
    name, version = split_requirement(requirement)
    problems = []
    for page in _page_urls(settings, name):
        try:
            found = _on_page(page, settings, name, version)
        except urllib.error.HTTPError as exc:
            if exc.code != 404:
                problems.append(f"{page}: HTTP {exc.code}")
            continue
        except (OSError, ValueError) as exc:  # URLError, refused, TLS, timeout, bad JSON
            problems.append(f"{page}: {getattr(exc, 'reason', None) or exc}")
            continue
        if found is not None:
            return found
    where = "; ".join(problems) if problems else "no index lists it"
    raise DltoolError(
        f"could not download {requirement}: {name}-{version}.tar.gz not found ({where})",
        hint=_NET_HINT,
    )


def download(
    candidate: Candidate,
    dest: Path,
    settings: Settings,
    declared: str | None,
    progress: Any = None,
) -> Path:
    """Download ``candidate`` to ``dest`` and return it, only if its SHA-256 is the expected one.

    Expected: the index's hash and the ``declared`` one; both must agree, one must be known.
    """
    expected = _expected_sha(candidate, declared)
    digest = hashlib.sha256()
    try:
        stream, _, length = open_url(candidate.url, settings)
        if progress is not None:
            progress.stage(f"download {candidate.filename}", candidate.size or length)
        with stream, open(dest, "wb") as out:
            _copy(stream, out, digest.update, progress)
    except (OSError, ValueError) as exc:
        dest.unlink(missing_ok=True)
        raise DltoolError(
            f"could not download {candidate.filename}: {getattr(exc, 'reason', None) or exc}",
            hint=_NET_HINT,
        ) from exc
    if digest.hexdigest() != expected:
        dest.unlink(missing_ok=True)
        raise DltoolError(
            f"{candidate.filename} has SHA-256 {digest.hexdigest()[:12]}…, expected "
            f"{expected[:12]}…; nothing was saved",
            hint="the published file changed or the download was damaged: try again later",
        )
    return dest


def _expected_sha(candidate: Candidate, declared: str | None) -> str:
    """Return the SHA-256 the download must have; refuse disagreeing or absent hashes."""
    listed = candidate.sha256.lower() if candidate.sha256 else None
    declared = declared.lower() if declared else None
    if listed and declared and listed != declared:
        raise DltoolError(
            f"the index lists {candidate.filename} with SHA-256 {listed[:12]}…, the artifact "
            f"declares {declared[:12]}…; nothing was downloaded",
            hint="the index serves another file than the one declared: check pip's index-url",
        )
    if not (listed or declared):
        raise DltoolError(
            f"no SHA-256 is known for {candidate.filename} (the index lists none, the artifact "
            "declares none); nothing was downloaded",
            hint="use an index that lists hashes, or declare sha256= in the SdistSource",
        )
    return listed or declared or ""


def _copy(src: IO[bytes], out: IO[bytes], on_chunk: Callable[[bytes], None], progress: Any) -> None:
    """Stream ``src`` into ``out`` in chunks, passing each to ``on_chunk`` and the progress bar."""
    while chunk := src.read(CHUNK):
        on_chunk(chunk)
        out.write(chunk)
        if progress is not None:
            progress.advance(len(chunk))
    out.flush()


__all__ = ["Candidate", "Settings", "download", "find_sdist", "pip_settings"]
