"""The command jobs of ``dltool yolo``: detect, anchors, synth, train and evaluate.

A training run folder holds ``config.yaml`` (the resolved options), ``model.cfg`` (the
exact network, anchors included), ``classes.names``, ``last.weights``/``best.weights``
(Darknet format), ``last.pt`` (weights, optimizer, gradient scaler and seed for
``--resume``, a dltool torch checkpoint: loaded with ``weights_only=True``),
``metrics.jsonl``/``results.csv`` (each epoch: loss and its box/obj/cls parts, precision,
recall, mAP@0.5, mAP@0.5:0.95, lr), ``augment_grid.png`` (the ``--augment`` ops on four
training images), ``curves.png``, and the last epoch's
``confusion_matrix.png`` and val ``predictions.json``/``ground_truth.json`` (COCO JSON).
``evaluate`` writes ``pr_curve.png``, ``confusion_matrix.png``, ``predictions.json``
and ``ground_truth.json`` (COCO JSON, ``coco.py``). ``detect`` and ``evaluate`` take
that folder (or a ``.weights`` file in it) as ``--weights`` and find the cfg, the class
names and the input size in it.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dltool import atomic
from dltool.checkpoints import load_torch, require_finite, save_torch
from dltool.context import current
from dltool.data.loading import check_workers
from dltool.errors import DltoolError
from dltool.runs import RunDir, find_run, plain
from dltool_yolo import plots
from dltool_yolo.cfg import BUILTIN_CFGS, parse_cfg, tiny_cfg, with_input_size
from dltool_yolo.coco import write_coco
from dltool_yolo.evaluate import collect
from dltool_yolo.evaluate import evaluate as score_results
from dltool_yolo.labels import DataSpec, read_data_yaml, read_label_file

if TYPE_CHECKING:  # torch is imported in the jobs that use it: an .onnx detect runs without it
    import torch

    from dltool.distributed import Dist
    from dltool.precision import Precision
    from dltool_yolo.darknet import Darknet
    from dltool_yolo.dataset import Streamed
    from dltool_yolo.detect import Detector

BUILTIN = {"small": (0.5, 128), "yolov3-tiny": (1.0, 416)}
DEMO_SIZE = 320  # --demo's photos are filled by their subjects (README: yolo)
CHECKPOINT = "dltool-yolo-train/1"
CHECKPOINT_KEYS = ("model", "optimizer", "epoch", "best_map")
CHECKPOINT_WHAT = "yolo training checkpoint"


def check_unit(name: str, value: float) -> float:
    """Return ``value`` if it lies in [0, 1] (NaN does not), else raise naming the option."""
    if not 0.0 <= value <= 1.0:
        raise DltoolError(f"{name} must be between 0 and 1, got {value}", hint="e.g. 0.25")
    return value


# --- trained models: a .weights file or the run folder of `yolo train` ----------------


@dataclass
class ModelFiles:
    """The Darknet files of a model: weights, and the cfg and names found beside them."""

    weights: Path
    cfg: Path | None
    names: Path | None


def model_files(weights: Path, cfg: Path | None = None, names: Path | None = None) -> ModelFiles:
    """Return the files ``--weights`` means: a .weights file, or a run of ``yolo train``.

    A run folder (or its number) gives its best.weights (else last.weights); the cfg and
    names not given are model.cfg and classes.names beside the weights, where present.
    """
    path = Path(weights)
    if path.is_dir() or (not path.exists() and str(weights).isdigit()):
        run = find_run(weights, "yolo", "train")
        found = [run / n for n in ("best.weights", "last.weights") if (run / n).is_file()]
        if not found:
            raise DltoolError(
                f"run {run} holds no best.weights or last.weights",
                hint="it stopped before its first epoch ended: resume it, or give a .weights file",
            )
        path = found[0]
    elif not path.is_file():
        raise DltoolError(
            f"weights file {weights} not found",
            hint="give a .weights file or a run folder of 'dltool yolo train'",
        )
    beside = {n: path.parent / n for n in ("model.cfg", "classes.names")}
    cfg = cfg or (beside["model.cfg"] if beside["model.cfg"].is_file() else None)
    names = names or (beside["classes.names"] if beside["classes.names"].is_file() else None)
    return ModelFiles(path, cfg, names)


def load_model(files: ModelFiles) -> Darknet:
    """Return the Darknet model of ``files`` with its weights; refuse NaN/inf weights."""
    from dltool_yolo.darknet import build, load_weights

    if files.cfg is None:
        raise DltoolError(
            f"no cfg for {files.weights}",
            hint="pass --cfg, or give the run folder of 'dltool yolo train' (it holds model.cfg)",
        )
    model = build(files.cfg)
    load_weights(model, files.weights)
    require_finite(model.state_dict(), files.weights, "YOLO model")
    return model


# --- detect ------------------------------------------------------------------------------


def detect(o: dict[str, Any]) -> None:
    """Detect objects in the images ``o`` names; stream lines, write the annotated copies."""
    from dltool_yolo import predict, sources

    check_unit("--score-threshold", o["score_threshold"])
    check_unit("--iou-threshold", o["iou_threshold"])
    paths = sources.images(o["sources"], o["demo"])
    detector = _detector(o)
    keys = ("score_threshold", "iou_threshold", "max_boxes", "save_txt", "save_crops")
    keys += ("save_conf", "line_width", "hide_labels", "vid_stride", "max_download_mb")
    keys += ("download_timeout",)
    opts = predict.Options(
        **{k: o[k] for k in keys if k in o},
        classes=predict.class_indices(o["classes"], detector.names),
    )
    run_dir = current().run_dir("yolo", "detect", o["out"], exist_ok=o["exist_ok"])
    config = {k: v for k, v in o.items() if k not in ("out", "exist_ok")}
    run_dir.write_config(config | {"sources": [str(p) for p in paths], "size": detector.size})
    result = predict.run(detector, paths, run_dir, opts)
    predict.report_end(result, run_dir, opts, detector.size)
    if not result["images"] and not result["videos"]:
        raise DltoolError(
            f"none of the {len(paths)} file(s) could be read as an image or a video",
            hint="give JPEG, PNG, BMP, GIF, TIFF or WebP files, videos or image URLs",
        )


def _detector(o: dict[str, Any]) -> Detector:
    """Return the user's Darknet model (a file or a training run), or YOLOv3-tiny COCO."""
    if o["weights"] is not None and Path(o["weights"]).suffix.lower() == ".onnx":
        from dltool_yolo import onnx_backend  # onnxruntime and NumPy: torch is not imported

        return onnx_backend.load(o["weights"], o["cfg"], o["names"], o["size"], current().threads)
    from dltool_yolo.detect import Detector, default_detector, read_names

    device = current().device
    if o["weights"] is None:
        if o["cfg"] is not None or o["names"] is not None:
            raise DltoolError(
                "--cfg and --names go with --weights",
                hint="give --weights (a .weights file or a run folder of 'dltool yolo train')",
            )
        demo_only = o["demo"] and not o["sources"]
        return default_detector(device, o["size"] or (DEMO_SIZE if demo_only else 416))
    files = model_files(o["weights"], o["cfg"], o["names"])
    model = load_model(files)
    if files.names is not None:
        names = read_names(files.names)
    elif model.classes == 80:
        from dltool_yolo.detect import default_files
        from dltool_yolo.weights import NAMES

        names = read_names(default_files()[NAMES])
    else:
        raise DltoolError(
            f"{files.cfg} predicts {model.classes} classes: pass their names with --names",
            hint="a .names file lists one class per line",
        )
    return Detector(model, names, device, o["size"] or model.width)


