import numpy as np
import tensorflow as tf

from vae.losses import kl_nats, reconstruction_nats, vae_loss


def test_kl_closed_form_matches_monte_carlo():
    rng = np.random.default_rng(0)
    mean = rng.normal(size=(3, 2)).astype(np.float32)
    log_var = rng.normal(scale=0.5, size=(3, 2)).astype(np.float32)
    z = mean + np.exp(0.5 * log_var) * rng.standard_normal((200_000, 3, 2)).astype(np.float32)
    log_q = -0.5 * (np.log(2 * np.pi) + log_var + (z - mean) ** 2 / np.exp(log_var)).sum(-1)
    log_p = -0.5 * (np.log(2 * np.pi) + z**2).sum(-1)
    monte_carlo = (log_q - log_p).mean(0)
    np.testing.assert_allclose(kl_nats(mean, log_var).numpy(), monte_carlo, atol=0.02)


def test_kl_is_zero_at_the_prior():
    assert float(tf.reduce_max(tf.abs(kl_nats(tf.zeros((4, 2)), tf.zeros((4, 2)))))) == 0.0


def test_reconstruction_is_bce_summed_over_pixels():
    x = np.random.default_rng(1).uniform(size=(2, 784)).astype(np.float32)
    logits = np.random.default_rng(2).normal(size=(2, 784)).astype(np.float32)
    p = 1 / (1 + np.exp(-logits.astype(np.float64)))
    bce = -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum(-1)
    np.testing.assert_allclose(reconstruction_nats(x, logits).numpy(), bce, rtol=1e-5)


def test_loss_is_reconstruction_plus_weighted_kl():
    rng = np.random.default_rng(3)
    x = rng.uniform(size=(8, 784)).astype(np.float32)
    logits = rng.normal(size=(8, 784)).astype(np.float32)
    mean, log_var = rng.normal(size=(8, 2)).astype(np.float32), rng.normal(size=(8, 2)).astype(np.float32)
    for kl_weight in (0.0, 0.0784, 1.0, 4.0):
        loss, reconstruction, kl = vae_loss(x, logits, mean, log_var, kl_weight)
        np.testing.assert_allclose(float(loss), float(reconstruction) + kl_weight * float(kl), rtol=1e-6)
        assert float(kl) > 0 and float(reconstruction) > 0
