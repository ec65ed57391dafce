"""Issue 15 for facerec: database paths, locks, read-only folders, modes, names, disk errors."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from dltool_facerec import database as dbm
from dltool_facerec.database import FaceDB

from dltool.errors import DltoolError

DLTOOL = str(Path(sys.executable).parent / "dltool")
ESCAPE = "\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\"


def row(i, encoder="dlib-resnet-v1", dim=128):
    """Return one encoding row with a distinct image hash."""
    vec = np.random.default_rng(i).standard_normal(dim) * 0.05
    return {"encoder": encoder, "vector": vec, "image_sha256": f"h{i}", "source": f"/{i}.png",
            "box": "1,2,3,4"}  # fmt: skip


def test_special_characters_in_the_path_are_file_name_characters(tmp_path, cli):
    foreign = tmp_path / "app"  # what 'app#data.db' used to be read as
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE theirs (x)")
    before = foreign.read_bytes()
    for name in ("app#data.db", "what?mode=rwc.db", "100%41.db"):
        path = tmp_path / name
        FaceDB(path).add("ann", [row(1)])
        res = cli("--json", "facerec", "people", "--db", path)
        assert res.exit_code == 0, res.stderr
        assert [p["name"] for p in json.loads(res.stdout)["people"]] == ["ann"]
    assert foreign.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(("-wal", "-shm"))) == [
        "100%41.db", "app", "app#data.db", "what?mode=rwc.db"]  # fmt: skip


def test_a_database_locked_by_another_writer_is_reported_as_locked(tmp_path, cli, fails,
                                                                   monkeypatch):  # fmt: skip
    path = tmp_path / "f.db"
    FaceDB(path).add("ann", [row(1)])
    monkeypatch.setattr(dbm, "BUSY_TIMEOUT_S", 0.2)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process writing, for longer than the timeout
    try:
        with pytest.raises(DltoolError, match="locked by another process"):
            FaceDB(path).forget("ann")
        fails(cli("facerec", "forget", "ann", "--db", path), "is locked by another process")
        res = cli("--json", "facerec", "people", "--db", path)  # readers are not blocked
        assert res.exit_code == 0 and json.loads(res.stdout)["people"][0]["name"] == "ann"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert FaceDB(path).forget("ann") == 1


def _as_other_user(args, cwd):
    """Run dltool as 'nobody' when we are root (root writes anywhere), else as ourselves."""
    if os.geteuid() != 0:
        return subprocess.run([DLTOOL, *args], capture_output=True, text=True, cwd=cwd)
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot make a folder read-only")
    cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", DLTOOL, *args]
    env = {**os.environ, "HOME": str(cwd), "DLTOOL_RUNS": str(cwd / "runs")}
    return subprocess.run(cmd, capture_output=True, text=True, cwd="/", env=env)


@pytest.fixture
def shared_dir():
    """A folder every user can reach (pytest's own temporary root is owner-only)."""
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="dltool-ro-"))
    os.chmod(root, 0o755)
    yield root
    for sub in root.rglob("*"):
        if sub.is_dir():
            os.chmod(sub, 0o755)
    shutil.rmtree(root)


def test_a_database_in_a_read_only_folder_can_be_listed_and_exported(shared_dir):
    folder, out = shared_dir / "ro", shared_dir / "out"
    folder.mkdir()
    out.mkdir(mode=0o777)
    os.chmod(out, 0o777)
    db = folder / "faces.db"
    database = FaceDB(db)
    database.add("ann", [row(1)])
    database.close()
    assert sorted(p.name for p in folder.iterdir()) == ["faces.db"]  # no -wal, no -shm
    os.chmod(db, 0o644)
    os.chmod(folder, 0o555)
    res = _as_other_user(["--json", "facerec", "people", "--db", str(db)], out)
    assert res.returncode == 0, res.stderr
    assert [p["name"] for p in json.loads(res.stdout)["people"]] == ["ann"]
    dump = out / "faces.json"
    res = _as_other_user(["facerec", "export", str(dump), "--db", str(db)], out)
    assert res.returncode == 0, res.stderr
    assert len(json.loads(dump.read_text())["encodings"]) == 1
    res = _as_other_user(["facerec", "forget", "ann", "--db", str(db)], out)
    assert res.returncode == 1 and "cannot write the face database" in res.stderr, res.stderr
    assert "hint:" in res.stderr and "Traceback" not in res.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["faces.db"]


