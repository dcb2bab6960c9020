"""Everything the page loads or computes once and shares: runs, decoded grids, test images, the classifier.

Runs are keyed on name + file mtimes (catalog.RunInfo.version), so a run retrained in place gets a
new cache entry and nobody is served stale weights. The models are vae.inference's numpy forward
passes: the server never imports TensorFlow (start-up, memory; benchmarks/README.md, cold start).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from vae import catalog, data, generate, inference
from vae.io import Run, RunError, load_run
from vae.limits import Z_LIMIT


@st.cache_resource(max_entries=6, show_spinner=False)
def load(name: str, version: tuple) -> Run:
    """The run with its model, shared by all sessions; ``version`` is only the cache key."""
    return catalog.open_run(catalog.describe(name))


def run_of(info: catalog.RunInfo) -> Run:
    return load(info.name, info.version)


def decode(info: catalog.RunInfo, z) -> np.ndarray:
    """Latent points (N, 2 or latent_dim) -> (N, 28, 28) pixel probabilities; missing coordinates are 0."""
    run = run_of(info)
    z = np.asarray(z, np.float32).reshape(len(z), -1)
    if z.shape[1] < run.config.latent_dim:  # the sliders move z1, z2; further coordinates stay at the prior mean
        z = np.pad(z, ((0, 0), (0, run.config.latent_dim - z.shape[1])))
    return run.model.decode(z).reshape(-1, 28, 28)


@st.cache_data(max_entries=32, show_spinner=False)
def grid_images(name: str, version: tuple, n: int) -> np.ndarray:
    """The seed tutorial's n x n linspace grid over the slider range, decoded in one batch: (n*28, n*28)."""
    info = catalog.describe(name)
    return generate.tile(decode(info, generate.grid_points(n, "linspace", Z_LIMIT)), n)


@st.cache_data(max_entries=32, show_spinner=False)
def grid_png(name: str, version: tuple, n: int) -> bytes:
    return generate.to_png(grid_images(name, version, n))


@st.cache_data(max_entries=32, show_spinner=False)
def grid_slide_png(name: str, version: tuple, n: int) -> bytes:
    """The grid for a slide: each 28 px cell upscaled 4x, with the z values along the edges. Cached: the grid
    panel reruns with every move of the point (its ring), which does not change this picture."""
    return generate.grid_slide_png(grid_images(name, version, n), n, Z_LIMIT)


@st.cache_resource(show_spinner=False)
def test_images(dataset: str) -> tuple[np.ndarray | None, str]:
    """The test images behind latents.npz, if this machine has them: (images, "") or (None, why not: a
    vae.messages.Message, shared by every session, for i18n.message to say in each one's language)."""
    try:
        return data.load_split("test", dataset, download=False).images, ""
    except data.DataError as err:
        return None, err.message


def encode_digit(info: catalog.RunInfo, digit: np.ndarray) -> dict:
    """A 28x28 in [0, 1] (a drawing or a preprocessed upload) -> its code and reconstruction."""
    run = run_of(info)
    mean, log_var = run.model.encode(np.asarray(digit, np.float32).reshape(1, -1))
    return {
        "digit": np.asarray(digit, np.float32).reshape(28, 28),
        "mean": mean[0],
        "log_var": log_var[0],
        "reconstruction": run.model.decode(mean).reshape(28, 28),
    }


@st.cache_resource(show_spinner=False)
def classifier() -> inference.NumpyClassifier | None:
    """None where the file is missing: the map layer is optional, the app must not depend on it."""
    return inference.NumpyClassifier.load() if inference.CLASSIFIER_PATH.exists() else None


@st.cache_data(max_entries=32, show_spinner=False)
def digit_map(name: str, version: tuple, n: int) -> generate.DigitMap | None:
    model = classifier()
    return None if model is None else generate.latent_map(load(name, version).model, model, n=n, extent=Z_LIMIT)


@st.cache_data(max_entries=12, show_spinner=False)
def epoch_latents(name: str, version: tuple) -> list[dict]:
    """The run's per-epoch snapshots ([] for a run trained before they existed); no model is loaded, so a
    run still training can be replayed."""
    try:
        return load_run(catalog.resolve(name), with_model=False).epoch_latents
    except (RunError, ValueError):  # a job before its first epoch, a run that went away
        return []