# --- anchors and synth -------------------------------------------------------------------


def anchors(labels: Path, k: int, size: int, seed: int, out: Path | None, exist_ok: bool) -> None:
    """Choose anchor boxes by k-means (1 − IoU) for k = 1..K; table, PNG and cfg line."""
    from dltool_yolo.anchors import kmeans
    from dltool_yolo.boxes import check_input_size
    from dltool_yolo.labels import read_wh

    check_input_size(size)
    wh = read_wh(labels)
    if k > len(wh):
        raise DltoolError(
            f"--k {k} is more than the {len(wh)} boxes in {labels}", hint=f"give --k {len(wh)}"
        )
    rep = current().reporter
    rows, best = [], None
    with rep.progress(k, "k-means") as bar:
        for j in range(1, k + 1):
            best, mean_iou, _ = kmeans(wh, j, seed)
            rows.append({"k": j, "mean_iou": round(mean_iou, 4)})
            bar.advance(mean_iou=mean_iou)
    run = current().run_dir("yolo", "anchors", out, exist_ok=exist_ok)
    run.write_config({"labels": labels, "k": k, "size": size, "init_seed": seed})
    plots.anchors_curve(run.file("anchors.png"), rows, len(wh))
    pixels = [[round(float(w) * size, 1), round(float(h) * size, 1)] for w, h in best]
    run.write_json("anchors.json", {"k": k, "size": size, "anchors": pixels, "table": rows})
    rep.table(f"Mean IoU of the best anchor per box ({len(wh)} boxes)", rows, key="mean_iou")
    rep.table(f"Anchors for k={k} at {size}×{size}", [{"w": w, "h": h} for w, h in pixels])
    cfg_line = ", ".join(f"{round(w)},{round(h)}" for w, h in pixels)
    rep.result("cfg_anchors", cfg_line, label="anchors line for the cfg")
    rep.result("results_dir", str(run.path), label="Results saved to")