def test_face_data_is_owner_only(tmp_path, cli, monkeypatch):
    monkeypatch.setattr(os, "umask", os.umask)  # (restored by monkeypatch)
    old = os.umask(0o022)
    try:
        path = tmp_path / "new" / "faces.db"
        FaceDB(path).add("ann", [row(1)])
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        dump = tmp_path / "faces.json"
        assert cli("facerec", "export", dump, "--db", path).exit_code == 0
        assert stat.S_IMODE(dump.stat().st_mode) == 0o600
    finally:
        os.umask(old)


def test_a_full_disk_during_import_shows_the_disk_error(tmp_path, cli, fails, monkeypatch):
    source = tmp_path / "src.db"
    FaceDB(source).add("ann", [row(i) for i in range(300)])
    dump = tmp_path / "faces.json"
    assert cli("facerec", "export", dump, "--db", source).exit_code == 0
    target = tmp_path / "small.db"
    FaceDB(target).add("bob", [row(1000)])
    real = FaceDB._migrate

    def tiny_disk(self, *args):  # the file may grow by a few pages only: SQLITE_FULL
        real(self, *args)
        pages = self.conn.execute("PRAGMA page_count").fetchone()[0]
        self.conn.execute(f"PRAGMA max_page_count = {pages + 3}")

    monkeypatch.setattr(FaceDB, "_migrate", tiny_disk)
    res = fails(cli("facerec", "import", dump, "--db", target), "database or disk is full")
    assert "cannot rollback" not in res.stderr
    monkeypatch.undo()
    assert [p["name"] for p in FaceDB(target).people()] == ["bob"]


def test_names_with_escape_sequences_are_printed_escaped(tmp_path, cli, fails, small):
    db = tmp_path / "f.db"
    res = cli("facerec", "enroll", f"ann{ESCAPE}", small["grace"], "--db", db)
    fails(res, "holds control characters")
    assert not db.exists()
    src = tmp_path / "src.db"
    FaceDB(src).add(f"ann{ESCAPE}", [])  # nothing: a name alone is not kept
    FaceDB(src).close()
    dump = tmp_path / "faces.json"
    assert cli("facerec", "enroll", "grace", small["grace"], "--db", src).exit_code == 0
    assert cli("facerec", "export", dump, "--db", src).exit_code == 0
    doc = json.loads(dump.read_text())
    doc["encodings"][0]["name"] = f"ann{ESCAPE}"  # an export from elsewhere
    dump.write_text(json.dumps(doc))
    assert cli("facerec", "import", dump, "--db", db).exit_code == 0
    for args in (("people",), ("identify", small["grace"]),
                 ("identify", small["grace"], "--format", "csv")):  # fmt: skip
        res = cli("facerec", *args, "--db", db)
        assert res.exit_code == 0, res.stderr
        assert "\x1b" not in res.stdout and "ann\\x1b]8;;http://evil" in res.stdout, args
    res = cli("--json", "facerec", "people", "--db", db)
    assert json.loads(res.stdout)["people"][0]["name"] == f"ann{ESCAPE}"  # data kept as is


def test_a_file_name_that_is_not_utf8_can_be_enrolled(tmp_path, cli, small):
    folder = tmp_path / "imgs"
    folder.mkdir()
    odd = os.path.join(os.fsencode(folder), b"gr\xffce.png")
    with open(odd, "wb") as fh:
        fh.write(small["grace"].read_bytes())
    db = tmp_path / "f.db"
    res = cli("--json", "facerec", "enroll", "grace", folder, "--db", db)
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["enrolled"][0]["file"].endswith("gr\\xffce.png")
    assert [p["encodings"] for p in FaceDB(db).people()] == [1]


