"""The face database: a SQLite file of people and their encodings, safe under concurrency.

* Location: ``--db PATH``, else ``$DLTOOL_FACE_DB``, else ``faces.sqlite3`` under the user
  data directory (platformdirs).
* Schema: table ``meta`` holds ``application = dltool-facerec`` and ``schema_version``;
  ``MIGRATIONS[k]`` takes version k to k + 1, applied in one transaction on open.
  A file that is not a dltool face database, or has a newer schema, is refused untouched.
* Encodings are float64 blobs stored with the encoder's name and dimension, and the
  SHA-256 of the image they came from (re-enrolling the same file is a no-op).
* Journal mode WAL, busy timeout 30 s; every command's writes are one
  ``BEGIN IMMEDIATE`` … ``COMMIT`` transaction, so concurrent writers queue and a killed
  process leaves the database as it was before the command. A writer that still holds
  the lock after the timeout is reported as such; a full disk by its own error.
* The file is opened through a quoted ``file:`` URI (``#``, ``?``, ``%`` are plain file
  name characters), created owner-only (0600), and opened read-only by the commands that
  only read it, so a database in a read-only folder can be listed and searched. Where
  the reader may write the folder it reads through a read-write connection, so that
  closing it removes the ``-wal``/``-shm`` files SQLite makes; an empty file only read
  (or given to ``forget``) is an empty database and is not written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dltool.errors import DltoolError

APPLICATION = "dltool-facerec"
ENV = "DLTOOL_FACE_DB"
BUSY_TIMEOUT_S = 30.0

MIGRATIONS: tuple[str, ...] = (
    # 0 -> 1: people and their encodings
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE people (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created TEXT NOT NULL
    );
    CREATE TABLE encodings (
        id INTEGER PRIMARY KEY,
        person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
        encoder TEXT NOT NULL,
        dim INTEGER NOT NULL,
        vector BLOB NOT NULL,
        image_sha256 TEXT NOT NULL,
        source TEXT NOT NULL,
        created TEXT NOT NULL,
        UNIQUE (encoder, image_sha256)
    );
    """,
    # 1 -> 2: the face box each encoding came from, and an index for loading by encoder
    """
    ALTER TABLE encodings ADD COLUMN box TEXT NOT NULL DEFAULT '';
    CREATE INDEX encodings_by_encoder ON encodings (encoder, person_id);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def default_path() -> Path:
    """Return ``$DLTOOL_FACE_DB`` or ``<user data dir>/dltool/faces.sqlite3``."""
    env = os.environ.get(ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("dltool")) / "faces.sqlite3"


def _now() -> str:
    """Return the current UTC time as ISO 8601."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


@dataclass
class Enrolled:
    """The encodings of one encoder: matrix (n, dim), their names, and ‖Eⱼ‖² (n,)."""

    encoder: str
    vectors: Any
    names: list[str]
    sq_norms: Any


