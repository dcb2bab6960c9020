"""Training a VAE: the datasets, one epoch, the callbacks, and the loop that train.py runs.

train.py only parses flags, locks the run directory and turns signals into a stop flag; everything
that trains is here, and the benchmarks (benchmarks/train_throughput.py, benchmarks/batch_elbo.py)
time these same functions, so what they measure is what train.py runs.

After every epoch the loop commits, in this order: the epoch's latent snapshot (vae.snapshots)
and sample sheet, the model and history.json (vae.io.commit_epoch: history is the commit point),
then status.json. A run killed at any moment keeps every committed epoch with its snapshot and
sheet; those of an uncommitted epoch are ignored by readers and overwritten on --resume.
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from vae import batches, data, evaluate, generate, io, likelihood, snapshots
from vae.config import N_PIXELS, VAEConfig
from vae.messages import Message
from vae.model import build_vae
from vae.process import process_created

STATUS_EVERY_SECONDS = 0.5  # within-epoch progress in status.json: often enough for the app's 1 s polling
TEST_BATCH = 1000


@dataclass
class Datasets:
    train: object  # tf.data.Dataset of training batches
    test: object  # tf.data.Dataset of test batches, in order
    steps: int  # training batches per epoch
    x_test: np.ndarray  # (N, 784) in [0, 1]
    y_test: np.ndarray  # (N,) labels
    snapshot_index: np.ndarray  # the test rows whose codes are kept after every epoch (vae.snapshots)


def make_datasets(
    config: VAEConfig,
    x_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    start_epoch: int = 0,
    y_train: np.ndarray | None = None,
) -> Datasets:
    """y_train: the training labels, needed (only) when config.label_weight > 0."""
    if config.label_weight > 0 and y_train is None:
        raise ValueError("label_weight > 0 trains on the labels: make_datasets needs y_train")
    # seed + start_epoch: a resumed run sees a fresh shuffle order rather than epoch 1's again
    train = batches.make_dataset(
        x_train, config.batch_size, seed=config.seed + start_epoch, binarize=config.binarize, augment=config.augment,
        labels=y_train if config.label_weight > 0 else None,
    )  # fmt: skip
    test = batches.make_dataset(x_test, TEST_BATCH, shuffle=False)
    steps = -(-len(x_train) // config.batch_size)
    return Datasets(train, test, steps, x_test, y_test, snapshots.snapshot_index(y_test))


def load_datasets(config: VAEConfig, data_dir: str | None = None, start_epoch: int = 0) -> Datasets:
    """The config's dataset (vae.data's search rules), its subset of the training images, all test images."""
    x_train, y_train = data.load_vectors("train", config.dataset, data_dir, config.subset)
    x_test, y_test = data.load_vectors("test", config.dataset, data_dir)
    return make_datasets(config, x_train, x_test, y_test, start_epoch, y_train)


def new_model(config: VAEConfig, jit_compile: bool = True) -> keras.Model:
    """A fresh compiled VAE, its initial weights fixed by config.seed (jit_compile=False: for benchmarks only).
    The model warm_up built ahead is handed out instead when it is the same network, reset to the very
    state a fresh one starts in (tests/test_training.py trains both and compares the weights)."""
    built = _warm.pop(_network(config), None) if jit_compile else None
    if built is not None:
        model, start = built
        for variable, value in zip(model.variables, start, strict=True):
            variable.assign(value)
        for variable in model.optimizer.variables:  # Adam's step count and moments: zero, as when fresh
            variable.assign(np.zeros(variable.shape, variable.dtype))
        model.optimizer.learning_rate = config.lr
        model.kl_weight = config.kl_weight
        model.kl_weight_variable.assign(config.kl_weight)
        return model
    keras.utils.set_random_seed(config.seed)
    return build_vae(config, jit_compile=jit_compile)


# A model built and traced ahead by warm_up, by _network(config); new_model takes it (once).
_warm: dict[tuple, tuple[keras.Model, list[np.ndarray]]] = {}


def _network(config: VAEConfig) -> tuple:
    """What fixes a built model's graph and its initial weights (the rest is set per run or per epoch)."""
    return config.latent_dim, tuple(config.hidden), config.seed, config.code_consistency, config.label_weight


