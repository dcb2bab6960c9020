"""vae: a variational autoencoder for MNIST you can see and touch.

Public API (kept stable; see README.md):
    load_run(run_dir) -> Run with .model, .config, .history, .latents, .status, .metrics
    run.model.encode(x) -> (z_mean, z_log_var);  run.model.decode(z) -> pixel probabilities
    VAEConfig, VAE, build_vae, latent_grid, grid_points, reconstruct, interpolate, preprocess_digit

The names are imported on first use: `import vae` (or any vae.<module> that does not need
it) must not pay for TensorFlow, which only training, evaluation and the Keras model need.
The app serves everything through vae.inference and never imports it.
"""

import importlib
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter off the terminal

_HOMES = {
    "KL_PRESETS": "vae.config",
    "VAEConfig": "vae.config",
    "VAE": "vae.model",
    "build_vae": "vae.model",
    "Run": "vae.io",
    "RunError": "vae.io",
    "load_run": "vae.io",
    "grid_points": "vae.generate",
    "latent_grid": "vae.generate",
    "reconstruct": "vae.generate",
    "interpolate": "vae.generate",
    "to_png": "vae.generate",
    "preprocess_digit": "vae.images",
    "digit_from_upload": "vae.images",
    "ImageError": "vae.images",
    "digit_bound": "vae.bound",
    "exact_posterior": "vae.bound",
}
__all__ = list(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'vae' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