def test_an_unreadable_import_file_exits_1_with_a_hint(tmp_path, cli, fails, monkeypatch):
    dump = tmp_path / "faces.json"
    dump.write_text("{}")

    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_text", denied)  # root reads any file: simulate the mode
    fails(cli("facerec", "import", dump, "--db", tmp_path / "f.db"), "cannot read")
    assert not (tmp_path / "f.db").exists()


def test_identify_lists_the_images_without_a_face(tmp_path, cli, small):
    from facerec_data import COFFEE

    db = tmp_path / "f.db"
    assert cli("facerec", "enroll", "grace", small["grace"], "--db", db).exit_code == 0
    folder = tmp_path / "imgs"
    folder.mkdir()
    shutil.copy(small["grace"], folder / "a.png")
    shutil.copy(COFFEE, folder / "b.png")
    doc = json.loads(cli("--json", "facerec", "identify", folder, "--db", db).stdout)
    assert [f["name"] for f in doc["faces"]] == ["grace"]
    assert doc["no_face"] == [str(folder / "b.png")]
    res = cli("facerec", "identify", folder, "--db", db)
    assert "No face found" in res.stdout and str(folder / "b.png") in res.stdout
    res = cli("facerec", "identify", folder, "--db", db, "--format", "json")
    assert json.loads(res.stdout)["no_face"] == [str(folder / "b.png")]
    res = cli("facerec", "identify", folder, "--db", db, "--format", "csv")
    assert "0 faces in " + str(folder / "b.png") in "".join(res.stderr.split("\n"))


def test_encoder_with_non_finite_weights_is_refused(tmp_path, cli, fails):
    import torch
    from dltool_facerec.facenet import facenet_small, save_encoder

    model = facenet_small()
    with torch.no_grad():
        model.embed.weight[0, 0] = float("nan")
    enc = tmp_path / "enc.pt"
    save_encoder(model, enc, 0.7)
    res = cli(
        "facerec", "enroll", "ann", "demo:astronaut", "--encoder", enc, "--db", tmp_path / "x"
    )
    fails(res, "holds NaN or inf")


def test_a_crafted_pickle_encoder_runs_nothing(tmp_path, cli, fails):
    marker = tmp_path / "ran"

    class Boom:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    import torch

    enc = tmp_path / "enc.pt"
    torch.save({"format": "dltool-facenet", "config": Boom()}, enc)
    res = cli("facerec", "evaluate", "--data", tmp_path, "--encoder", enc)
    fails(res, "is not a dltool face encoder")
    assert not marker.exists()


# ---------------------------------------------------------------- the reliability sweep's cases


def test_a_trained_encoder_s_threshold_out_of_range_is_refused():
    from dltool_facerec import cli as facerec_cli
    from dltool_facerec.jobs import MAX_THRESHOLD, threshold

    assert facerec_cli.MAX_THRESHOLD == MAX_THRESHOLD == 4.0  # the option's bound is the job's
    encoder = type("Encoder", (), {"name": "facenet-x", "threshold": 1e12})()
    with pytest.raises(DltoolError, match="the threshold of facenet-x must be a distance"):
        threshold(None, encoder)
    assert threshold(4.0, encoder) == 4.0


@pytest.mark.parametrize(
    "args",
    [
        ("verify", "IMG", "--name", "ann"),
        ("identify", "IMG"),
        ("forget", "ann"),
        ("people",),
        ("export", "out.json"),
    ],
)
def test_an_empty_file_as_database_is_read_untouched_and_leaves_no_files(
    tmp_path, cli, monkeypatch, args
):  # fmt: skip
    from facerec_data import GRACE

    monkeypatch.chdir(tmp_path)
    empty = tmp_path / "empty.txt"
    empty.touch()
    args = [str(GRACE) if a == "IMG" else a for a in args]
    res = cli("facerec", *args, "--db", empty)
    if args[0] in ("people", "export"):
        assert res.exit_code == 0, res.stderr  # an empty database: no one
    else:
        assert res.exit_code == (2 if args[0] == "verify" else 1), res.stderr
        assert "is empty" in res.stderr or "no one named 'ann'" in res.stderr, res.stderr
    made = {"out.json"} if args[0] == "export" else set()
    assert {p.name for p in tmp_path.iterdir()} == {"empty.txt", *made}  # no -wal, no -shm
    assert empty.stat().st_size == 0


