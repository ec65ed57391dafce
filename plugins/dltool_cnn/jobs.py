"""The ``cnn train`` and ``cnn predict`` commands: data, model, loop, checkpoints, reports."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from dltool.context import current
from dltool.errors import DltoolError
from dltool.runs import RunDir
from dltool_cnn import train as T

FLEXIBLE_SIZE = 32  # default --image-size for models that take any size
DEFAULT_SEED = 0


def _check_config(config: dict) -> None:
    """Raise a DltoolError for an unknown model, optimizer, augmentation or freeze value."""
    from dltool_cnn import MODELS
    from dltool_cnn.augment import parse_ops

    names = [m[0] for m in MODELS]
    if not config.get("pretrained") and config["model"] not in names:
        raise DltoolError(f"unknown model '{config['model']}'", hint=f"models: {', '.join(names)}")
    if config["optimizer"] not in ("adam", "sgd"):
        raise DltoolError(f"unknown optimizer '{config['optimizer']}'", hint="adam or sgd")
    if config.get("augment"):
        parse_ops(config["augment"])
    if config.get("pretrained"):
        from dltool_cnn.transfer import check_pretrained

        check_pretrained(config["pretrained"], config["freeze"])


def _image_size(config: dict) -> int:
    """Return --image-size, else 32 for models that take it, else the native size; check it."""
    if config.get("pretrained"):
        from dltool_cnn.transfer import DEFAULT_SIZE

        return config["image_size"] or DEFAULT_SIZE
    from dltool_cnn import MODELS, models
    from dltool_cnn.summary import build_meta, input_hint, try_forward

    native = {m[0]: m[3] for m in MODELS}[config["model"]]
    net = build_meta(getattr(models, config["model"]))
    size = config["image_size"]
    if size is None:
        size = FLEXIBLE_SIZE if try_forward(net, (native[0], 32, 32)) else native[1]
    elif not try_forward(net, (native[0], size, size)):
        raise DltoolError(
            f"{config['model']} cannot take {size}x{size} images",
            hint=input_hint(net, native, lambda n: f"{n}x{n} (--image-size {n})"),
        )
    return size


def _channels(config: dict) -> int:
    """Return 1 for digits on a scratch model, else 3."""
    return 1 if config["data"] == "digits" and not config.get("pretrained") else 3


def _given(ctx) -> dict[str, str]:
    """Return {parameter name: its option} for the options typed on the command line."""
    given = {}
    for param in ctx.command.params:
        source = ctx.get_parameter_source(param.name)
        if source is not None and source.name == "COMMANDLINE":
            given[param.name] = param.opts[0]
    return given


def _start(params: dict, resume: Path | None, ctx):
    """Return (config, checkpoint or None, run path or None) for a new or resumed run."""
    session = current()
    if resume is None:
        config = {**params, "seed": DEFAULT_SEED if session.seed is None else session.seed}
        _check_config(config)
        return config, None, None
    run_path = resume if resume.is_dir() else resume.parent
    state = T.load_checkpoint(run_path / T.LAST)
    config = dict(state["config"])
    if "epochs" in _given(ctx):
        config["epochs"] = params["epochs"]
    ignored = [opt for name, opt in _given(ctx).items() if name not in ("epochs", "resume")]
    if ignored:
        session.reporter.warn(
            f"--resume continues with the run's saved settings; ignoring {', '.join(ignored)} "
            "(only --epochs applies)"
        )
    if state["epoch"] >= config["epochs"]:
        raise DltoolError(
            f"run {run_path} already finished {state['epoch']} of {config['epochs']} epochs",
            hint=f"pass --epochs N with N > {state['epoch']} to train further",
        )
    return config, state, run_path


def train_command(params: dict, resume: Path | None, out: Path | None, ctx) -> None:
    """Train (or resume) and write checkpoints, metrics, curves and the confusion matrix."""
    from dltool_cnn import data as D

    session = current()
    rep = session.reporter
    config, state, run_path = _start(params, resume, ctx)
    config["image_size"] = _image_size(config)
    dataset = D.load(config["data"], config["image_size"], _channels(config), config["seed"])
    train_set, dev_set = D.split(dataset, config["dev_fraction"], config["seed"])
    mean = train_set.X.mean(axis=(0, 1, 2))
    std = train_set.X.std(axis=(0, 1, 2)) + 1e-6
    device = session.device
    torch.manual_seed(config["seed"])
    model = T.build_classifier(config, len(dataset.classes), dataset.channels, mean, std)
    model = model.to(device)
    optimizer = T.make_optimizer(config, model)
    history, best, start = [], -1.0, 0
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        history, best, start = list(state["history"]), state["best_dev_acc"], state["epoch"]
        rep.info(f"resuming {run_path} after epoch {start} of {config['epochs']}")
    run = RunDir(run_path) if run_path else session.run_dir("cnn", "train", out)  # inputs are OK
    run.write_config(config)
    ops = [o.strip() for o in config["augment"].split(",")] if config.get("augment") else None
    loader = D.Batches(train_set, config["batch_size"], ops, config["seed"])
    meta = {"config": config, "classes": dataset.classes, "channels": dataset.channels}

    def checkpoint(epoch: int, **extra) -> dict:
        return {**meta, "model": model.state_dict(), "epoch": epoch, "history": history,
                "best_dev_acc": best, **extra}  # fmt: skip

    size = config["image_size"]
    rep.info(f"{len(train_set.y)} train / {len(dev_set.y)} dev images, "
             f"{len(dataset.classes)} classes, {size}px, device {device}")  # fmt: skip
    for epoch in range(start, config["epochs"]):
        loader.epoch = epoch
        try:
            with rep.progress(len(loader), f"epoch {epoch + 1}/{config['epochs']}") as bar:
                stats = T.train_epoch(model, loader, optimizer, device, bar)
        except KeyboardInterrupt:
            T.save_checkpoint(
                run.file(T.LAST),
                checkpoint(epoch, optimizer=optimizer.state_dict(), interrupted=True),
            )
            rep.warn(f"saved {run.file(T.LAST)} ({epoch} epochs done); "
                     f"continue with: dltool cnn train --resume {run.path}")  # fmt: skip
            raise
        dev_pred = T.predict_proba(model, dev_set.X, device).argmax(1)
        row = {"epoch": epoch + 1, "train_loss": stats["loss"], "train_acc": stats["acc"],
               "dev_acc": float((dev_pred == dev_set.y).mean()),
               "images_per_s": stats["images"] / stats["seconds"]}  # fmt: skip
        history.append(row)
        run.log_metrics(**row)
        improved = row["dev_acc"] > best
        if improved:
            best = row["dev_acc"]
            T.save_checkpoint(run.file(T.BEST), checkpoint(epoch + 1))
        T.save_checkpoint(run.file(T.LAST), checkpoint(epoch + 1, optimizer=optimizer.state_dict()))
        rep.info(f"epoch {epoch + 1}: loss {row['train_loss']:.4f}  train {row['train_acc']:.3f}"
                 f"  dev {row['dev_acc']:.3f}{'  (best)' if improved else ''}"
                 f"  {row['images_per_s']:.0f} img/s")  # fmt: skip
    _finish(run, model, dev_set, dataset.classes, history, device)


def _finish(run: RunDir, model, dev_set, classes, history, device) -> None:
    """Reload the best model, write the confusion matrix and curves, report the results."""
    rep = current().reporter
    best = T.load_checkpoint(run.file(T.BEST))
    model.load_state_dict(best["model"])
    pred = T.predict_proba(model, dev_set.X, device).argmax(1)
    cm = T.confusion_matrix(dev_set.y, pred, len(classes))
    T.plot_confusion(run.file("confusion.png"), cm, classes)
    T.plot_curves(run.file("curves.png"), history)
    run.write_json("confusion.json", {"classes": classes, "matrix": cm.tolist()})
    rep.table("Epochs", history, key="epochs")
    rep.result("best_epoch", best["epoch"], "best epoch")
    rep.result("best_dev_acc", best["best_dev_acc"], "best dev accuracy")
    rep.result("run_dir", str(run.path), "run directory")


# ---------------------------------------------------------------- predict


def _checkpoint_path(source: str) -> Path:
    """Return the checkpoint a run directory or .pt path names."""
    from dltool_cnn import MODELS

    if source in {m[0] for m in MODELS}:
        raise DltoolError(
            f"model '{source}' has no trained weights",
            hint=f"train it with `dltool cnn train --model {source}` and pass the run directory",
        )
    path = Path(source)
    if path.is_dir():
        return path / T.BEST if (path / T.BEST).is_file() else path / T.LAST
    if path.is_file():
        return path
    raise DltoolError(
        f"'{source}' is neither a run directory, a checkpoint nor efficientnet-lite0",
        hint="pass runs/cnn/train/N (from `dltool cnn train`)",
    )


def predict_command(source: str, paths: list[Path], top: int) -> None:
    """Print the top-k classes of each image under a trained run or the ImageNet model."""
    from dltool_cnn.images import load_image

    session = current()
    if source == "efficientnet-lite0":
        from dltool_cnn.transfer import imagenet_model

        model, classes, size, channels = imagenet_model(session.device)
    else:
        state = T.load_checkpoint(_checkpoint_path(source))
        config, classes, channels = state["config"], state["classes"], state["channels"]
        size = config["image_size"]
        zeros = np.zeros(channels)
        model = T.build_classifier({**config, "pretrained_weights": False}, len(classes),
                                   channels, zeros, zeros + 1)  # fmt: skip
        model.load_state_dict(state["model"])
        model = model.to(session.device)
    mode = "L" if channels == 1 else "RGB"
    X = np.stack([load_image(p, mode, size) for p in paths])  # (N, H, W, C)
    proba = T.predict_proba(model, X, session.device)
    k = min(top, len(classes))
    rows = []
    for path, p in zip(paths, proba, strict=True):
        for rank, c in enumerate(np.argsort(-p)[:k], 1):
            rows.append({"image": str(path), "rank": rank, "class": classes[c],
                         "probability": round(float(p[c]), 4)})  # fmt: skip
    session.reporter.table(f"Top-{k} predictions", rows, key="predictions")
