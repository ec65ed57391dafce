"""http(s) image sources, against a server the test starts on 127.0.0.1: a good image, a 404,
a body that is no image, bodies over the cap (announced and not), a server that stalls.
Also --classes ids, --line-width and --hide-labels."""

from __future__ import annotations

import contextlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from dltool_yolo.annotate import draw
from dltool_yolo.detect import Detection
from dltool_yolo.predict import class_indices

from dltool.data.images import sample_path
from dltool.data.urls import UrlError, fetch, is_url, read_url_rgb, url_name
from dltool.errors import DltoolError

COFFEE = sample_path("coffee").read_bytes()
BIG = b"x" * (1 << 20) + b"x"  # one byte over 1 MB
STALL_S = 3.0


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        if self.path == "/stall.png":
            time.sleep(STALL_S)
        body, length = {
            "/coffee.png": (COFFEE, True),
            "/text.png": (b"hello, not an image", True),
            "/big.png": (BIG, True),
            "/big-unannounced.png": (BIG, False),
            "/stall.png": (COFFEE, True),
        }.get(self.path, (None, True))
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):  # the client gave up (cap, time-out)
            self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_fetch_reads_into_memory_and_names_each_failure(server):
    assert fetch(f"{server}/coffee.png", 2, 1 << 20) == COFFEE
    assert read_url_rgb(f"{server}/coffee.png", 2).shape == (400, 600, 3)
    cases = {
        "missing.png": "HTTP 404",
        "text.png": "not an image",
        "big.png": f"{len(BIG)} bytes, over the 1 MB cap",
        "big-unannounced.png": "over the 1 MB cap",
    }
    for name, reason in cases.items():
        with pytest.raises(UrlError) as err:
            read_url_rgb(f"{server}/{name}", 2, 1 << 20)
        assert err.value.reason.startswith(reason), (name, err.value.reason)
    start = time.monotonic()
    with pytest.raises(UrlError, match="timed out after 0.3 s"):
        fetch(f"{server}/stall.png", 0.3, 1 << 20)
    assert time.monotonic() - start < STALL_S - 1  # bounded by the time-out, not the server


def test_url_names():
    assert is_url("HTTPS://x/y.jpg") and not is_url("http_notes.jpg") and not is_url(None)
    assert url_name("https://h/a/bus.jpg?x=1#f") == "bus.jpg" and url_name("http://h/") == "image"


def test_cli_detects_a_url_and_skips_the_failures(cli, fails, tmp_path, server):
    bad = [f"{server}/{n}" for n in ("missing.png", "text.png", "big.png", "stall.png")]
    args = ["yolo", "detect", f"{server}/coffee.png", *bad, "--size", "320"]
    opts = ["--max-download-mb", "1", "--download-timeout", "0.3", "--out", tmp_path / "r"]
    result = cli(*args, *opts)
    assert result.exit_code == 0, result.output
    assert f"image 1/5 {server}/coffee.png 600x400: 1 cup" in result.stdout
    tail = result.stdout.split("Skipped 4 file(s):")[1]
    for url, why in zip(
        bad, ("HTTP 404", "not an image", "over the 1 MB cap", "timed out"), strict=True
    ):
        assert f"{url}: " in tail and why in tail.split(f"{url}: ")[1].splitlines()[0]
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == [
        "coffee.png",
        "config.yaml",
        "run.json",
    ]
    fails(cli("yolo", "detect", *bad[:2], "--out", tmp_path / "x"), "none of the 2 file(s)")


def test_classes_take_ids_and_names():
    names = ["person", "bicycle", "car"]
    assert class_indices("2,person", names) == [0, 2] and class_indices(None, names) is None
    with pytest.raises(DltoolError, match="unknown class '3'"):
        class_indices("3", names)


def test_line_width_and_hide_labels():
    image = np.zeros((100, 100, 3), np.uint8)
    det = [Detection(0, "person", 0.9, (20.0, 30.0, 80.0, 90.0))]
    boxes_only = np.asarray(draw(image, det, line_width=1, hide_labels=True)).any(-1)
    assert boxes_only.sum() == 2 * (61 + 61) - 4  # a 61x61 outline, one pixel wide
    wide = np.asarray(draw(image, det, line_width=3, hide_labels=True)).any(-1)
    labelled = np.asarray(draw(image, det, line_width=1)).any(-1)
    assert wide.sum() > boxes_only.sum() and labelled.sum() > boxes_only.sum() + 100


def test_the_label_file_gets_the_score_sixth():
    from dltool_yolo.annotate import label_lines

    det = [Detection(3, "car", 0.5, (0.0, 0.0, 50.0, 20.0))]
    assert label_lines(det, 100, 40) == "3 0.250000 0.250000 0.500000 0.500000\n"
    assert label_lines(det, 100, 40, conf=True).split()[5] == "0.500000"


def test_video_frames_are_streamed():
    """Memory stays flat over a long video: frames come from generators, one at a time."""
    import inspect

    from dltool_yolo import video

    assert inspect.isgeneratorfunction(video.frames) and inspect.isgeneratorfunction(video._decode)