def synth(out: Path, n: int, size: int, val_fraction: float, seed: int) -> None:
    """Write a generated detection dataset in YOLO format, with its data.yaml, to ``out``."""
    from dltool_yolo.synth import CLASSES, write_dataset

    check_unit("--val-fraction", val_fraction)
    if (out / "data.yaml").exists():
        raise DltoolError(f"{out} already holds a dataset", hint="choose another folder")
    counts = {"train": [0, 0], "val": [0, 0]}
    rep = current().reporter
    with rep.progress(n, "synth") as bar:
        for split, boxes in write_dataset(out, n, size, val_fraction, seed):
            counts[split][0] += 1
            counts[split][1] += boxes
            bar.advance()
    rows = [{"split": s, "images": c[0], "objects": c[1]} for s, c in counts.items()]
    rep.table(f"Synthetic dataset ({', '.join(CLASSES)})", rows, key="splits")
    rep.result("data", str(out / "data.yaml"), label="Dataset written, data.yaml at")


# --- train -------------------------------------------------------------------------------


def plain_options(params: dict[str, Any]) -> dict[str, Any]:
    """Return train's options as saved in config.yaml: plain values, file paths absolute."""
    out = plain(params)
    for key in ("data", "weights"):
        if out.get(key) is not None:
            out[key] = str(Path(out[key]).resolve())
    if out.get("cfg") is not None and out["cfg"] not in BUILTIN_CFGS:
        out["cfg"] = str(Path(out["cfg"]).resolve())
    return out


def check_train_options(params: dict[str, Any]) -> None:
    """Refuse a start without --data and a learning rate that is not a positive number."""
    if params.get("data") is None:
        raise DltoolError(
            "give --data (the data.yaml of a YOLO dataset)",
            hint="or --resume RUN to continue a run with its own options",
        )
    lr = float(params["lr"])  # plain() writes NaN and inf as text
    if not (math.isfinite(lr) and lr > 0):
        raise DltoolError(f"--lr must be a positive finite number, got {lr}", hint="e.g. 0.002")
    from dltool_yolo.augment import check_size, parse_ops

    if params.get("size") is not None:
        check_size(int(params["size"]))
    parse_ops(params.get("augment"))


def model_cfg(params: dict[str, Any], spec: DataSpec) -> str:
    """Return the cfg text to train: a built-in sized for the data, or the user's file.

    ``--size`` sets the input side of either (the built-in's anchors are fitted at it).
    """
    nc, name = len(spec.names), str(params["cfg"])
    if name in BUILTIN_CFGS:
        width, size = BUILTIN[name]
        size = params.get("size") or size
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
        text = Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise DltoolError(f"cannot read cfg {name}: {why}", hint="give a Darknet .cfg") from exc
    return with_input_size(text, params["size"]) if params.get("size") else text


@dataclass
class Training:
    """What the epochs of one training run share (on every rank)."""

    model: Darknet  # the network itself: its weights are saved and scored
    opt: torch.optim.Optimizer
    params: dict[str, Any]
    spec: DataSpec
    device: torch.device
    seed: int  # the shuffle and augmentation draws depend on (seed, epoch, image)
    prec: Precision
    run: RunDir | None = None  # rank 0's run folder; None on the other ranks
    here: Dist | None = None
    ddp: Any = None  # the model in DistributedDataParallel (the model itself in one process)
    loader: Any = None  # DataLoader of the train split (this rank's share of each batch)
    val: Streamed | None = None
    start: int = 0
    best: float = -1.0


