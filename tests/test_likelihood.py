"""The three estimates of -log p(x) (vae.likelihood) must bracket each other as theory says, and recover a known one."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from vae import likelihood
from vae.losses import reconstruction_nats
from vae.model import VAE


@pytest.fixture(scope="module")
def trained_2d(mnist_dir):
    """A small 2-D VAE trained 320 steps on 2,000 images, and 200 test images."""
    from vae import batches, data

    x_train, _ = data.load_vectors("train", subset=2000)
    x_test, _ = data.load_vectors("test", subset=200)
    keras.utils.set_random_seed(0)
    model = VAE(latent_dim=2, hidden=(64,), seed=0)
    model.compile(optimizer=keras.optimizers.Adam(2e-3))
    model.fit(batches.make_dataset(x_train, 64, seed=0), epochs=10, verbose=0, shuffle=False)
    return model, x_test


Q_MEAN, Q_LOG_VAR = 0.2, 0.2  # the encoder of constant_model ignores x too: q(z|x) = N(0.2, e^0.2) per axis


def constant_model(seed: int = 0) -> tuple[VAE, np.ndarray]:
    """A VAE whose decoder ignores z and whose encoder ignores x (zero kernels, chosen biases).

    Then p(x) = p(x|z) for every z, known exactly, and the k=1 bound exceeds it by exactly
    KL(q || p) = 2 * 0.5 * (e^0.2 + 0.2^2 - 1 - 0.2) nats.
    """
    keras.utils.set_random_seed(seed)
    model = VAE(latent_dim=2, hidden=(8,), seed=seed)
    rng = np.random.default_rng(seed)
    biases = {"logits": rng.normal(0, 2, 784), "z_mean": np.full(2, Q_MEAN), "z_log_var": np.full(2, Q_LOG_VAR)}
    for layer in model.encoder.layers + model.decoder.layers:
        if layer.weights:
            kernel, bias = layer.get_weights()
            layer.set_weights([np.zeros_like(kernel), biases.get(layer.name, np.zeros_like(bias)).astype(np.float32)])
    x = (rng.random((50, 784)) < 0.3).astype(np.float32)
    return model, x


def test_quadrature_and_iwae_recover_a_known_likelihood():
    """With a z-independent decoder the exact answer is -log p(x|z): the grid's cell area and the
    prior's normalisation must be right to 1e-3 nats; IWAE must start KL(q||p) above it and converge to it."""
    model, x = constant_model()
    bias = model.decoder.get_layer("logits").get_weights()[1]
    truth = float(reconstruction_nats(tf.constant(x), tf.broadcast_to(bias, x.shape)).numpy().mean())
    exact = likelihood.exact_nll(model, x, grid=120)
    assert exact["nll"] == pytest.approx(truth, abs=1e-3)
    assert exact["nll_coarse"] == pytest.approx(truth, abs=1e-3)

    kl = 2 * 0.5 * (np.exp(Q_LOG_VAR) + Q_MEAN**2 - 1 - Q_LOG_VAR)  # both coordinates' closed-form KL
    by_k = likelihood.iwae_nll(model, x, k=1000, seed=0)
    assert by_k[1] == pytest.approx(truth + kl, abs=0.01)  # 50,000 draws: standard error ~0.002
    assert by_k[1000] == pytest.approx(truth, abs=0.005)
    elbo = likelihood.negative_elbo(model, x)
    assert elbo["kl"] == pytest.approx(kl, rel=1e-4) and elbo["reconstruction"] == pytest.approx(truth, rel=1e-6)


def test_iwae_is_chunked_without_changing_the_answer():
    """Memory chunking (max_rows) must be invisible: same seed, same figures."""
    model, x = constant_model(seed=1)
    whole = likelihood.iwae_nll(model, x, k=100, seed=3, image_batch=50, max_rows=100_000)
    chunked = likelihood.iwae_nll(model, x, k=100, seed=3, image_batch=50, max_rows=7 * 50)
    # Different chunk shapes draw the noise in different orders, so compare within noise:
    assert chunked[100] == pytest.approx(whole[100], abs=0.05)
    assert set(whole) == {1, 10, 100}


def test_quadrature_refuses_other_latent_sizes():
    with pytest.raises(ValueError, match="latent_dim 2"):
        likelihood.exact_nll(VAE(latent_dim=3, hidden=(8,)), np.zeros((1, 784), np.float32))


@pytest.mark.slow
def test_iwae_at_most_negative_elbo_and_not_growing_with_k(trained_2d):
    model, x = trained_2d
    elbo = likelihood.negative_elbo(model, x, seed=0)
    assert elbo["neg_elbo"] == pytest.approx(elbo["reconstruction"] + elbo["kl"])
    by_k = likelihood.iwae_nll(model, x, k=1000, seed=0)
    assert list(by_k) == [1, 10, 100, 1000]
    # k=1 is the same one-sample bound as the negative ELBO (KL by Monte Carlo instead of
    # closed form): equal up to sampling noise, which a nat's tolerance covers on 200 images.
    assert by_k[1] == pytest.approx(elbo["neg_elbo"], abs=1.0)
    assert by_k[10] < elbo["neg_elbo"] - 0.5  # a real gain, far outside the noise
    for small, large in zip(list(by_k.values()), list(by_k.values())[1:], strict=False):
        assert large <= small + 0.02


@pytest.mark.slow
def test_quadrature_agrees_with_large_k_iwae(trained_2d):
    """Stated tolerance: IWAE(k=1000) lies above the exact NLL by at most 0.3 nats and never below
    it by more than 0.02; the grid is converged to 0.01 nats."""
    model, x = trained_2d
    exact = likelihood.exact_nll(model, x, grid=100, extent=6.0)
    assert abs(exact["nll"] - exact["nll_coarse"]) < 0.01
    by_k = likelihood.iwae_nll(model, x, k=1000, seed=1)
    assert exact["nll"] - 0.02 <= by_k[1000] <= exact["nll"] + 0.3
    assert by_k[1000] - exact["nll"] < by_k[10] - exact["nll"]  # the gap closes as k grows
