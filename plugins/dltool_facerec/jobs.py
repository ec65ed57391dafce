"""The facerec command jobs: what each command does once ``cli.py`` has parsed its options.

Detection, encoding and matching live in ``encoders.py`` and ``match.py``, the database in
``database.py``, export/import in ``exchange.py``, training in ``train.py``; the jobs
wire them to the session (device, reporter, run folders) and to the user's files.
"""

from __future__ import annotations

import contextlib
import math
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dltool.context import current
from dltool.data.images import output_name
from dltool.device import available_bytes
from dltool.errors import DltoolError, printable
from dltool_facerec.output import shown

TRAIN_FORMAT = "dltool-facerec-train"  # last.pt: weights, optimizer and generators per epoch
MAX_BATCH = 256  # P·K faces per batch: the batch-all loss holds (P·K)³ numbers
# Distances between encodings are bounded: the trained encoder's are unit vectors (distance
# ≤ 2), dlib's have norms near 1.4 (distance < 3); a threshold past 4 accepts everyone.
MAX_THRESHOLD = 4.0
BOX_COLUMNS = ["top", "right", "bottom", "left"]


class ExitTwoError(DltoolError):
    """A verify error: exit code 2, so that 1 can mean "no match"."""

    exit_code = 2


@dataclass
class Faces:
    """How faces are found and encoded, where the database is, and when two faces match."""

    detector: str = "hog"
    upsample: int = 1
    encoder: Path | None = None
    db: Path | None = None
    threshold: float | None = None
    largest: bool = False


def open_db(path: Path | None, create: bool = True, readonly: bool = False) -> Any:
    """Open the face database at ``path`` (or the default location)."""
    from dltool_facerec.database import FaceDB, default_path

    return FaceDB(path or default_path(), create=create, readonly=readonly)


def pipeline(faces: Faces) -> Any:
    """Return a FacePipeline of the chosen detector and encoder."""
    from dltool_facerec.encoders import FaceFinder, FacePipeline, load_encoder

    s = current()
    finder = FaceFinder(faces.detector, faces.upsample, quiet=s.quiet)  # checks options first
    enc = load_encoder(faces.encoder, s.device if faces.encoder else None, quiet=s.quiet)
    return FacePipeline(finder, enc)


def threshold(value: float | None, encoder: Any) -> float:
    """Return the threshold to use: the option, else the encoder's own (0 < t ≤ MAX_THRESHOLD)."""
    t = encoder.threshold if value is None else value
    if not (math.isfinite(t) and 0 < t <= MAX_THRESHOLD):
        what = "--threshold" if value is not None else f"the threshold of {encoder.name}"
        raise DltoolError(
            f"{what} must be a distance above 0 and at most {MAX_THRESHOLD:g}, got {t}",
            hint="same person when the distance is below it: 0.6 suits the dlib encoder",
        )
    return float(t)


def check_out(out: Any, exist_ok: bool) -> None:
    """Refuse a bad ``--out`` before any work, also where it is not written to (identify
    without --annotate): a file, a path under a file, a run (without --exist-ok)."""
    from dltool.runs import check_out as check_run_folder

    check_run_folder(out, exist_ok)  # the core refuses a path under a file too


def one_face(faces: list[Any], path: Path, largest: bool) -> Any:
    """Return the only face of ``path`` (or the largest with ``largest``); refuse 0 or several."""
    if not faces:
        raise DltoolError(
            f"no face found in {shown(path)}", hint="try --upsample 2 or --detector cnn"
        )
    if len(faces) > 1 and not largest:
        raise DltoolError(
            f"{shown(path)} has {len(faces)} faces where one is expected",
            hint="crop the image to one face, or pass --largest to use the largest face",
        )
    return max(faces, key=lambda f: f.area)


def box(face: Any) -> dict[str, int]:
    """Return the face box as {top, right, bottom, left}."""
    return dict(zip(("top", "right", "bottom", "left"), map(int, face.box), strict=True))


