"""What ``facerec train`` and ``facerec evaluate`` do once their options are checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from dltool.context import current
from dltool.errors import DltoolError


def check_params(p: dict[str, Any]) -> None:
    """Raise a clear error for out-of-range training options."""
    from dltool_facerec.train import MINING

    if p["data"] is None:
        raise DltoolError(
            "--data is required", hint="give --data DIR, or 'data: DIR' in the --config file"
        )
    if p["mining"] not in MINING:
        raise DltoolError(f"unknown --mining '{p['mining']}'", hint="batch-all or semi-hard")
    for key in ("epochs", "people_per_batch", "images_per_person"):
        if p[key] < (2 if key != "epochs" else 1):
            raise DltoolError(f"--{key.replace('_', '-')} is too small: {p[key]}")
    if not p["margin"] > 0 or not p["lr"] > 0:
        raise DltoolError("--margin and --lr must be positive")


def threshold_report(E: np.ndarray, labels: np.ndarray, t: float | None) -> dict[str, Any]:
    """Return pair distances, ROC, AUC, best threshold and accuracy at ``t`` (or the best)."""
    from dltool_facerec.evaluate import accuracy, auc, best_threshold, pair_distances, roc

    genuine, impostor = pair_distances(E, labels)
    curve = roc(genuine, impostor)
    best, balanced = best_threshold(curve)
    chosen = best if t is None else t
    return {
        "genuine": genuine,
        "impostor": impostor,
        "curve": curve,
        "auc": auc(curve),
        "best_threshold": best,
        "best_balanced_accuracy": balanced,
        "threshold": chosen,
        **accuracy(genuine, impostor, chosen),
    }


def plot_evaluation(path: Path, rep: dict[str, Any], title: str) -> None:
    """Write histograms of genuine/impostor distances and the ROC curve to ``path``."""
    from dltool.report import figure

    with figure(path, 1, 2, figsize=(10, 4)) as (_fig, (ax, ax_roc)):
        hi = max(rep["genuine"].max(initial=0), rep["impostor"].max(initial=0)) * 1.05 + 1e-9
        bins = np.linspace(0, hi, 40)
        ax.hist(rep["impostor"], bins=bins, alpha=0.6, label=f"impostor ({len(rep['impostor'])})")
        ax.hist(rep["genuine"], bins=bins, alpha=0.6, label=f"genuine ({len(rep['genuine'])})")
        ax.axvline(rep["threshold"], color="k", ls="--", label=f"threshold {rep['threshold']:.3f}")
        ax.set(xlabel="‖f(a) − f(b)‖", ylabel="pairs", title=title)
        ax.legend()
        ax_roc.plot(rep["curve"]["fpr"], rep["curve"]["tpr"], "-", lw=2)
        ax_roc.plot([0, 1], [0, 1], ":", color="grey")
        ax_roc.set(xlabel="false positive rate", ylabel="true positive rate",
                   title=f"ROC (AUC {rep['auc']:.3f})")  # fmt: skip
        ax_roc.grid(alpha=0.3)


def summary_rows(rep: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the evaluation numbers as table rows."""
    keys = (
        "auc",
        "best_threshold",
        "best_balanced_accuracy",
        "threshold",
        "accuracy",
        "tpr",
        "fpr",
    )
    return [{"metric": k, "value": round(float(rep[k]), 4)} for k in keys]