def warm_up(batch_sizes: tuple[int, ...], config: VAEConfig | None = None, data_dir: str | None = None) -> None:
    """What a train.py waiting for its job does first (vae.standby): read the dataset, build the model
    (train.py's defaults unless config says otherwise) and trace its training step at each of batch_sizes,
    its test step, encoder, decoder and the evaluation after the last epoch, so that the job does not trace
    them (benchmarks/retrain_pause.py)."""
    config = config or VAEConfig()
    try:
        for split in ("train", "test"):
            data.load_split(split, config.dataset, data_dir, download=False)  # the files into the page cache
    except data.DataError:
        pass  # nothing to read ahead: the job itself will say what is missing
    model = new_model(config)
    start = [variable.numpy().copy() for variable in model.variables]
    x = np.zeros((max(*batch_sizes, TEST_BATCH), N_PIXELS), np.float32)
    for n in batch_sizes:
        labels = np.zeros(n, np.int32) if config.label_weight > 0 else None
        train = batches.make_dataset(x[:n], n, shuffle=False, labels=labels)
        model.fit(train, epochs=1, verbose=0, shuffle=False)
    model.evaluate(batches.make_dataset(x[:TEST_BATCH], TEST_BATCH, shuffle=False), verbose=0)
    model.encode(x[:2])
    generate.sample_sheet(model, seed=config.seed)
    evaluate.evaluate(model, x[: likelihood.IWAE_IMAGE_BATCH], cheap=True, log=lambda *_: None)
    _warm[_network(config)] = (model, start)


def epoch_lr(config: VAEConfig, epoch: int) -> float:
    """The learning rate of epoch `epoch` (0-based): constant, or a cosine from lr down towards 0 over
    config.epochs (a resumed run with more epochs stretches the remaining cosine accordingly)."""
    if config.lr_schedule == "cosine":
        return config.lr * 0.5 * (1.0 + math.cos(math.pi * epoch / max(config.epochs, 1)))
    return config.lr


def epoch_kl_warmup(config: VAEConfig, epoch: int) -> float:
    """The factor on kl_weight in epoch `epoch` (0-based): (epoch + 1) / kl_warmup_epochs, at most 1."""
    if config.kl_warmup_epochs <= 0:
        return 1.0
    return min(1.0, (epoch + 1) / config.kl_warmup_epochs)


def apply_epoch_schedule(model: keras.Model, config: VAEConfig, epoch: int) -> None:
    """Set the learning rate and the KL warm-up factor before epoch `epoch` (0-based) trains."""
    model.optimizer.learning_rate = epoch_lr(config, epoch)
    model.kl_warmup.assign(epoch_kl_warmup(config, epoch))


class StopFlag:
    """Set to stop training after the current batch (train.py sets it on SIGINT/SIGTERM)."""

    requested = False


class EpochProgress(keras.callbacks.Callback):
    """Within one epoch: the stop flag after each batch, progress in status.json (if run_dir) and a
    bar on a terminal (keras.utils.Progbar; none in train.log)."""

    def __init__(self, steps: int, stop: StopFlag, run_dir: Path | None = None, title: str = "") -> None:
        super().__init__()
        self.steps, self.stop, self.run_dir = steps, stop, run_dir
        self.interrupted, self.last_write = False, 0.0
        if title and sys.stdout.isatty():
            print(title)
        self.bar = keras.utils.Progbar(
            steps, verbose=1 if sys.stdout.isatty() else 0, stateful_metrics=["loss", "reconstruction", "kl"]
        )

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        done = min(batch + 1, self.steps)
        self.bar.update(done, values=[(k, float(v)) for k, v in (logs or {}).items()])
        now = time.time()
        if self.run_dir is not None and now - self.last_write > STATUS_EVERY_SECONDS:
            self.last_write = now
            io.write_status(self.run_dir, progress=round(done / self.steps, 3))
        if self.stop.requested:
            self.interrupted = True
            self.model.stop_training = True


def train_epoch(model: keras.Model, datasets: Datasets, progress: EpochProgress | None = None) -> dict | None:
    """One pass over the training batches: the epoch's mean loss, reconstruction and kl, or None if stopped."""
    callbacks = [progress] if progress is not None else []
    fit = model.fit(datasets.train, epochs=1, verbose=0, shuffle=False, callbacks=callbacks).history
    if progress is not None and progress.interrupted:
        return None  # a partial epoch is not committed
    return {key: float(values[-1]) for key, values in fit.items()}


