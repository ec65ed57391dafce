"""The ``train`` and ``eval`` commands: data in memory, Adam with cosine decay, mAP per epoch.

A run directory holds ``model.cfg`` (the exact network, anchors included),
``classes.names``, ``last.weights``/``best.weights`` (Darknet format, so ``detect`` and
``eval`` take them with ``--cfg``/``--weights``), ``last.pt`` (optimizer state for
``--resume``), ``metrics.jsonl`` and ``curves.png``.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dltool import atomic
from dltool.context import current
from dltool.errors import DltoolError
from dltool_yolo.cfg import BUILTIN_CFGS, parse_cfg, tiny_cfg
from dltool_yolo.darknet import Darknet, load_weights, save_weights
from dltool_yolo.detect import Detector
from dltool_yolo.evaluate import evaluate
from dltool_yolo.labels import read_data_yaml, read_label_file
from dltool_yolo.loss import collect, load_split, make_batch, yolo_loss

BUILTIN = {"small": (0.5, 128), "yolov3-tiny": (1.0, 416)}


def model_cfg(params: dict[str, Any], spec) -> str:
    """Return the cfg text to train: a built-in sized for the data, or the user's file."""
    nc, name = len(spec.names), str(params["cfg"])
    if name in BUILTIN_CFGS:
        width, size = BUILTIN[name]
        anchors = ""
        if params["fit_anchors"]:
            from dltool_yolo.anchors import kmeans

            wh = [read_label_file(lab, nc)[:, 3:5] for _img, lab in spec.pairs("train")
                  if lab.is_file()]  # fmt: skip
            wh = np.concatenate(wh) if wh else np.zeros((0, 2))
            if len(wh) >= 6:
                centroids, _, _ = kmeans(wh, 6, seed=0)
                anchors = ", ".join(f"{w * size:.0f},{h * size:.0f}" for w, h in centroids)
        return tiny_cfg(nc, width, size, anchors)
    try:
        return Path(name).read_text(encoding="utf-8")
    except OSError as exc:
        raise DltoolError(f"cannot read cfg {name}: {exc.strerror}") from exc


def _save_checkpoint(run, model, opt, gen, epoch: int, best: float, params: dict) -> None:
    """Write last.weights and last.pt (weights, optimizer, shuffle generator, epoch) atomically."""
    save_weights(model, run.file("last.weights"), seen=epoch)
    state = {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch,
             "best_map": best, "params": params, "generator": gen.get_state()}  # fmt: skip
    with atomic.atomic_path(run.file("last.pt")) as tmp:
        torch.save(state, tmp)


def _score(model: Darknet, names: list[str], device, images, labels) -> dict:
    """Return evaluate() of a fused copy of ``model`` on the given images."""
    detector = Detector(copy.deepcopy(model), names, device, model.width)
    with torch.no_grad():
        return evaluate(collect(detector, images, labels), len(names))


