"""The FaceNet-style encoder: shapes, file round trip, training and evaluation via the CLI."""

from __future__ import annotations

import json
import shutil
import sqlite3

import numpy as np
import pytest
import torch
from dltool_facerec.evaluate import accuracy, auc, best_threshold, pair_distances, roc
from dltool_facerec.facenet import facenet_small, load_encoder, save_encoder
from dltool_facerec.train import augment, pk_batches

from dltool.errors import DltoolError


def _rows(run) -> list[dict]:
    """Return the run's metrics rows without their wall-clock ``time``."""
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k != "time"} for line in lines]


def test_facenet_shapes_and_unit_norm():
    torch.manual_seed(0)
    model = facenet_small().eval()
    with torch.no_grad():
        out = model(torch.randn(3, 3, 96, 96))
    assert out.shape == (3, 128)
    np.testing.assert_allclose(out.norm(dim=1).numpy(), 1.0, atol=1e-6)


def test_encoder_file_round_trip_and_corruption(tmp_path):
    torch.manual_seed(1)
    model = facenet_small().eval()
    path = tmp_path / "enc.pt"
    save_encoder(model, path, threshold=0.7)
    loaded, meta = load_encoder(path)
    x = torch.randn(2, 3, 96, 96)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x))
    assert meta["dim"] == 128 and meta["threshold"] == 0.7 and meta["name"].startswith("facenet-")
    broken = tmp_path / "broken.pt"
    broken.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(DltoolError, match="is not a dltool face encoder"):
        load_encoder(broken)
    other = tmp_path / "other.pt"
    torch.save({"state_dict": {}}, other)
    with pytest.raises(DltoolError, match="is not a dltool face encoder"):
        load_encoder(other)


def test_pk_batches_and_augment():
    labels = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 3])
    batches = pk_batches(labels, 2, 3, np.random.default_rng(0))
    assert sorted(set(labels[np.concatenate(batches)])) == [0, 1, 2, 3] and len(batches) == 2
    for b in batches:
        assert len(np.unique(labels[b])) == 2 and np.bincount(labels[b]).max() <= 3
    x = torch.rand(4, 3, 96, 96) * 2 - 1
    y = augment(x, torch.Generator().manual_seed(0))
    assert y.shape == x.shape and y.min() >= -1 and y.max() <= 1 and not torch.equal(x, y)


def test_roc_and_threshold_known_values():
    E = np.array([[0.0], [0.1], [1.0], [1.3]])
    labels = np.array([0, 0, 1, 1])
    genuine, impostor = pair_distances(E, labels)
    np.testing.assert_allclose(genuine, [0.1, 0.3])
    np.testing.assert_allclose(sorted(impostor), [0.9, 1.0, 1.2, 1.3])
    curve = roc(genuine, impostor)
    assert auc(curve) == pytest.approx(1.0)
    t, balanced = best_threshold(curve)
    assert 0.3 < t <= 0.9 and balanced == 1.0
    assert accuracy(genuine, impostor, 0.2) == {"accuracy": 5 / 6, "tpr": 0.5, "fpr": 0.0}


def test_train_evaluate_and_use_the_encoder(cli, fails, faces_dir, tmp_path, db_path, monkeypatch):
    out = tmp_path / "train"
    res = cli("--threads", "1", "--seed", "0", "facerec", "train", "--data",
                 str(faces_dir), "--epochs", "3", "--out", str(out))  # fmt: skip
    assert res.exit_code == 0, res.stderr
    assert "active triplets" in res.stdout
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert all(r["loss"] >= 0 and 0 <= r["active"] <= 1 for r in rows)
    assert rows[0]["active"] > 0
    assert (out / "loss.png").stat().st_size > 0 and (out / "distances.png").is_file()
    enc = out / "encoder.pt"

    ev = cli("--json", "--threads", "1", "facerec", "evaluate", "--data", str(faces_dir),
                "--encoder", str(enc), "--out", str(tmp_path / "ev_torch"))  # fmt: skip
    assert ev.exit_code == 0, ev.stderr
    metrics = {m["metric"]: m["value"] for m in json.loads(ev.stdout)["metrics"]}
    assert 0 <= metrics["accuracy"] <= 1 and 0 <= metrics["auc"] <= 1
    monkeypatch.setenv("DLTOOL_RUNS", str(tmp_path / "runs"))  # --encoder N: a run number
    shutil.copytree(out, tmp_path / "runs" / "facerec" / "train" / "7")
    by_number = cli("--json", "--threads", "1", "facerec", "evaluate", "--data", str(faces_dir),
                    "--encoder", "7", "--out", str(tmp_path / "ev_7"))  # fmt: skip
    assert by_number.exit_code == 0, by_number.stderr
    assert json.loads(by_number.stdout)["metrics"] == json.loads(ev.stdout)["metrics"]
    fails(cli("facerec", "evaluate", "--data", str(faces_dir), "--encoder", "8"), "run 8 does not")

    faces = sorted((faces_dir / "grace").iterdir())
    res = cli("--threads", "1", "facerec", "enroll", "grace", str(faces[0]),
                 "--encoder", str(enc))  # fmt: skip
    assert res.exit_code == 0, res.stderr
    with sqlite3.connect(db_path) as conn:
        encoder, dim = conn.execute("SELECT encoder, dim FROM encodings").fetchone()
    assert encoder.startswith("facenet-") and dim == 128
    res = cli(
        "--json", "--threads", "1", "facerec", "identify", str(faces[0]), "--encoder", str(out)
    )  # fmt: skip  (the run folder finds its encoder.pt)
    assert res.exit_code == 0, res.stderr
    found = json.loads(res.stdout)["faces"][0]
    assert found["name"] == "grace" and found["distance"] < 1e-6
    wrong = cli("facerec", "identify", str(faces[0]))  # dlib encoder, facenet database
    assert wrong.exit_code == 1
    assert f"enrolled with encoder {encoder}, not dlib-resnet-v1" in wrong.stderr


