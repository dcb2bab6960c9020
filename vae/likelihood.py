"""Three estimates of -log p(x) in nats per image, from loosest to tightest, in TensorFlow (continuous
pixels in [0, 1], Bernoulli likelihood from the decoder's logits). vae.evaluate runs them on the test
set; vae.bound computes the same figures for one digit in numpy, for the app.

  negative ELBO  E_q[-log p(x|z)] + KL(q(z|x) || p(z)), one z sample per image; an upper bound.
  IWAE           -log (1/k) sum_i p(x, z_i) / q(z_i|x), z_i ~ q(z|x) (Burda et al. 2016);
                 also an upper bound, tighter as k grows, equal to -log p(x) as k -> infinity.
  exact          for a 2-D latent only: p(x) = integral of p(x|z) p(z) dz by the midpoint rule
                 on a fine grid over [-extent, extent]^2 (vae.bound.Quadrature). The grid is
                 decoded once and shared by all images; the same sum on every other node gives
                 a coarser estimate, whose difference shows the discretisation error.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf
from scipy.special import logsumexp

from vae.bound import EXACT_EXTENT, EXACT_GRID, Quadrature, require_2d
from vae.losses import gaussian_log_density, kl_nats, reconstruction_nats

IWAE_IMAGE_BATCH = 500  # images per IWAE pass (fewer for a large k: at most MAX_LOG_WEIGHTS log-weights)
CHEAP_K = 10  # IWAE samples in the cheap evaluation train.py runs after every training: seconds, not minutes
FULL_K = 1000
MAX_ROWS = 16384  # decoded points held at once (x 784 floats ~ 50 MB): bounds memory
MAX_LOG_WEIGHTS = 4_000_000  # IWAE log-weights held at once (32 MB): fewer images per batch when k is huge


def _log_normal(z: tf.Tensor) -> tf.Tensor:
    """log N(z; 0, I), the prior."""
    return gaussian_log_density(z, tf.zeros_like(z), tf.zeros_like(z))


# ------------------------------------------------------------------------------------- ELBO


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


# ------------------------------------------------------------------------------------- IWAE


def importance_weights_fn(model):
    """A compiled (x (B,784), z_mean, z_log_var (B,d), eps (K,B,d)) -> log p(x,z) - log q(z|x), shape (K,B).
    Built once per model and kept on it: a waiting train.py traces it ahead of its job (vae.training.warm_up)."""
    if getattr(model, "_importance_weights", None) is not None:
        return model._importance_weights
    d = model.latent_dim

    # XLA fuses the sampling, the 784-pixel likelihood and the sum into one kernel: fewer passes over memory.
    @tf.function(
        jit_compile=True,
        input_signature=[
            tf.TensorSpec([None, 784], tf.float32),
            tf.TensorSpec([None, d], tf.float32),
            tf.TensorSpec([None, d], tf.float32),
            tf.TensorSpec([None, None, d], tf.float32),
        ],
    )
    def log_weights(x, z_mean, z_log_var, eps):
        z = z_mean + tf.exp(0.5 * z_log_var) * eps  # (K, B, d)
        logits = model.decoder(tf.reshape(z, [-1, d]), training=False)
        logits = tf.reshape(logits, tf.concat([tf.shape(eps)[:2], [784]], axis=0))
        log_px_z = -reconstruction_nats(tf.broadcast_to(x, tf.shape(logits)), logits)
        return log_px_z + _log_normal(z) - gaussian_log_density(z, z_mean, z_log_var)

    model._importance_weights = log_weights
    return log_weights


def iwae_nll(
    model, x: np.ndarray, k: int = FULL_K, seed: int = 0, image_batch: int = IWAE_IMAGE_BATCH, max_rows: int = MAX_ROWS
) -> dict[int, float]:
    """Importance-weighted NLL, nats per image, for k and each power of ten that divides it.

    One pass draws k samples per image; the bound for a smaller k' is the mean over the
    k/k' disjoint groups of k' samples (unbiased for IWAE_k', and cheaper than fresh draws).
    Memory: images go in batches, samples in chunks of at most max_rows decoded points;
    only the (k, batch) log-weights are kept (at most MAX_LOG_WEIGHTS), reduced with log-sum-exp.
    """
    log_weights = importance_weights_fn(model)
    generator = tf.random.Generator.from_seed(seed)
    image_batch = max(1, min(image_batch, MAX_LOG_WEIGHTS // k))
    ks = [kk for kk in (1, 10, 100, 1000, 10000) if kk < k and k % kk == 0] + [k]
    totals = dict.fromkeys(ks, 0.0)
    for start in range(0, len(x), image_batch):
        batch = tf.constant(x[start : start + image_batch])
        z_mean, z_log_var = model.encoder(batch, training=False)
        chunk = max(1, max_rows // len(batch))
        lw = np.concatenate(
            [
                log_weights(batch, z_mean, z_log_var, generator.normal([min(chunk, k - i), *z_mean.shape])).numpy()
                for i in range(0, k, chunk)
            ]
        ).astype(np.float64)  # (k, B)
        for kk in ks:
            log_mean = logsumexp(lw.reshape(k // kk, kk, -1), axis=1) - math.log(kk)  # (k/kk, B)
            totals[kk] -= log_mean.mean(axis=0).sum()
    return {kk: total / len(x) for kk, total in totals.items()}


# -------------------------------------------------------------------------------- quadrature


def exact_nll(
    model, x: np.ndarray, grid: int = EXACT_GRID, extent: float = EXACT_EXTENT, max_rows: int = 2048
) -> dict[str, float]:
    """-log p(x) by vae.bound's midpoint rule over [-extent, extent]^2, grid x grid cells (2-D latent only).

    The rule (nodes, cell area) is vae.bound.Quadrature, which vae.digit_bound integrates one digit
    with; here the sum runs for all images at once in TensorFlow, where XLA fuses it
    (benchmarks/bound_latency.py times it against the same sum in numpy).
    log p(x|z) = sum_pixels x * logit - softplus(logit), so for a block of decoded grid points
    it is one matrix product with all images: (N, 784) @ (784, G). Every other node in each
    direction (spacing 2h, cell area 4h^2) gives the coarse estimate from the same decodes:
    those nodes are put first, so the coarse sum is over the first blocks only.
    """
    require_2d(model)
    rule = Quadrature(grid, extent)
    nodes, n_coarse = rule.nodes_coarse_first()

    @tf.function(
        jit_compile=True,
        input_signature=[tf.TensorSpec([None, 784], tf.float32), tf.TensorSpec([None, 2], tf.float32)],
    )
    def block_logsumexp(x, z):
        """(N,) logsumexp over this block of nodes of log p(x|z) + log p(z)."""
        logits = model.decoder(z, training=False)
        log_joint = tf.matmul(x, logits, transpose_b=True) - tf.reduce_sum(tf.nn.softplus(logits), axis=1)
        return tf.reduce_logsumexp(log_joint + _log_normal(z), axis=1)

    x = tf.constant(x)
    blocks = [(0, n_coarse), (n_coarse, len(nodes))]  # no block mixes coarse and other nodes
    parts = [
        (lo < n_coarse, block_logsumexp(x, nodes[start : min(start + max_rows, hi)]).numpy().astype(np.float64))
        for lo, hi in blocks
        for start in range(lo, hi, max_rows)
    ]
    log_px = rule.log_integral(np.stack([p for _, p in parts], axis=1))
    log_px_coarse = rule.log_integral(np.stack([p for c, p in parts if c], axis=1), stride=2)
    z_mean, _ = model.encode(x.numpy())
    return {
        "nll": float(-log_px.mean()),
        "nll_coarse": float(-log_px_coarse.mean()),
        "grid": grid,
        "extent": extent,
        "spacing": rule.spacing,
        # codes outside the square mean the integral misses mass there: widen --extent
        "codes_outside": float((np.abs(z_mean) > extent).any(axis=1).mean()),
    }