def fit(
    params: dict[str, Any],
    resume: Path | None = None,
    out: Path | None = None,
    given: frozenset[str] = frozenset(),
) -> None:
    """Train per ``params`` (see ``dltool yolo train --help``), reporting and checkpointing.

    ``given``: the options the user set (flags or --config); with ``resume`` any of them
    but ``epochs`` that differs from the run's own is refused.
    """
    s = current()
    rep = s.reporter
    if params["epochs"] < 1 or params["batch_size"] < 1 or params["lr"] <= 0:
        raise DltoolError("--epochs and --batch-size must be ≥ 1 and --lr > 0")
    start, best, state = 0, -1.0, None
    if resume is not None:
        state, cfg_text, run = _resume(resume, params["epochs"])
        params = _resumed_params(state["params"], params, given, resume)
        start, best = state["epoch"], state["best_map"]
    spec = read_data_yaml(params["data"])
    if resume is None:
        cfg_text = model_cfg(params, spec)
    torch.manual_seed(s.seed if s.seed is not None else 0)  # the initial weights too
    model = Darknet(parse_cfg(cfg_text, str(params["cfg"])), str(params["cfg"]))
    if model.classes != len(spec.names):
        raise DltoolError(
            f"the cfg predicts {model.classes} classes, {params['data']} has {len(spec.names)}"
        )
    if any(h.kind != "yolo" for h in model.heads):
        raise DltoolError("training supports [yolo] heads (YOLOv3), not YOLOv2's [region]")
    if params.get("weights") and state is None:
        load_weights(model, Path(params["weights"]))
    device = s.device
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=params["lr"], weight_decay=5e-4)
    if state is not None:
        _restore(model, opt, state, resume)
    else:
        run = s.run_dir("yolo", "train", out)
        run.write_config(params)
        atomic.write_text(run.file("model.cfg"), cfg_text)
        atomic.write_text(run.file("classes.names"), "".join(n + "\n" for n in spec.names))
    size = model.width
    rep.info(f"loading {params['data']} at {size}×{size}")
    train_x, train_y = load_split(spec.pairs("train"), size, len(spec.names))
    val_x, val_y = load_split(spec.pairs("val"), size, len(spec.names))
    steps = math.ceil(len(train_x) / params["batch_size"])
    total = params["epochs"] * steps
    gen = torch.Generator().manual_seed(s.seed if s.seed is not None else 0)
    if state is not None and "generator" in state:
        gen.set_state(state["generator"])  # the shuffles and flips an unbroken run would draw
    elif state is not None:
        rep.warn(f"{resume}/last.pt predates saved shuffling: later epochs shuffle differently")
    with rep.progress((params["epochs"] - start) * steps, "train") as bar:
        for epoch in range(start, params["epochs"]):
            model.train()
            order = torch.randperm(len(train_x), generator=gen)
            running = 0.0
            for i in range(steps):
                step = epoch * steps + i
                for g in opt.param_groups:
                    g["lr"] = params["lr"] * (
                        0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * step / total))
                    )
                idx = order[i * params["batch_size"] : (i + 1) * params["batch_size"]]
                flip = torch.rand(len(idx), generator=gen) < 0.5
                batch = make_batch(train_x, train_y, idx, flip)
                loss, parts = yolo_loss(model, model(batch.images.to(device)),
                                        batch.targets.to(device))  # fmt: skip
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                running += loss.item()
                bar.advance(loss=loss.item(), epoch=epoch + 1)
            model.eval()
            scores = _score(model, spec.names, device, val_x, val_y)
            row = {"epoch": epoch + 1, "loss": running / steps, "map50": scores["map50"],
                   "map50_95": scores["map50_95"]}  # fmt: skip
            run.log_metrics(**row)
            if scores["map50"] > best:
                best = scores["map50"]
                save_weights(model, run.file("best.weights"), seen=epoch + 1)
            _save_checkpoint(run, model, opt, gen, epoch + 1, best, params)
    _report(run, spec, scores, best)


CHECKPOINT_KEYS = ("model", "optimizer", "epoch", "best_map", "params")


def _resume(run_path: Path, epochs: int) -> tuple[dict, str, Any]:
    """Return the checkpoint, cfg text and RunDir of an earlier run that ``epochs`` extends."""
    from dltool.runs import RunDir

    run_path = Path(run_path)
    ckpt, cfg = run_path / "last.pt", run_path / "model.cfg"
    if not ckpt.is_file():
        raise DltoolError(f"{run_path} holds no last.pt to resume from",
                          hint="pass a run directory of `yolo train`")  # fmt: skip
    try:
        state = torch.load(ckpt, map_location="cpu", weights_only=False)
    except Exception as exc:  # truncated or foreign file
        raise DltoolError(f"{ckpt} is not a readable checkpoint ({type(exc).__name__})") from None
    if not isinstance(state, dict) or any(k not in state for k in CHECKPOINT_KEYS):
        raise DltoolError(f"{ckpt} is not a dltool yolo checkpoint")
    if epochs <= state["epoch"]:
        raise DltoolError(
            f"{run_path} has trained {state['epoch']} epoch(s) already; "
            f"--epochs {epochs} adds none",
            hint=f"pass --epochs greater than {state['epoch']} (the total, not the extra)",
        )
    try:
        cfg_text = cfg.read_text(encoding="utf-8")
    except OSError as exc:
        raise DltoolError(f"cannot read {cfg} to resume: {exc.strerror}") from None
    return state, cfg_text, RunDir(run_path)


def _resumed_params(saved: dict, params: dict, given: frozenset[str], run_path: Path) -> dict:
    """Return the run's own params with the new ``epochs``; refuse any other option changed."""
    changed = [n for n in sorted(given) if n != "epochs" and not _same(n, saved.get(n), params[n])]
    if changed:
        shown = "; ".join(
            f"--{n.replace('_', '-')} {params[n]} (the run's: {saved.get(n)})" for n in changed
        )
        raise DltoolError(
            f"--resume continues {run_path} with its own options, but {shown}",
            hint="drop those options to resume, or start a new run without --resume",
        )
    return saved | {"epochs": params["epochs"]}


def _same(name: str, old: Any, new: Any) -> bool:
    """Return whether option ``name`` keeps its value (paths compared resolved)."""
    if name in ("data", "weights") and old is not None and new is not None:
        return Path(old).resolve() == Path(new).resolve()
    return old == new


