"""The real YOLOv3-tiny COCO model (fetched once as an artifact) on real photos from packages."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from dltool_yolo import boxes as B
from dltool_yolo import nms as N
from dltool_yolo.detect import FUSE_FROM, Detector, default_detector, load_image
from dltool_yolo.graph import fused_graph, reproduces
from PIL import Image

from dltool.data.images import sample_path

GRACE = sample_path("grace_hopper")
ASTRONAUT = sample_path("astronaut")
CHELSEA = sample_path("chelsea")
COFFEE = sample_path("coffee")
MOTORCYCLE = sample_path("motorcycle_left")
CAMERA = sample_path("camera")


@pytest.fixture(scope="module")
def detector320() -> Detector:
    return default_detector(torch.device("cpu"), 320, quiet=True)


@pytest.fixture(scope="module")
def detector416(detector320) -> Detector:
    return Detector(detector320.model, detector320.names, torch.device("cpu"), 416)


def best(dets, name):
    """Return the highest-scoring detection of class ``name`` (or None)."""
    found = [d for d in dets if d.name == name]
    return max(found, key=lambda d: d.score) if found else None


def area_fraction(det, image):
    x1, y1, x2, y2 = det.box
    return (x2 - x1) * (y2 - y1) / (image.shape[0] * image.shape[1])


@pytest.mark.parametrize(
    ("path", "name", "min_score", "min_area"),
    [
        (GRACE, "person", 0.5, 0.6),
        (ASTRONAUT, "person", 0.25, 0.4),
        (CAMERA, "person", 0.8, 0.3),
        (CHELSEA, "cat", 0.35, 0.6),
        (COFFEE, "cup", 0.7, 0.2),
        (MOTORCYCLE, "motorbike", 0.7, 0.5),
    ],
)
def test_detects_the_main_object_at_320(detector320, path, name, min_score, min_area):
    image = load_image(path)
    dets = detector320.detect(image)
    top = best(dets, name)
    assert top is not None, [(d.name, d.score) for d in dets]
    assert top.score >= min_score and area_fraction(top, image) >= min_area
    assert dets[0].name == name  # the most confident detection
    x1, y1, x2, y2 = top.box
    assert 0 <= x1 < x2 <= image.shape[1] and 0 <= y1 < y2 <= image.shape[0]


def test_detects_at_416_with_grace_hoppers_tie(detector416):
    assert best(detector416.detect(load_image(COFFEE)), "cup").score > 0.5
    assert best(detector416.detect(load_image(MOTORCYCLE)), "motorbike").score > 0.5
    tie = best(detector416.detect(load_image(GRACE)), "tie")
    assert tie is not None and 200 < tie.box[0] < tie.box[2] < 320  # the tie is mid-image


def test_class_filter_and_max_boxes(detector320):
    image = load_image(MOTORCYCLE)
    assert {d.name for d in detector320.detect(image, classes=[0])} <= {"person"}
    assert len(detector320.detect(image, score_threshold=0.01, max_boxes=3)) == 3


def test_torch_pipeline_matches_numpy_reference(detector320):
    """Decode + score + per-class NMS + un-letterbox in NumPy float64 gives the same boxes."""
    image = load_image(GRACE)
    heads = detector320.infer(detector320.preprocess(image))
    corners, scores, classes = [], [], []
    for head, raw in zip(detector320.model.heads, heads, strict=True):
        feats = raw[0].double().permute(1, 2, 0).numpy()  # (H, W, A·85)
        conf, xy, wh, probs = B.decode_head(feats, np.array(head.anchors), 80, (320, 320))
        c = np.concatenate([xy - wh / 2, xy + wh / 2], -1).reshape(-1, 4) * 320
        s = (conf * probs).reshape(-1, 80)
        i, k = np.nonzero(s >= 0.25)
        corners.append(c[i]), scores.append(s[i, k]), classes.append(k)
    c, s, k = np.concatenate(corners), np.concatenate(scores), np.concatenate(classes)
    kept = []
    for cls in np.unique(k):
        idx = np.flatnonzero(k == cls)
        kept += list(idx[N.nms_indices(c[idx], s[idx], 0.45)])
    kept = sorted(kept, key=lambda j: -s[j])
    ref = B.unletterbox_corners(c[kept], image.shape[:2], 320)
    dets = detector320.detect(image)
    assert [d.cls for d in dets] == [int(k[j]) for j in kept]
    np.testing.assert_allclose([d.score for d in dets], s[kept], atol=1e-5)
    np.testing.assert_allclose([d.box for d in dets], ref, atol=0.05)


def test_cli_detect_outputs(cli, fails, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image")
    out = tmp_path / "run"
    args = ["yolo", "detect", str(GRACE), str(notes), str(COFFEE), "--size", "320"]
    result = cli(*args, "--save-txt", "--save-crops", "--out", str(out))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any(ln.startswith(f"image 1/3 {GRACE} 512x600: 1 person, 1 tie,") for ln in lines)
    assert any(ln.startswith(f"image 3/3 {COFFEE} 600x400: 1 cup,") for ln in lines)
    assert "Skipped 1 file(s):" in result.stdout and f"{notes}: not an image" in result.stdout
    assert "not an image" not in " ".join(result.stderr.split())  # listed once, at the end
    assert f"Results saved to: {out}" in result.stdout
    assert result.stdout.count("ms inference") == 1
    assert (out / "grace_hopper.jpg").is_file() and (out / "coffee.png").is_file()
    label = (out / "labels" / "coffee.txt").read_text().split()
    assert label[0] == "41" and all(0 < float(v) < 1 for v in label[1:])  # 41: cup
    assert list((out / "crops" / "person").glob("*.jpg"))


def test_cli_json_and_zero_detections(cli, fails, tmp_path):
    blank = tmp_path / "blank.png"
    Image.new("RGB", (64, 48), (128, 128, 128)).save(blank)
    result = cli("yolo", "detect", str(blank), "--out", str(tmp_path / "r"))
    assert result.exit_code == 0 and "64x48: 0 detections" in result.stdout
    result = cli("--json", "yolo", "detect", str(COFFEE), "--out", str(tmp_path / "j"))
    doc = json.loads(result.stdout)
    assert doc["images"][0]["detections"][0]["class"] == "cup"
    assert set(doc["speed"]) == {"preprocess_ms", "inference_ms", "postprocess_ms", "fused_graph"}
    assert doc["speed"]["fused_graph"] is False  # one image: eager, no graph to build


def test_cli_fuses_the_graph_for_a_long_run(cli, fails, tmp_path):
    """A run of FUSE_FROM images or more builds the fused CPU graph and says so."""
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(FUSE_FROM):
        Image.new("RGB", (40 + i, 30), (9 * i, 128, 128)).save(folder / f"{i:02d}.png")
    out = tmp_path / "r"
    result = cli("yolo", "detect", str(folder), "--size", "128", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"image {FUSE_FROM}/{FUSE_FROM} " in result.stdout
    assert "(1, 3, 128, 128), fused CPU graph" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.jpg"], "image not found: missing.jpg"),
        ([str(COFFEE), "--score-threshold", "nan"], "--score-threshold must be between 0 and 1"),
        ([str(COFFEE), "--classes", "person,unicorn"], "unknown class 'unicorn'"),
        ([str(COFFEE), "--size", "300"], "--size must be a positive multiple of 32, got 300"),
        (["demo:unicorn"], "no demo image 'unicorn'"),
        ([], "give images, folders, globs or demo:NAME"),
        ([str(COFFEE), "--cfg", "x.cfg"], "--cfg and --names go with --weights"),
    ],
)
def test_cli_bad_input_is_one_line(cli, fails, args, message):
    fails(cli("yolo", "detect", *args), message)


@pytest.mark.parametrize(
    "args",
    [
        ["--score-threshold", "1.5"],
        ["--iou-threshold", "-0.1"],
        ["--size", "0"],
        ["--size", "-32"],
        ["--size", "32000"],
        ["--max-boxes", "0"],
    ],
)
def test_cli_out_of_range_is_a_usage_error(cli, args, tmp_path):
    """Ranges are checked by the option itself, before any work: --size 32000 is refused."""
    result = cli("yolo", "detect", str(COFFEE), *args, "--out", str(tmp_path / "r"))
    assert result.exit_code == 2 and f"Invalid value for '{args[0]}'" in result.stderr
    assert "Traceback" not in result.output and not (tmp_path / "r").exists()


def test_cli_names_file_with_too_few_classes(cli, fails, tmp_path, detector320):
    from dltool_yolo.weights import YOLOV3_TINY

    from dltool.artifacts import ArtifactStore

    paths = ArtifactStore().locate(YOLOV3_TINY)
    names = tmp_path / "few.names"
    names.write_text("person\ncar\n")
    args = ["--cfg", str(paths["yolov3-tiny.cfg"]), "--weights", str(paths["yolov3-tiny.weights"])]
    result = cli("yolo", "detect", str(COFFEE), *args, "--names", str(names))
    fails(result, "names file lists 2 classes but the model predicts 80")


def test_cli_only_non_images_fails(cli, fails, tmp_path):
    bad = tmp_path / "a.jpg"
    bad.write_bytes(b"\x00garbage")
    result = cli("yolo", "detect", str(bad), "--out", str(tmp_path / "r"))
    fails(result, "none of the 1 file(s) could be read")


def test_cli_eval_default_model_on_coco_classes(cli, fails, tmp_path):
    (tmp_path / "images" / "val").mkdir(parents=True)
    (tmp_path / "labels" / "val").mkdir(parents=True)
    (tmp_path / "images" / "val" / "coffee.png").write_bytes(COFFEE.read_bytes())
    # the cup, drawn by hand: x 145..423, y 12..331 of 600x400
    (tmp_path / "labels" / "val" / "coffee.txt").write_text("0 0.4733 0.4287 0.4633 0.7975\n")
    (tmp_path / "data.yaml").write_text("path: .\nval: images/val\nnames: [cup, person]\n")
    result = cli("--json", "yolo", "evaluate", "--data", str(tmp_path / "data.yaml"),
                    "--out", str(tmp_path / "ev"))  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["map50"] == 1.0 and doc["per_class"][1]["ap50"] is None  # no person boxes
    (tmp_path / "data.yaml").write_text("path: .\nval: images/val\nnames: [cup, unicorn]\n")
    result = cli("yolo", "evaluate", "--data", str(tmp_path / "data.yaml"))
    fails(result, "unicorn are not COCO classes")


def test_region_head_anchors_are_grid_cells():
    """YOLOv2 [region] anchors are in grid cells: zero logits give anchor × stride pixels."""
    from dltool_yolo.cfg import parse_cfg
    from dltool_yolo.darknet import Darknet

    text = (
        "[net]\nwidth=64\nheight=64\n[maxpool]\nsize=2\nstride=2\n"
        "[convolutional]\nfilters=7\nsize=1\nactivation=linear\n"
        "[region]\nanchors=3,2\nclasses=2\nnum=1\n"
    )
    detector = Detector(Darknet(parse_cfg(text)), ["a", "b"], torch.device("cpu"), 64)
    raw = torch.zeros(1, 7, 32, 32)  # softmax 0.5 per class
    raw[0, 4, 10, 20] = 20.0  # objectness σ(20) ≈ 1 at cell (c_y=10, c_x=20)
    dets = detector.postprocess([raw], (64, 64), score_threshold=0.2, max_boxes=1)
    assert dets[0].box == pytest.approx((41 - 3, 21 - 2, 41 + 3, 21 + 2))  # 3×2 cells × stride 2
    assert dets[0].score == pytest.approx(0.5)


@pytest.mark.parametrize("size", [-32, 0, 16, 100])
def test_detector_refuses_sizes_the_net_cannot_take(size):
    """The size check lives in Detector, so eval and train get it too."""
    from dltool_yolo.cfg import parse_cfg, tiny_cfg
    from dltool_yolo.darknet import Darknet

    from dltool.errors import DltoolError

    model = Darknet(parse_cfg(tiny_cfg(2, 0.25, 64)))
    with pytest.raises(DltoolError, match=f"positive multiple of 32, got {size}"):
        Detector(model, ["a", "b"], torch.device("cpu"), size)


def test_evaluate_refuses_sizes_out_of_range(cli, tmp_path):
    (tmp_path / "data.yaml").write_text("path: .\nval: images/val\nnames: [cup]\n")
    for size in ("-32", "32000"):
        result = cli("yolo", "evaluate", "--data", str(tmp_path / "data.yaml"), "--size", size)
        assert result.exit_code == 2 and "Invalid value for '--size'" in result.stderr


def test_fused_graph_detects_what_eager_detects(detector416):
    """From FUSE_FROM images on, detect runs the fused CPU graph: same head maps and boxes."""
    image = load_image(CAMERA)
    detector = Detector(detector416.model, detector416.names, torch.device("cpu"), 416)
    x = detector.preprocess(image)
    eager_heads, eager = detector.infer(x), detector.detect(image)
    detector.warmup(images=FUSE_FROM - 1)
    assert detector.graph is None
    detector.warmup(images=FUSE_FROM)
    assert detector.graph is not None
    for e, f in zip(eager_heads, detector.infer(x), strict=True):
        assert f.shape == e.shape and (f - e).abs().max() < 1e-4 * e.abs().max()
    fused = detector.detect(image)
    assert [d.name for d in fused] == [d.name for d in eager] and eager[0].name == "person"
    for f, e in zip(fused, eager, strict=True):
        assert f.score == pytest.approx(e.score, abs=1e-4)
        assert f.box == pytest.approx(e.box, abs=0.05)
    pair = detector.infer(torch.cat([x, x]))  # another shape than the graph's: eager
    assert torch.allclose(pair[0][1], eager_heads[0][0], atol=1e-5)


def test_fused_graph_only_where_it_reproduces_eager(detector416):
    """No graph for float64 inputs, nor one whose head maps differ from eager ones."""
    model = detector416.model
    x = torch.full((1, 3, 64, 64), 0.5)
    assert fused_graph(model, x.double()) is None
    assert fused_graph(model, x, rtol=-1.0) is None  # any difference at all refuses
    assert fused_graph(model, x) is not None
    assert not model._forward_hooks and not torch.jit.onednn_fusion_enabled()  # left as found


def test_reproduces_refuses_non_finite_and_far_maps():
    e = [torch.tensor([[0.5, -3.0]]), torch.zeros(0, 2)]
    assert reproduces(e, [torch.tensor([[0.5, -3.002]]), torch.zeros(0, 2)], 1e-3)
    assert not reproduces(e, [torch.tensor([[0.5, -3.004]]), torch.zeros(0, 2)], 1e-3)
    assert not reproduces(e, [torch.tensor([[float("nan"), -3.0]]), torch.zeros(0, 2)], 1e-3)
    assert not reproduces(e, [torch.tensor([[float("inf"), -3.0]]), torch.zeros(0, 2)], 1e-3)
    assert not reproduces(e[:1], e, 1e-3) and not reproduces(e, [e[0], torch.zeros(1, 2)], 1e-3)


def test_cli_detects_on_a_demo_name(cli, tmp_path):
    """demo:NAME comes from the core's one sample catalogue."""
    result = cli("yolo", "detect", "demo:chelsea", "--size", "320", "--out", str(tmp_path / "r"))
    assert result.exit_code == 0, result.output
    assert f"image 1/1 {CHELSEA} 451x300: 1 cat," in result.stdout
    assert (tmp_path / "r" / "chelsea.png").is_file()


