"""The ``dltool facerec`` sub-app. Heavy imports (numpy, dlib, torch, PIL) happen in commands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from dltool.context import current
from dltool.errors import DltoolError

app = typer.Typer(
    help="Face recognition: dlib 128-d encodings, a face database, verify, identify, triplets.",
    no_args_is_help=True,
)

DB_HELP = "Face database file [default: $DLTOOL_FACE_DB or the user data dir]."
ENCODER_HELP = "Encoder file from 'facerec train' [default: dlib ResNet, 128-d]."
DETECTOR_HELP = "Face detector: hog (fast) or cnn (dlib MMOD, slower, more poses)."
UPSAMPLE_HELP = "Upsample the image this many times before detecting (finds smaller faces)."
THRESHOLD_HELP = (
    "Same person when the distance is below this [default: the encoder's, 0.6 for dlib]."
)


class ExitTwoError(DltoolError):
    """A verify error: exit code 2, so that 1 can mean "no match"."""

    exit_code = 2


@app.callback()
def main() -> None:
    """Face recognition: dlib 128-d encodings, a face database, verify, identify, triplets."""


def _db_path(path: Path | None) -> Path:
    """Return ``path`` or the default database location."""
    from dltool_facerec.database import default_path

    return path or default_path()


def _db(path: Path | None, create: bool = True) -> Any:
    """Open the face database at ``path`` (or the default location)."""
    from dltool_facerec.database import FaceDB

    return FaceDB(_db_path(path), create=create)


def _pipeline(encoder: Path | None, detector: str, upsample: int) -> Any:
    """Return a FacePipeline of the chosen detector and encoder."""
    from dltool_facerec.encoders import FaceFinder, FacePipeline, load_encoder

    s = current()
    finder = FaceFinder(detector, upsample, quiet=s.quiet)  # checks the options before loading
    enc = load_encoder(encoder, s.device if encoder else None, quiet=s.quiet)
    return FacePipeline(finder, enc)


def _threshold(value: float | None, encoder: Any) -> float:
    """Return the threshold to use: the option, else the encoder's default."""
    t = encoder.threshold if value is None else value
    if not t > 0:
        raise DltoolError(f"--threshold must be positive, got {t}")
    return float(t)


def _one_face(faces: list[Any], path: Path, largest: bool) -> Any:
    """Return the only face of ``path`` (or the largest with ``largest``); refuse 0 or several."""
    if not faces:
        raise DltoolError(f"no face found in {path}", hint="try --upsample 2 or --detector cnn")
    if len(faces) > 1 and not largest:
        raise DltoolError(
            f"{path} has {len(faces)} faces where one is expected",
            hint="crop the image to one face, or pass --largest to use the largest face",
        )
    return max(faces, key=lambda f: f.area)


def _box(face: Any) -> dict[str, int]:
    """Return the face box as {top, right, bottom, left}."""
    return dict(zip(("top", "right", "bottom", "left"), map(int, face.box), strict=True))


@app.command()
def detect(
    images: list[str] = typer.Argument(..., help="Images or folders.", show_default=False),
    detector: str = typer.Option("hog", "--detector", help=DETECTOR_HELP),
    upsample: int = typer.Option(1, "--upsample", help=UPSAMPLE_HELP),
    fmt: str = typer.Option("table", "--format", help="table, csv or json."),
    annotate: bool = typer.Option(True, "--annotate/--no-annotate", help="Write boxed copies."),
    out: Path = typer.Option(None, "--out", help="Run directory (default runs/facerec/detect/N)."),
) -> None:
    """Find faces: boxes as file,top,right,bottom,left and an annotated copy of each image."""
    from dltool_facerec.encoders import FaceFinder
    from dltool_facerec.images import expand, load_rgb
    from dltool_facerec.output import annotate as draw
    from dltool_facerec.output import annotated_name, check_format, emit

    check_format(fmt)
    paths = expand(images)
    finder = FaceFinder(detector, upsample, quiet=current().quiet)
    run = current().run_dir("facerec", "detect", out) if annotate else None
    rows, used = [], set()
    with current().reporter.progress(len(paths), "detect") as bar:
        for path in paths:
            image = load_rgb(path)
            faces = finder.boxes(image)
            rows.extend({"file": str(path), **_box(f)} for f in faces)
            if run is not None:
                labelled = [(f.box, "", True) for f in faces]
                draw(image, labelled, run.file(annotated_name(path, used)))
            bar.advance(faces=len(faces))
    emit(rows, fmt, f"Faces ({detector})", "faces", ["file", "top", "right", "bottom", "left"])
    rep = current().reporter
    rep.info(f"{len(rows)} face(s) in {len(paths)} image(s)")
    if run is not None:
        rep.info(f"Annotated copies saved to {run.path}")


