"""The jobs of ``dltool cnn``: models, summary, shapes, conv, augment, train and predict.

``cli.py`` holds the signatures; each command builds its options and calls one job here.
NumPy, torch, PIL and matplotlib are imported inside the jobs that need them, so
``dltool cnn shapes`` starts without them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from dltool.context import current
from dltool.data.loading import check_workers
from dltool.errors import DltoolError
from dltool.precision import check_amp
from dltool.runs import RunDir, check_not_input, plain

FLEXIBLE_SIZE = 32  # default --image-size for models that take any size
DEFAULT_SEED = 0
PREDICT_CHUNK = 64  # images read and classified at a time


def _seed() -> int:
    """Return the global --seed, or DEFAULT_SEED."""
    seed = current().seed
    return DEFAULT_SEED if seed is None else seed


def _model_sizes() -> dict[str, tuple[str, str, tuple[int, ...]]]:
    """Return {name: (builder, description, (C, H, W))} of the models this plugin provides."""
    from dltool_cnn import MODELS

    return {name: (builder, desc, size) for name, builder, desc, size in MODELS}


def _model_entry(name: str):
    """Return (builder function, native input) of ``name``; unknown names list the known ones."""
    known = _model_sizes()
    if name not in known:
        raise DltoolError(f"unknown model '{name}'", hint=f"models: {', '.join(known)}")
    from dltool_cnn import models

    builder, _, size = known[name]
    return getattr(models, builder), size


# ---------------------------------------------------------------- models, summary, shapes


def models_job() -> None:
    """List the classic CNNs with their native input size and parameter count."""
    from dltool_cnn.summary import build_meta

    rows = []
    for name, (_, desc, size) in _model_sizes().items():
        builder, _ = _model_entry(name)
        model = build_meta(builder)
        rows.append({"name": name, "input (C x H x W)": "x".join(map(str, size)),
                     "parameters": sum(p.numel() for p in model.parameters()),
                     "description": desc})  # fmt: skip
    current().reporter.table("CNN models", rows, key="models")


def summary_job(model: str, input: str | None, all_layers: bool) -> None:
    """Print the layer table of ``model`` on ``input`` (CxHxW, default its native size)."""
    from dltool_cnn import summary as S

    builder, native = _model_entry(model)
    shape = S.parse_chw(input) if input else native
    net = S.build_meta(builder, in_channels=shape[0])
    if not S.try_forward(net, shape):
        takes = S.input_hint(S.build_meta(builder), native, lambda n: f"{native[0]}x{n}x{n}")
        raise DltoolError(
            f"{model} cannot take a {'x'.join(map(str, shape))} input",
            hint=f"{takes} (native {'x'.join(map(str, native))})",
        )
    rows = S.summarize(net, shape, all_layers)
    rep = current().reporter
    rep.table(f"{model} on {'x'.join(map(str, shape))}", rows, key="layers")
    rep.result("parameters", sum(p.numel() for p in net.parameters()), "total parameters")
    rep.result("layer_count", len(rows), "layers shown")


def shapes_job(input: str, layers: str) -> None:
    """Print n_out = ⌊(n + 2p − f)/s⌋ + 1 applied layer by layer."""
    from dltool_cnn import shapes as S

    hwc = S.parse_hwc(input)
    steps = S.calculate(hwc, S.parse_layers(layers))
    rows = [{"step": 0, "layer": "INPUT", "notation": "", "formula": "",
             "output (H x W x C)": " x ".join(map(str, hwc)), "parameters": 0}]  # fmt: skip
    for i, st in enumerate(steps, 1):
        rows.append({"step": i, "layer": st.layer, "notation": st.notation, "formula": st.formula,
                     "output (H x W x C)": " x ".join(map(str, st.shape)),
                     "parameters": st.params})  # fmt: skip
    rep = current().reporter
    rep.table("Output size n_out = ⌊(n + 2p − f)/s⌋ + 1", rows, key="steps")
    rep.result("output", list(steps[-1].shape), "output shape")
    rep.result("parameters", sum(st.params for st in steps), "parameters")


# ---------------------------------------------------------------- conv, augment


def _check_outputs(output: Path | None, out: Path | None, formats: dict[str, str]) -> None:
    """Refuse -o and --out together, an -o suffix not in ``formats``, an --out named like a file."""
    from dltool.report import output_format

    if output is not None and out is not None:
        raise DltoolError(
            "-o/--output and --out both given",
            hint="-o FILE writes one file; --out DIR a run folder: give one of them",
        )
    if output is not None:
        output_format(output, formats)
    if out is not None and out.suffix.lower() in formats and not out.is_dir():
        raise DltoolError(
            f"--out {out} names a run folder, not a {out.suffix} file",
            hint=f"write one file with -o {out}",
        )


def _run(command: str, out: Path | None, exist_ok: bool, config: dict) -> RunDir:
    """Create the run folder of ``command`` (inputs already checked) and save its options."""
    run = current().run_dir("cnn", command, out, exist_ok)
    run.write_config(config)
    return run


def conv_job(opts: dict[str, Any]) -> None:
    """Convolve one image with a classic 3×3 filter (NumPy conv_forward); write the response."""
    from dltool.data.images import IMAGE_FORMATS, output_name, write_image
    from dltool_cnn import images
    from dltool_cnn.filters import FILTER_NAMES, FILTERS, SMOOTHING

    rep = current().reporter
    if opts["filter"] == "list":
        rows = [{"filter": n, "kernel": FILTERS.get(n, "√(Gx² + Gy²)")}
                for n in FILTER_NAMES]  # fmt: skip
        rep.table("Filters", rows, key="filters")
        return
    name, stride, pad, output = opts["filter"], opts["stride"], opts["pad"], opts["output"]
    _check_outputs(output, opts["out"], IMAGE_FORMATS)
    source = images.one_image(opts["image"], "conv")
    check_not_input(output, [source])
    img = images.load_image(source, "RGB" if opts["color"] else "L")  # (H, W, C)
    images.check_conv_size(img.shape, stride, pad, name == "sobel")
    response = images.apply_filter(img, name, stride, pad)  # (n_H, n_W, C)
    shown = images.to_display(response, name not in SMOOTHING)
    pixels = images.to_uint8(shown)
    if output is None:
        run = _run("conv", opts["out"], opts["exist_ok"], {**opts, "image": str(source)})
        output = write_image(pixels, run.file(output_name(source)))
        from dltool_cnn.plots import plot_conv

        plot_conv(run.file(f"{source.stem}_figure.png"), img, shown, name, stride, pad)
        rep.result("run_dir", str(run.path), "run directory")
    else:
        write_image(pixels, output)
    (h, w, c), (n_h, n_w, _) = img.shape, response.shape
    rep.result("input", f"{h}x{w}x{c}", "input (H x W x C)")
    rep.result("output", f"{n_h}x{n_w}x{c}", f"output ⌊(n + 2·{pad} − 3)/{stride}⌋ + 1")
    rep.result("range", [float(response.min()), float(response.max())], "response range")
    rep.result("wrote", str(output), "wrote")


def augment_job(opts: dict[str, Any]) -> None:
    """Write a grid of randomly augmented copies of one image (and the copies, in a run)."""
    import numpy as np

    from dltool.data.images import output_name, write_image
    from dltool.report import PLOT_FORMATS
    from dltool_cnn import augment as A
    from dltool_cnn.images import load_image, one_image, to_uint8
    from dltool_cnn.plots import plot_augmented

    names = A.parse_ops(opts["ops"])
    _check_outputs(opts["output"], opts["out"], PLOT_FORMATS)
    source = one_image(opts["image"], "augment")
    check_not_input(opts["output"], [source])
    img = load_image(source, "RGB", opts["size"])
    rng = np.random.default_rng(_seed())
    drawn = [A.random_augment(img, rng, names, at_least_one=True) for _ in range(opts["n"])]
    copies, applied = [c for c, _ in drawn], [a for _, a in drawn]
    grid = opts["output"]
    if grid is None:
        run = _run("augment", opts["out"], opts["exist_ok"], {**opts, "image": str(source)})
        for k, copy in enumerate(copies, 1):
            write_image(to_uint8(copy), run.file(output_name(source, tag=f"_{k}")))
        grid = run.file(f"{source.stem}_grid.png")
        current().reporter.result("run_dir", str(run.path), "run directory")
    plot_augmented(grid, img, copies, applied)
    rep = current().reporter
    rep.table("Augmentations", [{"copy": i + 1, "ops": "+".join(c)} for i, c in enumerate(applied)],
              key="copies")  # fmt: skip
    rep.result("wrote", str(grid), "wrote")


# ---------------------------------------------------------------- train


def check_lr(lr: Any) -> None:
    """Refuse a learning rate that is not a positive finite number up to MAX_LR."""
    from dltool_cnn import MAX_LR

    number = isinstance(lr, (int, float)) and not isinstance(lr, bool)
    if not number or not (math.isfinite(lr) and 0 < lr <= MAX_LR):
        raise DltoolError(
            f"--lr {f'{lr:g}' if number else repr(lr)} is not a positive finite learning rate "
            f"up to {MAX_LR:g}",
            hint="use a small positive number such as --lr 0.001 (Adam) or 0.01 (SGD)",
        )


def check_dev_fraction(fraction: Any) -> None:
    """Refuse a dev share that is not a finite number in [0.01, 0.9] (a resumed config.yaml)."""
    number = isinstance(fraction, (int, float)) and not isinstance(fraction, bool)
    if not number or not (math.isfinite(fraction) and 0.01 <= fraction <= 0.9):
        raise DltoolError(
            f"--dev-fraction {fraction!r} is not a number from 0.01 to 0.9",
            hint="keep a share of the images for dev, such as --dev-fraction 0.2",
        )


def check_config(config: dict) -> None:
    """Raise a DltoolError for a bad model, optimizer, augmentation, freeze, lr or dev fraction."""
    from dltool_cnn import MODELS
    from dltool_cnn.augment import parse_ops

    names = [m[0] for m in MODELS]
    if not config.get("pretrained") and config["model"] not in names:
        raise DltoolError(f"unknown model '{config['model']}'", hint=f"models: {', '.join(names)}")
    if config["optimizer"] not in ("adam", "sgd"):
        raise DltoolError(f"unknown optimizer '{config['optimizer']}'", hint="adam or sgd")
    check_lr(config["lr"])
    check_dev_fraction(config["dev_fraction"])
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


def _start(ctx, params: dict, resume: Path | None, out: Path | None, config_path):
    """Return (config, checkpoint or None, run path or None) for a new or resumed run."""
    from dltool.commands import resumed_options
    from dltool_cnn import train as T

    if resume is None:
        return {**params, "seed": _seed()}, None, None
    run_path, config = resumed_options(ctx, params, resume, "cnn", "train", config_path)
    state = T.load_checkpoint(run_path / T.LAST)
    if state["epoch"] >= config["epochs"]:
        raise DltoolError(
            f"run {run_path} already finished {state['epoch']} of {config['epochs']} epochs",
            hint=f"pass --epochs N with N > {state['epoch']} to train further",
        )
    return config, state, run_path


def train_job(ctx, params: dict, run: dict) -> None:
    """Train (or resume) and write checkpoints, metrics, curves and the confusion matrix.

    ``run`` holds the run options: resume, out, exist_ok and config (the --config file).
    """
    from dltool import distributed
    from dltool_cnn import data as D

    check_lr(params["lr"])  # before plain(), which writes inf and nan as text
    params = plain(params)
    session = current()
    nproc = distributed.check_nproc(params.get("nproc", 1), session.reporter.warn)
    check_workers(params.get("workers", 0), session.reporter.warn)
    config, state, run_path = _start(ctx, params, run["resume"], run["out"], run["config"])
    check_config(config)
    check_amp(session.device, bool(config.get("amp")))
    distributed.check_sync_bn(bool(config.get("sync_bn")), nproc, session.device)
    config["image_size"] = _image_size(config)
    if distributed.spawned(nproc, config["batch_size"], session, "cnn train", run):
        return
    with distributed.joined(session) as (here, device):
        distributed.rank_batch(config["batch_size"], here)
        train_set, dev_set = D.open_sets(config["data"], config["image_size"], _channels(config),
                                         config["dev_fraction"], config["seed"])  # fmt: skip
        _warn_workers(config, train_set, session.reporter) if here.writer else None
        stats = D.channel_stats(train_set)  # reads a folder's images: errors before the run
        folder = _run_folder(session, run_path, run) if here.writer else None
        if folder is not None:
            folder.write_config(config)
        training = Training(config, (train_set, dev_set), stats, folder, session)
        training.distribute(here, device)
        training.train(state)


def _warn_workers(config: dict, train_set, rep) -> None:
    """Say that --workers does nothing for a built-in set held in memory."""
    from dltool_cnn import data as D

    workers = config.get("workers", 0)
    if workers and isinstance(train_set, D.ImageSet):
        rep.info(f"{config['data']} is held in memory: --workers reads image folders only")


def _run_folder(session, run_path: Path | None, run: dict) -> RunDir:
    """Return the resumed run's folder or a new one (rank 0 only: the writer)."""
    if run_path:
        return RunDir(run_path)
    return session.run_dir("cnn", "train", run["out"], run["exist_ok"])  # inputs are OK