def _images(sources: list[str]) -> list[Path]:
    """Return the image files ``sources`` name (files, folders, globs, demo:NAME)."""
    from dltool.data.images import find_images

    return list(find_images(sources))


def _read(path: Path) -> Any:
    """Return the image at ``path`` as RGB uint8 (H, W, 3)."""
    from dltool_facerec.images import load_rgb

    return load_rgb(path)


def detect(images: list[str], faces: Faces, fmt: str, annotate: bool, out: Any, exist_ok: bool):
    """Find faces: one row per box, a summary per image, an annotated copy of each image."""
    from dltool_facerec.encoders import FaceFinder
    from dltool_facerec.output import annotate as draw
    from dltool_facerec.output import emit

    s = current()
    check_out(out, exist_ok)
    paths = _images(images)
    finder = FaceFinder(faces.detector, faces.upsample, quiet=s.quiet)
    run = s.run_dir("facerec", "detect", out, exist_ok) if annotate else None
    if run is not None:
        run.write_config({"images": images, "detector": faces.detector,
                          "upsample": faces.upsample})  # fmt: skip
    rows, summary, used = [], [], set()
    with s.reporter.progress(len(paths), "detect") as bar:
        for path in paths:
            image = _read(path)
            found = finder.boxes(image)
            rows.extend({"file": shown(path), **box(f)} for f in found)
            summary.append({"file": shown(path), "faces": len(found)})
            if run is not None:
                draw(image, [(f.box, "", True) for f in found], run.file(output_name(path, used)))
            bar.advance(faces=len(found))
    emit(rows, fmt, f"Faces ({faces.detector})", ["file", *BOX_COLUMNS], summary)
    s.reporter.info(f"{len(rows)} face(s) in {len(paths)} image(s)")
    if run is not None:
        s.reporter.info(f"Annotated copies saved to {run.path}")


def _unique_files(paths: list[Path]) -> list[Path]:
    """Return ``paths`` with each file once (the first spelling kept), in order."""
    first: dict[Path, Path] = {}
    for path in paths:
        first.setdefault(path.resolve(), path)
    return list(first.values())


def _check_name(name: str) -> str:
    """Return the name stripped; refuse an empty one or one with control characters."""
    name = name.strip()
    if not name:
        raise DltoolError("the name must not be empty", hint="give the person's name")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        raise DltoolError(
            f"the name '{printable(name)}' holds control characters",
            hint="give the name as plain text (no escape sequences or line breaks)",
        )
    return name


def _encode_rows(paths: list[Path], pipe: Any, database: Any, largest: bool) -> list[dict]:
    """Return one row per image: its hash, and its face encoding unless already enrolled."""
    from dltool.artifacts import sha256_file

    rows, digests = [], set()
    with current().reporter.progress(len(paths), "encode") as bar:
        for path in paths:
            digest = sha256_file(path)
            row = {"file": shown(path), "encoder": pipe.encoder.name, "image_sha256": digest}
            known = database is not None and database.has_image(pipe.encoder.name, digest)
            if digest in digests or known:  # same content given twice, or enrolled before
                row.update(vector=None, box="")
            else:
                face = one_face(pipe.encode(_read(path)), path, largest)
                row.update(vector=face.encoding, box=",".join(map(str, face.box)))
            digests.add(digest)
            row["source"] = shown(path.resolve())
            rows.append(row)
            bar.advance()
    return rows


def enroll(name: str, images: list[str], faces: Faces) -> None:
    """Add NAME's face from each image to the database (one encoding per image)."""
    from dltool_facerec.database import default_path

    name = _check_name(name)
    paths = _unique_files(_images(images))
    exists = (faces.db or default_path()).exists()
    known = open_db(faces.db, create=False, readonly=True) if exists else None  # foreign: now
    with known or contextlib.nullcontext():
        pipe = pipeline(faces)
        rows = _encode_rows(paths, pipe, known, faces.largest)
    new = [r for r in rows if r["vector"] is not None]
    with open_db(faces.db) as database:  # a new database file only once there is something
        stored = iter(database.add(name, new) if new else [])  # one status per new row
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