def _unique_files(paths: list[Path]) -> list[Path]:
    """Return ``paths`` with each file once (the first spelling kept), in order."""
    first: dict[Path, Path] = {}
    for path in paths:
        first.setdefault(path.resolve(), path)
    return list(first.values())


@app.command()
def enroll(
    name: str = typer.Argument(..., help="The person's name."),
    images: list[str] = typer.Argument(..., help="Images or folders of this person."),
    largest: bool = typer.Option(False, "--largest", help="Use the largest of several faces."),
    db: Path = typer.Option(None, "--db", help=DB_HELP),
    encoder: Path = typer.Option(None, "--encoder", help=ENCODER_HELP),
    detector: str = typer.Option("hog", "--detector", help=DETECTOR_HELP),
    upsample: int = typer.Option(1, "--upsample", help=UPSAMPLE_HELP),
) -> None:
    """Add NAME's face from each image to the database (one encoding per image)."""
    from dltool.artifacts import sha256_file
    from dltool_facerec.images import expand, load_rgb

    name = name.strip()
    if not name:
        raise DltoolError("the name must not be empty")
    paths = _unique_files(expand(images))
    database = _db(db, create=False) if _db_path(db).exists() else None  # refuse foreign files now
    pipe = _pipeline(encoder, detector, upsample)
    rows, digests = [], set()
    with current().reporter.progress(len(paths), "encode") as bar:
        for path in paths:
            digest = sha256_file(path)
            row = {"file": str(path), "encoder": pipe.encoder.name, "image_sha256": digest}
            known = database is not None and database.has_image(pipe.encoder.name, digest)
            if digest in digests or known:  # same content given twice, or enrolled before
                row.update(vector=None, box="")
            else:
                face = _one_face(pipe.encode(load_rgb(path)), path, largest)
                row.update(vector=face.encoding, box=",".join(map(str, face.box)))
            digests.add(digest)
            row["source"] = str(path.resolve())
            rows.append(row)
            bar.advance()
    new = [r for r in rows if r["vector"] is not None]
    database = database or _db(db)  # a new database file only once there is something to add
    stored = iter(database.add(name, new) if new else [])  # one status per new row, in order
    table = [
        {"file": r["file"], "box": r["box"],
         "status": next(stored)["status"] if r["vector"] is not None else "already enrolled"}
        for r in rows
    ]  # fmt: skip
    rep = current().reporter
    rep.table(f"Enroll {name}", table, key="enrolled")
    added = sum(r["status"] == "added" for r in table)
    rep.result("added", added, label=f"Encodings added for {name}")
    rep.result("database", str(database.path), label="Database")


@app.command()
def verify(
    image: Path = typer.Argument(..., help="Image with one face."),
    name: str = typer.Option(..., "--name", help="Enrolled person to compare with."),
    threshold: float = typer.Option(None, "--threshold", help=THRESHOLD_HELP),
    largest: bool = typer.Option(False, "--largest", help="Use the largest of several faces."),
    db: Path = typer.Option(None, "--db", help=DB_HELP),
    encoder: Path = typer.Option(None, "--encoder", help=ENCODER_HELP),
    detector: str = typer.Option("hog", "--detector", help=DETECTOR_HELP),
    upsample: int = typer.Option(1, "--upsample", help=UPSAMPLE_HELP),
) -> None:
    """Is this NAME? Exit 0 for a match, 1 for no match, 2 for errors; prints the distance."""
    try:
        match = _verify(image, name, threshold, largest, db, encoder, detector, upsample)
    except ExitTwoError:
        raise
    except DltoolError as exc:
        raise ExitTwoError(exc.message, exc.hint) from None
    except Exception as exc:  # a bug must not read as "no match" (exit 1)
        if current().debug:
            raise
        raise ExitTwoError(
            f"unexpected {type(exc).__name__}: {exc}", hint="rerun with --debug for the traceback"
        ) from None
    if not match:
        raise typer.Exit(1)  # the core still prints the --json document