def test_evaluate_dlib_separates_the_two_people(cli, faces_dir, tmp_path):
    out = tmp_path / "ev"
    res = cli("--json", "facerec", "evaluate", "--data", str(faces_dir), "--out", str(out))
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    metrics = {m["metric"]: m["value"] for m in doc["metrics"]}
    assert metrics["accuracy"] == 1.0 and metrics["auc"] == 1.0 and metrics["threshold"] == 0.6
    assert (doc["genuine_pairs"], doc["impostor_pairs"]) == (20, 25)
    assert (out / "distances.png").stat().st_size > 0
    text = cli("facerec", "evaluate", "--data", str(faces_dir), "--out", str(tmp_path / "t")).stdout
    assert "Genuine pairs (same person): 20" in text and "Impostor pairs (two people): 25" in text
    assert "{" not in text  # no raw dict
    saved = json.loads((out / "evaluation.json").read_text())
    assert saved["people"] == ["astronaut", "grace"] and saved["images"] == 10


def test_train_bad_input(cli, fails, tmp_path, faces_dir):
    one = tmp_path / "one"
    (one / "solo").mkdir(parents=True)
    fails(cli("facerec", "train", "--data", one), "at least 2 person folders")
    res = cli("facerec", "train", "--data", faces_dir, "--mining", "hardest")
    assert res.exit_code == 2 and "Invalid value" in res.stderr  # a choice: TAB completes it
    fails(cli("facerec", "train", "--data", tmp_path / "absent"), "is not a directory")
    config = tmp_path / "bad.yaml"
    config.write_text("data: x\nmining: hardest\n")
    fails(cli("facerec", "train", "--config", config), "config key 'mining'")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--lr", "nan"), "--lr must be a positive finite number"),
        (("--lr", "0"), "--lr must be a positive finite number"),
        (("--margin", "0"), "--margin must be a positive finite number"),
        (("--people-per-batch", "100", "--images-per-person", "100"), "more than 256"),
    ],
)
def test_train_refuses_meaningless_options_before_any_work(cli, fails, tmp_path, faces_dir,
                                                          args, message):  # fmt: skip
    out = tmp_path / "run"
    fails(cli("facerec", "train", "--data", faces_dir, "--out", out, *args), message)
    assert not out.exists()


def test_train_size_options_are_bounded(cli):
    for args in (("--epochs", "100000000"), ("--people-per-batch", "1000000"),
                 ("--images-per-person", "1"), ("--lr", "1e6"), ("--lr", "inf"),
                 ("--margin", "100")):  # fmt: skip
        res = cli("facerec", "train", "--data", ".", *args)
        assert res.exit_code == 2 and "Invalid value" in res.stderr, (args, res.stderr)


