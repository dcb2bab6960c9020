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
from dataclasses import dataclass, field
from pathlib import Path

from vae.config import VAEConfig
from vae.io import Run, RunError, inspect_run, load_run
from vae.messages import Message

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
    problem: Message | None = None  # why it cannot be opened (a str, with its catalogue key); None when it can
    version: tuple = ()  # changes whenever the files the app caches change: the cache key

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def label(self) -> str:
        """One short line for the picker (it must fit the sidebar whole): folder, kl_weight, epochs; the root
        only for runs/ ("pretrained" is what a first visitor sees, without a prefix)."""
        root, _, folder = self.name.partition("/")
        where = "" if root == "pretrained" else f"{root}/"
        if not self.ok:
            return f"{where}{folder} (unavailable)"
        return f"{where}{folder} · kl {self.config.kl_weight:g} · {len(self.history)} ep"


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def describe(name: str) -> RunInfo:
    """A run's facts for the picker (vae.io.inspect_run's checks, latents required); never loads the model."""
    path = resolve(name)
    facts = inspect_run(path, need_latents=True)
    info = RunInfo(name=name, path=path, status=facts.status, config=facts.config, problem=facts.problem)
    if facts.ok:
        info.history, info.metrics = facts.history, facts.metrics
        info.version = (_mtime(path / facts.model_file), _mtime(path / "latents.npz"), facts.model_file)
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
        raise RunError("io.missing", "{name} is missing", name="latents.npz")
    return run
