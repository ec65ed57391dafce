"""The facerec commands through the CLI, on real photos: outputs, exit codes, bad input."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
from facerec_data import ASTRONAUT, ASTRONAUT_FACE, COFFEE, GRACE, GRACE_FACE
from PIL import Image

DLTOOL = str(Path(sys.executable).parent / "dltool")


def contents(path):
    """Return every person and encoding row (the logical content, WAL included)."""
    with sqlite3.connect(path) as conn:
        people = conn.execute("SELECT * FROM people ORDER BY id").fetchall()
        return people, conn.execute("SELECT * FROM encodings ORDER BY id").fetchall()


def count_encodings(path):
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT COUNT(*) FROM encodings").fetchone()[0]


def enrolled(cli, db_path, small):
    """Enroll the astronaut and Grace Hopper (half-size copies)."""
    r1 = cli("facerec", "enroll", "astronaut", str(small["astronaut"]))
    r2 = cli("facerec", "enroll", "grace", str(small["grace"]))
    assert r1.exit_code == 0 and r2.exit_code == 0, r1.stderr + r2.stderr
    return db_path


def test_detect_csv_json_and_annotated_copies(cli, tmp_path):
    out = tmp_path / "det"
    res = cli("facerec", "detect", str(GRACE), str(COFFEE), "--format", "csv",
                 "--out", str(out))  # fmt: skip
    assert res.exit_code == 0, res.stderr
    table = list(csv.reader(io.StringIO(res.stdout)))
    assert table[0] == ["file", "top", "right", "bottom", "left"]
    assert table[1:] == [[str(GRACE), *map(str, GRACE_FACE)]]  # coffee has no face
    with Image.open(out / "grace_hopper.jpg") as im:
        assert im.size == (512, 600)
    assert (out / "coffee.png").is_file()
    res = cli("--json", "facerec", "detect", str(ASTRONAUT), "--no-annotate")
    faces = json.loads(res.stdout)["faces"]
    assert [tuple(f[k] for k in ("top", "right", "bottom", "left")) for f in faces][0] == (
        ASTRONAUT_FACE
    )


def test_annotated_copies_never_overwrite_each_other(cli, tmp_path, small):
    folder = tmp_path / "in"
    folder.mkdir()
    with Image.open(small["grace"]) as im:
        im.save(folder / "p.bmp")
        im.transpose(Image.FLIP_LEFT_RIGHT).save(folder / "p.png")
    out = tmp_path / "det"
    res = cli("facerec", "detect", str(folder), "--out", str(out))
    assert res.exit_code == 0, res.stderr
    # the core's output_name: each keeps its format, the second of a stem gets _2
    assert sorted(p.name for p in out.iterdir() if p.suffix not in (".yaml", ".json")) == [
        "p.bmp",
        "p_2.png",
    ]
    with Image.open(out / "p.bmp") as bmp_copy, Image.open(out / "p_2.png") as png_copy:
        assert bmp_copy.format == "BMP" and png_copy.format == "PNG"
        assert np.asarray(bmp_copy)[:, :8].tolist() != np.asarray(png_copy)[:, :8].tolist()


def test_enroll_verify_identify_people_forget(cli, db_path, tmp_path, small):
    res = cli("facerec", "enroll", "astronaut", str(ASTRONAUT))
    assert res.exit_code == 1 and "2 faces where one is expected" in res.stderr
    assert "--largest" in res.stderr and not db_path.exists()  # no database made for nothing
    res = cli("facerec", "enroll", "astronaut", str(ASTRONAUT), "--largest")
    assert res.exit_code == 0 and count_encodings(db_path) == 1
    again = cli("--json", "facerec", "enroll", "astronaut", str(ASTRONAUT), "--largest")
    assert json.loads(again.stdout)["enrolled"][0]["status"] == "already enrolled"
    assert cli("facerec", "enroll", "grace", str(small["grace"])).exit_code == 0
    assert count_encodings(db_path) == 2

    mirror = tmp_path / "mirror.png"
    Image.open(ASTRONAUT).transpose(Image.FLIP_LEFT_RIGHT).save(mirror)
    yes = cli("--json", "facerec", "verify", str(mirror), "--name", "astronaut",
                 "--largest")  # fmt: skip
    assert yes.exit_code == 0, yes.stderr
    assert json.loads(yes.stdout)["distance"] == np.round(json.loads(yes.stdout)["distance"], 4)
    assert 0.15 < json.loads(yes.stdout)["distance"] < 0.23
    demo = cli("--json", "facerec", "verify", "demo:astronaut", "--name", "astronaut", "--largest")
    assert demo.exit_code == 0 and json.loads(demo.stdout)["distance"] < 0.01, demo.stderr
    no = cli("--json", "facerec", "verify", str(small["grace"]), "--name", "astronaut")
    assert no.exit_code == 1 and json.loads(no.stdout)["match"] is False
    assert cli("facerec", "verify", str(small["grace"]), "--name", "astronaut",
                  "--threshold", "0.8").exit_code == 0  # fmt: skip

    res = cli("facerec", "identify", str(mirror), str(GRACE), "--format", "csv",
                 "--annotate", "--out", str(tmp_path / "id"))  # fmt: skip
    assert res.exit_code == 0, res.stderr
    got = list(csv.DictReader(io.StringIO(res.stdout)))
    assert [r["name"] for r in got] == ["astronaut", "unknown", "grace"]  # patch is unknown
    assert float(got[2]["distance"]) < 0.3 and float(got[1]["distance"]) > 0.6
    assert (tmp_path / "id" / "mirror.png").is_file()
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.png").write_bytes(mirror.read_bytes())
    (folder / "b.png").write_bytes(COFFEE.read_bytes())  # no face: no row
    best = cli("--json", "facerec", "identify", str(folder), "--best-only")
    assert [f["name"] for f in json.loads(best.stdout)["faces"]] == ["astronaut"]
    strict = cli("facerec", "identify", str(small["mirror"]), "--format", "json",
                    "--threshold", "0.1")  # fmt: skip
    assert json.loads(strict.stdout)["faces"][0]["name"] == "unknown"

    people = json.loads(cli("--json", "facerec", "people").stdout)["people"]
    assert [(p["name"], p["encodings"]) for p in people] == [("astronaut", 1), ("grace", 1)]
    assert cli("facerec", "forget", "grace").exit_code == 0
    assert count_encodings(db_path) == 1
    gone = cli("facerec", "forget", "grace")
    assert gone.exit_code == 1 and "no one named 'grace'" in gone.stderr


def test_enroll_same_file_twice_reports_it_once(cli, db_path, tmp_path, small):
    folder = tmp_path / "g"
    folder.mkdir()
    image = folder / "g.png"
    image.write_bytes(small["grace"].read_bytes())
    twin = tmp_path / "twin.png"  # same content, another file
    twin.write_bytes(image.read_bytes())
    res = cli("--json", "facerec", "enroll", "grace", str(image), str(image),
                 str(folder), str(twin))  # fmt: skip
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert [(r["file"], r["status"]) for r in doc["enrolled"]] == [
        (str(image), "added"),
        (str(twin), "already enrolled"),
    ]
    assert doc["added"] == 1 and count_encodings(db_path) == 1


def test_export_import_round_trip(cli, db_path, tmp_path, small):
    enrolled(cli, db_path, small)
    dump = tmp_path / "faces.json"
    assert cli("facerec", "export", str(dump)).exit_code == 0
    doc = json.loads(dump.read_text())
    assert doc["format"] == "dltool-facerec-export" and len(doc["encodings"]) == 2
    other = tmp_path / "other.db"
    res = cli("--json", "facerec", "import", str(dump), "--db", str(other))
    assert json.loads(res.stdout) == {"added": 2, "skipped": 0}
    res = cli("--json", "facerec", "import", str(dump), "--db", str(other))
    assert json.loads(res.stdout) == {"added": 0, "skipped": 2}
    ours = json.loads(cli("--json", "facerec", "people").stdout)["people"]
    theirs = json.loads(cli("--json", "facerec", "people", "--db", str(other)).stdout)
    assert [p["name"] for p in theirs["people"]] == [p["name"] for p in ours]
    res = cli("facerec", "verify", str(small["grace"]), "--name", "grace", "--db", str(other))
    assert res.exit_code == 0


def test_bad_input_is_one_line_and_leaves_database_unchanged(cli, fails, db_path, tmp_path, small):
    enrolled(cli, db_path, small)
    GRACE = small["grace"]  # noqa: N806  (the half-size copy is faster)
    before = contents(db_path)
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"this is not an image")
    cases = [
        (("enroll", "ann", str(GRACE), str(junk)), 1, "is not a readable image"),
        (("enroll", "ann", str(GRACE), str(COFFEE)), 1, "no face found in"),
        (("enroll", "ann", str(tmp_path / "absent.png")), 1, "image not found"),
        (("enroll", "  ", str(GRACE)), 1, "name must not be empty"),
        (("verify", str(junk), "--name", "grace"), 2, "is not a readable image"),
        (("verify", str(COFFEE), "--name", "grace"), 2, "no face found"),
        (("verify", str(ASTRONAUT), "--name", "astronaut"), 2, "2 faces where one is expected"),
        (("verify", str(GRACE), "--name", "nobody"), 2, "no one named 'nobody'"),
        (("verify", "demo:astronaut", "--name", "grace"), 2, "2 faces where one is expected"),
        (("verify", "demo:nosuch", "--name", "grace"), 2, "no demo image 'nosuch'"),
        (("verify", str(tmp_path), "--name", "grace"), 2, "verify takes one image"),
        (("verify", str(tmp_path / "absent.png"), "--name", "grace"), 2, "image not found"),
        (("identify", str(junk)), 1, "is not a readable image"),
        (("import", str(junk)), 1, "is not a dltool face export"),
        (("forget", "nobody"), 1, "no one named 'nobody'"),
        (("identify", str(GRACE), "--encoder", str(junk)), 1, "is not a dltool face encoder"),
        (("identify", str(GRACE), "--encoder", str(tmp_path)), 1, "holds no encoder.pt"),
    ]
    for args, code, message in cases:
        fails(cli("facerec", *args), message, code)
    assert contents(db_path) == before and count_encodings(db_path) == 2


def test_choices_and_ranges_are_usage_errors(cli):
    thresholds = [(command, str(GRACE), "--threshold", value)
                  for command in ("verify", "identify", "evaluate")
                  for value in ("-1", "0", "nan", "inf", "4.01", "1e12")]  # fmt: skip
    for args in (("identify", str(GRACE), "--format", "xml"),
                 ("detect", str(GRACE), "--detector", "sift"),
                 ("detect", str(GRACE), "--upsample", "5"),
                 ("identify", str(GRACE), "--upsample", "-1"),
                 *thresholds):  # fmt: skip
        if args[0] == "verify":
            args = (*args, "--name", "grace")
        if args[0] == "evaluate":
            args = ("evaluate", "--data", *args[1:])
        res = cli("facerec", *args)
        assert res.exit_code == 2 and "Invalid value" in res.stderr, (args, res.stderr)


def test_foreign_database_files_refused(cli, tmp_path):
    text = tmp_path / "notes.db"
    text.write_text("not sqlite at all, just some notes\n")
    res = cli("facerec", "enroll", "ann", str(GRACE), "--db", str(text))
    assert res.exit_code == 1 and "is not a dltool face database" in res.stderr
    assert text.read_text().startswith("not sqlite")
    newer = tmp_path / "newer.db"
    assert cli("facerec", "import", str(tmp_path / "x"), "--db", str(newer)).exit_code
    assert not newer.exists()  # a failed import creates no database file
    from dltool_facerec.database import FaceDB

    FaceDB(newer).close()
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE meta SET value = '7' WHERE key = 'schema_version'")
    res = cli("facerec", "people", "--db", str(newer))
    assert res.exit_code == 1 and "schema version 7, newer" in res.stderr
    res = cli("facerec", "verify", str(GRACE), "--name", "a", "--db", str(newer))
    assert res.exit_code == 2
    empty = cli("facerec", "identify", str(GRACE), "--db", str(tmp_path / "none.db"))
    assert empty.exit_code == 1 and "does not exist" in empty.stderr


def test_directory_as_database_or_export_file_refused(cli, db_path, tmp_path, small):
    folder = tmp_path / "folder"
    folder.mkdir()
    for args in (("people", "--db", str(folder)),
                 ("enroll", "ann", str(small["grace"]), "--db", str(folder)),
                 ("import", str(folder)),
                 ("export", str(folder))):  # fmt: skip
        if args[0] == "export":
            enrolled(cli, db_path, small)
        res = cli("facerec", *args)
        assert res.exit_code == 1, (args, res.stderr)
        assert "is a directory" in res.stderr and "unexpected" not in res.stderr, res.stderr
        assert res.stderr.count("error:") == 1
    assert list(folder.iterdir()) == []


def test_two_enroll_processes_at_once_both_succeed(tmp_path, small):
    db = tmp_path / "shared.db"
    env = {**os.environ, "DLTOOL_FACE_DB": str(db)}
    procs = [
        subprocess.Popen([DLTOOL, "--quiet", "facerec", "enroll", name, str(path), "--largest"],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name, path in (("astronaut", small["astronaut"]), ("grace", small["grace"]))
    ]  # fmt: skip
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    with sqlite3.connect(db) as conn:
        names = conn.execute("SELECT name FROM people ORDER BY name").fetchall()
    assert names == [("astronaut",), ("grace",)]
    assert count_encodings(db) == 2


WRITER = """
import sys
from pathlib import Path
import numpy as np
from dltool_facerec.database import FaceDB