def verify(image: str, name: str, faces: Faces) -> bool:
    """Is the face in IMAGE NAME? Errors exit 2, so that exit 1 means "no match"."""
    try:
        return _verify(image, name, faces)
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


def one_image(source: str) -> Path:
    """Return the one image file ``source`` names: a file or ``demo:NAME`` (core vocabulary)."""
    from dltool.data.images import DEMO_HINT, image_source

    image = image_source(source)
    if image.is_dir():
        raise DltoolError(
            f"{shown(source)} is a folder; verify takes one image", hint="give one image file"
        )
    if not image.is_file():
        raise DltoolError(
            f"image not found: {shown(source)}", hint="give an image file or " + DEMO_HINT
        )
    return image


def _verify(source: str, name: str, faces: Faces) -> bool:
    """Return whether the face in image ``source`` is ``name``, after reporting the distance."""
    from dltool_facerec.match import verify as verify_math

    image = one_image(source)
    with open_db(faces.db, create=False, readonly=True) as database:
        pipe = pipeline(faces)
        database.require(pipe.encoder.name, name)
        t = threshold(faces.threshold, pipe.encoder)
        known = database.load(pipe.encoder.name, pipe.encoder.dim, name)
    face = one_face(pipe.encode(_read(image)), image, faces.largest)
    match, distance = verify_math(face.encoding, known.vectors, t)
    rep = current().reporter
    rep.line(f"{shown(image)} {'is' if match else 'is not'} {name}")
    rep.result("match", match, label="match")
    rep.result("distance", round(distance, 4), label="distance")
    rep.result("threshold", t, label="threshold")
    return match


def _encode_all(paths: list[Path], pipe: Any, best_only: bool) -> list[tuple[Path, list]]:
    """Return (path, faces with encodings) per image; the largest face only with best_only."""
    per_image = []
    with current().reporter.progress(len(paths), "encode") as bar:
        for path in paths:
            found = pipe.encode(_read(path))
            if best_only and found:
                found = [max(found, key=lambda f: f.area)]
            per_image.append((path, found))
            bar.advance(faces=len(found))
    return per_image


def identify(
    images: list[str], faces: Faces, best_only: bool, fmt: str, annotate: bool, out: Any,
    exist_ok: bool,
) -> None:  # fmt: skip
    """Name every face: the nearest enrolled encoding, or 'unknown' above the threshold."""
    import numpy as np

    from dltool_facerec.match import UNKNOWN
    from dltool_facerec.match import identify as identify_math
    from dltool_facerec.output import annotate as draw
    from dltool_facerec.output import emit

    s = current()
    check_out(out, exist_ok)
    paths = _images(images)
    with open_db(faces.db, create=False, readonly=True) as database:
        pipe = pipeline(faces)
        database.require(pipe.encoder.name)
        t = threshold(faces.threshold, pipe.encoder)
        enrolled = database.load(pipe.encoder.name, pipe.encoder.dim, dtype=np.float32)
    run = s.run_dir("facerec", "identify", out, exist_ok) if annotate else None
    if run is not None:
        run.write_config({"images": images, "threshold": t, "encoder": pipe.encoder.name})
    per_image = _encode_all(paths, pipe, best_only)
    # one (q, d) @ (d, n) product for all faces of all images: E is read once
    Q = np.array([f.encoding for _, fs in per_image for f in fs]).reshape(-1, pipe.encoder.dim)
    found = iter(identify_math(Q, enrolled.vectors, enrolled.names, t, enrolled.sq_norms))
    rows, summary, used = [], [], set()
    for path, fs in per_image:
        named = [(face, *next(found)) for face in fs]
        rows.extend(
            {"file": shown(path), "name": who, "distance": round(d, 4), **box(face)}
            for face, who, d in named
        )
        summary.append({"file": shown(path), "faces": len(fs),
                        "names": ", ".join(who for _, who, _ in named)})  # fmt: skip
        if run is not None:
            labels = [(f.box, f"{w} {d:.2f}", w != UNKNOWN) for f, w, d in named]
            draw(_read(path), labels, run.file(output_name(path, used)))
    columns = ["file", "name", "distance", *BOX_COLUMNS]
    emit(rows, fmt, f"Faces identified (threshold {t:g})", columns, summary)
    s.reporter.info(
        f"{len(rows)} face(s) in {len(paths)} image(s), {len(enrolled.names)} encodings"
    )
    if run is not None:
        s.reporter.info(f"Labelled copies saved to {run.path}")


