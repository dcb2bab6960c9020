"""The VAE loss in nats per image: reconstruction + kl_weight * KL."""

from __future__ import annotations

import math

import tensorflow as tf


def reconstruction_nats(x: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    """Bernoulli negative log-likelihood -log p(x|z) per image: BCE from logits summed over pixels.

    From logits rather than probabilities: exact and stable even where sigmoid saturates.
    """
    return tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits), axis=-1)


def kl_nats(z_mean: tf.Tensor, z_log_var: tf.Tensor) -> tf.Tensor:
    """KL(q(z|x) || N(0, I)) per image, closed form for a diagonal Gaussian."""
    return -0.5 * tf.reduce_sum(1.0 + z_log_var - tf.square(z_mean) - tf.exp(z_log_var), axis=-1)


def gaussian_log_density(z: tf.Tensor, mean: tf.Tensor, log_var: tf.Tensor) -> tf.Tensor:
    """log N(z; mean, diag(exp(log_var))) summed over the last axis."""
    return -0.5 * tf.reduce_sum(math.log(2.0 * math.pi) + log_var + tf.square(z - mean) * tf.exp(-log_var), axis=-1)


def vae_loss(
    x: tf.Tensor, logits: tf.Tensor, z_mean: tf.Tensor, z_log_var: tf.Tensor, kl_weight: float
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """(loss, reconstruction, kl), each averaged over the batch."""
    reconstruction = tf.reduce_mean(reconstruction_nats(x, logits))
    kl = tf.reduce_mean(kl_nats(z_mean, z_log_var))
    return reconstruction + kl_weight * kl, reconstruction, kl