db = FaceDB(sys.argv[1])
for i in range(40):
    row = {"encoder": "e", "vector": np.full(4, float(i)), "image_sha256": f"{sys.argv[2]}{i}",
           "source": "/x", "box": ""}
    db.add(sys.argv[2], [row])
"""


def test_concurrent_writers_lose_nothing(tmp_path):
    db = tmp_path / "busy.db"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    procs = [subprocess.Popen([sys.executable, str(script), str(db), who]) for who in "ab"]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    assert count_encodings(db) == 80


OPENER = """
import sys
from dltool_facerec.database import FaceDB
FaceDB(sys.argv[1]).close()
"""


def test_two_processes_creating_one_database_both_succeed(tmp_path):
    """Two processes that create the same new database at once (WAL switch) both succeed."""
    script = tmp_path / "opener.py"
    script.write_text(OPENER)
    for trial in range(40):  # without the retry about one trial in ten lost the race
        db = tmp_path / f"new{trial}.db"
        procs = [subprocess.Popen([sys.executable, str(script), str(db)], stderr=subprocess.PIPE,
                                  text=True) for _ in range(2)]  # fmt: skip
        errors = [p.communicate(timeout=60)[1] for p in procs]
        assert [p.returncode for p in procs] == [0, 0], errors
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_enroll_killed_mid_command_leaves_database_unchanged(tmp_path, small):
    import signal
    import time

    db = tmp_path / "faces.db"
    env = {**os.environ, "DLTOOL_FACE_DB": str(db)}
    from dltool_facerec.database import FaceDB

    FaceDB(db).add("grace", [{"encoder": "dlib-resnet-v1", "vector": np.full(128, 0.05),
                              "image_sha256": "g", "source": "/g.png", "box": ""}])  # fmt: skip
    before = contents(db)
    folder = tmp_path / "many"
    folder.mkdir()
    pixels = np.asarray(Image.open(small["grace"]).convert("RGB")).copy()
    for k in range(30):  # distinct files (distinct hashes): 30 faces to encode
        pixels[0, 0, 0] = k
        Image.fromarray(pixels).save(folder / f"{k:02d}.png")
    proc = subprocess.Popen([DLTOOL, "-q", "facerec", "enroll", "astro", str(folder)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    time.sleep(3.0)
    proc.send_signal(signal.SIGKILL)
    err = proc.communicate(timeout=30)[1]
    assert proc.returncode == -signal.SIGKILL, err  # it was still working
    assert contents(db) == before


def test_detect_takes_demo_images_and_keeps_the_run_rule(cli, fails, tmp_path):
    out = tmp_path / "det"
    res = cli("--json", "facerec", "detect", "demo:astronaut", "--out", out)
    assert res.exit_code == 0, res.stderr
    boxes = [tuple(f[k] for k in ("top", "right", "bottom", "left"))
             for f in json.loads(res.stdout)["faces"]]  # fmt: skip
    assert boxes[0] == ASTRONAUT_FACE and len(boxes) == 2
    assert (out / "astronaut.png").is_file() and (out / "config.yaml").is_file()
    fails(cli("facerec", "detect", "demo:astronaut", "--out", out), "already holds a run")
    assert cli("facerec", "detect", "demo:astronaut", "--out", out, "--exist-ok").exit_code == 0
    fails(cli("facerec", "detect", "demo:nobody"), "no demo image 'nobody'")


def test_quiet_prints_one_line_per_image(cli, db_path, tmp_path, small):
    enrolled(cli, db_path, small)
    folder = tmp_path / "imgs"
    folder.mkdir()
    (folder / "a.png").write_bytes(ASTRONAUT.read_bytes())  # two faces
    (folder / "b.png").write_bytes(COFFEE.read_bytes())  # none
    for command in ("detect", "identify"):
        loud = cli("facerec", command, folder, "--out", tmp_path / command)
        quiet = cli("-q", "facerec", command, folder, "--out", tmp_path / f"q{command}")
        assert loud.exit_code == 0 and quiet.exit_code == 0, quiet.stderr
        rows = [line for line in quiet.stdout.splitlines() if str(folder) in line]
        assert len(rows) == 2 and "│ 2 " in rows[0] and "│ 0 " in rows[1], quiet.stdout
        assert len([line for line in loud.stdout.splitlines() if str(folder) in line]) == 3
        assert quiet.stderr == ""
    doc = json.loads(cli("-q", "--json", "facerec", "identify", folder).stdout)
    assert len(doc["faces"]) == 2 and doc["no_face"] == [str(folder / "b.png")]


def test_help_shows_every_default_and_completes_choices(cli):
    for command in ("detect", "enroll", "verify", "identify", "train", "evaluate", "export"):
        text = cli("facerec", command, "-h").stdout
        assert "this ." not in text and "[default: None]" not in text, text
    text = " ".join(cli("facerec", "identify", "-h").stdout.split())
    assert "<hog|cnn>" in text and "<table|csv|json>" in text and "[default: the encoder's" in text
    train = " ".join(cli("facerec", "train", "-h").stdout.split())
    assert "<batch-all|semi-hard>" in train and "--resume" in train and "--exist-ok" in train


def test_export_output_option_and_format(cli, fails, db_path, tmp_path, small):
    enrolled(cli, db_path, small)
    res = cli("facerec", "export", "-o", tmp_path / "faces.json")
    assert res.exit_code == 0 and json.loads((tmp_path / "faces.json").read_text())["encodings"]
    fails(cli("facerec", "export", tmp_path / "faces.csv"), "unknown output format '.csv'")
    fails(cli("facerec", "export"), "give the export file once")
    assert not (tmp_path / "faces.csv").exists()


def test_export_help_names_no_run_folder(cli):
    text = " ".join(cli("facerec", "export", "--help").stdout.split())
    assert "run folder" not in text
    assert "[default: none: FILE or -o FILE is required]" in text