def _verify(
    image: Path,
    name: str,
    threshold: float | None,
    largest: bool,
    db: Path | None,
    encoder: Path | None,
    detector: str,
    upsample: int,
) -> bool:
    """Return whether the face in ``image`` is ``name``, after reporting the distance."""
    from dltool_facerec.images import load_rgb
    from dltool_facerec.match import verify as verify_math

    if not image.is_file():
        raise DltoolError(f"image not found: {image}")
    database = _db(db, create=False)
    pipe = _pipeline(encoder, detector, upsample)
    database.require(pipe.encoder.name, name)
    t = _threshold(threshold, pipe.encoder)
    face = _one_face(pipe.encode(load_rgb(image)), image, largest)
    known = database.load(pipe.encoder.name, pipe.encoder.dim, name)
    match, distance = verify_math(face.encoding, known.vectors, t)
    rep = current().reporter
    rep.line(f"{image} {'is' if match else 'is not'} {name}")
    rep.result("match", match, label="match")
    rep.result("distance", round(distance, 4), label="distance")
    rep.result("threshold", t, label="threshold")
    return match


@app.command()
def identify(
    images: list[str] = typer.Argument(..., help="Images or folders.", show_default=False),
    threshold: float = typer.Option(None, "--threshold", help=THRESHOLD_HELP),
    best_only: bool = typer.Option(False, "--best-only", help="Only the largest face per image."),
    fmt: str = typer.Option("table", "--format", help="table, csv or json."),
    annotate: bool = typer.Option(False, "--annotate", help="Write labelled copies."),
    out: Path = typer.Option(None, "--out", help="Run directory for --annotate."),
    db: Path = typer.Option(None, "--db", help=DB_HELP),
    encoder: Path = typer.Option(None, "--encoder", help=ENCODER_HELP),
    detector: str = typer.Option("hog", "--detector", help=DETECTOR_HELP),
    upsample: int = typer.Option(1, "--upsample", help=UPSAMPLE_HELP),
) -> None:
    """Name every face: the nearest enrolled encoding, or 'unknown' above the threshold."""
    import numpy as np

    from dltool_facerec.images import expand, load_rgb
    from dltool_facerec.match import UNKNOWN
    from dltool_facerec.match import identify as identify_math
    from dltool_facerec.output import annotate as draw
    from dltool_facerec.output import annotated_name, check_format, emit

    check_format(fmt)
    paths = expand(images)
    database = _db(db, create=False)
    pipe = _pipeline(encoder, detector, upsample)
    database.require(pipe.encoder.name)
    t = _threshold(threshold, pipe.encoder)
    enrolled = database.load(pipe.encoder.name, pipe.encoder.dim, dtype=np.float32)
    run = current().run_dir("facerec", "identify", out) if annotate else None
    per_image = []
    with current().reporter.progress(len(paths), "encode") as bar:
        for path in paths:
            faces = pipe.encode(load_rgb(path))
            if best_only and faces:
                faces = [max(faces, key=lambda f: f.area)]
            per_image.append((path, faces))
            bar.advance(faces=len(faces))
    # one (q, d) @ (d, n) product for all faces of all images: E is read once
    Q = np.array([f.encoding for _, fs in per_image for f in fs]).reshape(-1, pipe.encoder.dim)
    found = iter(identify_math(Q, enrolled.vectors, enrolled.names, t, enrolled.sq_norms))
    rows, used = [], set()
    for path, faces in per_image:
        named = [(face, *next(found)) for face in faces]
        rows.extend(
            {"file": str(path), "name": who, "distance": round(d, 4), **_box(face)}
            for face, who, d in named
        )
        if run is not None:
            labels = [(f.box, f"{w} {d:.2f}", w != UNKNOWN) for f, w, d in named]
            draw(load_rgb(path), labels, run.file(annotated_name(path, used)))
    columns = ["file", "name", "distance", "top", "right", "bottom", "left"]
    emit(rows, fmt, f"Faces identified (threshold {t:g})", "faces", columns)
    rep = current().reporter
    rep.info(f"{len(rows)} face(s) in {len(paths)} image(s), {len(enrolled.names)} encodings")
    if run is not None:
        rep.info(f"Labelled copies saved to {run.path}")


