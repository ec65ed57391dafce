"""Image sources on the web: ``http://`` and ``https://`` URLs read into memory, then decoded.

A URL is fetched with a time-out on the connection and on each read, an overall deadline
(``timeout`` × 4: a server that trickles bytes is bounded too) and a size cap: a body that
announces or reaches more than ``max_bytes`` is refused before it is all read. Nothing is
written to disk. Each way of failing is a :class:`UrlError` whose ``reason`` names it in a
few words (``HTTP 404 Not Found``, ``timed out after 2 s``, ``over the 50 MB cap``, ``not an
image``). Only the standard library at import; PIL and numpy on use.
"""

from __future__ import annotations

import io
import time
import urllib.error
import urllib.request
from typing import Any

from dltool.errors import DltoolError

SCHEMES = ("http://", "https://")
CHUNK = 1 << 16
DEADLINE_FACTOR = 4  # the whole download may take this many time-outs
USER_AGENT = "dltool (+image fetch)"
URL_HINT = "check the address, or download the image and give the file"


class UrlError(DltoolError):
    """A URL that could not be read as an image; ``reason`` says why without the URL."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot read {url}: {reason}", hint=URL_HINT)
        self.url, self.reason = url, reason


def is_url(source: object) -> bool:
    """Return whether ``source`` is an http(s) URL (any case of the scheme)."""
    return isinstance(source, str) and source[:8].lower().startswith(SCHEMES)


def url_name(url: str) -> str:
    """Return the last path component of ``url`` (query dropped), or ``image``."""
    path = url.split("?", 1)[0].split("#", 1)[0].split("://", 1)[-1]
    name = path.rsplit("/", 1)[-1] if "/" in path else ""
    return name or "image"


def fetch(url: str, timeout: float = 30.0, max_bytes: int = 50 << 20) -> bytes:
    """Return the body of ``url``, read within ``timeout`` seconds a step and ``max_bytes``."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    deadline = time.monotonic() + timeout * DEADLINE_FACTOR
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (http(s) only)
            _check_length(url, response.headers.get("Content-Length"), max_bytes)
            return _read_capped(url, response, max_bytes, deadline, timeout)
    except urllib.error.HTTPError as exc:
        raise UrlError(url, f"HTTP {exc.code} {exc.reason}") from None
    except TimeoutError:
        raise UrlError(url, f"timed out after {timeout:g} s") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise UrlError(url, f"timed out after {timeout:g} s") from None
        raise UrlError(url, str(getattr(reason, "strerror", None) or reason)) from None
    except (OSError, ValueError) as exc:  # connection reset, bad URL, http.client errors
        raise UrlError(url, str(exc) or type(exc).__name__) from None


def _mb(max_bytes: int) -> str:
    """Return the cap as the user gave it: ``50 MB``."""
    return f"{max_bytes / (1 << 20):g} MB"


def _check_length(url: str, length: str | None, max_bytes: int) -> None:
    """Refuse a body whose announced Content-Length is over the cap."""
    if length is not None and length.isdigit() and int(length) > max_bytes:
        raise UrlError(url, f"{int(length)} bytes, over the {_mb(max_bytes)} cap")


def _read_capped(url: str, response: Any, max_bytes: int, deadline: float, timeout: float) -> bytes:
    """Return the response body read in chunks, refusing more than ``max_bytes``."""
    parts, size = [], 0
    while chunk := response.read(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise UrlError(url, f"over the {_mb(max_bytes)} cap")
        if time.monotonic() > deadline:
            raise UrlError(url, f"timed out after {timeout * DEADLINE_FACTOR:g} s in all")
        parts.append(chunk)
    return b"".join(parts)


def decode_rgb(url: str, data: bytes) -> Any:
    """Return the image in ``data`` as C-contiguous RGB uint8 (H, W, 3), upright."""
    import numpy as np
    from PIL import Image, ImageOps, UnidentifiedImageError

    from dltool.data.images import to_8bit

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            upright = ImageOps.exif_transpose(img)
    except UnidentifiedImageError:
        raise UrlError(url, "not an image") from None
    except Image.DecompressionBombError:
        raise UrlError(url, "too many pixels") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise UrlError(url, f"not a readable image ({exc})") from None
    rgb = to_8bit(upright).convert("RGB")
    return np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))


def read_url_rgb(url: str, timeout: float = 30.0, max_bytes: int = 50 << 20) -> Any:
    """Return the image at ``url`` as RGB uint8 (H, W, 3): fetched into memory, then decoded."""
    return decode_rgb(url, fetch(url, timeout, max_bytes))