def train(params: dict[str, Any], resume: Path | None, out: Path | None, exist_ok: bool) -> None:
    """Train per ``params`` (``dltool yolo train --help``), or go on with run ``resume``.

    ``--nproc N`` (not under a launcher) starts N workers that re-run this command; each
    (and a single process) then trains as one rank of the group, rank 0 writing the run.
    """
    from dltool import distributed
    from dltool.data.images import check_headers

    check_train_options(params)
    session = current()
    nproc = distributed.check_nproc(params.get("nproc", 1), session.reporter.warn)
    check_workers(params.get("workers", 0), session.reporter.warn)
    distributed.check_sync_bn(bool(params.get("sync_bn")), nproc, session.device)
    state = _load_checkpoint(resume, params["epochs"]) if resume is not None else None
    spec = read_data_yaml(Path(params["data"]))
    pairs = {split: spec.labelled(split) for split in ("train", "val")}
    cfg_text = _read_run_cfg(resume) if resume is not None else model_cfg(params, spec)
    check_headers([p for p, _ in pairs["train"] + pairs["val"]])
    if distributed.spawned(
        nproc, params["batch_size"], session, "yolo train", run={"out": out, "exist_ok": exist_ok}
    ):
        return
    with distributed.joined(session) as (here, device):
        distributed.rank_batch(params["batch_size"], here)
        t = _setup(params, spec, cfg_text, state, device)
        _distribute(t, here, pairs)
        if here.writer:
            t.run = _run_folder(params, resume, out, exist_ok)
            _start_files(t, resume, cfg_text)
        scores = _fit(t)
        if t.run is not None:
            _report(t.run, spec, scores, t.best)
            write_coco(t.run, scores["results"], [p for p, _ in pairs["val"]], t.model.width,
                       spec.names)  # fmt: skip
    return None


def _start_files(t: Training, resume: Path | None, cfg_text: str) -> None:
    """Drop rows a killed run logged after its last.pt, or write model.cfg and classes.names."""
    if resume is not None:  # rows a killed run logged after its last.pt, a half-written line
        t.run.drop_rows_after("epoch", t.start)
        return
    atomic.write_text(t.run.file("model.cfg"), cfg_text)
    atomic.write_text(t.run.file("classes.names"), "".join(n + "\n" for n in t.spec.names))
    _augment_grid(t)


def _augment_grid(t: Training) -> None:
    """Write augment_grid.png: a row per --augment op (and all), a column per train image."""
    from dltool_yolo.augment import grid_rows

    data = t.loader.dataset
    if data.ops:
        rows = grid_rows(data.sample, len(data), data.ops, t.seed)
        plots.augment_grid(t.run.file("augment_grid.png"), rows, t.spec.names)


def _run_folder(params: dict, resume: Path | None, out: Path | None, exist_ok: bool) -> RunDir:
    """Return the run folder: ``resume`` itself, or a new one; write its config.yaml."""
    run = (
        RunDir(resume)
        if resume is not None
        else current().run_dir("yolo", "train", out, exist_ok=exist_ok)
    )
    run.write_config(params)  # on resume: the new --epochs
    return run


def _setup(params: dict, spec: DataSpec, cfg_text: str, state: dict | None, device) -> Training:
    """Return the model (initial or resumed weights), optimizer and precision of a run."""
    import torch

    from dltool.precision import Precision
    from dltool_yolo.darknet import Darknet, check_trainable, load_weights

    s = current()
    seed = s.seed if s.seed is not None else 0
    if state is not None:
        seed = int(state.get("seed", seed))  # the run's own draws, whatever --seed says now
    torch.manual_seed(seed)  # the initial weights too
    model = Darknet(parse_cfg(cfg_text, str(params["cfg"])), str(params["cfg"]))
    if model.classes != len(spec.names):
        raise DltoolError(
            f"the cfg predicts {model.classes} classes, {params['data']} has {len(spec.names)}",
            hint="give a cfg whose [yolo] layers have classes=" + str(len(spec.names)),
        )
    if any(h.kind != "yolo" for h in model.heads):
        raise DltoolError(
            "training supports [yolo] heads (YOLOv3), not YOLOv2's [region]",
            hint="train --cfg small or yolov3-tiny, or a YOLOv3 cfg",
        )
    check_trainable(model)
    if params.get("weights") and state is None:
        load_weights(model, model_files(Path(params["weights"])).weights)
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=params["lr"], weight_decay=5e-4)
    prec = Precision(device, bool(params.get("amp", False)))
    t = Training(model, opt, params, spec, device, seed, prec)
    if state is not None:
        _restore(t, state)
    return t


