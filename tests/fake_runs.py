"""Small run directories built in-process (a 16-unit model, random latents): no MNIST, no train.py, ~1 s."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vae import io
from vae.config import VAEConfig
from vae.model import build_vae


def make_run(run_dir: Path, kl_weight: float = 1.0, epochs: int = 2, seed: int = 0, latent_dim: int = 2) -> Path:
    config = VAEConfig(latent_dim=latent_dim, hidden=(16,), kl_weight=kl_weight, epochs=epochs, seed=seed)
    io.atomic_write_json(run_dir / "config.json", config.to_dict())
    model = build_vae(config)
    rng = np.random.default_rng(seed)
    # An untrained decoder draws flat grey; a seed-dependent pixel bias makes each fake run's digits its own.
    model.decoder.get_layer("logits").bias.assign(rng.normal(0.0, 3.0, 784).astype(np.float32))
    history = []
    for epoch in range(1, epochs + 1):
        history.append({key: 100.0 / epoch + seed for key in io.HISTORY_KEYS} | {"epoch": epoch})
        io.commit_epoch(run_dir, model, history)
    io.atomic_save_npz(
        run_dir / "latents.npz",
        mean=rng.standard_normal((500, latent_dim)).astype(np.float32),
        log_var=np.full((500, latent_dim), -2.0, np.float32),
        labels=np.arange(500, dtype=np.uint8) % 10,
    )
    io.atomic_write_json(run_dir / "metrics.json", {"test": {"neg_elbo": 150.0 + seed, "reconstruction": 140.0}})
    io.write_status(run_dir, state="finished", epoch=epochs, epochs=epochs)
    return run_dir
