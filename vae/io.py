"""A run directory on disk: write it safely, read it back, say clearly when it is broken.

    RUN_DIR/
      config.json          VAEConfig
      history.json         {"model_file": ..., "epochs": [per-epoch dicts]}: the commit point
      model_epoch_NNN.keras  the model after the last committed epoch (or model.keras)
      status.json          state running/finished/failed/cancelled, epoch, progress, pid, ...
      samples/epoch_NNN.png  decoded digits after each epoch
      latents.npz          the test set's z mean, log_var and labels (for the scatter)
      metrics.json         figures from vae.evaluate

Every file is written to a temp name and renamed into place, so a reader (or a run
killed mid-write) only ever sees a whole old file or a whole new one. history.json is
written after the model it names, and the previous model is deleted only after that:
whatever moment training dies, history.json names a complete model of the same epoch.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psutil

from vae.config import VAEConfig

HISTORY_KEYS = ("epoch", "loss", "reconstruction", "kl", "val_loss", "val_reconstruction", "val_kl", "seconds")
STATES = ("running", "finished", "failed", "cancelled", "interrupted")


class RunError(Exception):
    """A run directory that cannot be used; the message says which file and why."""


# ------------------------------------------------------------------ atomic writes


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide runs from other users of a shared machine
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: str | Path, obj) -> None:
    atomic_write_bytes(path, json.dumps(obj, indent=1).encode())


def atomic_save_npz(path: str | Path, **arrays: np.ndarray) -> None:
    import io

    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


def atomic_save_model(model, path: str | Path) -> None:
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.keras")  # Keras insists on the suffix
    try:
        model.save(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# ----------------------------------------------------------------------- status


def write_status(run_dir: str | Path, **fields) -> dict:
    """Merge ``fields`` into status.json (read-modify-write; only train.py writes it)."""
    path = Path(run_dir) / "status.json"
    status = read_json(path, default={})
    status.update(fields, updated=time.time())
    atomic_write_json(path, status)
    return status


def process_created(pid: int | None = None) -> float | None:
    """The creation time of ``pid`` (this process by default), as psutil reports it; None once it is gone.
    Recorded beside a pid so that a later reader can tell the process from a new one given the same pid."""
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def trainer_alive(pid: int | None, created: float | None = None) -> bool:
    """Is ``pid`` a live train.py: not gone, not a zombie, its command line naming train.py, and (when
    ``created`` was recorded) the same process, not a later one that was given the recycled pid?"""
    if not pid:
        return False
    try:
        process = psutil.Process(int(pid))
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        if created is not None and abs(process.create_time() - float(created)) > 0.01:
            return False
        return any("train.py" in part for part in process.cmdline())
    except psutil.AccessDenied:  # live, but another user's (Windows): nothing more can be read about it
        return True
    except (psutil.Error, TypeError, ValueError):
        return False


def read_status(run_dir: str | Path) -> dict:
    """status.json, with 'running' turned into 'interrupted' when its process is gone."""
    status = read_json(Path(run_dir) / "status.json", default={})
    if status.get("state") == "running" and not trainer_alive(status.get("pid"), status.get("process_created")):
        status["state"] = "interrupted"
        status["message"] = f"training process {status.get('pid')} is no longer running (killed?)"
    return status


# ------------------------------------------------------------------------- runs


def read_json(path: Path, default=None):
    if not path.exists():
        if default is not None:
            return default
        raise RunError(f"{path.name} is missing")
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        if default is not None:
            return default
        raise RunError(f"{path.name} is not valid JSON ({err})") from err


def commit_epoch(run_dir: str | Path, model, history: list[dict]) -> None:
    """Save the model for epoch len(history), then commit it with history.json."""
    run_dir = Path(run_dir)
    epoch = len(history)
    model_file = f"model_epoch_{epoch:03d}.keras"
    atomic_save_model(model, run_dir / model_file)
    atomic_write_json(run_dir / "history.json", {"model_file": model_file, "epochs": history})
    for old in run_dir.glob("model_epoch_*.keras"):
        if old.name != model_file:
            old.unlink(missing_ok=True)


def read_history(run_dir: str | Path) -> tuple[str, list[dict]]:
    data = read_json(Path(run_dir) / "history.json")
    try:
        model_file, epochs = data["model_file"], list(data["epochs"])
        if not all(set(HISTORY_KEYS) <= set(entry) for entry in epochs):
            raise KeyError("per-epoch keys")
    except (TypeError, KeyError) as err:
        raise RunError(f"history.json lacks {err}") from err
    if Path(model_file).name != model_file:
        raise RunError(f"history.json names a model outside the run: {model_file!r}")
    return model_file, epochs


@dataclass
class Run:
    run_dir: Path
    config: VAEConfig
    history: list[dict]
    model_file: str
    status: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    latents: dict[str, np.ndarray] | None = None  # mean, log_var, labels
    model: object = None  # a vae.model.VAE (or vae.inference.NumpyVAE) once loaded

    @property
    def name(self) -> str:
        return self.run_dir.name

    @property
    def epochs_done(self) -> int:
        return len(self.history)


def load_latents(run_dir: str | Path) -> dict[str, np.ndarray] | None:
    path = Path(run_dir) / "latents.npz"
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            latents = {key: npz[key] for key in ("mean", "log_var", "labels")}
    except Exception as err:  # zip, key or value errors all mean the file is unusable
        raise RunError(f"latents.npz is unreadable ({err})") from err
    n = len(latents["mean"])
    if latents["mean"].ndim != 2 or len(latents["log_var"]) != n or len(latents["labels"]) != n:
        raise RunError("latents.npz arrays do not match in length")
    return latents


def load_run(run_dir: str | Path, with_model: bool = True, compile: bool = True, numpy: bool = False) -> Run:
    """Everything a run holds. Raises RunError naming the broken file.

    numpy=True gives .model as a vae.inference.NumpyVAE (encode and decode only, no TensorFlow:
    what the app serves); otherwise the Keras VAE, trainable, with its optimizer if compile.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunError(f"{run_dir} is not a directory")
    try:
        config = VAEConfig.from_dict(read_json(run_dir / "config.json"))
    except (TypeError, ValueError) as err:
        raise RunError(f"config.json: {err}") from err
    if config.version != VAEConfig.version:
        raise RunError(f"config.json is format version {config.version}; this code reads {VAEConfig.version}")
    model_file, history = read_history(run_dir)
    run = Run(
        run_dir=run_dir,
        config=config,
        history=history,
        model_file=model_file,
        status=read_status(run_dir),
        metrics=read_json(run_dir / "metrics.json", default={}),
        latents=load_latents(run_dir),
    )
    if with_model:
        path = run_dir / model_file
        if not path.is_file():
            raise RunError(f"{model_file} (named by history.json) is missing")
        try:
            run.model = _load_numpy_model(path) if numpy else _load_keras_model(path, compile)
        except Exception as err:  # Keras raises many types for a damaged file
            raise RunError(f"{model_file} cannot be loaded ({type(err).__name__}: {err})") from err
        if run.model.latent_dim != config.latent_dim:
            raise RunError(f"{model_file} has latent_dim {run.model.latent_dim}, config.json says {config.latent_dim}")
    return run


def _load_numpy_model(path: Path):
    from vae.inference import NumpyVAE

    return NumpyVAE.load(path)


def _load_keras_model(path: Path, compile: bool):
    import keras

    import vae.model  # noqa: F401  (registers the VAE class with Keras)

    return keras.models.load_model(path, compile=compile, safe_mode=True)


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
    atomic_write_json(dest / "history.json", {"model_file": "model.keras", "epochs": run.history})
    atomic_write_json(dest / "status.json", {"state": "finished", "epoch": run.epochs_done, "epochs": run.epochs_done})
    samples = sorted((run.run_dir / "samples").glob("epoch_*.png"))
    if samples:
        (dest / "samples").mkdir(exist_ok=True)
        shutil.copyfile(samples[-1], dest / "samples" / samples[-1].name)
    return dest
