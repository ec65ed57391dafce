"""yolo train --size and --augment: refusals, the augmented Dataset, the grid in the run folder."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from dltool_yolo import augment as A
from dltool_yolo.dataset import YoloDataset
from dltool_yolo.labels import read_data_yaml


@pytest.fixture(scope="module")
def data(app, tmp_path_factory):
    """A synth dataset: 8 images of 80 px."""
    from typer.testing import CliRunner

    root = tmp_path_factory.mktemp("yolo_aug")
    args = ["yolo", "synth", str(root / "syn"), "--n", "8", "--size", "80"]
    result = CliRunner().invoke(app, args, prog_name="dltool")
    assert result.exit_code == 0, result.output
    return root / "syn" / "data.yaml"


def test_size_not_a_multiple_of_32_is_one_line(cli, fails, data, tmp_path):
    result = cli("yolo", "train", "--data", data, "--size", "100", "--out", tmp_path / "r")
    fails(result, "--size 100 is not a multiple of the network stride 32")
    assert "nearest valid sizes are 96 or 128" in result.stderr
    assert not (tmp_path / "r").exists()


def test_unknown_augmentation_is_one_line(cli, fails, data, tmp_path):
    result = cli("yolo", "train", "--data", data, "--augment", "flip,blur", "--out", tmp_path / "r")
    fails(result, "unknown augmentation 'blur'")
    assert not (tmp_path / "r").exists()


def _dataset(data, ops, size=64):
    """Return the train split of ``data`` as a YoloDataset with ``ops``, epoch 2."""
    spec = read_data_yaml(data)
    dataset = YoloDataset(spec.labelled("train"), size, len(spec.names), seed=5, ops=ops)
    dataset.epoch = 2
    return dataset


def test_dataset_applies_the_numpy_pipeline_reproducibly(data):
    dataset = _dataset(data, A.OPS)
    image, labels = dataset[3]
    assert image.dtype == torch.uint8 and image.shape == (3, 64, 64)
    want_image, want_labels = A.augment(dataset.sample, 3, len(dataset), A.OPS,
                                        A.sample_rng(5, 2, 3))  # fmt: skip
    np.testing.assert_array_equal(image.permute(1, 2, 0).numpy(), want_image)
    np.testing.assert_allclose(labels.numpy(), want_labels, rtol=1e-6)
    again_image, again_labels = dataset[3]
    assert torch.equal(image, again_image) and torch.equal(labels, again_labels)


def test_flip_alone_and_none_keep_the_plain_sample(data):
    plain, _ = _dataset(data, ()).load(1)
    image, _ = _dataset(data, ())[1]
    assert torch.equal(image, plain)
    flips = [bool(not torch.equal(_dataset(data, ("flip",))[i][0], _dataset(data, ())[i][0]))
             for i in range(len(_dataset(data, ())))]  # fmt: skip
    assert 0 < sum(flips) < len(flips)  # about half the samples are mirrored


def test_train_at_size_with_every_augmentation_writes_the_grid(cli, data, tmp_path):
    run = tmp_path / "run"
    result = cli("yolo", "train", "--data", data, "--size", "64", "--augment", "all",
                 "--epochs", "1", "--batch-size", "4", "--out", run)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (run / "augment_grid.png").read_bytes()[:4] == b"\x89PNG"
    assert "width=64\nheight=64\n" in (run / "model.cfg").read_text()
    config = (run / "config.yaml").read_text()
    assert "size: 64" in config and "augment: all" in config


def test_two_reading_workers_draw_what_the_main_process_draws(data):
    from dltool_yolo.dataset import collate
    from torch.utils.data import DataLoader

    dataset = _dataset(data, A.OPS)
    batches = [list(DataLoader(dataset, batch_size=3, collate_fn=collate, num_workers=w))
               for w in (0, 2)]  # fmt: skip
    for one, two in zip(*batches, strict=True):
        assert torch.equal(one.images, two.images) and torch.equal(one.targets, two.targets)