def people(db: Path | None) -> None:
    """List the enrolled people and their number of encodings (names escaped when printed)."""
    with open_db(db, create=False, readonly=True) as database:
        rows = database.people()
    rep = current().reporter
    rep.table(f"People in {shown(database.path)}", rows, key="people")
    if not rows:
        rep.line("no one is enrolled yet")


def forget(name: str, db: Path | None) -> None:
    """Remove NAME and all their encodings from the database."""
    with open_db(db, create=False) as database:
        n = database.forget(name)
    current().reporter.result("removed", n, label=f"Removed {printable(name)}, encodings deleted")


def _export_target(file: Path | None, output: Path | None) -> Path:
    """Return the one export file given (FILE or -o), refusing a suffix other than .json."""
    if (file is None) == (output is None):
        raise DltoolError(
            "give the export file once: FILE or -o FILE",
            hint="dltool facerec export -o faces.json",
        )
    target = Path(file or output)
    if target.is_dir():
        raise DltoolError(f"{target} is a directory", hint="give a file path ending in .json")
    special = target.exists() and not target.is_file()  # /dev/stdout, a FIFO: written through
    if not special and target.suffix.lower() != ".json":
        raise DltoolError(
            f"cannot write {target}: unknown output format '{target.suffix or '(none)'}'",
            hint="name a file ending in .json (the export is one JSON document)",
        )
    return target


def export(file: Path | None, output: Path | None, db: Path | None) -> None:
    """Write every person and encoding to a JSON file, owner-only (0600): it is face data."""
    from dltool_facerec.exchange import export_db

    target = _export_target(file, output)
    with open_db(db, create=False, readonly=True) as database:
        n = export_db(database, target)
    current().reporter.result("exported", n, label=f"Encodings exported to {shown(target)}")


def import_(file: Path, db: Path | None) -> None:
    """Add the encodings of an export file (already present ones are skipped)."""
    from dltool_facerec.exchange import read_export

    rows = read_export(file)
    with open_db(db) as database:
        counts = database.import_rows(rows, shown(file))
    rep = current().reporter
    rep.result("added", counts["added"], label="Encodings added")
    rep.result("skipped", counts["skipped"], label="Already present")


def check_params(p: dict[str, Any]) -> None:
    """Raise a clear error for training options out of range (also when read from --config)."""
    if p["data"] is None:
        raise DltoolError(
            "--data is required", hint="give --data DIR, or 'data: DIR' in the --config file"
        )
    for key, flag in (("lr", "--lr"), ("margin", "--margin")):
        if not (math.isfinite(p[key]) and p[key] > 0):
            raise DltoolError(
                f"{flag} must be a positive finite number, got {p[key]}",
                hint="e.g. --lr 0.001 --margin 0.2 (the defaults)",
            )
    if p["people_per_batch"] * p["images_per_person"] > MAX_BATCH:
        raise DltoolError(
            f"--people-per-batch × --images-per-person is "
            f"{p['people_per_batch'] * p['images_per_person']}, more than {MAX_BATCH}",
            hint="the batch-all loss holds (P·K)³ numbers: lower one of the two",
        )