def test_saved_config_trains_again(cli, faces_dir, tmp_path):
    import yaml

    first = tmp_path / "first"
    res = cli("--threads", "1", "--seed", "3", "facerec", "train", "--data",
                 str(faces_dir), "--epochs", "1", "--out", str(first))  # fmt: skip
    assert res.exit_code == 0, res.stderr
    saved = yaml.safe_load((first / "config.yaml").read_text())
    assert saved["init_seed"] == 3 and saved["data"] == str(faces_dir) and "people" not in saved
    assert json.loads((first / "people.json").read_text()) == ["astronaut", "grace"]
    again = tmp_path / "again"
    res = cli("--threads", "1", "facerec", "train", "--config", str(first / "config.yaml"),
                 "--out", str(again))  # fmt: skip
    assert res.exit_code == 0, res.stderr
    assert yaml.safe_load((again / "config.yaml").read_text()) == saved
    assert _rows(first) == _rows(again)
    res = cli("facerec", "train", "--epochs", "1")
    assert res.exit_code == 1 and "--data is required" in res.stderr


def test_semi_hard_training_steps():
    from dltool_facerec.train import fit

    rng = np.random.default_rng(0)
    chips = rng.integers(0, 256, (8, 96, 96, 3), dtype=np.uint8)
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    params = {"seed": 0, "lr": 1e-3, "epochs": 2, "people_per_batch": 2,
              "images_per_person": 4, "margin": 0.2, "mining": "semi-hard"}  # fmt: skip
    torch.manual_seed(0)
    model, rows, seen = facenet_small(), [], []
    fit(chips, labels, params, torch.device("cpu"), model, rows, lambda **m: seen.append(m))
    assert [r["epoch"] for r in rows] == [1, 2] and len(seen) == 2
    assert all(m["loss"] >= 0 and 0 <= m["active"] <= 1 for m in seen)


def test_ctrl_c_keeps_the_encoder_trained_so_far(cli, faces_dir, tmp_path, monkeypatch):
    from dltool_facerec import train as train_mod

    real_step, calls = train_mod.train_step, []

    def step_then_interrupt(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # epoch 2 starts: epoch 1 is complete
            raise KeyboardInterrupt
        return real_step(*args, **kwargs)

    monkeypatch.setattr(train_mod, "train_step", step_then_interrupt)
    out = tmp_path / "interrupted"
    res = cli("--threads", "1", "facerec", "train", "--data", str(faces_dir),
                 "--epochs", "50", "--people-per-batch", "2", "--out", str(out))  # fmt: skip
    assert res.exit_code == 130
    assert "interrupted after epoch 1" in res.stderr
    assert load_encoder(out / "encoder.pt")[1]["dim"] == 128
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 1


def test_resume_goes_on_as_an_unbroken_run_would(cli, fails, faces_dir, tmp_path):
    import yaml

    base = ("--threads", "1", "--seed", "0", "facerec", "train", "--data", faces_dir)
    whole, part = tmp_path / "whole", tmp_path / "part"
    assert cli(*base, "--epochs", "2", "--out", whole).exit_code == 0
    assert cli(*base, "--epochs", "1", "--out", part).exit_code == 0
    fails(cli("facerec", "train", "--resume", part, "--epochs", "2", "--lr", "0.01"),
          "--lr 0.01 differs from the resumed run's 0.001")  # fmt: skip
    fails(cli("facerec", "train", "--resume", part, "--epochs", "1"), "already trained 1 epochs")
    res = cli(
        "--threads", "1", "facerec", "train", "--resume", part / "encoder.pt", "--epochs", "2"
    )
    assert res.exit_code == 0, res.stderr
    assert _rows(part) == _rows(whole)
    assert yaml.safe_load((part / "config.yaml").read_text())["epochs"] == 2
    a, _ = load_encoder(whole / "encoder.pt")
    b, _ = load_encoder(part / "encoder.pt")
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        torch.testing.assert_close(x, y, msg=name)
    fails(cli("facerec", "train", "--resume", tmp_path / "none"), "does not exist")


def test_a_non_finite_loss_stops_and_keeps_the_last_finite_epoch(cli, fails, faces_dir, tmp_path,
                                                                 monkeypatch):  # fmt: skip
    from dltool_facerec import train as train_mod

    real_step, calls = train_mod.train_step, []

    def diverge_in_epoch_2(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # epoch 1 has one batch (2 people, 8 per batch)
            return float("nan"), 1.0
        return real_step(*args, **kwargs)

    monkeypatch.setattr(train_mod, "train_step", diverge_in_epoch_2)
    out = tmp_path / "nan"
    res = cli("--threads", "1", "facerec", "train", "--data", faces_dir, "--epochs", "5",
              "--out", out)  # fmt: skip
    fails(res, "the triplet loss became nan in epoch 2")
    assert "encoder of epoch 1 saved" in res.stderr
    model, _ = load_encoder(out / "encoder.pt")
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 1
