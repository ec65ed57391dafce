"""The ``dltool facerec`` sub-app: signatures only; the jobs are in ``jobs.py``.

Heavy imports (numpy, dlib, torch, PIL) happen in the jobs.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from dltool.commands import (
    FiniteFloat,
    amp_option,
    exist_ok_option,
    nproc_option,
    out_option,
    output_option,
    plugin_app,
    resume_option,
    sync_bn_option,
)
from dltool.data.images import complete_image

app = plugin_app(
    "Face recognition: dlib 128-d encodings, a face database, verify, identify, triplets."
)

DB_HELP = "Face database file [default: $DLTOOL_FACE_DB, else faces.sqlite3 in the user data dir]."
ENCODER_HELP = (
    "Encoder from 'facerec train': encoder.pt, its run folder or run number N "
    "(runs/facerec/train/N) [default: dlib ResNet, 128-d]."
)
DETECTOR_HELP = "Face detector: hog (fast) or cnn (dlib MMOD, slower, more poses)."
UPSAMPLE_HELP = "Upsample the image this many times before detecting (finds smaller faces)."
MAX_THRESHOLD = 4.0  # distances of encodings stay below 3 (unit vectors: 2); = jobs'
THRESHOLD_HELP = (
    "Same person when the distance is below this value "
    "[default: the encoder's own: 0.6 for dlib, the trained one's for encoder.pt]."
)
IMAGES_HELP = "Image files, folders, globs or demo:NAME."
FORMAT_HELP = "Result format on stdout: table, csv or json."


class Detector(str, Enum):
    """Face detectors."""

    hog = "hog"
    cnn = "cnn"


class Format(str, Enum):
    """Formats of the face rows on stdout."""

    table = "table"
    csv = "csv"
    json = "json"


class Mining(str, Enum):
    """Online triplet mining strategies."""

    batch_all = "batch-all"
    semi_hard = "semi-hard"


def db_option():
    """Return the --db option."""
    return typer.Option(None, "--db", help=DB_HELP, show_default=False)


def encoder_option():
    """Return the --encoder option."""
    return typer.Option(None, "--encoder", help=ENCODER_HELP, show_default=False)


def detector_option():
    """Return the --detector option."""
    return typer.Option(Detector.hog, "--detector", help=DETECTOR_HELP)


def upsample_option():
    """Return the --upsample option (0..4)."""
    return typer.Option(1, "--upsample", min=0, max=4, help=UPSAMPLE_HELP)


def threshold_option():
    """Return the --threshold option."""
    return typer.Option(
        None,
        "--threshold",
        click_type=FiniteFloat(min=0.0, min_open=True, max=MAX_THRESHOLD),
        help=THRESHOLD_HELP,
        show_default=False,
    )


def largest_option():
    """Return the --largest flag."""
    return typer.Option(False, "--largest", help="Use the largest of several faces.")


def format_option():
    """Return the --format option."""
    return typer.Option(Format.table, "--format", help=FORMAT_HELP)


@app.callback()
def main() -> None:
    """Face recognition: dlib 128-d encodings, a face database, verify, identify, triplets."""


@app.command()
def detect(
    images: list[str] = typer.Argument(
        ..., help=IMAGES_HELP, show_default=False, autocompletion=complete_image
    ),
    detector: Detector = detector_option(),
    upsample: int = upsample_option(),
    fmt: Format = format_option(),
    annotate: bool = typer.Option(
        True,
        "--annotate/--no-annotate",
        help="Write a boxed copy of each image to the run folder.",
    ),
    out: Path = out_option(),
    exist_ok: bool = exist_ok_option(),
) -> None:
    """Find faces: boxes as file,top,right,bottom,left and an annotated copy of each image."""
    from dltool_facerec import jobs

    faces = jobs.Faces(detector.value, upsample)
    jobs.detect(images, faces, fmt.value, annotate, out, exist_ok)


@app.command()
def enroll(
    name: str = typer.Argument(..., help="The person's name (plain text)."),
    images: list[str] = typer.Argument(
        ..., help=IMAGES_HELP + " One face each.", autocompletion=complete_image
    ),
    largest: bool = largest_option(),
    db: Path = db_option(),
    encoder: Path = encoder_option(),
    detector: Detector = detector_option(),
    upsample: int = upsample_option(),
) -> None:
    """Add NAME's face from each image to the database (one encoding per image)."""
    from dltool_facerec import jobs

    jobs.enroll(name, images, jobs.Faces(detector.value, upsample, encoder, db, None, largest))


@app.command()
def verify(
    image: str = typer.Argument(
        ...,
        help="Image with one face: a file or demo:NAME.",
        autocompletion=complete_image,
    ),
    name: str = typer.Option(..., "--name", help="Enrolled person to compare with."),
    threshold: float = threshold_option(),
    largest: bool = largest_option(),
    db: Path = db_option(),
    encoder: Path = encoder_option(),
    detector: Detector = detector_option(),
    upsample: int = upsample_option(),
) -> None:
    """Is this NAME? Exit 0 for a match, 1 for no match, 2 for errors; prints the distance."""
    from dltool_facerec import jobs

    faces = jobs.Faces(detector.value, upsample, encoder, db, threshold, largest)
    if not jobs.verify(image, name, faces):
        raise typer.Exit(1)  # the core still prints the --json document