def _distribute(t: Training, here: Dist, pairs: dict) -> None:
    """Wrap the model in DDP (SyncBatchNorm under --sync-bn) and build this rank's loaders."""
    import warnings

    import torch
    from torch.utils.data import DataLoader, DistributedSampler

    from dltool import distributed
    from dltool_yolo.augment import parse_ops
    from dltool_yolo.dataset import Streamed, YoloDataset, collate

    warnings.filterwarnings("ignore", "This DataLoader will create")  # check_workers warned
    t.here, nc, size = here, len(t.spec.names), t.model.width
    net = t.model
    if t.params.get("sync_bn"):  # a SyncBatchNorm copy shares t.model's parameters
        net = distributed.sync_batchnorm(net, here, current().reporter.warn, "the cfg's network")
    t.ddp = distributed.wrap(net, here, t.device)
    data = YoloDataset(pairs["train"], size, nc, t.seed, ops=parse_ops(t.params.get("augment")))
    sampler = DistributedSampler(data, here.world, here.rank, shuffle=True, seed=t.seed)
    share = distributed.rank_batch(t.params["batch_size"], here)
    t.loader = DataLoader(data, batch_size=share, sampler=sampler, collate_fn=collate,
                          num_workers=t.params.get("workers", 0),
                          generator=torch.Generator().manual_seed(t.seed),
                          pin_memory=t.device.type == "cuda")  # fmt: skip
    t.val = Streamed(YoloDataset(pairs["val"], size, nc, t.seed, flip=False))
    current().reporter.info(f"{len(data)} train / {len(t.val)} val images at {size}×{size}, "
                            f"{share} per step on each of {here.world} rank(s), "
                            f"{t.params.get('workers', 0)} reading worker(s)")  # fmt: skip


def _fit(t: Training) -> dict:
    """Run the epochs from ``t.start`` to ``--epochs``; return the last epoch's scores.

    Ctrl-C: last.pt keeps the last finished epoch (a resume repeats the broken one exactly).
    """
    steps, epoch = len(t.loader), t.start
    scores = {}
    try:
        with current().reporter.progress((t.params["epochs"] - t.start) * steps, "train") as bar:
            for epoch in range(t.start, t.params["epochs"]):
                parts = _epoch(t, epoch, bar)
                scores = _end_epoch(t, epoch, parts)
    except KeyboardInterrupt:
        if t.run is not None and t.run.file("last.pt").is_file():
            current().reporter.warn(f"interrupted in epoch {epoch + 1}: {t.run.path}/last.pt "
                                    "keeps the last finished epoch; continue with: "
                                    f"dltool yolo train --resume {t.run.path}")  # fmt: skip
        raise
    return scores


def _lr(t: Training, step: int, total: int) -> float:
    """Set and return lr = lr₀·(0.05 + 0.95·½(1 + cos(π·step/total))): cosine decay to 5 %."""
    lr = t.params["lr"] * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * step / total)))
    for g in t.opt.param_groups:
        g["lr"] = lr
    return lr


