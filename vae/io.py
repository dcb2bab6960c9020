"""A run directory on disk: write it safely, read it back, say clearly when it is broken.

    RUN_DIR/
      config.json          VAEConfig
      history.json         {"model_file": ..., "epochs": [per-epoch dicts]}: the commit point
      model_epoch_NNN.keras  the model after the last committed epoch (or model.keras)
      status.json          state running/finished/failed/cancelled, epoch, progress, pid, message (and its key)...
      samples/epoch_NNN.png  decoded digits after each epoch
      latents/epoch_NNN.npz  codes of a fixed set of test digits after each epoch (vae.snapshots)
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
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from vae.config import VAEConfig
from vae.messages import Message, UserError
from vae.process import trainer_alive

HISTORY_KEYS = ("epoch", "loss", "reconstruction", "kl", "val_loss", "val_reconstruction", "val_kl", "seconds")
STATES = ("running", "finished", "failed", "cancelled", "interrupted")


class RunError(UserError):
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
    """Merge ``fields`` into status.json (read-modify-write; only train.py writes it). A message is kept
    with its catalogue key and values (vae.messages), so the page can say it in its own language."""
    if "message" in fields:  # plain text clears the key of an earlier message
        fields |= Message.of(fields["message"]).status_fields()
    path = Path(run_dir) / "status.json"
    status = read_json(path, default={})
    status.update(fields, updated=time.time())
    atomic_write_json(path, status)
    return status


def read_status(run_dir: str | Path) -> dict:
    """status.json, with 'running' turned into 'interrupted' when its process is gone."""
    status = read_json(Path(run_dir) / "status.json", default={})
    if status.get("state") == "running" and not trainer_alive(status.get("pid"), status.get("process_created")):
        status["state"] = "interrupted"
        status["message"] = Message(
            "status.process_gone", "training process {pid} is no longer running (killed?)", pid=status.get("pid")
        )
    return status


# ------------------------------------------------------------------------- runs


def read_json(path: Path, default=None):
    if not path.exists():
        if default is not None:
            return default
        raise RunError("io.missing", "{name} is missing", name=path.name)
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        if default is not None:
            return default
        raise RunError("io.bad_json", "{name} is not valid JSON ({error})", name=path.name, error=str(err)) from err


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
        raise RunError("io.history_lacks", "history.json lacks {error}", error=str(err)) from err
    if Path(model_file).name != model_file:
        raise RunError("io.model_outside", "history.json names a model outside the run: {file!r}", file=model_file)
    return model_file, epochs


@dataclass
class RunFacts:
    """What a run directory says about itself, read without loading its model or arrays."""

    run_dir: Path
    status: dict = field(default_factory=dict)
    config: VAEConfig | None = None
    history: list[dict] = field(default_factory=list)
    model_file: str | None = None
    metrics: dict = field(default_factory=dict)
    problem: Message | None = None  # why the run cannot be used (a str, with its key); None when it can

    @property
    def ok(self) -> bool:
        return self.problem is None


def inspect_run(run_dir: str | Path, need_latents: bool = False) -> RunFacts:
    """Read a run's JSON files and check its other files: the one set of checks (and messages) behind
    load_run and the app's run picker. Cheap: JSON, stats and a zip's directory; never the model.
    need_latents: also require latents.npz (the app's scatter); training and resuming do not."""
    run_dir = Path(run_dir)
    facts = RunFacts(run_dir)
    try:
        if not run_dir.is_dir():
            raise RunError("io.not_a_directory", "{path} is not a directory", path=str(run_dir))
        facts.status = read_status(run_dir)
        running = facts.status.get("state") == "running"
        try:
            facts.config = VAEConfig.from_dict(read_json(run_dir / "config.json"))
        except (TypeError, ValueError) as err:
            raise RunError("io.bad_config", "config.json: {error}", error=str(err)) from err
        if facts.config.version != VAEConfig.version:
            raise RunError(
                "io.config_version", "config.json is format version {found}; this code reads {expected}",
                found=facts.config.version, expected=VAEConfig.version,
            )  # fmt: skip
        if running and not (run_dir / "history.json").exists():
            raise RunError("io.first_epoch", "training has not completed its first epoch yet")
        facts.model_file, facts.history = read_history(run_dir)
        model_path, latents_path = run_dir / facts.model_file, run_dir / "latents.npz"
        for file in (model_path, latents_path):
            if file.is_symlink() and file.resolve().parent != run_dir.resolve():
                raise RunError("io.link_outside", "{name} is a link to outside the run", name=file.name)
        if not model_path.is_file():
            raise RunError("io.model_missing", "{file} (named by history.json) is missing", file=facts.model_file)
        if not zipfile.is_zipfile(model_path):  # reads only the end of the file: catches truncation
            raise RunError(
                "io.model_damaged", "{file} is damaged (not a complete .keras archive)", file=facts.model_file
            )
        if need_latents and not latents_path.is_file():
            if running:
                raise RunError("io.latents_later", "latents.npz is written when training ends")
            raise RunError("io.missing", "{name} is missing", name=latents_path.name)
        facts.metrics = read_json(run_dir / "metrics.json", default={})
    except RunError as err:
        facts.problem = err.message
    return facts


def live_history(run_dir: str | Path) -> list[dict]:
    """The epochs committed so far, for watching a run being trained: [] before the first (or if unreadable)."""
    try:
        return read_history(run_dir)[1]
    except RunError:
        return []


def sample_sheets(run_dir: str | Path) -> list[Path]:
    """samples/epoch_NNN.png of every committed epoch, in order (a sheet of an epoch still being
    committed, or of one a killed run never committed, is left out)."""
    committed = len(live_history(run_dir))
    return [
        Path(run_dir) / "samples" / f"epoch_{epoch:03d}.png"
        for epoch in range(1, committed + 1)
        if (Path(run_dir) / "samples" / f"epoch_{epoch:03d}.png").is_file()
    ]


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

    @property
    def samples(self) -> list[Path]:
        """The sample sheet (PNG) of each committed epoch, in order; a pretrained run ships its last only."""
        return sample_sheets(self.run_dir)

    @cached_property
    def epoch_latents(self) -> list[dict]:
        """One dict per completed epoch: epoch, mean and log_var (N, latent_dim), labels (N,), index (N,)
        into the test set; [] for runs without snapshots (vae.snapshots). Numpy only."""
        from vae.snapshots import load_epoch_latents  # it writes through this module: imported late

        return load_epoch_latents(self.run_dir, self.epochs_done)


def load_latents(run_dir: str | Path) -> dict[str, np.ndarray] | None:
    path = Path(run_dir) / "latents.npz"
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            latents = {key: npz[key] for key in ("mean", "log_var", "labels")}
    except Exception as err:  # zip, key or value errors all mean the file is unusable
        raise RunError("io.latents_unreadable", "latents.npz is unreadable ({error})", error=str(err)) from err
    n = len(latents["mean"])
    if latents["mean"].ndim != 2 or len(latents["log_var"]) != n or len(latents["labels"]) != n:
        raise RunError("io.latents_mismatch", "latents.npz arrays do not match in length")
    return latents


def load_run(run_dir: str | Path, with_model: bool = True, compile: bool = True, numpy: bool = False) -> Run:
    """Everything a run holds. Raises RunError naming the broken file (the checks of inspect_run).

    numpy=True gives .model as a vae.inference.NumpyVAE (encode and decode only, no TensorFlow:
    what the app serves); otherwise the Keras VAE, trainable, with its optimizer if compile.
    """
    facts = inspect_run(run_dir)
    if not facts.ok:
        raise RunError(facts.problem)
    run = Run(
        run_dir=facts.run_dir,
        config=facts.config,
        history=facts.history,
        model_file=facts.model_file,
        status=facts.status,
        metrics=facts.metrics,
        latents=load_latents(facts.run_dir),
    )
    if with_model:
        try:
            run.model = (
                _load_numpy_model(run.run_dir / run.model_file)
                if numpy
                else _load_keras_model(run.run_dir / run.model_file, compile)
            )
        except Exception as err:  # Keras raises many types for a damaged file
            raise RunError(
                "io.model_unloadable", "{file} cannot be loaded ({kind}: {error})", file=run.model_file,
                kind=type(err).__name__, error=str(err),
            ) from err  # fmt: skip
        if run.model.latent_dim != run.config.latent_dim:
            raise RunError(
                "io.latent_dim_mismatch", "{file} has latent_dim {found}, config.json says {expected}",
                file=run.model_file, found=run.model.latent_dim, expected=run.config.latent_dim,
            )  # fmt: skip
    return run


def _load_numpy_model(path: Path):
    from vae.inference import NumpyVAE

    return NumpyVAE.load(path)


def _load_keras_model(path: Path, compile: bool):
    import keras

    import vae.model  # noqa: F401  (registers the VAE class with Keras)

    return keras.models.load_model(path, compile=compile, safe_mode=True)