def run_epoch(model: keras.Model, datasets: Datasets, progress: EpochProgress | None = None) -> dict | None:
    """train_epoch, then the test set: a history entry without its epoch number, or None if stopped."""
    t0 = time.time()
    entry = train_epoch(model, datasets, progress)
    if entry is None:
        return None
    val = model.evaluate(datasets.test, verbose=0, return_dict=True)
    entry |= {f"val_{key}": float(value) for key, value in val.items()}
    entry["seconds"] = round(time.time() - t0, 3)
    return entry


def write_snapshot(run_dir: Path, model: keras.Model, datasets: Datasets, epoch: int) -> None:
    """The epoch's latent snapshot: the codes of the fixed test subset (vae.snapshots)."""
    index = datasets.snapshot_index
    mean, log_var = model.encode(datasets.x_test[index])
    snapshots.write_snapshot(run_dir, epoch, mean, log_var, datasets.y_test[index], index)


def write_sample_sheet(run_dir: Path, model: keras.Model, config: VAEConfig, epoch: int) -> None:
    """The epoch's sample sheet: a 10 x 10 latent grid and 20 prior samples, the same z every epoch."""
    sheet = generate.sample_sheet(model, seed=config.seed)
    io.atomic_write_bytes(run_dir / "samples" / f"epoch_{epoch:03d}.png", generate.to_png(sheet, scale=2))


def commit(run_dir: Path, model: keras.Model, config: VAEConfig, datasets: Datasets, history: list[dict]) -> None:
    """Write the epoch len(history): its snapshot and sample sheet first, then model and history.json
    (the commit point), so that history never names an epoch whose files are not all there."""
    epoch = len(history)
    write_snapshot(run_dir, model, datasets, epoch)
    write_sample_sheet(run_dir, model, config, epoch)
    io.commit_epoch(run_dir, model, history)


def summary(entry: dict, config: VAEConfig) -> str:
    return (
        f"epoch {entry['epoch']}/{config.epochs}  loss {entry['loss']:.2f} (rec {entry['reconstruction']:.2f} + "
        f"{config.kl_weight * epoch_kl_warmup(config, entry['epoch'] - 1):g} x kl {entry['kl']:.2f})  "
        f"test {entry['val_loss']:.2f}  {entry['seconds']:.1f}s"
    )


def train_run(
    run_dir: Path,
    config: VAEConfig,
    model: keras.Model,
    history: list[dict],
    stop: StopFlag,
    data_dir: str | None = None,
) -> str:
    """Train epochs len(history)+1 .. config.epochs into run_dir, committing each; then the test
    latents, metrics and the final status. Returns the final state: 'finished' or 'cancelled'."""
    start = len(history)
    run_dir.mkdir(parents=True, exist_ok=True)
    for stale in run_dir.rglob(".*.tmp*"):  # half-written files of a killed run: never read, only taking disk
        stale.unlink(missing_ok=True)
    io.atomic_write_json(run_dir / "config.json", config.to_dict())
    io.write_status(
        run_dir, state="running", epoch=start, epochs=config.epochs, progress=0.0, pid=os.getpid(),
        process_created=process_created(), started=time.time(), finished=None,
        message=Message("status.loading_data", "loading data"),
    )  # fmt: skip
    datasets = load_datasets(config, data_dir, start)
    io.write_status(run_dir, message="")

    for epoch in range(start, config.epochs):
        progress = EpochProgress(datasets.steps, stop, run_dir, title=f"epoch {epoch + 1}/{config.epochs}")
        apply_epoch_schedule(model, config, epoch)
        entry = run_epoch(model, datasets, progress)
        if entry is None:
            break
        history.append({"epoch": epoch + 1, **entry})
        commit(run_dir, model, config, datasets, history)
        io.write_status(run_dir, epoch=epoch + 1, progress=0.0)
        print(summary(history[-1], config), file=sys.stderr, flush=True)
        if stop.requested:
            break

    z_mean, z_log_var = model.encode(datasets.x_test)
    labels = datasets.y_test.astype(np.uint8)
    io.atomic_save_npz(run_dir / "latents.npz", mean=z_mean, log_var=z_log_var, labels=labels)
    if history and not stop.requested:
        evaluate.write_metrics(run_dir, model, datasets.x_test, cheap=True)
    state = "cancelled" if stop.requested else "finished"
    if stop.requested:
        said = Message("status.cancelled", "cancelled after epoch {epoch}", epoch=len(history))
    else:
        said = Message("status.finished", "finished after epoch {epoch}", epoch=len(history))
    io.write_status(run_dir, state=state, message=said, finished=time.time())
    return state