def _epoch(t: Training, epoch: int, bar: Any) -> dict:
    """Train one epoch (this rank's shuffled share, flipped at random); return its mean losses.

    Each step's loss parts are averaged over the ranks (equal shares: the global batch's).
    """
    import torch

    from dltool.distributed import all_sum

    t.loader.sampler.set_epoch(epoch)
    t.loader.dataset.epoch = epoch  # the workers get this copy when the epoch's iterator starts
    steps = len(t.loader)
    t.ddp.train()
    sums = torch.zeros(4, dtype=torch.float64)  # loss, box, obj, cls summed over the steps
    lr = t.params["lr"]
    for i, batch in enumerate(_batches(t.loader)):
        lr = _lr(t, epoch * steps + i, t.params["epochs"] * steps)
        with t.prec.autocast():
            out = t.ddp(batch.images.to(t.device, non_blocking=True))  # heads (B, A·(5+C), H, W)
        out = [o.float() for o in out]  # the loss in float32: exp(t_w) overflows float16
        loss, parts = yolo_loss(t.model, out, batch.targets.to(t.device))
        here = torch.tensor([loss.item(), parts["box"], parts["obj"], parts["cls"]],
                            dtype=torch.float64)  # fmt: skip
        step = all_sum(here, t.here) / t.here.world  # (4,) the global batch's mean
        if not math.isfinite(float(step[0])):
            _stop(t, f"the loss became {float(step[0])} at epoch {epoch + 1}, step {i + 1}", epoch)
        t.opt.zero_grad(set_to_none=True)
        t.prec.step(loss, t.opt)
        sums += step
        bar.advance(loss=float(step[0]), epoch=epoch + 1)
    mean = (sums / steps).tolist()
    return {"loss": mean[0], "box_loss": mean[1], "obj_loss": mean[2], "cls_loss": mean[3],
            "lr": lr}  # fmt: skip


def _batches(loader) -> Any:
    """Yield the loader's batches; an error raised in a reading worker is one DltoolError."""
    from dltool.data.loading import loaded

    return loaded(loader, hint="fix or remove that file and train again")


def yolo_loss(model: Darknet, out: list, targets: torch.Tensor) -> tuple:
    """Return :func:`dltool_yolo.loss.yolo_loss` (imported here: detect runs without torch)."""
    from dltool_yolo.loss import yolo_loss as loss

    return loss(model, out, targets)


def _stop(t: Training, why: str, done: int) -> None:
    """Stop training after ``done`` finished epochs: their last checkpoint stays as it is."""
    kept = f"; {t.run.path}/last.pt keeps epoch {done}" if done and t.run is not None else ""
    raise DltoolError(f"{why}: training stopped{kept}", hint="train again with a smaller --lr")


def _end_epoch(t: Training, epoch: int, parts: dict) -> dict:
    """Rank 0: score the epoch on val, log its losses, metrics and lr, write the checkpoints."""
    import torch

    from dltool_yolo.darknet import save_weights

    if not all(bool(torch.isfinite(p).all()) for p in t.model.parameters()):
        _stop(t, f"the weights became NaN or inf in epoch {epoch + 1}", epoch)
    if t.run is None:  # ranks other than 0: rank 0 scores and writes
        return {}
    t.model.eval()
    scores = _score(t.model, t.spec.names, t.device, t.val, t.val.labels)
    row = {"epoch": epoch + 1, **parts, "precision": scores["precision"],
           "recall": scores["recall"], "map50": scores["map50"],
           "map50_95": scores["map50_95"]}  # fmt: skip
    t.run.log_metrics(**row)
    t.run.best("map50", scores["map50"], "max")
    _log_samples(t, epoch + 1, scores["results"])
    if scores["map50"] > t.best:
        t.best = scores["map50"]
        save_weights(t.model, t.run.file("best.weights"), seen=epoch + 1)
    _save_checkpoint(t, epoch + 1)
    return scores


def _log_samples(t: Training, epoch: int, results: list, n: int = 8) -> None:
    """Add the first ``n`` val images with their detections (score ≥ 0.25) to TensorBoard."""
    from dltool_yolo.plots import prediction_tiles

    n = min(n, len(results))
    if n:
        images = [t.val.dataset.load(i)[0].numpy() for i in range(n)]  # (3, S, S) uint8
        t.run.log_images(
            "val predictions", prediction_tiles(images, results[:n], t.spec.names), epoch
        )


def _score(model: Darknet, names: list[str], device, images, labels) -> dict:
    """Return the mAP scores of a fused copy of ``model`` on the given images (and results)."""
    import torch

    from dltool_yolo.detect import Detector

    detector = Detector(copy.deepcopy(model), names, device, model.width)
    with torch.no_grad():
        results = collect(detector, images, labels)
        return score_results(results, len(names)) | {"results": results}


def _save_checkpoint(t: Training, epoch: int) -> None:
    """Write last.weights and last.pt (weights, optimizer, scaler, seed, epoch)."""
    from dltool_yolo.darknet import save_weights

    save_weights(t.model, t.run.file("last.weights"), seen=epoch)
    state = {"model": t.model.state_dict(), "optimizer": t.opt.state_dict(), "epoch": epoch,
             "best_map": t.best, "seed": t.seed, "scaler": t.prec.state_dict()}  # fmt: skip
    save_torch(t.run.file("last.pt"), state, CHECKPOINT)


