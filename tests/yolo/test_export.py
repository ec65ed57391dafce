"""yolo export and detect --weights model.onnx: the exported graphs give torch's head maps
(to 1e-4) on real photos, --dynamic at two batch sizes and two sides, the onnxruntime
detector finds torch's detections, and bad .onnx files and layers are one error line."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from dltool_yolo import export as ex
from dltool_yolo.cfg import parse_cfg
from dltool_yolo.darknet import Darknet
from dltool_yolo.detect import Detector, default_detector, load_image
from torch import nn

from dltool import exporting
from dltool.data.images import sample_path
from dltool.errors import DltoolError

pytest.importorskip("onnxruntime")
PHOTOS = [sample_path(n) for n in ("astronaut", "coffee")]
SIZE = 320


@pytest.fixture(scope="module")
def detector() -> Detector:
    return default_detector(torch.device("cpu"), SIZE, quiet=True)


@pytest.fixture(scope="module")
def photos(detector) -> torch.Tensor:
    return torch.cat([detector.preprocess(load_image(p)) for p in PHOTOS]).contiguous()


@pytest.fixture(scope="module")
def exported(detector, tmp_path_factory):
    """Export YOLOv3-tiny COCO once as ONNX and as TorchScript: {format: path}."""
    folder = tmp_path_factory.mktemp("export")
    meta = ex.metadata(detector, None, "yolov3-tiny")
    paths = {}
    for fmt in exporting.FORMATS:
        paths[fmt] = folder / f"model{exporting.SUFFIX[fmt]}"
        info = ex.export_detector(detector, fmt, paths[fmt], False, meta)
        assert info["max_abs_diff"] < 1e-4
    return paths


def _torch_heads(model, x):
    with torch.no_grad():
        return model(x)


def test_onnx_gives_the_torch_head_maps_on_photos(detector, photos, exported):
    session = exporting.onnx_session(exported["onnx"], threads=1)
    for x in photos.split(1):
        got = exporting.run_onnx(session, x)
        assert exporting.max_difference(_torch_heads(detector.model, x), got) < 1e-4
    meta = exporting.onnx_metadata(session)
    assert meta["size"] == SIZE and meta["names"][0] == "person"
    assert [h["classes"] for h in meta["heads"]] == [80, 80]


def test_torchscript_gives_the_torch_head_maps_on_photos(detector, photos, exported):
    module = torch.jit.load(str(exported["torchscript"]))
    with torch.no_grad():
        got = module(photos)
    assert exporting.max_difference(_torch_heads(detector.model, photos), got) < 1e-4
    _, meta = exporting.load_torchscript(exported["torchscript"])
    assert meta["input"]["shape"] == [1, 3, SIZE, SIZE]


SMALL_CFG = """[net]
width=64
height=64
channels=3
[convolutional]
batch_normalize=1
filters=8
size=3
stride=1
pad=1
activation=leaky
[maxpool]
size=2
stride=2
[convolutional]
filters=21
size=1
stride=1
pad=1
activation=linear
[yolo]
mask=0,1,2
anchors=10,14, 23,27, 37,58
classes=2
"""


@pytest.mark.parametrize("fmt", exporting.FORMATS)
def test_dynamic_runs_at_two_batch_sizes_and_two_sides(tmp_path, fmt):
    torch.manual_seed(0)
    model = Darknet(parse_cfg(SMALL_CFG, "small.cfg"), "small.cfg")
    det = Detector(model, ["a", "b"], torch.device("cpu"), 64)
    path = tmp_path / f"m{exporting.SUFFIX[fmt]}"
    info = ex.export_detector(det, fmt, path, True, ex.metadata(det, None, "small"))
    if fmt == "onnx":
        assert info["dynamic_axes"] == ["batch", "height", "width"]
        session = exporting.onnx_session(path, threads=1)
        run = lambda x: exporting.run_onnx(session, x)  # noqa: E731
    else:
        module = torch.jit.load(str(path))
        run = lambda x: module(x)  # noqa: E731
    for shape in [(1, 3, 64, 64), (4, 3, 64, 64), (2, 3, 96, 96), (3, 3, 32, 32)]:
        x = torch.rand(shape)
        want = _torch_heads(det.model, x)
        got = run(x)
        assert got[0].shape == want[0].shape
        assert exporting.max_difference(want, got) < 1e-4


def test_detect_with_the_onnx_gives_the_torch_detections(cli, detector, exported, tmp_path):
    res = cli("--json", "--threads", "1", "yolo", "detect", *PHOTOS,
              "--weights", exported["onnx"], "--out", tmp_path / "d")  # fmt: skip
    assert res.exit_code == 0, res.stderr
    images = json.loads(res.stdout)["images"]
    for path, record in zip(PHOTOS, images, strict=True):
        want = detector.detect(load_image(path))
        got = record["detections"]
        assert [d["class"] for d in got] == [d.name for d in want]
        assert np.allclose([d["score"] for d in got], [d.score for d in want], atol=1e-4)
        boxes = [[d["x1"], d["y1"], d["x2"], d["y2"]] for d in got]
        assert np.allclose(boxes, [d.box for d in want], atol=0.1)


class TwoVectors(nn.Module):
    """Two outputs, as YOLOv3-tiny has, but flat: (B, 4·10·10) each."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, stride=32)

    def forward(self, x):
        y = self.conv(x).flatten(1)
        return [y, y * 2]


