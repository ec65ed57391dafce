"""The face database: schema and migrations, refusal of foreign files, transactions, crashes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from dltool_facerec import database as dbm
from dltool_facerec.database import FaceDB

from dltool.errors import DltoolError


def rows(n, encoder="enc-a", dim=4, start=0):
    """Return n encoding rows with distinct image hashes."""
    rng = np.random.default_rng(start)
    return [
        {"encoder": encoder, "vector": rng.standard_normal(dim), "image_sha256": f"h{start + i}",
         "source": f"/img/{start + i}.png", "box": "1,2,3,4"}
        for i in range(n)
    ]  # fmt: skip


def snapshot(path):
    """Return every person and encoding of the file (read-only), for before/after checks."""
    with sqlite3.connect(path) as conn:
        people = conn.execute("SELECT id, name FROM people ORDER BY id").fetchall()
        encs = conn.execute("SELECT id, person_id, vector FROM encodings ORDER BY id").fetchall()
    return people, encs


def test_new_database_schema_and_wal(tmp_path):
    db = FaceDB(tmp_path / "f.db")
    assert db.version() == dbm.SCHEMA_VERSION == 2
    assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    meta = dict(db.conn.execute("SELECT key, value FROM meta"))
    assert meta == {"application": "dltool-facerec", "schema_version": "2"}


def test_add_load_round_trip_and_dedup(tmp_path):
    db = FaceDB(tmp_path / "f.db")
    r = rows(3)
    assert [x["status"] for x in db.add("ann", r)] == ["added"] * 3
    again = db.add("bob", r[:1])
    assert again[0]["status"] == "already enrolled as ann"
    assert [p["name"] for p in db.people()] == ["ann"]  # bob got nothing, so is not kept
    got = db.load("enc-a", 4)
    np.testing.assert_array_equal(got.vectors, np.stack([x["vector"] for x in r]))
    assert got.names == ["ann"] * 3
    np.testing.assert_allclose(got.sq_norms, (got.vectors**2).sum(1))
    assert db.load("enc-b", 4).vectors.shape == (0, 4)
    with pytest.raises(DltoolError, match="another dimension"):
        db.load("enc-a", 128)


def test_require_and_forget(tmp_path):
    db = FaceDB(tmp_path / "f.db")
    with pytest.raises(DltoolError, match="is empty"):
        db.require("enc-a")
    db.add("ann", rows(2))
    db.require("enc-a", "ann")
    with pytest.raises(DltoolError, match="enrolled with encoder enc-a, not enc-b"):
        db.require("enc-b")
    with pytest.raises(DltoolError, match="no one named 'zed'"):
        db.require("enc-a", "zed")
    assert db.forget("ann") == 2
    assert db.people() == []
    with pytest.raises(DltoolError, match="no one named 'ann'"):
        db.forget("ann")


def test_failed_transaction_rolls_back(tmp_path):
    db = FaceDB(tmp_path / "f.db")
    db.add("ann", rows(2))
    before = snapshot(db.path)

    def boom(i):
        if i == 1:
            raise RuntimeError("fail mid-write")

    with pytest.raises(RuntimeError):
        db.add("bob", rows(3, start=10), on_row=boom)
    assert snapshot(db.path) == before


def test_migration_from_version_1(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(dbm.MIGRATIONS[0])
    conn.executemany("INSERT INTO meta VALUES (?, ?)", [("application", dbm.APPLICATION),
                                                       ("schema_version", "1")])  # fmt: skip
    conn.execute("INSERT INTO people VALUES (1, 'ann', 'then')")
    blob = np.arange(4.0).astype("<f8").tobytes()
    conn.execute(
        "INSERT INTO encodings VALUES (1, 1, 'enc-a', 4, ?, 'h', '/x.png', 'then')", (blob,)
    )
    conn.commit()
    conn.close()
    db = FaceDB(path)
    assert db.version() == 2
    np.testing.assert_array_equal(db.load("enc-a", 4).vectors, [[0, 1, 2, 3]])
    cols = [r[1] for r in db.conn.execute("PRAGMA table_info(encodings)")]
    assert "box" in cols
    indexes = [r[0] for r in db.conn.execute("SELECT name FROM sqlite_master WHERE type='index'")]
    assert "encodings_by_encoder" in indexes


def test_refuses_foreign_and_newer_files(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello, not a database\n" * 10)
    with pytest.raises(DltoolError, match="not a dltool face database .not an SQLite file"):
        FaceDB(text)
    assert text.read_text().startswith("hello")
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(DltoolError, match="without a dltool meta table"):
        FaceDB(other)
    newer = tmp_path / "newer.db"
    FaceDB(newer).close()
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    before = newer.read_bytes()
    with pytest.raises(DltoolError, match="schema version 99, newer"):
        FaceDB(newer)
    assert newer.read_bytes() == before
    with pytest.raises(DltoolError, match="does not exist"):
        FaceDB(tmp_path / "absent.db", create=False)


KILLER = """
import os, signal, sys
import numpy as np
from dltool_facerec.database import FaceDB