def test_demo_photos_are_catalogue_names():
    from dltool_yolo.sources import DEMO_PHOTOS, demo_photos

    assert demo_photos() == [sample_path(name) for name in DEMO_PHOTOS]


def test_quiet_demo_prints_one_line_per_image_and_no_table(cli, tmp_path):
    result = cli("-q", "yolo", "detect", "--demo", "--out", str(tmp_path / "r"))
    assert result.exit_code == 0, result.output
    assert "image 1/" not in result.stdout and "Speed:" not in result.stdout
    assert "┏" not in result.stdout  # no table
    lines = result.stdout.splitlines()
    assert len(lines) == 8 and f"{GRACE}: 1 person, 1 tie" in lines
    assert lines[-1] == f"Results saved to: {tmp_path / 'r'}"


def test_quiet_lists_an_image_with_no_detections(cli, tmp_path):
    blank = tmp_path / "blank.png"
    Image.new("RGB", (96, 64), (128, 128, 128)).save(blank)
    result = cli("-q", "yolo", "detect", str(GRACE), str(blank), "--out", str(tmp_path / "r"))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:2] == [f"{GRACE}: 1 tie", f"{blank}: 0 detections"]  # 416 px


def test_outputs_keep_name_suffix_case_and_never_overwrite(cli, tmp_path):
    pixels = Image.open(COFFEE).convert("RGB").resize((96, 64))
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        pixels.save(tmp_path / folder / "cat.JPG", format="JPEG")
    pixels.save(tmp_path / "x.webp", format="WEBP")
    pixels.save(tmp_path / "noext", format="PNG")
    out = tmp_path / "r"
    sources = [tmp_path / "a", tmp_path / "b", tmp_path / "x.webp", tmp_path / "noext"]
    result = cli("yolo", "detect", *map(str, sources), "--save-txt", "--out", str(out))
    assert result.exit_code == 0, result.output
    written = {p.name: Image.open(p).format for p in out.iterdir()
               if p.suffix not in (".yaml", ".json") and p.is_file()}  # fmt: skip
    assert written == {"cat.JPG": "JPEG", "cat_2.JPG": "JPEG", "x.webp": "WEBP", "noext.png": "PNG"}
    labels = sorted(p.name for p in (out / "labels").iterdir())
    assert labels == ["cat.txt", "cat_2.txt", "noext.txt", "x.txt"]


