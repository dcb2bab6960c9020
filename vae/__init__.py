"""vae: a variational autoencoder for MNIST you can see and touch.

Public API (kept stable; see README.md):
    load_run(run_dir) -> Run with .model, .config, .history, .latents, .status, .metrics
    run.model.encode(x) -> (z_mean, z_log_var);  run.model.decode(z) -> pixel probabilities
    VAEConfig, VAE, build_vae, latent_grid, grid_points, reconstruct, interpolate, preprocess_digit
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter off the terminal

from vae.config import KL_PRESETS, VAEConfig  # noqa: E402
from vae.generate import grid_points, interpolate, latent_grid, reconstruct, to_png  # noqa: E402
from vae.images import ImageError, digit_from_upload, preprocess_digit  # noqa: E402
from vae.io import Run, RunError, load_run  # noqa: E402
from vae.model import VAE, build_vae  # noqa: E402

__all__ = [
    "KL_PRESETS",
    "VAEConfig",
    "VAE",
    "build_vae",
    "Run",
    "RunError",
    "load_run",
    "grid_points",
    "latent_grid",
    "reconstruct",
    "interpolate",
    "to_png",
    "preprocess_digit",
    "digit_from_upload",
    "ImageError",
]
