"""dltool_yolo.course: the course's functions against today's implementation (randomized
shapes) and the course's published IoU test.

Published values: the Car detection assignment's IoU test cases (iou((2, 1, 4, 3), (1, 2, 3, 4))
≈ 0.14285714; 0 for disjoint boxes and for boxes touching at a vertex or an edge), read from a
public copy of the assignment found by exact-string search of the code index (its repository
was not named by the index). The course's other YOLO tests draw with TensorFlow's generator and
cannot be reproduced in NumPy.
"""

from __future__ import annotations

import numpy as np
import pytest
from dltool_support import caught_in_a_notebook, raises_one_line
from dltool_yolo import boxes, course, nms

from dltool.errors import ParameterError, ShapeError


def _outputs(rng, h=4, w=5, a=3, c=6):
    box_xy = rng.uniform(0, 1, (h, w, a, 2))
    box_wh = rng.uniform(0.05, 0.5, (h, w, a, 2))
    box_confidence = rng.uniform(0, 1, (h, w, a, 1))
    box_class_probs = rng.uniform(0, 1, (h, w, a, c))
    return box_xy, box_wh, box_confidence, box_class_probs


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_functions_are_the_internals(seed):
    rng = np.random.default_rng(seed)
    box_xy, box_wh, conf, probs = _outputs(rng, *(int(v) for v in rng.integers(2, 7, size=4)))
    corners = course.yolo_boxes_to_corners(box_xy, box_wh)
    np.testing.assert_array_equal(corners, boxes.boxes_to_corners(box_xy, box_wh))
    got = course.yolo_filter_boxes(corners, conf, probs, threshold=0.3)
    want = boxes.filter_boxes(conf, corners, probs, 0.3)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
    scaled = course.scale_boxes(got[1], (480, 640))
    np.testing.assert_array_equal(scaled, boxes.scale_boxes(got[1], (480, 640)))
    kept = course.yolo_non_max_suppression(got[0], scaled, got[2], max_boxes=5, iou_threshold=0.4)
    for g, w in zip(kept, nms.non_max_suppression(got[0], scaled, got[2], 5, 0.4), strict=True):
        np.testing.assert_array_equal(g, w)
    out = course.yolo_eval((box_xy, box_wh, conf, probs), (480, 640), 7, 0.3, 0.4)
    ref = nms.yolo_eval((conf, box_xy, box_wh, probs), (480.0, 640.0), 7, 0.3, 0.4)
    for g, w in zip(out, ref, strict=True):
        np.testing.assert_array_equal(g, w)
    b1, b2 = rng.uniform(0, 1, (2, 4))
    assert course.iou(b1, b2) == boxes.iou(b1, b2)


def test_iou_course_public_tests():
    assert course.iou((2, 1, 4, 3), (1, 2, 3, 4)) == pytest.approx(0.14285714, abs=1e-8)
    assert course.iou((1, 2, 3, 4), (5, 6, 7, 8)) == 0
    assert course.iou((1, 1, 2, 2), (2, 2, 3, 3)) == 0
    assert course.iou((1, 1, 3, 3), (2, 3, 3, 4)) == 0


_OUT = _outputs(np.random.default_rng(0))

BAD = [
    (
        lambda: course.yolo_filter_boxes(np.zeros((4, 5, 3, 4)), _OUT[2], np.zeros((4, 5, 2, 6))),
        ShapeError,
        "yolo_filter_boxes: box_class_probs must be (S_H, S_W, B, n_classes) with B = 3, "
        "got (4, 5, 2, 6)",
    ),
    (
        lambda: course.yolo_filter_boxes(np.zeros((4, 5, 3, 4)), _OUT[3], _OUT[3]),
        ShapeError,
        "yolo_filter_boxes: box_confidence must be (S_H, S_W, B, 1), got (4, 5, 3, 6)",
    ),
    (
        lambda: course.yolo_filter_boxes(np.zeros((4, 5, 3, 4)), _OUT[2], _OUT[3], 1.5),
        ParameterError,
        "yolo_filter_boxes: threshold must be a number in [0, 1], got 1.5",
    ),
    (
        lambda: course.iou((1, 2, 3), (1, 2, 3, 4)),
        ShapeError,
        "iou: box1 must be (4,), got (3,)",
    ),
    (
        lambda: course.yolo_non_max_suppression(np.zeros(3), np.zeros((2, 4)), np.zeros(3)),
        ShapeError,
        "yolo_non_max_suppression: boxes must be (n, 4) with n = 3, got (2, 4)",
    ),
    (
        lambda: course.yolo_non_max_suppression(np.zeros(2), np.zeros((2, 4)), np.zeros(2), 0),
        ParameterError,
        "yolo_non_max_suppression: max_boxes must be an integer in [1, inf), got 0",
    ),
    (
        lambda: course.yolo_boxes_to_corners(np.zeros((3, 2)), np.zeros((3, 3))),
        ShapeError,
        "yolo_boxes_to_corners: box_wh must be (3, 2) as box_xy, got (3, 3)",
    ),
    (
        lambda: course.scale_boxes(np.zeros((3, 4)), (720, -1)),
        ParameterError,
        "scale_boxes: image_shape's width must be a number in (0, inf), got -1",
    ),
    (
        lambda: course.yolo_eval(_OUT[:3]),
        ShapeError,
        "yolo_eval: yolo_outputs must be (box_xy, box_wh, box_confidence, box_class_probs), "
        "got 3 items",
    ),
    (
        lambda: course.yolo_eval(_OUT, iou_threshold=float("nan")),
        ParameterError,
        "yolo_eval: iou_threshold must be a number in [0, 1], got nan",
    ),
]


@pytest.mark.parametrize(("call", "kind", "message"), BAD)
def test_bad_input_raises_one_line_naming_function_argument_and_layout(call, kind, message):
    raises_one_line(call, kind, message)


def test_a_notebook_catches_them_as_dltool_errors():
    caught = caught_in_a_notebook([call for call, _, _ in BAD], course)
    assert len(caught) == len(BAD) and all(caught)