class Training:
    """One training run: the model, its optimizer, the epochs loop, checkpoints and reports."""

    def __init__(self, config: dict, sets: tuple, stats: tuple, run: RunDir, session):
        """Build the model (Normalize(mean, std) first), its optimizer and the batches.

        ``sets`` are (train, dev); ``stats`` the training images' per-channel (mean, std).
        """
        import torch

        from dltool.precision import Precision
        from dltool_cnn import data as D
        from dltool_cnn import train as T

        (train_set, dev_set), (mean, std), classes = sets, stats, sets[0].classes
        self.config, self.classes, self.dev_set, self.run = config, classes, dev_set, run
        self.rep, self.device = session.reporter, session.device
        self.workers = config.get("workers", 0)
        self.precision = Precision(self.device, bool(config.get("amp")))
        torch.manual_seed(config["seed"])
        channels = train_set.channels
        model = T.build_classifier(config, len(classes), channels, mean, std)
        self.model = model.to(self.device)
        self.optimizer = T.make_optimizer(config, self.model)
        ops = [o.strip() for o in config["augment"].split(",")] if config.get("augment") else None
        self.loader = self._batches(train_set, config["batch_size"], ops, (0, 1))
        self.meta = {"config": plain(config), "classes": list(classes), "channels": channels}
        self.net, self.train_set, self.ops = self.model, train_set, ops  # net: without DDP
        self.here = None
        self.history: list[dict] = []
        self.steps: list[float] = []
        self.best = -1.0
        amp = f", amp {self.precision.dtype_name}" if self.precision.enabled else ""
        streamed = "" if isinstance(train_set, D.ImageSet) else ", read per batch"
        self.rep.info(f"{len(train_set.y)} train / {len(dev_set.y)} dev images, "
                      f"{len(classes)} classes, {config['image_size']}px, "
                      f"device {self.device}{amp}{streamed}")  # fmt: skip

    def _batches(self, train_set, batch_size: int, ops, shard):
        """Return the training batches of this rank (in memory, or read by a DataLoader)."""
        from dltool_cnn import data as D

        return D.train_batches(train_set, batch_size, ops, self.config["seed"], shard,
                               self.workers, self.device.type == "cuda")  # fmt: skip

    def _sync_bn(self, here) -> None:
        """Under --sync-bn: batch norm over the global batch (SyncBatchNorm) with several ranks."""
        from dltool import distributed

        if self.config.get("sync_bn"):
            name = self.config.get("pretrained") or self.config["model"]
            self.net = distributed.sync_batchnorm(self.net, here, self.rep.warn, name)

    def distribute(self, here, device) -> None:
        """Train as one rank of ``here``: DDP model, this rank's share of each global batch."""
        from dltool import distributed
        from dltool.precision import Precision

        self._sync_bn(here)
        if not here.active:
            return
        self.here, self.device = here, device
        self.precision = Precision(device, bool(self.config.get("amp")))
        self.net = self.model = self.net.to(device)
        self.model = distributed.wrap(self.net, here, device)
        share = distributed.rank_batch(self.config["batch_size"], here)
        self.loader = self._batches(self.train_set, share, self.ops, (here.rank, here.world))
        self.rep.info(f"rank {here.rank} of {here.world}: {share} images per step, "
                      f"device {device}")  # fmt: skip

    def checkpoint(self, epoch: int, optimizer: bool = True, **extra) -> dict:
        """Return the checkpoint state after ``epoch`` epochs (tensors and plain values)."""
        import torch

        state = {**self.meta, "model": self.net.state_dict(), "epoch": epoch,
                 "history": plain(self.history), "best_dev_acc": self.best,
                 "step_losses": torch.tensor(self.steps, dtype=torch.float64),
                 "scaler": self.precision.state_dict(), **extra}  # fmt: skip
        if optimizer:
            state["optimizer"] = self.optimizer.state_dict()
        return state

    def restore(self, state: dict) -> int:
        """Load a resumed run's weights, optimizer, history and best accuracy; return its epoch."""
        try:
            self.net.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.precision.load_state_dict(state.get("scaler"))
        except (RuntimeError, KeyError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DltoolError(f"{self.run.file('last.pt')} does not fit its run ({first})",
                              hint="start a new run") from None  # fmt: skip
        self.history, self.best = list(state["history"]), float(state["best_dev_acc"])
        self.steps = [float(v) for v in state.get("step_losses", [])]
        self.rep.info(f"resuming {self.run.path} after epoch {state['epoch']} "
                      f"of {self.config['epochs']}")  # fmt: skip
        return int(state["epoch"])

    def train(self, state: dict | None) -> None:
        """Train the remaining epochs, then report on the best model."""
        start = self.restore(state) if state is not None else 0
        for epoch in range(start, self.config["epochs"]):
            try:
                self.epoch(epoch)
            except KeyboardInterrupt:
                self._save_interrupted(epoch)
                raise
        if self.run is not None:
            self.finish()

    def _save_interrupted(self, epoch: int) -> None:
        """Ctrl-C in ``epoch`` (0-based; training, evaluation or saving): rank 0 saves last.pt."""
        from dltool_cnn import train as T

        if self.run is None:
            return
        path = self.run.file(T.LAST)
        T.save_checkpoint(path, self.checkpoint(epoch, interrupted=True))
        self.rep.warn(f"saved {path} ({epoch} epochs done); "
                      f"continue with: dltool cnn train --resume {self.run.path}")  # fmt: skip

    def _train_epoch(self, epoch: int) -> dict:
        """Run one epoch's mini-batch updates; return its stats."""
        from dltool_cnn import train as T

        self.loader.epoch = epoch
        total = self.config["epochs"]
        with self.rep.progress(len(self.loader), f"epoch {epoch + 1}/{total}") as bar:
            return T.train_epoch(self.model, self.loader, self.optimizer, self.device, bar,
                                 here=self.here, precision=self.precision)  # fmt: skip

    def _diverged(self, epoch: int, loss: float) -> DltoolError:
        """Return the error for a NaN/inf loss in ``epoch`` (0-based); last.pt stays as it was."""
        from dltool_cnn import train as T

        kept = (
            ""
            if self.run is None
            else f"; {self.run.file(T.LAST)} keeps the weights after epoch {epoch}"
            if self.run.file(T.LAST).is_file()
            else "; no checkpoint was written"
        )
        return DltoolError(
            f"training diverged in epoch {epoch + 1}: the loss became {loss}{kept}",
            hint=f"train again with a smaller --lr than {self.config['lr']:g}",
        )

    def _dev_predictions(self):
        """Return (predicted class (N,), true class (N,)) of the dev images."""
        from dltool_cnn import data as D
        from dltool_cnn import train as T

        batches = D.in_order(self.dev_set, workers=self.workers)
        probs, labels = T.predict_batches(self.net, batches, self.device)
        return probs.argmax(1), labels

    def _log_samples(self, epoch: int, n: int = 16) -> None:
        """Add the first ``n`` dev images with their predicted class to TensorBoard."""
        from dltool_cnn import data as D
        from dltool_cnn import train as T
        from dltool_cnn.plots import prediction_tiles

        xb, yb = next(iter(D.in_order(self.dev_set, batch_size=n)), (None, None))
        if xb is None:
            return
        probs, _ = T.predict_batches(self.net, [(xb, yb)], self.device)
        tiles = prediction_tiles(xb.numpy(), probs.argmax(1), yb, self.classes)
        self.run.log_images("dev predictions", tiles, epoch)

    def epoch(self, epoch: int) -> None:
        """Train one epoch, evaluate on dev, log (lr, time) and checkpoint (best and last)."""
        import time

        from dltool_cnn import train as T

        start = time.perf_counter()
        stats = self._train_epoch(epoch)
        if not math.isfinite(stats["loss"]):
            raise self._diverged(epoch, stats["loss"])
        self.steps.extend(stats["steps"])
        if self.run is None:  # ranks other than 0: rank 0 evaluates and writes
            return
        dev_pred, dev_y = self._dev_predictions()
        before = float(self.history[-1].get("time", 0.0)) if self.history else 0.0
        row = {"epoch": epoch + 1, "train_loss": stats["loss"], "train_acc": stats["acc"],
               "dev_acc": float((dev_pred == dev_y).mean()),
               "lr": float(self.optimizer.param_groups[0]["lr"]),
               "time": round(before + time.perf_counter() - start, 3),
               "images_per_s": stats["images"] / stats["seconds"]}  # fmt: skip
        self.history.append(row)
        self.run.log_metrics(**row)
        self.run.best("dev_acc", row["dev_acc"], "max")
        self._log_samples(epoch + 1)
        improved = row["dev_acc"] > self.best
        if improved:
            self.best = row["dev_acc"]
            T.save_checkpoint(self.run.file(T.BEST), self.checkpoint(epoch + 1, optimizer=False))
        T.save_checkpoint(self.run.file(T.LAST), self.checkpoint(epoch + 1))

    def finish(self) -> None:
        """Reload the best model, write the confusion matrix and curves, report the results."""
        from dltool_cnn import train as T
        from dltool_cnn.plots import plot_confusion, plot_curves

        best = T.load_checkpoint(self.run.file(T.BEST))
        self.net.load_state_dict(best["model"])
        pred, dev_y = self._dev_predictions()
        cm = T.confusion_matrix(dev_y, pred, len(self.classes))
        plot_confusion(self.run.file("confusion.png"), cm, self.classes)
        plot_curves(self.run.file("curves.png"), self.history)
        self.run.write_json("confusion.json", {"classes": self.classes, "matrix": cm.tolist()})
        self.rep.table("Epochs", self.history, key="epochs")
        self.rep.result("best_epoch", best["epoch"], "best epoch")
        self.rep.result("best_dev_acc", best["best_dev_acc"], "best dev accuracy")
        self.rep.result("run_dir", str(self.run.path), "run directory")


# ---------------------------------------------------------------- predict


def _checkpoint_path(source: str) -> Path:
    """Return the checkpoint a run folder, run number or .pt path names."""
    from dltool.runs import find_run
    from dltool_cnn import MODELS
    from dltool_cnn import train as T

    if source in {m[0] for m in MODELS}:
        raise DltoolError(
            f"model '{source}' has no trained weights",
            hint=f"train it with `dltool cnn train --model {source}` and pass the run folder",
        )
    path = Path(source)
    if not path.exists() and source.isdigit():
        path = find_run(source, "cnn", "train")
    if path.is_dir():
        found = [path / n for n in (T.BEST, T.LAST) if (path / n).is_file()]
        if not found:
            raise DltoolError(
                f"{path} holds no {T.BEST} or {T.LAST}",
                hint="pass a run folder of `dltool cnn train` (runs/cnn/train/N)",
            )
        return found[0]
    if path.is_file():
        return path
    raise DltoolError(
        f"'{source}' is neither a run folder, a checkpoint nor efficientnet-lite0",
        hint="pass runs/cnn/train/N (from `dltool cnn train`), a .pt inside it, or its number",
    )


def _trained_model(source: str, device):
    """Return (model on device, classes, input size, channels) of a run or checkpoint."""
    import numpy as np

    from dltool.checkpoints import require_finite
    from dltool_cnn import train as T

    path = _checkpoint_path(source)
    state = T.load_checkpoint(path)
    config, classes, channels = state["config"], state.get("classes"), state.get("channels")
    if not isinstance(classes, list) or channels not in (1, 3):
        raise DltoolError(f"{path} is not a {T.WHAT} (no class names or channels)",
                          hint="give a run folder of `dltool cnn train`")  # fmt: skip
    check_config({**config, "freeze": config.get("freeze", "backbone")})
    require_finite(state["model"], path, "cnn model")
    zeros = np.zeros(channels)
    model = T.build_classifier({**config, "pretrained_weights": False}, len(classes),
                               channels, zeros, zeros + 1)  # fmt: skip
    try:
        model.load_state_dict(state["model"])
    except (RuntimeError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise DltoolError(f"{path}: the weights do not fit its model ({first})",
                          hint="give a checkpoint `dltool cnn train` wrote") from None  # fmt: skip
    return model.to(device), classes, config["image_size"], channels


def _read_chunk(paths: list[Path], mode: str, size: int):
    """Return (images (n, H, W, C), the paths read); unreadable files are warned about."""
    import numpy as np

    from dltool.data.images import ImageReadError
    from dltool_cnn.images import load_image

    arrays, kept = [], []
    for path in paths:
        try:
            arrays.append(load_image(path, mode, size))
            kept.append(path)
        except ImageReadError as exc:
            current().reporter.warn(f"skipped {path}: {exc.reason}")
    return (np.stack(arrays) if arrays else None), kept


def predict_job(source: str, sources: list[str], top: int) -> None:
    """Print the top-k classes of each image under a trained run or the ImageNet model."""
    import numpy as np

    from dltool.data.images import READ_HINT, find_images
    from dltool_cnn import train as T

    session = current()
    paths = list(find_images(sources))
    if source == "efficientnet-lite0":
        from dltool_cnn.transfer import imagenet_model

        model, classes, size, channels = imagenet_model(session.device)
    else:
        model, classes, size, channels = _trained_model(source, session.device)
    k, rows, read = min(top, len(classes)), [], 0
    for start in range(0, len(paths), PREDICT_CHUNK):
        X, kept = _read_chunk(
            paths[start : start + PREDICT_CHUNK], "L" if channels == 1 else "RGB", size
        )
        if X is None:
            continue
        read += len(kept)
        for path, p in zip(kept, T.predict_proba(model, X, session.device), strict=True):
            for rank, c in enumerate(np.argsort(-p)[:k], 1):
                rows.append({"image": str(path), "rank": rank, "class": classes[c],
                             "probability": round(float(p[c]), 4)})  # fmt: skip
    if not read:
        if len(paths) == 1:
            from dltool_cnn.images import load_image

            load_image(paths[0])  # raises its own error
        raise DltoolError(f"none of the {len(paths)} images could be read", hint=READ_HINT)
    _report_predictions(rows, k)


def _report_predictions(rows: list[dict], k: int) -> None:
    """Print the top-k table, or under --quiet one row per image (its top class)."""
    rep = current().reporter
    if rep.quiet and not rep.json_mode:
        rep.table("Predictions", [r for r in rows if r["rank"] == 1],
                  columns=("image", "class", "probability"), key="predictions")  # fmt: skip
        return
    rep.table(f"Top-{k} predictions", rows, key="predictions")


# ---------------------------------------------------------------- export


def _export_source(source: str):
    """Return (model, classes, size, channels, weights file, description) of ``source``."""
    import torch

    if source == "efficientnet-lite0":
        from dltool.nn.efficientnet import weights_path
        from dltool_cnn.transfer import imagenet_model

        model, classes, size, channels = imagenet_model(torch.device("cpu"))
        return model, classes, size, channels, weights_path(), "efficientnet-lite0 (ImageNet)"
    if source in _model_sizes():
        from torch import nn

        from dltool_cnn.models import Normalize

        builder, (channels, size, _w) = _model_entry(source)
        torch.manual_seed(_seed())
        net = builder(in_channels=channels)
        with torch.no_grad():
            logits = net.eval()(torch.zeros(1, channels, size, size))  # (1, classes)
        classes = [str(i) for i in range(logits.shape[1])]
        model = nn.Sequential(Normalize([0.0] * channels, [1.0] * channels), net)
        return model, classes, size, channels, None, f"{source} (random init, seed {_seed()})"
    model, classes, size, channels = _trained_model(source, torch.device("cpu"))
    path = _checkpoint_path(source)
    return model, classes, size, channels, path, str(path)


def export_job(opts: dict[str, Any]) -> None:
    """Export a classifier (run, checkpoint or model name) as ONNX or TorchScript."""
    from dltool import exporting
    from dltool_cnn import export as ex

    if opts["format"] == "onnx":
        exporting.need_onnx()
    model, classes, size, channels, weights, name = _export_source(opts["source"])
    meta = ex.metadata(model, classes, size, channels, weights, name)
    run = _run("export", opts["out"], opts["exist_ok"],
               {k: v for k, v in opts.items() if k not in ("out", "exist_ok")})  # fmt: skip
    run.clear("model.onnx", "model.torchscript", "model.json")
    path = run.file("model" + exporting.SUFFIX[opts["format"]])
    rep = current().reporter
    rep.info(f"exporting {name} at {channels}x{size}x{size} to {path}")
    info = ex.export_classifier(model, channels, size, opts["format"], path, opts["dynamic"], meta)
    run.write_json("model.json", meta | info)
    rep.result("file", info["file"], "Exported")
    rep.result("bytes", info["bytes"], "bytes")
    if "dynamic_axes" in info:
        rep.result("dynamic_axes", info["dynamic_axes"], "dynamic axes")
    rep.result("max_abs_diff", float(f"{info['max_abs_diff']:.3g}"), "max |Δ| vs torch")
    rep.result("results_dir", str(run.path), "Results saved to")  # as yolo export