@app.command()
def identify(
    images: list[str] = typer.Argument(
        ..., help=IMAGES_HELP, show_default=False, autocompletion=complete_image
    ),
    threshold: float = threshold_option(),
    best_only: bool = typer.Option(False, "--best-only", help="Only the largest face per image."),
    fmt: Format = format_option(),
    annotate: bool = typer.Option(
        False,
        "--annotate",
        help="Write a labelled copy of each image to the run folder (--out).",
    ),
    out: Path = out_option(),
    exist_ok: bool = exist_ok_option(),
    db: Path = db_option(),
    encoder: Path = encoder_option(),
    detector: Detector = detector_option(),
    upsample: int = upsample_option(),
) -> None:
    """Name every face: the nearest enrolled encoding, or 'unknown' above the threshold."""
    from dltool_facerec import jobs

    faces = jobs.Faces(detector.value, upsample, encoder, db, threshold)
    jobs.identify(images, faces, best_only, fmt.value, annotate, out, exist_ok)


@app.command()
def people(db: Path = db_option()) -> None:
    """List the enrolled people and their number of encodings."""
    from dltool_facerec import jobs

    jobs.people(db)


@app.command()
def forget(
    name: str = typer.Argument(..., help="The person to remove."),
    db: Path = db_option(),
) -> None:
    """Remove NAME and all their encodings from the database."""
    from dltool_facerec import jobs

    jobs.forget(name, db)


@app.command("export")
def export_(
    file: Path = typer.Argument(
        None, help="JSON file to write (or give it as -o).", show_default=False
    ),
    output: Path = output_option("json", "none: FILE or -o FILE is required"),
    db: Path = db_option(),
) -> None:
    """Write every person and encoding to a JSON file, owner-only (import it elsewhere)."""
    from dltool_facerec import jobs

    jobs.export(file, output, db)


@app.command("import")
def import_(
    file: Path = typer.Argument(..., help="JSON file written by 'facerec export'."),
    db: Path = db_option(),
) -> None:
    """Add the encodings of an export file (already present ones are skipped)."""
    from dltool_facerec import jobs

    jobs.import_(file, db)


@app.command()
def train(
    ctx: typer.Context,
    data: Path = typer.Option(
        None,
        "--data",
        help="Folder with one sub-folder of images per person [required, unless --resume].",
        show_default=False,
    ),
    epochs: int = typer.Option(30, "--epochs", min=1, max=10_000, help="Passes over the people."),
    margin: float = typer.Option(0.2, "--margin", max=4.0, help="Triplet margin α (0 < α ≤ 4)."),
    mining: Mining = typer.Option(Mining.batch_all, "--mining", help="Online triplet mining."),
    lr: float = typer.Option(1e-3, "--lr", max=1.0, help="Adam learning rate (0 < lr ≤ 1)."),
    people_per_batch: int = typer.Option(
        8, "--people-per-batch", min=2, max=128, help="P people per batch (P·K ≤ 256)."
    ),
    images_per_person: int = typer.Option(
        4, "--images-per-person", min=2, max=128, help="K images of each person per batch."
    ),
    init_seed: int = typer.Option(
        0, "--init-seed", min=0, help="Seed of weights and augmentation (the global --seed wins)."
    ),
    nproc: int = nproc_option(),
    amp: bool = amp_option(),
    sync_bn: bool = sync_bn_option(),
    config: Path = typer.Option(
        None, "--config", help="YAML file of these options [default: none].", show_default=False
    ),
    resume: str = resume_option(),
    out: Path = out_option(),
    exist_ok: bool = exist_ok_option(),
) -> None:
    """Train a FaceNet-style torch encoder with the triplet loss; saves encoder.pt.

    --nproc N: N DDP workers; the global batch is P·K faces and the triplets are mined over it.
    """
    from dltool.config import resolve_config
    from dltool_facerec import jobs

    params = resolve_config(ctx, config, exclude=("out", "exist_ok", "resume"))
    jobs.train(ctx, params, config, resume, out, exist_ok)


@app.command()
def evaluate(
    data: Path = typer.Option(
        ..., "--data", help="Folder with one sub-folder of images per person."
    ),
    threshold: float = threshold_option(),
    encoder: Path = encoder_option(),
    detector: Detector = detector_option(),
    upsample: int = upsample_option(),
    force: bool = typer.Option(
        False, "--force", help="Evaluate even when the pair distances look too big for memory."
    ),
    out: Path = out_option(),
    exist_ok: bool = exist_ok_option(),
) -> None:
    """All genuine/impostor pairs: ROC, best threshold, accuracy, distance histograms (PNG)."""
    from dltool_facerec import jobs

    faces = jobs.Faces(detector.value, upsample, encoder, None, threshold)
    jobs.evaluate(data, faces, force, out, exist_ok)