def test_readers_and_refused_commands_leave_no_wal_or_shm_files(tmp_path, cli):
    from facerec_data import GRACE

    db = tmp_path / "faces.db"
    with FaceDB(db) as database:
        database.add("ann", [row(1)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["faces.db"]
    for args, code in ((("people",), 0), (("export", tmp_path / "x.json"), 0),
                       (("verify", GRACE, "--name", "bob"), 2), (("forget", "bob"), 1),
                       (("identify", GRACE, "--encoder", tmp_path), 1)):  # fmt: skip
        res = cli("facerec", *args, "--db", db)
        assert res.exit_code == code, (args, res.stderr)
        left = {p.name for p in tmp_path.iterdir()} - {"faces.db", "x.json"}
        assert not left, (args, left)


def test_identify_and_detect_check_out_before_any_work(tmp_path, cli, fails, db_path, monkeypatch):
    from dltool_facerec import jobs
    from facerec_data import GRACE

    def no_work(*_):
        raise AssertionError("worked before checking --out")

    monkeypatch.setattr(jobs, "pipeline", no_work)
    monkeypatch.setattr(jobs, "_images", no_work)
    afile = tmp_path / "afile.txt"
    afile.write_text("a file, not a folder\n")
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text("{}\n")
    for args, message in (  # --out is checked also where nothing would be written to it
        (("identify", GRACE, "--out", afile), f"--out {afile} is a file"),
        (("identify", GRACE, "--out", afile / "x"), f"lies under {afile}, a file"),
        (("identify", GRACE, "--out", run), "already holds a run"),
        (("detect", GRACE, "--no-annotate", "--out", afile / "x"), f"lies under {afile}, a file"),
        (("identify", GRACE, "--annotate", "--out", afile), f"--out {afile} is a file"),
        (("identify", GRACE, "--annotate", "--out", afile / "x"), f"lies under {afile}, a file"),
        (("detect", GRACE, "--out", afile / "x" / "y"), f"lies under {afile}, a file"),
        (("evaluate", "--data", tmp_path, "--out", afile / "x"), f"lies under {afile}, a file"),
    ):
        fails(cli("facerec", *args), message)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["afile.txt", "config.yaml", "run"]


def test_evaluate_refuses_pairs_that_would_not_fit_in_memory_unless_forced(
    cli, fails, faces_dir, tmp_path, monkeypatch
):  # fmt: skip
    from dltool_facerec import evaluate, jobs

    assert evaluate.pair_bytes(10) == 24 * 100 + 96 * 45
    assert evaluate.pair_bytes(100_000) == 719_995_200_000  # 100k faces: ~720 GB of pairs
    monkeypatch.setattr(jobs, "available_bytes", lambda: 4000)  # 10 images need 6,720 bytes
    real_read = jobs._read
    monkeypatch.setattr(jobs, "_read", lambda _: pytest.fail("encoded before refusing"))
    out = tmp_path / "ev"
    res = fails(cli("facerec", "evaluate", "--data", faces_dir, "--out", out), "10 images make 45")
    assert "--force" in res.stderr and not out.exists()
    monkeypatch.setattr(jobs, "_read", real_read)
    res = cli("--json", "facerec", "evaluate", "--data", faces_dir, "--out", out, "--force")
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["genuine_pairs"] == 20


def test_roc_by_sorting_equals_the_definition():
    from dltool_facerec.evaluate import roc

    rng = np.random.default_rng(3)
    genuine, impostor = rng.random(200).round(2), rng.random(300).round(2) + 0.3  # with ties
    curve = roc(genuine, impostor)
    t = curve["threshold"]
    np.testing.assert_array_equal(curve["tpr"], np.mean(genuine[None, :] < t[:, None], axis=1))
    np.testing.assert_array_equal(curve["fpr"], np.mean(impostor[None, :] < t[:, None], axis=1))
    assert np.all(roc(genuine, impostor[:0])["fpr"] == 0)