def test_crops_of_hostile_class_names_stay_in_crops(cli, tmp_path, detector320):
    """A class named '..' or holding '/' names no folder outside crops/."""
    from dltool_yolo.weights import YOLOV3_TINY

    from dltool.artifacts import ArtifactStore

    paths = ArtifactStore().locate(YOLOV3_TINY)
    names = list(detector320.names)
    names[15], names[0] = "..", "../../up"  # cat, person
    (tmp_path / "bad.names").write_text("\n".join(names) + "\n")
    out = tmp_path / "run" / "r"
    args = ["--cfg", str(paths["yolov3-tiny.cfg"]), "--weights", str(paths["yolov3-tiny.weights"])]
    args += ["--names", str(tmp_path / "bad.names"), "--size", "320", "--save-crops"]
    result = cli("yolo", "detect", str(CHELSEA), str(GRACE), *args, "--out", str(out))
    assert result.exit_code == 0, result.output
    crops = sorted(str(p.relative_to(out)) for p in out.rglob("*.jpg") if "crops" in p.parts)
    assert "crops/class_15/chelsea_0.jpg" in crops and "crops/_.._up/grace_hopper_0.jpg" in crops
    outside = [p for p in (tmp_path / "run").rglob("*") if p.is_file() and out not in p.parents]
    assert outside == []


def bomb_png(path):
    """Write a PNG whose header claims 20000×20000 pixels: PIL refuses it as a bomb."""
    import struct
    import zlib

    def chunk(kind, data):
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)


def test_a_decompression_bomb_in_a_batch_is_skipped(cli, tmp_path):
    bomb_png(tmp_path / "bomb.png")
    result = cli("yolo", "detect", str(tmp_path / "bomb.png"), str(COFFEE), "--size", "320",
                 "--out", str(tmp_path / "r"))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Skipped 1 file(s):" in result.stdout and "bomb.png: too many pixels" in result.stdout
    assert "image 2/2" in result.stdout and (tmp_path / "r" / "coffee.png").is_file()


def test_classes_repeated_are_merged(cli, tmp_path):
    """--classes person --classes 41 keeps both (41: cup), not only the last."""
    import json

    result = cli("--json", "--threads", "1", "yolo", "detect", str(COFFEE), "--size", "320",
                 "--classes", "person", "--classes", "41", "--out", tmp_path / "r")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    config = (tmp_path / "r" / "config.yaml").read_text()
    assert "person,41" in config
    found = {d["class"] for d in json.loads(result.stdout)["images"][0]["detections"]}
    assert found == {"cup"}