def run_train(params: dict[str, Any], out: Path | None) -> None:
    """Train the encoder, choose its threshold on the training faces, save encoder.pt."""
    import torch

    from dltool_facerec.encoders import FaceFinder
    from dltool_facerec.facenet import INPUT_SIZE, facenet_small
    from dltool_facerec.train import face_chips, fit, identity_folders

    check_params(params)
    s = current()
    paths, labels, names = identity_folders(params["data"])
    finder = FaceFinder("hog", 1, quiet=s.quiet)
    with s.reporter.progress(len(paths), "align faces") as bar:
        chips = face_chips(finder, paths, INPUT_SIZE, bar)
    run = s.run_dir("facerec", "train", out)
    seed = s.seed if s.seed is not None else params["init_seed"]  # the global --seed wins
    run.write_config({**params, "data": str(params["data"]), "init_seed": seed})  # --config-able
    run.write_json("people.json", names)
    n_batches = -(-len(names) // params["people_per_batch"])
    torch.manual_seed(seed)
    model, rows = facenet_small().to(s.device), []
    try:
        with s.reporter.progress(params["epochs"] * n_batches, "train") as bar:
            fit(chips, labels, {**params, "seed": seed}, s.device, model, rows, bar.advance)
    except KeyboardInterrupt:  # keep what was learned: save, then exit 130
        if rows:
            _save(model, chips, labels, rows, run)
            s.reporter.warn(f"interrupted after epoch {len(rows)}; encoder saved to {run.path}")
        raise
    rep = _save(model, chips, labels, rows, run)
    r = s.reporter
    r.table("Training (triplet loss, fraction of active triplets)", rows[-5:], key="epochs")
    r.result("people", len(names), label="Identities")
    r.result("images", len(paths), label="Images")
    r.result(
        "threshold", round(rep["best_threshold"], 4), label="Threshold (best on training faces)"
    )
    r.result("encoder", str(run.file("encoder.pt")), label="Encoder saved to (use --encoder)")


def _save(model: Any, chips: np.ndarray, labels: np.ndarray, rows: list, run: Any) -> dict:
    """Choose the threshold on the training faces, save encoder.pt, metrics and plots."""
    from dltool_facerec.facenet import embed_chips, save_encoder

    rep = threshold_report(embed_chips(model, chips, current().device), labels, None)
    save_encoder(model, run.file("encoder.pt"), rep["best_threshold"])
    for row in rows:
        run.log_metrics(**row)
    _plot_curves(run.file("loss.png"), rows)
    plot_evaluation(run.file("distances.png"), rep, "training faces")
    return rep


def _plot_curves(path: Path, rows: list[dict[str, float]]) -> None:
    """Write the loss and active-triplet fraction per epoch."""
    from dltool.report import figure

    epochs = [r["epoch"] for r in rows]
    with figure(path, 1, 2, figsize=(9, 3.5)) as (_fig, (ax1, ax2)):
        ax1.plot(epochs, [r["loss"] for r in rows], "o-")
        ax1.set(xlabel="epoch", ylabel="triplet loss", title="loss")
        ax2.plot(epochs, [r["active"] for r in rows], "o-", color="C1")
        ax2.set(xlabel="epoch", ylabel="fraction", title="active triplets", ylim=(0, 1.05))
        for ax in (ax1, ax2):
            ax.grid(alpha=0.3)


def run_evaluate(data: Path, pipe: Any, threshold: float, out: Path | None) -> None:
    """Encode DATA/<person>/* (largest face, or the whole image as a face), report ROC; plot."""
    from dltool_facerec.images import load_rgb
    from dltool_facerec.train import identity_folders

    s = current()
    paths, labels, names = identity_folders(data)
    E = []
    with s.reporter.progress(len(paths), "encode") as bar:
        for path in paths:
            E.append(pipe.encode_largest(load_rgb(path)).encoding)
            bar.advance()
    rep = threshold_report(np.array(E), labels, threshold)
    run = s.run_dir("facerec", "evaluate", out)
    run.write_config({"data": str(data), "encoder": pipe.encoder.name, "threshold": threshold})
    plot_evaluation(run.file("distances.png"), rep, f"{pipe.encoder.name} on {Path(data).name}")
    data_out = {k: v for k, v in rep.items() if k not in ("genuine", "impostor", "curve")}
    run.write_json("evaluation.json", {**data_out, "people": names, "images": len(E)})
    r = s.reporter
    r.table(
        f"Verification on {len(E)} faces of {len(names)} people", summary_rows(rep), key="metrics"
    )
    r.result(
        "pairs", {"genuine": len(rep["genuine"]), "impostor": len(rep["impostor"])}, label="Pairs"
    )
    r.result("results_dir", str(run.path), label="Results saved to")
