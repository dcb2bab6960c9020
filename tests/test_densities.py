"""vae.densities: the numpy twins of vae.losses."""

import numpy as np

from tests.helpers import random_numpy_vae
from vae import densities
from vae.inference import relu_stack


def test_numpy_densities_are_the_training_loss():
    """The numpy twins give vae.losses' nats: the bound panel's figures are the ones training optimises."""
    import tensorflow as tf

    from vae.losses import gaussian_log_density, kl_nats, reconstruction_nats

    rng = np.random.default_rng(0)
    model = random_numpy_vae(seed=1)
    x, z = rng.random((5, 784)).astype(np.float32), rng.normal(size=(7, 2)).astype(np.float32)
    logits = relu_stack(z, model.decoder[:-1]) @ model.decoder[-1][0] + model.decoder[-1][1]
    pairs = np.broadcast_shapes((5, 1, 784), (1, 7, 784))  # every image with every decoded z
    nats = reconstruction_nats(tf.broadcast_to(x[:, None], pairs), tf.broadcast_to(logits[None], pairs))
    expected = -nats.numpy()
    np.testing.assert_allclose(densities.log_likelihood(model, x, z), expected, rtol=1e-5)
    mean, log_var = rng.normal(size=(7, 2)), rng.normal(size=(7, 2))
    np.testing.assert_allclose(densities.kl_to_prior(mean, log_var), kl_nats(mean, log_var).numpy(), rtol=1e-6)
    np.testing.assert_allclose(
        densities.log_gaussian(z, mean, log_var), gaussian_log_density(z, mean, log_var).numpy(), rtol=1e-5
    )
    np.testing.assert_allclose(densities.log_prior(z), gaussian_log_density(z, 0.0 * z, 0.0 * z).numpy(), rtol=1e-5)