def _load_checkpoint(run: Path, epochs: int) -> dict:
    """Return last.pt of ``run`` (loaded safely) when ``epochs`` goes beyond it."""
    path = Path(run) / "last.pt"
    if not path.is_file():
        raise DltoolError(
            f"{run} holds no last.pt to resume from",
            hint="it stopped before its first epoch ended: start a new run",
        )
    state = load_torch(path, CHECKPOINT, CHECKPOINT_WHAT)
    missing = [k for k in CHECKPOINT_KEYS if k not in state]
    if missing:
        raise DltoolError(
            f"{path} is not a {CHECKPOINT_WHAT} (no {', '.join(missing)})",
            hint="give a run folder of 'dltool yolo train'",
        )
    if epochs <= state["epoch"]:
        raise DltoolError(
            f"{run} has trained {state['epoch']} epoch(s) already; --epochs {epochs} adds none",
            hint=f"pass --epochs greater than {state['epoch']} (the total, not the extra)",
        )
    return state


def _read_run_cfg(run: Path) -> str:
    """Return the text of a run's model.cfg."""
    cfg = Path(run) / "model.cfg"
    try:
        return cfg.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise DltoolError(
            f"cannot read {cfg} to resume: {why}", hint="the run folder is damaged; start a new run"
        ) from None


