"""A 2-D (or any) latent model's densities in numpy: twins of vae.losses, for the server that never imports
TensorFlow (vae.bound's one-digit figures, benchmarks/foreign_posterior.py). tests/test_densities.py checks
they give vae.losses' nats.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vae.inference import NumpyVAE, relu_stack

MAX_DECODED = 8192  # latent points decoded at once: their 784 logits each bound a request's memory
LOG_2PI = math.log(2.0 * math.pi)


@dataclass(frozen=True)
class Decoded:
    """What log p(x|z) needs of the decoder at G latent points, whatever the image x."""

    hidden: np.ndarray  # (G, H) the last hidden layer: logits = hidden @ kernel + bias
    softplus_sum: np.ndarray  # (G,) sum over the pixels of softplus(logit)


def decoded(model: NumpyVAE, z: np.ndarray) -> Decoded:
    z = np.asarray(z, np.float32).reshape(-1, model.latent_dim)
    hidden = relu_stack(z, model.decoder[:-1])
    logits = hidden @ model.decoder[-1][0] + model.decoder[-1][1]
    softplus = np.maximum(logits, 0.0) + np.log1p(np.exp(-np.abs(logits)))  # stable; faster than logaddexp
    return Decoded(hidden, softplus.sum(axis=1))


def likelihood_at(model: NumpyVAE, x: np.ndarray, at: Decoded) -> np.ndarray:
    """(N, G) log p(x_n | z_g) = x . logits - sum softplus(logits): minus vae.losses.reconstruction_nats.
    x . logits as (x @ kernel.T) @ hidden.T: the image meets the 784-wide layer once, not once per point."""
    kernel, bias = model.decoder[-1]
    return ((x @ kernel.T) @ at.hidden.T + (x @ bias)[:, None] - at.softplus_sum).astype(np.float64)


def log_likelihood(model: NumpyVAE, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """(N, G) log p(x_n | z_g), decoding at most MAX_DECODED points at once."""
    blocks = [
        likelihood_at(model, x, decoded(model, z[start : start + MAX_DECODED]))
        for start in range(0, len(z), MAX_DECODED)
    ]
    return np.concatenate(blocks, axis=1)


def log_prior(z: np.ndarray) -> np.ndarray:
    """log N(z; 0, I) per row."""
    z = np.asarray(z, np.float64)
    return -0.5 * (np.square(z).sum(axis=-1) + z.shape[-1] * LOG_2PI)


def log_gaussian(z: np.ndarray, mean: np.ndarray, log_var: np.ndarray) -> np.ndarray:
    """log N(z; mean, diag(exp(log_var))) per row, as vae.losses.gaussian_log_density."""
    z, mean, log_var = (np.asarray(a, np.float64) for a in (z, mean, log_var))
    return -0.5 * (LOG_2PI + log_var + np.square(z - mean) * np.exp(-log_var)).sum(axis=-1)


def kl_to_prior(mean: np.ndarray, log_var: np.ndarray) -> np.ndarray:
    """KL(N(mean, exp(log_var)) || N(0, I)) per row, as vae.losses.kl_nats."""
    mean, log_var = np.asarray(mean, np.float64), np.asarray(log_var, np.float64)
    return -0.5 * (1.0 + log_var - np.square(mean) - np.exp(log_var)).sum(axis=-1)


def log_joint(model: NumpyVAE, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """(N, G) log p(x_n | z_g) + log p(z_g): the integrand of p(x)."""
    return log_likelihood(model, x, z) + log_prior(z)
