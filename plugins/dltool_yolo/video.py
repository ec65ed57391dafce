"""Video files for ``detect``: frames streamed out of a file, annotated frames into a new one.

Reading and writing go through PyAV (``av``, whose wheels carry FFmpeg). :func:`frames`
yields one RGB uint8 frame (H, W, 3) at a time, every ``stride``-th, so memory stays flat
however long the video; :class:`VideoWriter` encodes H.264 (``libx264``, else MPEG-4
part 2) in an ``.mp4`` written atomically (temp file, then rename) at the rate it is given.
Each way a file fails to open or decode is a :class:`VideoReadError` whose ``reason``
names it without the path (``not a video FFmpeg can read``, ``audio only``, ``no video
stream (truncated?)``, ``no frames``). ``av`` is imported on use.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from dltool import atomic
from dltool.errors import DltoolError
from dltool_yolo.sources import VIDEO_SUFFIXES

VIDEO_HINT = "give an .mp4, .avi, .mov, .mkv or .webm file FFmpeg can decode"
DEFAULT_FPS = Fraction(30)
CODECS = ("libx264", "mpeg4")  # the first one this FFmpeg build has


class VideoReadError(DltoolError):
    """A video file that cannot be read; ``reason`` says why without the path."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"cannot read video {path}: {reason}", hint=VIDEO_HINT)
        self.path, self.reason = path, reason


@dataclass
class VideoInfo:
    """What a video stream announces: frame rate, frame count (0: unknown), size."""

    fps: Fraction
    frames: int
    width: int
    height: int


def is_video(path: object) -> bool:
    """Return whether ``path`` (not a URL string) names a file with a video suffix."""
    return isinstance(path, Path) and path.suffix.lower() in VIDEO_SUFFIXES


def _av_errors() -> tuple[type[BaseException], ...]:
    """Return the exceptions PyAV raises for files it cannot open or decode."""
    import av

    return (av.error.FFmpegError, OSError, ValueError, EOFError)


def _open(path: Path) -> Any:
    """Return the open container of ``path`` and its first video stream."""
    import av

    try:
        container = av.open(str(path), mode="r")
    except EOFError:  # a header and nothing after it
        raise VideoReadError(path, "no frames") from None
    except _av_errors() as exc:
        raise VideoReadError(path, f"not a video FFmpeg can read ({_why(exc)})") from None
    if not container.streams.video:
        audio = bool(container.streams.audio)
        container.close()
        raise VideoReadError(path, "audio only" if audio else "no video stream (truncated?)")
    return container, container.streams.video[0]


def _why(exc: BaseException) -> str:
    """Return a short reason for a PyAV error (its FFmpeg message without the path)."""
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def _info(stream: Any, container: Any) -> VideoInfo:
    """Return the rate, frame count and size a stream announces (count estimated if absent)."""
    rate = stream.average_rate or stream.guessed_rate or DEFAULT_FPS
    fps = Fraction(rate) if rate > 0 else DEFAULT_FPS
    frames = int(stream.frames or 0)
    if not frames and container.duration:  # microseconds (AV_TIME_BASE)
        frames = round(container.duration / 1_000_000 * fps)
    return VideoInfo(fps, frames, stream.codec_context.width, stream.codec_context.height)


@contextlib.contextmanager
def opened(path: Path) -> Iterator[tuple[VideoInfo, Iterator[tuple[int, Any]]]]:
    """Yield the video's info and an iterator of (frame number from 1, RGB frame (H, W, 3))."""
    container, stream = _open(path)
    try:
        stream.thread_type = "AUTO"
        yield _info(stream, container), _decode(path, container, stream)
    finally:
        container.close()


def _decode(path: Path, container: Any, stream: Any) -> Iterator[tuple[int, Any]]:
    """Yield (n, RGB uint8 frame) for every decoded frame; a damaged tail ends with an error."""
    n = 0
    try:
        for frame in container.decode(stream):
            n += 1
            yield n, frame.to_ndarray(format="rgb24")  # (H, W, 3)
    except _av_errors() as exc:
        if n == 0:
            raise VideoReadError(path, f"no frames could be decoded ({_why(exc)})") from None
        raise VideoReadError(path, f"decoding stopped after frame {n} ({_why(exc)})") from None


def frames(path: Path, stride: int = 1) -> Iterator[tuple[int, VideoInfo, Any]]:
    """Yield (frame number, info, RGB frame) for every ``stride``-th frame (1, 1+stride, …)."""
    with opened(path) as (info, decoded):
        for n, rgb in decoded:
            if (n - 1) % stride == 0:
                yield n, info, rgb


def codec_name() -> str:
    """Return the first encoder of CODECS this FFmpeg build has."""
    import av

    for name in CODECS:
        if name in av.codecs_available:
            return name
    raise DltoolError("this FFmpeg build has no H.264 or MPEG-4 encoder", hint="pip install -U av")


class VideoWriter:
    """An ``.mp4`` written frame by frame at ``fps``, installed atomically on close."""

    def __init__(self, path: Path, fps: Fraction) -> None:
        self.path, self.fps, self.frames = Path(path), Fraction(fps).limit_denominator(1001), 0
        self._stack = contextlib.ExitStack()
        self._container: Any = None
        self._stream: Any = None

    def __enter__(self) -> VideoWriter:
        return self

    def write(self, rgb: Any) -> None:
        """Encode one RGB uint8 frame (H, W, 3); odd sides lose their last row/column."""
        import av

        h, w = rgb.shape[0] // 2 * 2, rgb.shape[1] // 2 * 2  # yuv420p needs even sides
        if self._container is None:
            self._start(w, h)
        frame = av.VideoFrame.from_ndarray(rgb[:h, :w], format="rgb24")
        frame.pts = self.frames
        self._container.mux(self._stream.encode(frame))
        self.frames += 1

    def _start(self, width: int, height: int) -> None:
        """Open the temporary file and the encoder for frames of ``width``×``height``."""
        import av

        tmp = self._stack.enter_context(atomic.atomic_path(self.path))
        self._container = av.open(str(tmp), mode="w", format="mp4")
        stream = self._container.add_stream(codec_name(), rate=self.fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = 1 / self.fps
        self._stream = stream

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        """Flush the encoder and install the file (on an error: drop it)."""
        try:
            if self._container is not None:
                if kind is None:
                    self._container.mux(self._stream.encode(None))
                self._container.close()
        finally:
            self._stack.__exit__(kind, exc, tb)
