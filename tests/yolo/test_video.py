"""Video files through ``yolo detect``: a lossless clip made from the sample photos, frame by
frame equal to the stills; the annotated video, labels, stride; videos that cannot be read."""

from __future__ import annotations

import json

import av
import numpy as np
import pytest
from PIL import Image

from dltool.data.images import read_rgb, sample_path

PHOTOS = ("grace_hopper", "chelsea", "coffee", "motorcycle_left")
H, W = 300, 448  # every photo holds a 300x448 top-left crop
FPS = 5


def encode(path, frames, codec="ffv1", pix_fmt="bgr0", fps=FPS):
    """Write RGB uint8 ``frames`` as a video (ffv1 in .mkv: lossless)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = (
            frames[0].shape[1],
            frames[0].shape[0],
            pix_fmt,
        )
        for f in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
        container.mux(stream.encode(None))
    return path


@pytest.fixture(scope="module")
def stills(tmp_path_factory):
    """The crops of the sample photos as PNG stills and as one lossless .mkv clip."""
    folder = tmp_path_factory.mktemp("clip")
    frames = [np.ascontiguousarray(read_rgb(sample_path(n))[:H, :W]) for n in PHOTOS]
    paths = []
    for name, f in zip(PHOTOS, frames, strict=True):
        Image.fromarray(f).save(folder / f"{name}.png")
        paths.append(folder / f"{name}.png")
    return paths, encode(folder / "clip.mkv", frames)


def detections(records):
    return [
        [(d["class"], d["x1"], d["y1"], d["x2"], d["y2"], d["score"]) for d in r] for r in records
    ]


def test_frames_detect_what_the_stills_detect(cli, tmp_path, stills):
    paths, clip = stills
    args = ["--json", "yolo", "detect", "--size", "320", "--save-txt", "--save-conf"]
    still = json.loads(cli(*args, *paths, "--out", tmp_path / "s").stdout)
    result = cli(*args, clip, "--out", tmp_path / "v")
    assert result.exit_code == 0, result.output
    (video,) = json.loads(result.stdout)["videos"]
    assert [f["frame"] for f in video["frames"]] == [1, 2, 3, 4]
    got = detections([f["detections"] for f in video["frames"]])
    want = detections([i["detections"] for i in still["images"]])
    assert got == want and [d[0][0] for d in got] == ["person", "cat", "cup", "motorbike"]
    assert video["counts"]["person"] >= 1 and video["fps"] == FPS and video["detected_frames"] == 4
    label = (tmp_path / "v" / "labels" / "clip_3.txt").read_text().splitlines()[0].split()
    assert label[0] == "41" and len(label) == 6  # the cup, with its score sixth
    assert float(label[5]) == pytest.approx(want[2][0][5], abs=1e-4)
    with av.open(str(tmp_path / "v" / "clip.mp4")) as out:  # the annotated video
        stream = out.streams.video[0]
        assert stream.average_rate == FPS and (stream.width, stream.height) == (W, H)
        assert sum(1 for _ in out.decode(stream)) == 4


def test_lines_summary_and_stride(cli, tmp_path, stills):
    _paths, clip = stills
    result = cli("yolo", "detect", clip, "--size", "320", "--vid-stride", "2", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"video 1/1 (frame 1/4) {clip}: 2 person, ")
    assert lines[1].startswith(f"video 1/1 (frame 3/4) {clip}: 1 cup, 1 bowl, ")
    assert f"{clip}: 2 of 4 frames detected (1 frame in 2)" in result.stdout
    with av.open(str(tmp_path / "clip.mp4")) as out:  # half the frames at half the rate
        assert out.streams.video[0].average_rate == FPS / 2
        assert sum(1 for _ in out.decode(video=0)) == 2
    quiet = cli("-q", "yolo", "detect", clip, "--size", "320", "--out", tmp_path / "q")
    assert "frame 1/4" not in quiet.stdout and "4 of 4 frames detected" in quiet.stdout


def bad_videos(folder):
    """Return a truncated .mp4, an audio-only .mkv, a video with no frames and a non-video."""
    frames = [np.full((64, 64, 3), 40 * i, np.uint8) for i in range(6)]
    whole = encode(folder / "whole.mp4", frames, "mpeg4", "yuv420p")
    truncated = folder / "truncated.mp4"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    audio = folder / "audio.mkv"
    with av.open(str(audio), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 800), np.int16), format="s16", layout="mono"
        )
        frame.sample_rate = 8000
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    empty = folder / "empty.mkv"
    with av.open(str(empty), "w") as container:
        stream = container.add_stream("ffv1", rate=5)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "bgr0"
        container.start_encoding()  # the header, then no frame
    junk = folder / "junk.webm"
    junk.write_bytes(b"\x1a\x45not a video at all" * 10)
    return [truncated, audio, empty, junk]


def test_undecodable_videos_are_skipped_and_the_batch_goes_on(cli, fails, tmp_path, stills):
    bad = bad_videos(tmp_path)
    still = stills[0][2]  # coffee
    result = cli("yolo", "detect", *bad, still, "--size", "320", "--out", tmp_path / "r")
    assert result.exit_code == 0, result.output
    assert "1 cup" in result.stdout and "Skipped 4 file(s):" in result.stdout
    tail = result.stdout.split("Skipped 4 file(s):")[1]
    assert f"{bad[0]}: no video stream (truncated?)" in tail  # its index was at the end
    assert f"{bad[1]}: audio only" in tail
    assert f"{bad[2]}: no frames" in tail
    assert f"{bad[3]}: not a video FFmpeg can read" in tail
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == [
        "coffee.png",
        "config.yaml",
        "run.json",
    ]
    fails(cli("yolo", "detect", *bad, "--out", tmp_path / "x"), "none of the 4 file(s)")


def test_a_folder_gives_its_videos_too(cli, tmp_path, stills):
    from dltool_yolo.sources import images

    folder = tmp_path / "media"
    folder.mkdir()
    (folder / "a.mkv").write_bytes(stills[1].read_bytes())
    (folder / "b.png").write_bytes(stills[0][0].read_bytes())
    (folder / "notes.txt").write_text("x")
    assert [p.name for p in images([str(folder)], False)] == ["a.mkv", "b.png"]