def _restore(t: Training, state: dict) -> None:
    """Load the checkpoint's weights, optimizer and gradient-scaler state into ``t``."""
    try:
        t.model.load_state_dict(state["model"])
        t.opt.load_state_dict(state["optimizer"])
        t.prec.load_state_dict(state.get("scaler"))
    except (RuntimeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DltoolError(
            f"last.pt does not fit its run's model.cfg: {first}",
            hint="the run folder is damaged; start a new run",
        ) from None
    t.start, t.best = int(state["epoch"]), float(state["best_map"])


def _report(run: RunDir, spec: DataSpec, scores: dict, best: float) -> None:
    """Write curves.png and report the last epoch's per-class AP and the best mAP."""
    plots.training_curves(run.file("curves.png"), _metric_rows(run.file("metrics.jsonl")))
    plots.confusion_matrix(run.file("confusion_matrix.png"), spec.names, scores["confusion"],
                           scores["conf"])  # fmt: skip
    rep = current().reporter
    rep.table("Validation AP (last epoch)", _ap_rows(spec.names, scores), key="per_class")
    _report_scores(rep, scores)
    rep.result("best_map50", round(best, 4), label="best mAP@0.5")
    rep.result("results_dir", str(run.path), label="Results saved to")


def _metric_rows(path: Path) -> list[dict]:
    """Return the epoch rows of ``path`` (JSON lines), passing over a line that is not one."""
    import json

    rows = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and {"epoch", "loss", "map50", "map50_95"} <= row.keys():
            rows.append(row)
    return rows


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


# --- evaluate ----------------------------------------------------------------------------


def evaluate(o: dict[str, Any]) -> None:
    """Score a model (a training run, weights, or COCO) on a split: AP table, mAP, PR curve."""
    from dltool_yolo.dataset import load_split

    s = current()
    spec = read_data_yaml(o["data"])
    pairs = spec.labelled(o["split"])
    detector, remap = _eval_detector(o, spec.names)
    images, labels = load_split(pairs, detector.size, len(spec.names))
    results = collect(detector, images, labels)
    if remap is not None:
        for r in results:
            keep = np.isin(r.classes, list(remap))
            r.boxes, r.scores = r.boxes[keep], r.scores[keep]
            r.classes = np.array([remap[int(c)] for c in r.classes[keep]], dtype=int)
    scores = score_results(results, len(spec.names))
    run = s.run_dir("yolo", "evaluate", o["out"], exist_ok=o["exist_ok"])
    config = {k: v for k, v in o.items() if k not in ("out", "exist_ok")}
    run.write_config(config | {"size": detector.size})
    plots.pr_curves(run.file("pr_curve.png"), spec.names, scores)
    plots.confusion_matrix(run.file("confusion_matrix.png"), spec.names, scores["confusion"],
                           scores["conf"])  # fmt: skip
    write_coco(run, results, [p for p, _ in pairs], detector.size, spec.names)
    rep = s.reporter
    title = f"AP on {o['split']} ({len(images)} images)"
    rep.table(title, _ap_rows(spec.names, scores), key="per_class")
    _report_scores(rep, scores)
    rep.result("results_dir", str(run.path), label="Results saved to")


def _report_scores(rep, scores: dict) -> None:
    """Report precision and recall (at the best-F1 score threshold) beside the two mAPs."""
    at = f" (score ≥ {scores['conf']:.3f}, best F1)"
    rep.result("precision", round(scores["precision"], 4), label="precision" + at)
    rep.result("recall", round(scores["recall"], 4), label="recall" + at)
    rep.result("conf", round(scores["conf"], 4), label="best-F1 score threshold")
    rep.result("map50", round(scores["map50"], 4), label="mAP@0.5")
    rep.result("map50_95", round(scores["map50_95"], 4), label="mAP@0.5:0.95")


def _eval_detector(o: dict[str, Any], names: list[str]) -> tuple[Detector, dict | None]:
    """Return the detector to score and the COCO → data class map (None: same classes)."""
    from dltool_yolo.detect import Detector, default_detector

    device = current().device
    if o["weights"] is None:
        detector = default_detector(device, o["size"] or 416)
        coco = detector.names
        missing = [n for n in names if n not in coco]
        if missing:
            raise DltoolError(
                f"classes {', '.join(missing)} are not COCO classes of the default model",
                hint="pass --weights: a run folder of 'dltool yolo train' on this data",
            )
        return detector, {coco.index(n): i for i, n in enumerate(names)}
    model = load_model(model_files(o["weights"], o["cfg"]))
    if model.classes != len(names):
        raise DltoolError(
            f"the model predicts {model.classes} classes, {o['data']} has {len(names)}",
            hint="give the weights of a model trained on this data",
        )
    return Detector(model, names, device, o["size"] or model.width), None


# --- export ------------------------------------------------------------------------------


def export(o: dict[str, Any]) -> None:
    """Export the detector as ONNX or TorchScript into a run folder, with model.json beside."""
    from dltool import exporting
    from dltool_yolo import export as ex

    if o["weights"] is not None and Path(o["weights"]).suffix.lower() == ".onnx":
        raise DltoolError(f"{o['weights']} is exported already",
                          hint="give Darknet .weights or a run of 'dltool yolo train'")  # fmt: skip
    if o["format"] == "onnx":
        exporting.need_onnx()
    detector = _detector({**o, "demo": False, "sources": []})  # export moves it to the CPU
    weights, source = _export_source(o)
    meta = ex.metadata(detector, weights, source)
    run = current().run_dir("yolo", "export", o["out"], exist_ok=o["exist_ok"])
    run.clear("model.onnx", "model.torchscript", "model.json")
    run.write_config({k: v for k, v in o.items() if k not in ("out", "exist_ok")})
    path = run.file("model" + exporting.SUFFIX[o["format"]])
    current().reporter.info(f"exporting {source} at {detector.size}×{detector.size} to {path}")
    info = ex.export_detector(detector, o["format"], path, o["dynamic"], meta)
    run.write_json("model.json", meta | info)
    _report_export(info, run)


def _export_source(o: dict[str, Any]) -> tuple[Path | None, str]:
    """Return the weights file exported and a name for it (COCO YOLOv3-tiny by default)."""
    if o["weights"] is None:
        from dltool_yolo.detect import default_files
        from dltool_yolo.weights import WEIGHTS

        return default_files()[WEIGHTS], "yolov3-tiny (COCO)"
    files = model_files(o["weights"], o["cfg"], o["names"])
    return files.weights, str(files.weights)


def _report_export(info: dict[str, Any], run: RunDir) -> None:
    """Report the exported file, its size and its largest difference from torch."""
    rep = current().reporter
    rep.result("file", info["file"], label="Exported")
    rep.result("format", info["format"], label="format")
    rep.result("bytes", info["bytes"], label="bytes")
    if "dynamic_axes" in info:
        rep.result("dynamic_axes", info["dynamic_axes"], label="dynamic axes")
    rep.result("max_abs_diff", float(f"{info['max_abs_diff']:.3g}"), label="max |Δ| vs torch")
    rep.result("results_dir", str(run.path), label="Results saved to")
