"""Per-epoch latent snapshots: where a fixed set of test digits sits after every epoch, to replay training.

    RUN_DIR/latents/epoch_NNN.npz   mean, log_var (N, latent_dim) float16; labels (N,) uint8;
                                    index (N,): each code's row in the test set

float16 because the codes are only drawn (a replay frame's dots: 0.002 apart at |z| < 4, well
under a pixel) and fifty of them per run must fit pretrained/'s budget; readers get float32, and
snapshots written as float32 before read the same way.

The set is the same every epoch, for every run on the same test set: PER_CLASS images of each
class, evenly spaced through that class's images in test-set order (deterministic, no random
state; every digit present, 2,000 codes for MNIST). vae.training writes an epoch's snapshot
before it commits the epoch (history.json), and readers take only committed epochs, so a
killed run keeps exactly the snapshots of its completed epochs and --resume continues them.

Reading needs numpy only, no TensorFlow: the app replays training from these files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vae import io

SNAPSHOT_DIR = "latents"
PER_CLASS = 200
KEYS = ("mean", "log_var", "labels", "index")


def snapshot_index(labels: np.ndarray, per_class: int = PER_CLASS) -> np.ndarray:
    """Rows of the snapshot set in the test set, ascending: per_class evenly spaced rows of each class
    (all of a class's rows if it has fewer)."""
    labels = np.asarray(labels)
    chosen = []
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        picks = np.unique(np.linspace(0, len(rows) - 1, min(per_class, len(rows))).round().astype(int))
        chosen.append(rows[picks])
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=int)


def snapshot_path(run_dir: str | Path, epoch: int) -> Path:
    return Path(run_dir) / SNAPSHOT_DIR / f"epoch_{epoch:03d}.npz"


def write_snapshot(
    run_dir: str | Path, epoch: int, mean: np.ndarray, log_var: np.ndarray, labels: np.ndarray, index: np.ndarray
) -> None:
    """One epoch's snapshot, written atomically (a reader never sees half a file)."""
    io.atomic_save_npz(
        snapshot_path(run_dir, epoch),
        mean=np.asarray(mean, np.float16),
        log_var=np.asarray(log_var, np.float16),
        labels=np.asarray(labels, np.uint8),
        index=np.asarray(index, np.int32),
    )


def read_snapshot(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            snapshot = {key: npz[key] for key in KEYS}
        snapshot["mean"], snapshot["log_var"] = (snapshot[k].astype(np.float32) for k in ("mean", "log_var"))
    except Exception as err:  # zip, key or value errors all mean the file is unusable
        raise io.RunError(
            "snapshots.unreadable", "{file} is unreadable ({error})", file=f"{SNAPSHOT_DIR}/{path.name}", error=str(err)
        ) from err
    n = len(snapshot["mean"])
    if snapshot["mean"].ndim != 2 or snapshot["log_var"].shape != snapshot["mean"].shape:
        raise io.RunError(
            "snapshots.bad_codes", "{file}: mean and log_var are not two matching (N, latent_dim) arrays",
            file=f"{SNAPSHOT_DIR}/{path.name}",
        )  # fmt: skip
    if len(snapshot["labels"]) != n or len(snapshot["index"]) != n:
        raise io.RunError(
            "snapshots.bad_lengths", "{file}: labels or index do not match the codes in length",
            file=f"{SNAPSHOT_DIR}/{path.name}",
        )  # fmt: skip
    return snapshot


def load_epoch_latents(run_dir: str | Path, epochs: int | None = None) -> list[dict]:
    """One dict per committed epoch that has a snapshot, in order: epoch, mean, log_var, labels, index.

    epochs: how many epochs are committed (default: history.json's count). Runs trained before
    snapshots existed, and the shipped pretrained runs, have none: an empty list."""
    if epochs is None:
        epochs = len(io.live_history(run_dir))
    found = []
    for epoch in range(1, epochs + 1):
        path = snapshot_path(run_dir, epoch)
        if path.is_file():
            found.append({"epoch": epoch, **read_snapshot(path)})
    return found