def _chips(paths: list[Path], here: Any = None, device: Any = None) -> Any:
    """Return the aligned 96×96 chips (N, 96, 96, 3) of the largest face of each image.

    Under DDP rank r aligns images r, r + W, … and the ranks gather all chips.
    """
    import numpy as np
    import torch

    from dltool_facerec.encoders import FaceFinder
    from dltool_facerec.facenet import INPUT_SIZE
    from dltool_facerec.train import face_chips, gather_rows, share_positions

    s = current()
    finder = FaceFinder("hog", 1, quiet=s.quiet)
    world, rank = (here.world, here.rank) if here is not None and here.active else (1, 0)
    positions = share_positions(len(paths), world)
    mine = [paths[i] for i in positions[rank]]
    with s.reporter.progress(len(mine), "align faces") as bar:
        chips = face_chips(finder, mine, INPUT_SIZE, bar) if mine else None
    if world == 1:
        return chips
    shape = (len(mine), INPUT_SIZE, INPUT_SIZE, 3)
    local = torch.from_numpy(chips if mine else np.zeros(shape, np.uint8)).to(device)
    return gather_rows(local, positions, here).cpu().numpy()  # (N, 96, 96, 3)


EVAL_MAX = 1000  # training faces embedded after each epoch for its AUC (evenly spaced)


def _fit_metrics(model: Any, chips: Any, labels: Any, device: Any) -> dict[str, float]:
    """Return AUC, best balanced accuracy and threshold on (up to EVAL_MAX) training faces."""
    import numpy as np

    from dltool_facerec.evaluate import threshold_report
    from dltool_facerec.facenet import embed_chips

    pick = np.unique(np.linspace(0, len(chips) - 1, min(len(chips), EVAL_MAX)).astype(int))
    rep = threshold_report(embed_chips(model, chips[pick], device), labels[pick], None)
    return {"auc": rep["auc"], "balanced_acc": rep["best_balanced_accuracy"],
            "threshold": rep["best_threshold"]}  # fmt: skip


def _checkpoint(run: Any, model: Any, state: dict, rows: list, names: list[str]) -> None:
    """Save last.pt (weights, optimizer, generators, rows) and log the epoch's metrics."""
    from dltool.checkpoints import save_torch
    from dltool_facerec.train import saved_state

    weights = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    payload = {"model": weights, "state": saved_state(state), "rows": rows, "people": names}
    save_torch(run.file("last.pt"), payload, TRAIN_FORMAT)
    run.log_metrics(**rows[-1])


@dataclass
class Trainee:
    """What rank 0 reports on after each epoch: its run, the model, the faces and the rows."""

    run: Any
    model: Any
    chips: Any
    labels: Any
    names: list[str]
    rows: list[dict]
    device: Any

    def epoch_done(self, state: dict) -> None:
        """Measure the training faces, checkpoint, log the row (the epoch line), track the AUC."""
        row = self.rows[-1]
        row.update(_fit_metrics(self.model, self.chips, self.labels, self.device))
        _checkpoint(self.run, self.model, state, self.rows, self.names)
        self.run.best("auc", row["auc"], "max")


def _resume(path: Any, run: Any, model: Any, state: dict, names: list[str], epochs: int) -> list:
    """Load last.pt of the run at ``path`` into ``model`` and ``state``; return its rows.

    ``run`` (rank 0 only, else None): its metrics.jsonl is cut back to the checkpoint's rows.
    """
    from dltool.checkpoints import load_torch
    from dltool_facerec.train import restore_state

    saved = load_torch(Path(path) / "last.pt", TRAIN_FORMAT, "facerec training checkpoint")
    if saved.get("people") != names:
        raise DltoolError(
            f"the people in --data differ from those {path} was trained on",
            hint="resume with the run's own data, or start a new run",
        )
    rows = list(saved["rows"])
    if len(rows) >= epochs:
        raise DltoolError(
            f"{path} has already trained {len(rows)} epochs",
            hint=f"give --epochs above {len(rows)} to train on",
        )
    model.load_state_dict(saved["model"])
    restore_state(state, saved["state"])
    if run is not None:  # the log ends where the checkpoint does
        run.drop_rows_after("epoch", len(rows))
    return rows


def _last_finished(run: Any, model: Any) -> None:
    """Put the weights of the last finished epoch (last.pt) back into ``model``."""
    from dltool.checkpoints import load_torch

    model.load_state_dict(load_torch(run.file("last.pt"), TRAIN_FORMAT, "checkpoint")["model"])