db = FaceDB(sys.argv[1])
rows = [{{"encoder": "enc-a", "vector": np.ones(4) * i, "image_sha256": f"k{{i}}",
         "source": "/k.png", "box": ""}} for i in range(6)]

def die(i):
    if i == {at}:
        os.kill(os.getpid(), signal.SIGKILL)

db.add("killed", rows, on_row=die)
"""


def test_killed_mid_transaction_leaves_database_unchanged(tmp_path):
    path = tmp_path / "f.db"
    db = FaceDB(path)
    db.add("ann", rows(2))
    db.close()
    before = snapshot(path)
    script = tmp_path / "killer.py"
    script.write_text(textwrap.dedent(KILLER.format(at=3)))
    proc = subprocess.run([sys.executable, str(script), str(path)], capture_output=True)
    assert proc.returncode == -9  # killed by SIGKILL after 4 of 6 inserts
    assert snapshot(path) == before
    db = FaceDB(path)
    assert db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert [p["name"] for p in db.people()] == ["ann"]
    assert [x["status"] for x in db.add("bob", rows(1, start=50))] == ["added"]


def test_export_file_checks(tmp_path):
    import json

    from dltool_facerec.exchange import export_db, read_export

    db = FaceDB(tmp_path / "f.db")
    db.add("ann", rows(2))
    path = tmp_path / "x.json"
    assert export_db(db, path) == 2
    back = read_export(path)
    assert [r["name"] for r in back] == ["ann", "ann"]
    assert np.frombuffer(back[0]["blob"], "<f8").shape == (4,)
    doc = json.loads(path.read_text())
    doc["encodings"][1]["vector"] = doc["encodings"][1]["vector"][:3]  # dim says 4
    path.write_text(json.dumps(doc))
    with pytest.raises(DltoolError, match="encoding 1 has a bad name, vector or dim"):
        read_export(path)
    doc["version"] = 2
    path.write_text(json.dumps(doc))
    with pytest.raises(DltoolError, match="export version 2 is not supported"):
        read_export(path)
    path.write_text("{not json")
    with pytest.raises(DltoolError, match="not a dltool face export"):
        read_export(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"dim": 0, "vector": []}, "dim 0 is not a whole number"),
        ({"dim": True, "vector": [1.0]}, "dim True is not a whole number"),
        ({"vector": ["1", 2, 3, 4]}, "vector is not 4 finite numbers"),
        ({"vector": [1e400, 2, 3, 4]}, "vector is not 4 finite numbers"),
        ({"name": "   "}, "empty name"),
        ({"encoder": None}, "encoder must be text"),
        ({"image_sha256": ["a"]}, "image_sha256 must be text"),
        ({"name": {"a": 1}}, "name must be text"),
    ],
)
def test_export_rows_of_wrong_type_refused(tmp_path, change, message):
    import json

    from dltool_facerec.exchange import export_db, read_export

    db = FaceDB(tmp_path / "f.db")
    db.add("ann", rows(1))
    path = tmp_path / "x.json"
    export_db(db, path)
    doc = json.loads(path.read_text())
    doc["encodings"][0].update(change)
    path.write_text(json.dumps(doc))
    with pytest.raises(DltoolError, match=message):
        read_export(path)


def test_import_of_another_dimension_refused_whole(tmp_path):
    import json

    from dltool_facerec.exchange import export_db, read_export

    src = FaceDB(tmp_path / "src.db")
    src.add("ann", rows(1, dim=3, start=10))
    src.add("bob", rows(1, dim=3, start=11, encoder="enc-b"))
    path = tmp_path / "x.json"
    export_db(src, path)
    db = FaceDB(tmp_path / "f.db")
    db.add("cy", rows(2))  # enc-a, dim 4
    before = snapshot(db.path)
    with pytest.raises(DltoolError, match="enc-a encodings of dim 3, .* holds dim 4; nothing"):
        db.import_rows(read_export(path), str(path))
    assert snapshot(db.path) == before
    doc = json.loads(path.read_text())
    second = doc["encodings"][1]
    second.update(encoder="enc-a", dim=2, vector=second["vector"][:2])  # two dims, one encoder
    path.write_text(json.dumps(doc))
    with pytest.raises(DltoolError, match="encoding 1 has dim 2, encoding 0 of the same encoder"):
        read_export(path)
    second.update(encoder="enc-b", name="  bob ")
    path.write_text(json.dumps(doc))
    fresh = FaceDB(tmp_path / "g.db")
    assert fresh.import_rows(read_export(path)) == {"added": 2, "skipped": 0}
    assert [p["name"] for p in fresh.people()] == ["ann", "bob"]
    assert fresh.dims() == {"enc-a": 3, "enc-b": 2}