@app.command()
def people(db: Path = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """List the enrolled people and their number of encodings."""
    database = _db(db, create=False)
    rows = database.people()
    rep = current().reporter
    rep.table(f"People in {database.path}", rows, key="people")
    if not rows:
        rep.line("no one is enrolled yet")


@app.command()
def forget(
    name: str = typer.Argument(..., help="The person to remove."),
    db: Path = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Remove NAME and all their encodings from the database."""
    n = _db(db, create=False).forget(name)
    current().reporter.result("removed", n, label=f"Removed {name}, encodings deleted")


@app.command("export")
def export_(
    file: Path = typer.Argument(..., help="JSON file to write."),
    db: Path = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Write every person and encoding to a JSON file (import it elsewhere)."""
    from dltool_facerec.exchange import export_db

    database = _db(db, create=False)
    n = export_db(database, file)
    current().reporter.result("exported", n, label=f"Encodings exported to {file}")


@app.command("import")
def import_(
    file: Path = typer.Argument(..., help="JSON file written by 'facerec export'."),
    db: Path = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Add the encodings of an export file (already present ones are skipped)."""
    from dltool_facerec.exchange import read_export

    rows = read_export(file)
    counts = _db(db).import_rows(rows, str(file))
    rep = current().reporter
    rep.result("added", counts["added"], label="Encodings added")
    rep.result("skipped", counts["skipped"], label="Already present")


@app.command()
def train(
    ctx: typer.Context,
    data: Path = typer.Option(
        None, "--data", help="Folder with one sub-folder of images per person (required)."
    ),
    epochs: int = typer.Option(30, "--epochs", help="Passes over the identities."),
    margin: float = typer.Option(0.2, "--margin", help="Triplet margin α."),
    mining: str = typer.Option("batch-all", "--mining", help="batch-all or semi-hard."),
    lr: float = typer.Option(1e-3, "--lr", help="Adam learning rate."),
    people_per_batch: int = typer.Option(8, "--people-per-batch", help="P identities per batch."),
    images_per_person: int = typer.Option(4, "--images-per-person", help="K images each."),
    init_seed: int = typer.Option(0, "--init-seed", help="Seed of weights and augmentation."),
    config: Path = typer.Option(None, "--config", help="YAML file of these options."),
    out: Path = typer.Option(None, "--out", help="Run directory (default runs/facerec/train/N)."),
) -> None:
    """Train a FaceNet-style torch encoder with the triplet loss; saves encoder.pt."""
    from dltool.config import resolve_config

    params = resolve_config(ctx, config, exclude=("out",))
    from dltool_facerec.jobs import run_train

    run_train(params, out)


@app.command()
def evaluate(
    data: Path = typer.Option(
        ..., "--data", help="Folder with one sub-folder of images per person."
    ),
    threshold: float = typer.Option(None, "--threshold", help=THRESHOLD_HELP),
    encoder: Path = typer.Option(None, "--encoder", help=ENCODER_HELP),
    detector: str = typer.Option("hog", "--detector", help=DETECTOR_HELP),
    upsample: int = typer.Option(1, "--upsample", help=UPSAMPLE_HELP),
    out: Path = typer.Option(
        None, "--out", help="Run directory (default runs/facerec/evaluate/N)."
    ),
) -> None:
    """All genuine/impostor pairs: ROC, best threshold, accuracy, distance histograms (PNG)."""
    from dltool_facerec.jobs import run_evaluate

    pipe = _pipeline(encoder, detector, upsample)
    t = _threshold(threshold, pipe.encoder)
    run_evaluate(data, pipe, t, out)