def test_an_onnx_without_yolo_head_shapes_is_one_error_line(cli, fails, detector, tmp_path):
    net = TwoVectors()
    path = tmp_path / "classifier.onnx"
    exporting.export_model(net.eval(), torch.rand(1, 3, SIZE, SIZE), "onnx", path,
                           ex.metadata(detector, None, "not yolo"))  # fmt: skip
    res = cli("--threads", "1", "yolo", "detect", PHOTOS[0], "--weights", path,
              "--out", tmp_path / "d")  # fmt: skip
    fails(res, "output 0 has shape (1, 400), not a YOLO head map (1, 255, H, W)")


class Zeta(nn.Module):
    def forward(self, x):
        return torch.special.zeta(x + 2, torch.ones_like(x))


def test_a_layer_onnx_cannot_express_is_named(tmp_path):
    net = nn.Sequential(nn.Conv2d(3, 4, 3), Zeta()).eval()
    with pytest.raises(DltoolError, match=r"ONNX cannot express layer 1 \(Zeta\)"):
        exporting.export_model(net, torch.rand(1, 3, 8, 8), "onnx", tmp_path / "z.onnx", {})
    assert not (tmp_path / "z.onnx").exists()


def test_export_command_writes_the_model_and_its_json(cli, tmp_path):
    res = cli("--json", "--threads", "1", "yolo", "export", "--format", "torchscript",
              "--size", "64", "--out", tmp_path / "e")  # fmt: skip
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    meta = json.loads((tmp_path / "e" / "model.json").read_text())
    assert doc["file"] == str(tmp_path / "e" / "model.torchscript")
    assert meta["size"] == 64 and len(meta["names"]) == 80
    assert len(meta["weights_sha256"]) == 64 and meta["versions"]["torch"] == torch.__version__


@pytest.fixture(scope="module")
def v4_tiny(tmp_path_factory):
    """A random-weight YOLOv4-tiny (scale_x_y 1.05) at 128 and its ONNX export."""
    from dltool_yolo.cfg import yolov4_tiny_cfg

    torch.manual_seed(0)
    model = Darknet(parse_cfg(yolov4_tiny_cfg(), "yolov4-tiny.cfg"), "yolov4-tiny.cfg")
    det = Detector(model, [f"c{i}" for i in range(80)], torch.device("cpu"), 128)
    path = tmp_path_factory.mktemp("v4") / "model.onnx"
    info = ex.export_detector(det, "onnx", path, False, ex.metadata(det, None, "yolov4-tiny"))
    assert info["max_abs_diff"] < 1e-4
    return det, path


def test_yolov4_tiny_onnx_decodes_as_torch(v4_tiny):
    """scale_x_y (and new_coords) travel in the metadata: candidates and detections match."""
    from dltool_yolo import onnx_backend

    det, path = v4_tiny
    onnx_det = onnx_backend.load(path, None, None, None, threads=1)
    assert [h.scale_xy for h in onnx_det.heads] == [1.05, 1.05]
    assert [h.scale_xy for h in det.model.heads] == [1.05, 1.05]
    image = load_image(PHOTOS[0])
    x = onnx_det.preprocess(image)
    assert np.abs(x - det.preprocess(image).numpy()).max() < 1e-5  # NumPy letterbox = torch's
    want_heads, got_heads = det.infer(det.preprocess(image)), onnx_det.infer(x)
    corners, scores, _ = onnx_det._candidates(got_heads, None, 0.0)
    ref = []
    from dltool_yolo import boxes_torch as bt

    for head, raw, anchors in zip(det.model.heads, want_heads, det.anchors, strict=True):
        conf, xy, wh, probs = bt.decode_head(raw.contiguous(), anchors, 80, (128, 128), False,
                                             head.scale_xy, head.new_coords)  # fmt: skip
        ref.append((torch.cat([xy - wh / 2, xy + wh / 2], -1).reshape(-1, 4),
                    (conf * probs).reshape(-1)))  # fmt: skip
    assert (
        np.abs(corners - torch.cat([r[0] for r in ref]).repeat_interleave(80, 0).numpy()).max()
        < 1e-4
    )
    assert np.abs(scores - torch.cat([r[1] for r in ref]).numpy()).max() < 1e-4
    threshold = float(np.quantile(scores, 0.999))  # random weights: keep a few dozen boxes
    want = det.detect(image, score_threshold=threshold)
    got = onnx_det.detect(image, score_threshold=threshold)
    assert want and [d.cls for d in got] == [d.cls for d in want]
    assert np.allclose([d.box for d in got], [d.box for d in want], atol=1e-4 * 512)
    assert np.allclose([d.score for d in got], [d.score for d in want], atol=1e-4)


def test_onnx_detect_runs_without_torch(exported, tmp_path):
    """`dltool yolo detect IMG --weights model.onnx` leaves torch out of sys.modules."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom dltool import api\n"
        f"doc = api.run('yolo', 'detect', {str(PHOTOS[0])!r}, weights={str(exported['onnx'])!r},"
        f" out={str(tmp_path / 'd')!r})\n"
        "assert doc['images'][0]['detections'], doc\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'torchvision')))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1] == "[]"