def _start(ctx: Any, params: dict, config: Any, resume: Any) -> tuple:
    """Return (run folder to go on with or None, the run's options) once the options are checked.

    With --resume the run's own options come back from its config.yaml (only --epochs may
    change); a new run takes the global --seed, else --init-seed.
    """
    from dltool.commands import resumed_options
    from dltool.precision import check_amp

    if resume is not None:
        path, params = resumed_options(ctx, params, resume, "facerec", "train", config)
        check_params(params)
        check_amp(current().device, bool(params.get("amp")))
        return path, params
    check_params(params)
    s = current()
    check_amp(s.device, bool(params.get("amp")))
    return None, {**params, "init_seed": s.seed if s.seed is not None else params["init_seed"]}


def train(ctx: Any, params: dict, config: Any, resume: Any, out: Any, exist_ok: bool) -> None:
    """Train the encoder (or go on with --resume), choose its threshold, save encoder.pt.

    ``--nproc N`` (N > 1) starts N local workers that each run this job as one DDP rank;
    under torchrun the job joins the launcher's group. Only rank 0 writes and reports.
    """
    from dltool import distributed
    from dltool_facerec.train import identity_folders

    s = current()
    nproc = distributed.check_nproc(params.get("nproc", 1), s.reporter.warn)
    distributed.check_sync_bn(bool(params.get("sync_bn")), nproc, s.device)
    resumed, params = _start(ctx, params, config, resume)
    data = identity_folders(params["data"])
    run = {"out": None if resumed else out, "exist_ok": exist_ok}
    if distributed.spawned(nproc, nproc, s, "facerec train", run):  # uneven shares are fine
        return None
    with distributed.joined(s) as (here, device):
        _train_rank(params, resumed, data, here, device, (out, exist_ok))


def _train_run(params: dict, names: list[str], resumed: Any, where: tuple) -> Any:
    """Return the run folder (resumed or new) with its config.yaml and people.json written."""
    from dltool.runs import RunDir

    run = RunDir(resumed) if resumed else current().run_dir("facerec", "train", *where)
    run.write_config({**params, "data": str(params["data"])})  # trains again with --config
    run.write_json("people.json", names)
    return run


