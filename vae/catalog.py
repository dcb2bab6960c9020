"""Which runs can the app show? Find them, describe them cheaply, load one, refuse unsafe names.

Runs live in two roots: ``pretrained/`` (shipped with the repository, read-only in
spirit) and ``runs/`` (made by train.py, by hand or from the app). Both default to the
folders next to app.py; the environment variables VAE_PRETRAINED_DIR and VAE_RUNS_DIR
move them (tests, a lecturer's own collection).

A run is named ``<root>/<folder>``, e.g. ``pretrained/elbo-kl1``. The name may come
from a URL, so ``resolve`` accepts nothing but a known root and one plain folder name
that really lies inside that root: no ``..``, no absolute paths, no symlink leading out.

Listing reads JSON and stats files only; the model is loaded when a run is opened.
"""

from __future__ import annotations

import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from vae.config import VAEConfig
from vae.io import Run, RunError, load_run, read_history, read_json, read_status

APP_DIR = Path(__file__).resolve().parents[1]
ROOT_ENV = {"pretrained": "VAE_PRETRAINED_DIR", "runs": "VAE_RUNS_DIR"}
DEFAULT_RUN = "pretrained/elbo-kl1"
RUN_FOLDER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")  # no separators, cannot start with "."


def roots() -> dict[str, Path]:
    """{"pretrained": Path, "runs": Path}: where runs are looked for, in this order."""
    return {root: Path(os.environ.get(env) or APP_DIR / root) for root, env in ROOT_ENV.items()}


def resolve(name: str) -> Path:
    """``"runs/my-run"`` -> the run's directory, or ValueError if the name could reach elsewhere."""
    root_name, _, folder = str(name).partition("/")
    base = roots().get(root_name)
    if base is None or not RUN_FOLDER.fullmatch(folder):
        raise ValueError(f"{name!r} is not a run name: expected pretrained/<name> or runs/<name> with plain characters")
    path = (base / folder).resolve()
    if path.parent != base.resolve():
        raise ValueError(f"{name!r} points outside {root_name}/ (a symlink?)")
    return path


@dataclass
class RunInfo:
    """What the picker shows about a run, without loading its model."""

    name: str  # "runs/my-run": the id used in the UI and in URLs
    path: Path
    config: VAEConfig | None = None
    history: list[dict] = field(default_factory=list)
    metrics: dict = field(default_factory=dict)
    status: dict = field(default_factory=dict)
    problem: str | None = None  # why it cannot be opened; None when it can
    version: tuple = ()  # changes whenever the files the app caches change: the cache key

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def label(self) -> str:
        """One line for the picker: name, kl_weight, epochs."""
        if not self.ok:
            return f"{self.name} (unavailable)"
        return f"{self.name} · kl {self.config.kl_weight:g} · {len(self.history)} ep"


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def describe(name: str) -> RunInfo:
    """Read a run's JSON files and check its other files exist; never loads the model."""
    path = resolve(name)
    info = RunInfo(name=name, path=path, status=read_status(path))
    try:
        try:
            info.config = VAEConfig.from_dict(read_json(path / "config.json"))
        except (TypeError, ValueError) as err:
            raise RunError(f"config.json: {err}") from err
        if info.config.version != VAEConfig.version:
            raise RunError(f"config.json is format version {info.config.version}; this code reads {VAEConfig.version}")
        if not (path / "history.json").exists() and info.status.get("state") == "running":
            raise RunError("training has not completed its first epoch yet")
        model_file, info.history = read_history(path)
        model_path, latents_path = path / model_file, path / "latents.npz"
        for file in (model_path, latents_path):
            if file.is_symlink() and file.resolve().parent != path:
                raise RunError(f"{file.name} is a link to outside the run")
        if not model_path.is_file():
            raise RunError(f"{model_file} (named by history.json) is missing")
        if not zipfile.is_zipfile(model_path):  # reads only the end of the file: catches truncation
            raise RunError(f"{model_file} is damaged (not a complete .keras archive)")
        if not latents_path.is_file():
            running = info.status.get("state") == "running"
            raise RunError("latents.npz is written when training ends" if running else "latents.npz is missing")
        info.metrics = read_json(path / "metrics.json", default={})
        info.version = (_mtime(model_path), _mtime(latents_path), model_file)
    except RunError as err:
        info.problem = str(err)
    return info


def list_runs() -> list[RunInfo]:
    """Every run folder in pretrained/ then runs/ (newest first), usable or not."""
    found = []
    for root_name, base in roots().items():
        if not base.is_dir():
            continue
        folders = [p for p in base.iterdir() if RUN_FOLDER.fullmatch(p.name) and p.is_dir()]
        if root_name == "pretrained":
            folders.sort(key=lambda p: (f"pretrained/{p.name}" != DEFAULT_RUN, p.name))
        else:
            folders.sort(key=lambda p: _mtime(p), reverse=True)
        for folder in folders:
            try:
                found.append(describe(f"{root_name}/{folder.name}"))
            except ValueError:  # a symlink leading out of the root: not ours to show
                continue
    return found


def open_run(info: RunInfo) -> Run:
    """The run with its model (a numpy vae.inference.NumpyVAE: the app only runs it forward) and latents.
    Raises RunError."""
    if not info.ok:
        raise RunError(info.problem)
    run = load_run(info.path, numpy=True)
    if run.latents is None:
        raise RunError("latents.npz is missing")
    return run