class FaceDB:
    """A connection to the face database at ``path`` (created and migrated on open).

    ``readonly``: open without writing (people, identify, verify, export), so a database
    in a read-only folder can be read; an older schema is still migrated when it can be.
    An empty file (or SQLite without tables) opened read-only or with ``create=False``
    reads as an empty database kept in memory: the file is not written, no ``-wal`` or
    ``-shm`` file is made. Use it in a ``with`` block: closing removes those files.
    """

    def __init__(self, path: Path, create: bool = True, readonly: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        if self.path.is_dir():
            raise DltoolError(
                f"face database {self.path} is a directory",
                hint=f"give a file path to --db (or {ENV}), e.g. {self.path / 'faces.sqlite3'}",
            )
        exists = self.path.exists()
        if not exists and (not create or readonly):
            raise DltoolError(
                f"face database {self.path} does not exist",
                hint="enroll faces first (dltool facerec enroll NAME IMAGE…), or give --db",
            )
        holds_tables = self._check_file() if exists else False
        if exists and not holds_tables and (readonly or not create):
            self.conn = self._blank()  # nothing to read or forget: the file stays untouched
            return
        if not exists:
            self._create_file()
        self.conn = None
        try:
            self._open_file()
        except BaseException:
            self.close()  # a refused file keeps no connection (nor -wal/-shm files) open
            raise

    def _open_file(self) -> None:
        """Connect; migrate the schema (a writer), or check it is current (a reader)."""
        try:
            self.conn = self._connect()
            self.conn.execute("PRAGMA foreign_keys = ON")
            if self.readonly:
                self._require_current()
            else:
                self._migrate()
        except sqlite3.DatabaseError as exc:
            raise self._sqlite_error(exc) from None

    def __enter__(self) -> FaceDB:
        """Return the database; the ``with`` block closes it, also on errors."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the connection (SQLite then removes the -wal and -shm files it made)."""
        self.close()

    @staticmethod
    def _blank() -> sqlite3.Connection:
        """Return an empty database of the current schema in memory (an empty or blank file)."""
        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        for migration in MIGRATIONS:
            conn.executescript(migration)
        conn.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)",
            [("application", APPLICATION), ("schema_version", str(SCHEMA_VERSION))],
        )
        return conn

    def _uri(self, mode: str) -> str:
        """Return the path as an SQLite URI (quoted: '#', '?' and '%' are file name characters)."""
        return f"{self.path.resolve().as_uri()}?mode={mode}"

    def _connect(self) -> sqlite3.Connection:
        """Open the connection: read-write, or for reading as ``_read_only`` says."""
        return self._read_only() if self.readonly else self._open(self._uri("rw"))

    @staticmethod
    def _open(uri: str) -> sqlite3.Connection:
        """Return a connection to ``uri`` in autocommit mode with the busy timeout."""
        conn = sqlite3.connect(
            uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # fail here, not later
        except sqlite3.Error:
            conn.close()
            raise
        return conn

    def _create_file(self) -> None:
        """Create the new database file owner-only (0600): it holds face data."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass  # another process created it a moment ago; SQLite sorts out the rest
        except OSError as exc:
            raise DltoolError(
                f"cannot create the face database {self.path}: {exc.strerror}",
                hint="give a --db path in a folder you can write to",
            ) from None

    def _not_ours(self, why: str) -> DltoolError:
        """Return the error for a file that is not a dltool face database."""
        return DltoolError(
            f"{self.path} is not a dltool face database ({why}); it was left untouched",
            hint=f"give another --db path (or unset {ENV})",
        )

    def _sqlite_error(self, exc: sqlite3.Error) -> DltoolError:
        """Return the one-line error for an SQLite failure: locked, full, unwritable, or foreign."""
        why = str(exc)
        if "locked" in why or "busy" in why:
            return DltoolError(
                f"face database {self.path} is locked by another process "
                f"(waited {BUSY_TIMEOUT_S:g} s)",
                hint="wait for the other dltool command to finish (or stop it), then try again",
            )
        if "readonly" in why or "unable to open" in why:
            return DltoolError(
                f"cannot write the face database {self.path}: {why}; nothing was changed",
                hint="the file or its folder is read-only: give a --db path you can write to",
            )
        if "full" in why or "disk I/O" in why:
            return DltoolError(
                f"cannot write the face database {self.path}: {why}; nothing was changed",
                hint="free disk space (or give a --db on another disk), then try again",
            )
        return self._not_ours(why)

    def _check_file(self) -> bool:
        """Refuse a file that is not SQLite, or SQLite without our ``meta`` table.

        Return whether the file holds tables (False: an empty file, or SQLite without any).
        """
        try:
            with open(self.path, "rb") as fh:
                header = fh.read(16)
        except OSError as exc:
            raise DltoolError(
                f"cannot read the face database {self.path}: {exc.strerror}",
                hint="check the file's permissions, or give another --db",
            ) from None
        if header == b"":
            return False  # an empty file (e.g. from mktemp) can become a new database
        if header != b"SQLite format 3\x00":
            raise self._not_ours("not an SQLite file")
        try:
            with contextlib.closing(self._read_only()) as c:
                tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master")}
                if not tables:
                    return False
                if "meta" not in tables:
                    raise self._not_ours("SQLite without a dltool meta table")
                meta = dict(c.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            raise self._sqlite_error(exc) from None
        if meta.get("application") != APPLICATION:
            raise self._not_ours(f"application is {meta.get('application')!r}")
        self._check_version(int(meta.get("schema_version", "0")))
        return True

    def _read_only(self) -> sqlite3.Connection:
        """Return a connection that only reads.

        Where this process may write the file and its folder and no ``-wal`` file exists,
        the connection is read-write (it only reads): closing it, SQLite removes the
        ``-wal`` and ``-shm`` files that reading a WAL database makes, which a read-only
        connection leaves behind. Otherwise it is read-only, and immutable in a folder no
        one may write (WAL needs a ``-shm`` file there, and no one can write the database).
        """
        wal = self.path.with_name(self.path.name + "-wal")
        writable = os.access(self.path, os.W_OK) and os.access(self.path.parent, os.W_OK)
        if writable and not wal.exists():
            return self._open(self._uri("rw"))
        try:
            return self._open(self._uri("ro"))
        except sqlite3.OperationalError:
            if os.access(self.path.parent, os.W_OK):
                raise
            return self._open(self._uri("ro") + "&immutable=1")

    def _check_version(self, version: int) -> None:
        """Refuse a schema newer than this dltool understands."""
        if version > SCHEMA_VERSION:
            raise DltoolError(
                f"{self.path} has schema version {version}, newer than this dltool "
                f"understands ({SCHEMA_VERSION}); it was left untouched",
                hint="upgrade dltool to use this database",
            )

    def version(self) -> int:
        """Return the schema version stored in the file (0 for a new file)."""
        tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master")}
        if "meta" not in tables:
            return 0
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0])

    def _require_current(self) -> None:
        """For a read-only open: migrate an older schema through a writable connection first."""
        if self.version() >= SCHEMA_VERSION:
            return
        self.conn.close()
        FaceDB(self.path).close()  # migrates (or says why the file cannot be written)
        self.conn = self._connect()

    def _migrate(self, target: int = SCHEMA_VERSION) -> None:
        """Apply MIGRATIONS[version:target] in one transaction; set WAL mode.

        Nothing is locked when the schema is current, so opening a database that another
        process is writing does not wait.
        """
        if self.version() >= target and self._journal_mode() == "wal":
            return
        self._use_wal()
        with self.transaction():
            start = self.version()
            self._check_version(start)
            for k in range(start, target):
                for statement in MIGRATIONS[k].split(";"):
                    if statement.strip():
                        self.conn.execute(statement)
            if start < target:
                self.conn.executemany(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                    [("application", APPLICATION), ("schema_version", str(target))],
                )

    def _journal_mode(self) -> str:
        """Return the journal mode of the file (``wal`` once dltool has opened it)."""
        return str(self.conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()

    def _use_wal(self) -> None:
        """Switch to WAL, retrying while another process holds the lock for up to BUSY_TIMEOUT_S.

        SQLite answers ``PRAGMA journal_mode`` with "database is locked" at once, without
        its busy handler, when two processes open a new database at the same moment.
        """
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                self.conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run the block as one BEGIN IMMEDIATE … COMMIT (ROLLBACK on any exception).

        SQLite failures (locked, disk full) become one DltoolError naming the cause; a
        transaction SQLite already rolled back itself is not rolled back twice.
        """
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise self._sqlite_error(exc) from None
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException as exc:
            if self.conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError):
                raise self._sqlite_error(exc) from None
            raise

    def close(self) -> None:
        """Close the connection (again is a no-op)."""
        if self.conn is not None:
            self.conn.close()

    def _person_id(self, name: str, create: bool) -> int | None:
        """Return the id of ``name`` (inserting it when ``create``), or None."""
        row = self.conn.execute("SELECT id FROM people WHERE name = ?", (name,)).fetchone()
        if row:
            return row[0]
        if not create:
            return None
        cur = self.conn.execute("INSERT INTO people (name, created) VALUES (?, ?)", (name, _now()))
        return cur.lastrowid

    def add(
        self,
        name: str,
        rows: Iterable[dict[str, Any]],
        on_row: Callable[[int], None] | None = None,
    ) -> list[dict[str, Any]]:
        """Insert encodings of ``name`` in one transaction; return each row with its status.

        Each row has ``encoder``, ``vector`` (dim,), ``image_sha256``, ``source``, ``box``.
        An image hash already stored for the encoder is skipped (``status`` says by whom).
        """
        import numpy as np

        done = []
        with self.transaction():
            person = self._person_id(name, create=True)
            for i, row in enumerate(rows):
                owner = self.conn.execute(
                    "SELECT p.name FROM encodings e JOIN people p ON p.id = e.person_id "
                    "WHERE e.encoder = ? AND e.image_sha256 = ?",
                    (row["encoder"], row["image_sha256"]),
                ).fetchone()
                if owner:
                    status = "already enrolled" + ("" if owner[0] == name else f" as {owner[0]}")
                else:
                    vec = np.asarray(row["vector"], dtype="<f8")
                    self.conn.execute(
                        "INSERT INTO encodings (person_id, encoder, dim, vector, image_sha256, "
                        "source, created, box) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (person, row["encoder"], len(vec), vec.tobytes(), row["image_sha256"],
                         row["source"], row.get("created") or _now(), row.get("box", "")),
                    )  # fmt: skip
                    status = "added"
                done.append({**row, "status": status})
                if on_row is not None:
                    on_row(i)
            self._drop_empty()
        return done

    def has_image(self, encoder: str, image_sha256: str) -> bool:
        """Return True when an image with this hash is enrolled with ``encoder``."""
        row = self.conn.execute(
            "SELECT 1 FROM encodings WHERE encoder = ? AND image_sha256 = ?",
            (encoder, image_sha256),
        ).fetchone()
        return row is not None

    def _drop_empty(self) -> None:
        """Delete people left without encodings."""
        self.conn.execute(
            "DELETE FROM people WHERE id NOT IN (SELECT DISTINCT person_id FROM encodings)"
        )

    def forget(self, name: str) -> int:
        """Delete ``name`` and its encodings in one transaction; return how many encodings."""
        with self.transaction():
            person = self._person_id(name, create=False)
            if person is None:
                raise self.unknown(name)
            n = self.conn.execute("DELETE FROM encodings WHERE person_id = ?", (person,)).rowcount
            self.conn.execute("DELETE FROM people WHERE id = ?", (person,))
        return n

    def unknown(self, name: str) -> DltoolError:
        """Return the error for a name that is not enrolled."""
        known = [p["name"] for p in self.people()]
        listed = ", ".join(known[:10]) + (" …" if len(known) > 10 else "")
        return DltoolError(
            f"no one named '{name}' is enrolled in {self.path}",
            hint=f"enrolled: {listed}" if known else "enroll faces with 'dltool facerec enroll'",
        )

    def people(self) -> list[dict[str, Any]]:
        """Return one row per person: name, encodings, encoders, enrolled since."""
        rows = self.conn.execute(
            "SELECT p.name, COUNT(e.id), GROUP_CONCAT(DISTINCT e.encoder), p.created "
            "FROM people p LEFT JOIN encodings e ON e.person_id = p.id "
            "GROUP BY p.id ORDER BY p.name"
        ).fetchall()
        return [
            {"name": n, "encodings": c, "encoders": enc or "", "since": created}
            for n, c, enc, created in rows
        ]

    def encoders(self) -> dict[str, int]:
        """Return {encoder name: number of encodings}."""
        rows = self.conn.execute("SELECT encoder, COUNT(*) FROM encodings GROUP BY encoder")
        return dict(rows.fetchall())

    def load(self, encoder: str, dim: int, name: str | None = None, dtype: Any = None) -> Enrolled:
        """Return every encoding of ``encoder`` (of ``name`` only, if given) as one matrix."""
        import numpy as np

        # a scan in rowid order reads the table sequentially: 3× faster than via the index
        sql = "SELECT person_id, vector, dim FROM encodings NOT INDEXED WHERE encoder = ?"
        args: tuple[Any, ...] = (encoder,)
        if name is not None:
            sql += " AND person_id = (SELECT id FROM people WHERE name = ?)"
            args += (name,)
        self.conn.execute("BEGIN")  # one snapshot for both reads
        try:
            names = dict(self.conn.execute("SELECT id, name FROM people"))
            rows = self.conn.execute(sql + " ORDER BY id", args).fetchall()
        finally:
            self.conn.execute("COMMIT")
        if any(r[2] != dim for r in rows):
            raise DltoolError(f"{self.path} holds {encoder} encodings of another dimension")
        vectors = np.frombuffer(b"".join(r[1] for r in rows), dtype="<f8").reshape(len(rows), dim)
        vectors = vectors.astype(dtype or np.float64)  # (n, dim), a writable copy
        return Enrolled(encoder, vectors, [names[r[0]] for r in rows], np.sum(vectors**2, axis=1))

    def require(self, encoder: str, name: str | None = None) -> None:
        """Raise a clear error when nothing was enrolled with ``encoder`` (for ``name``)."""
        if name is not None and self._person_id(name, create=False) is None:
            raise self.unknown(name)
        counts = self.encoders() if name is None else self._encoders_of(name)
        if encoder in counts:
            return
        if not counts:
            raise DltoolError(
                f"the face database {self.path} is empty",
                hint="enroll faces first: dltool facerec enroll NAME IMAGE…",
            )
        others = ", ".join(sorted(counts))
        who = f"'{name}' was" if name else "the faces were"
        raise DltoolError(
            f"{who} enrolled with encoder {others}, not {encoder}",
            hint="identify with the encoder used to enroll (--encoder), or enroll again",
        )

    def _encoders_of(self, name: str) -> dict[str, int]:
        """Return {encoder: count} for one person."""
        rows = self.conn.execute(
            "SELECT e.encoder, COUNT(*) FROM encodings e JOIN people p ON p.id = e.person_id "
            "WHERE p.name = ? GROUP BY e.encoder",
            (name,),
        )
        return dict(rows.fetchall())

    def dump(self) -> list[dict[str, Any]]:
        """Return every encoding as a JSON-ready dict (vector as a list of floats)."""
        import numpy as np

        rows = self.conn.execute(
            "SELECT p.name, e.encoder, e.dim, e.vector, e.image_sha256, e.source, e.box, "
            "e.created FROM encodings e JOIN people p ON p.id = e.person_id ORDER BY e.id"
        ).fetchall()
        keys = ("name", "encoder", "dim", "vector", "image_sha256", "source", "box", "created")
        out = []
        for row in rows:
            item = dict(zip(keys, row, strict=True))
            item["vector"] = np.frombuffer(item["vector"], dtype="<f8").tolist()
            out.append(item)
        return out

    def dims(self) -> dict[str, int]:
        """Return {encoder name: dimension of its stored encodings}."""
        return dict(self.conn.execute("SELECT DISTINCT encoder, dim FROM encodings").fetchall())

    def import_rows(self, rows: list[dict[str, Any]], source: str = "") -> dict[str, int]:
        """Insert exported rows in one transaction; return counts added and skipped.

        Rows whose dimension differs from the one stored for their encoder refuse the
        whole import (nothing is written).
        """
        counts = {"added": 0, "skipped": 0}
        with self.transaction():
            stored = self.dims()
            for row in rows:
                dim = stored.get(row["encoder"], row["dim"])
                if row["dim"] != dim:
                    raise DltoolError(
                        f"{source or 'the export file'} has {row['encoder']} encodings of dim "
                        f"{row['dim']}, {self.path} holds dim {dim}; nothing was imported",
                        hint="import into another --db, or export from a matching encoder",
                    )
            for row in rows:
                person = self._person_id(row["name"], create=True)
                cur = self.conn.execute(
                    "INSERT INTO encodings (person_id, encoder, dim, vector, image_sha256, "
                    "source, created, box) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (encoder, image_sha256) DO NOTHING",
                    (person, row["encoder"], row["dim"], row["blob"], row["image_sha256"],
                     row["source"], row["created"], row["box"]),
                )  # fmt: skip
                counts["added" if cur.rowcount else "skipped"] += 1
            self._drop_empty()
        return counts
