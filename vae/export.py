"""A load-only copy of a run (no optimizer state), for pretrained/: python -m vae export SRC DEST."""

from __future__ import annotations

import shutil
from pathlib import Path

from vae.io import atomic_save_model, atomic_write_json, load_run
from vae.snapshots import snapshot_path, write_snapshot


def export_run(src: str | Path, dest: str | Path) -> Path:
    """Copy a finished run without optimizer state (for pretrained/): small and load-only."""
    import vae.model

    run = load_run(src, compile=False)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    fresh = vae.model.VAE.from_config(run.model.get_config())  # the same model, no optimizer attached
    fresh.set_weights(run.model.get_weights())
    atomic_save_model(fresh, dest / "model.keras")
    for name in ("config.json", "latents.npz", "metrics.json"):
        if (run.run_dir / name).exists():
            shutil.copyfile(run.run_dir / name, dest / name)
    for snapshot in run.epoch_latents:  # the replay of its training, rewritten in the current format
        snapshot_path(dest, snapshot["epoch"]).parent.mkdir(exist_ok=True)
        write_snapshot(dest, **snapshot)
    if run.samples:  # the last sheet only: the picture of the trained model
        (dest / "samples").mkdir(exist_ok=True)
        shutil.copyfile(run.samples[-1], dest / "samples" / run.samples[-1].name)
    # history.json last: as in training, it commits the files it counts on
    atomic_write_json(dest / "history.json", {"model_file": "model.keras", "epochs": run.history})
    atomic_write_json(dest / "status.json", {"state": "finished", "epoch": run.epochs_done, "epochs": run.epochs_done})
    return dest