def _restore(model: Darknet, opt, state: dict, run_path: Path) -> None:
    """Load the checkpoint's weights and optimizer state; a mismatch with model.cfg raises."""
    try:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
    except (RuntimeError, ValueError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise DltoolError(f"{run_path}/last.pt does not fit its model.cfg: {first}") from None


def _report(run, spec, scores: dict, best: float) -> None:
    """Write curves.png and report the last epoch's per-class AP and the best mAP."""
    import json

    from dltool.report import figure

    rows = [json.loads(line) for line in run.file("metrics.jsonl").read_text().splitlines()]
    with figure(run.file("curves.png"), 1, 2, figsize=(9, 3.5)) as (_fig, (ax1, ax2)):
        ax1.plot([r["epoch"] for r in rows], [r["loss"] for r in rows])
        ax1.set(xlabel="epoch", ylabel="YOLO loss", yscale="log", title="training loss")
        ax2.plot([r["epoch"] for r in rows], [r["map50"] for r in rows], label="mAP@0.5")
        ax2.plot([r["epoch"] for r in rows], [r["map50_95"] for r in rows], label="mAP@0.5:0.95")
        ax2.set(xlabel="epoch", ylim=(0, 1), title="validation")
        ax2.legend()
    rep = current().reporter
    rep.table("Validation AP (last epoch)", _ap_rows(spec.names, scores), key="per_class")
    rep.result("map50", round(scores["map50"], 4), label="mAP@0.5")
    rep.result("map50_95", round(scores["map50_95"], 4), label="mAP@0.5:0.95")
    rep.result("best_map50", round(best, 4), label="best mAP@0.5")
    rep.result("results_dir", str(run.path), label="Results saved to")


def _ap_rows(names: list[str], scores: dict) -> list[dict]:
    """Return one row per class: ground-truth count, AP@0.5, AP@0.5:0.95."""
    rows = []
    for c, name in enumerate(names):
        ap = scores["ap"][c]
        empty = bool(np.isnan(ap).all())
        rows.append(
            {
                "class": name,
                "boxes": int(scores["gt_counts"][c]),
                "ap50": None if empty else round(float(ap[0]), 4),
                "ap50_95": None if empty else round(float(np.nanmean(ap)), 4),
            }
        )
    return rows


def evaluate_command(data, weights, cfg, split: str, size: int | None, out) -> None:
    """Score weights (or the default COCO model) on a split; table, mAP and PR curve PNG."""
    s = current()
    spec = read_data_yaml(data)
    names = spec.names
    if weights is None:
        from dltool_yolo.detect import default_detector

        detector = default_detector(s.device, 416 if size is None else size)
        coco = detector.names
        missing = [n for n in names if n not in coco]
        if missing:
            raise DltoolError(
                f"classes {', '.join(missing)} are not COCO classes of the default model",
                hint="pass --weights (and --cfg) of a model trained on this data",
            )
        remap = {coco.index(n): i for i, n in enumerate(names)}
    else:
        if not Path(weights).is_file():
            raise DltoolError(f"weights file {weights} not found", hint="pass a .weights file")
        cfg = cfg or Path(weights).parent / "model.cfg"
        if not Path(cfg).is_file():
            raise DltoolError(f"no cfg for {weights}", hint="pass --cfg")
        from dltool_yolo.darknet import build

        model = build(Path(cfg))
        load_weights(model, Path(weights))
        if model.classes != len(names):
            raise DltoolError(
                f"the model predicts {model.classes} classes, {data} has {len(names)}"
            )
        detector = Detector(model, names, s.device, model.width if size is None else size)
        remap = None
    images, labels = load_split(spec.pairs(split), detector.size, len(names))
    results = collect(detector, images, labels)
    if remap is not None:
        for r in results:
            keep = np.isin(r.classes, list(remap))
            r.boxes, r.scores = r.boxes[keep], r.scores[keep]
            r.classes = np.array([remap[int(c)] for c in r.classes[keep]], dtype=int)
    scores = evaluate(results, len(names))
    run = s.run_dir("yolo", "eval", out)
    _pr_figure(run.file("pr_curve.png"), names, scores)
    rep = s.reporter
    rep.table(f"AP on {split} ({len(images)} images)", _ap_rows(names, scores), key="per_class")
    rep.result("map50", round(scores["map50"], 4), label="mAP@0.5")
    rep.result("map50_95", round(scores["map50_95"], 4), label="mAP@0.5:0.95")
    rep.result("results_dir", str(run.path), label="Results saved to")


def _pr_figure(path: Path, names: list[str], scores: dict) -> None:
    """Write the precision–recall curve at IoU 0.5 of every class with boxes."""
    from dltool.report import figure

    with figure(path, 1, 1, figsize=(5.5, 4.5)) as (_fig, ax):
        for c, name in enumerate(names):
            if scores["gt_counts"][c]:
                recall, precision = scores["curves"][c]
                ax.plot(recall, precision, label=f"{name} AP={scores['ap'][c, 0]:.3f}")
        ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02),
               title=f"mAP@0.5 = {scores['map50']:.3f}")  # fmt: skip
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