def _train_rank(params: dict, resumed: Any, data: tuple, here: Any, device: Any, where: tuple):
    """Train as rank ``here`` (or the only process) on ``device``; rank 0 writes the run."""
    import torch

    from dltool import distributed
    from dltool_facerec.facenet import facenet_small
    from dltool_facerec.train import Diverged, fit, new_state

    s = current()
    paths, labels, names = data
    chips = _chips(paths, here, device)
    run = _train_run(params, names, resumed, where) if here.writer else None
    torch.manual_seed(params["init_seed"])
    net = facenet_small().to(device)
    state = new_state(net, {**params, "seed": params["init_seed"]})
    rows = _resume(resumed, run, net, state, names, params["epochs"]) if resumed else []
    synced = net  # under --sync-bn a SyncBatchNorm copy sharing net's parameters and buffers
    if params.get("sync_bn"):
        synced = distributed.sync_batchnorm(net, here, s.reporter.warn, "the encoder")
    model = distributed.wrap(synced, here, device)
    done = Trainee(run, net, chips, labels, names, rows, device).epoch_done if run else None
    n_batches = -(-len(names) // params["people_per_batch"])
    try:
        with s.reporter.progress((params["epochs"] - len(rows)) * n_batches, "train") as bar:
            fit(chips, labels, params, device, model, rows, bar.advance, done, state, here)
    except (KeyboardInterrupt, Diverged) as exc:  # keep the last finished epoch: save, then stop
        if run is not None:
            _stop(exc, run, net, chips, labels, rows, device)
        raise
    if run is not None:
        rep = _save(net, chips, labels, rows, run, device)
        _report_train(rows, names, paths, rep, run)


def _stop(exc: BaseException, run: Any, model: Any, chips: Any, labels: Any, rows: list,
          device: Any) -> None:  # fmt: skip
    """Save the encoder of the last finished epoch after Ctrl-C or a non-finite loss."""
    if not rows:
        return
    _last_finished(run, model)
    _save(model, chips, labels, rows, run, device)
    what = "interrupted" if isinstance(exc, KeyboardInterrupt) else "stopped (non-finite loss)"
    current().reporter.warn(
        f"{what} after epoch {len(rows)}; encoder of epoch {len(rows)} saved to {run.path}"
    )


def _report_train(rows: list, names: list, paths: list, rep: dict, run: Any) -> None:
    """Print the last epochs, the data sizes, the threshold and where the encoder is."""
    r = current().reporter
    title = "Training (triplet loss, active triplets; AUC, balanced accuracy on training faces)"
    r.table(title, rows[-5:], key="epochs")
    r.result("people", len(names), label="Identities")
    r.result("images", len(paths), label="Images")
    r.result(
        "threshold", round(rep["best_threshold"], 4), label="Threshold (best on training faces)"
    )
    r.result("encoder", str(run.file("encoder.pt")), label="Encoder saved to (use --encoder)")


def _save(model: Any, chips: Any, labels: Any, rows: list, run: Any, device: Any) -> dict:
    """Choose the threshold on the training faces; save encoder.pt and the plots."""
    from dltool_facerec.evaluate import threshold_report
    from dltool_facerec.facenet import embed_chips, save_encoder
    from dltool_facerec.plots import plot_curves, plot_evaluation

    rep = threshold_report(embed_chips(model, chips, device), labels, None)
    save_encoder(model, run.file("encoder.pt"), rep["best_threshold"])
    plot_curves(run.file("loss.png"), rows)
    plot_evaluation(run.file("distances.png"), rep, "training faces")
    return rep


def check_pair_memory(m: int, force: bool) -> None:
    """Refuse m images whose m(m − 1)/2 pair distances would not fit in memory, unless forced."""
    from dltool_facerec.evaluate import pair_bytes

    need, have = pair_bytes(m), None if force else available_bytes()
    if have is not None and need > 0.9 * have:
        raise DltoolError(
            f"{m:,} images make {m * (m - 1) // 2:,} pairs: about {need / 2**30:.1f} GiB, "
            f"but {have / 2**30:.1f} GiB of memory is available",
            hint="evaluate on fewer images per person (or fewer people), "
            "or pass --force if this machine has the memory",
        )


def evaluate(data: Path, faces: Faces, force: bool, out: Any, exist_ok: bool) -> None:
    """Encode DATA/<person>/* (largest face, or the whole image as a face), report ROC; plot."""
    import numpy as np

    from dltool_facerec.evaluate import threshold_report
    from dltool_facerec.output import summary_rows
    from dltool_facerec.plots import plot_evaluation
    from dltool_facerec.train import identity_folders

    s = current()
    check_out(out, exist_ok)
    pipe = pipeline(faces)
    t = threshold(faces.threshold, pipe.encoder)
    paths, labels, names = identity_folders(data)
    check_pair_memory(len(paths), force)  # before encoding them
    E = []
    with s.reporter.progress(len(paths), "encode") as bar:
        for path in paths:
            E.append(pipe.encode_largest(_read(path)).encoding)
            bar.advance()
    rep = threshold_report(np.array(E), labels, t)
    run = s.run_dir("facerec", "evaluate", out, exist_ok)
    run.write_config({"data": str(data), "encoder": pipe.encoder.name, "threshold": t})
    plot_evaluation(run.file("distances.png"), rep, f"{pipe.encoder.name} on {Path(data).name}")
    data_out = {k: v for k, v in rep.items() if k not in ("genuine", "impostor", "curve")}
    run.write_json("evaluation.json", {**data_out, "people": names, "images": len(E)})
    r = s.reporter
    r.table(
        f"Verification on {len(E)} faces of {len(names)} people", summary_rows(rep), key="metrics"
    )
    r.result("genuine_pairs", len(rep["genuine"]), label="Genuine pairs (same person)")
    r.result("impostor_pairs", len(rep["impostor"]), label="Impostor pairs (two people)")
    r.result("results_dir", str(run.path), label="Results saved to")
