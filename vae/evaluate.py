"""How good is a trained VAE? Figures in nats per test image, written to RUN_DIR/metrics.json.

python -m vae.evaluate RUN_DIR
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from vae.io import atomic_write_json, read_json
from vae.losses import kl_nats, reconstruction_nats


def negative_elbo(model, x: np.ndarray, batch_size: int = 1000, seed: int = 0) -> dict[str, float]:
    """Test negative ELBO = reconstruction (one z sample per image) + KL, with its parts."""
    generator = tf.random.Generator.from_seed(seed)
    reconstruction, kl = [], []
    for start in range(0, len(x), batch_size):
        batch = tf.constant(x[start : start + batch_size])
        z_mean, z_log_var = model.encoder(batch, training=False)
        z = z_mean + tf.exp(0.5 * z_log_var) * generator.normal(tf.shape(z_mean))
        reconstruction.append(reconstruction_nats(batch, model.decoder(z, training=False)).numpy())
        kl.append(kl_nats(z_mean, z_log_var).numpy())
    rec, kl_ = float(np.concatenate(reconstruction).mean()), float(np.concatenate(kl).mean())
    return {"neg_elbo": rec + kl_, "reconstruction": rec, "kl": kl_}


def write_metrics(run_dir: str | Path, model, x_test: np.ndarray, cheap: bool = True) -> dict:
    """Compute the figures and merge them into metrics.json."""
    path = Path(run_dir) / "metrics.json"
    metrics = read_json(path, default={})
    metrics["test"] = negative_elbo(model, x_test)
    atomic_write_json(path, metrics)
    return metrics
