"""One digit's bound: its terms ordered as theory says, the same quadrature as vae.evaluate, a posterior that is one."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.helpers import ROOT, random_numpy_vae, skip_or_fail
from vae import bound, digit_bound, exact_posterior
from vae.inference import NumpyVAE

DEFAULT_RUN = ROOT / "pretrained" / "elbo-kl1"
KEYS = {"reconstruction", "kl", "neg_elbo", "iwae", "exact_nll", "gap"}


@pytest.fixture(scope="module")
def served():
    """The default pretrained run as the app serves it (numpy, no TensorFlow)."""
    from vae.io import RunError, load_run

    try:
        return load_run(DEFAULT_RUN, numpy=True)
    except RunError as err:
        skip_or_fail(f"the pretrained run is not loadable: {err}")


@pytest.fixture(scope="module")
def test_digits(mnist_dir) -> np.ndarray:
    from vae import data

    x, _ = data.load_vectors("test", subset=20)
    return x


def hand_made_vae(logit_bias: np.ndarray, z1_slope: np.ndarray | None = None) -> NumpyVAE:
    """A NumpyVAE with chosen weights: q(z|x) = N(0.2, e^0.2) per axis whatever x; the decoder's logits are
    logit_bias + z1 * z1_slope (z1_slope None: the decoder ignores z, so p(z|x) is the prior)."""
    slope = np.zeros(784, np.float32) if z1_slope is None else np.asarray(z1_slope, np.float32)
    zeros = np.zeros((784, 2), np.float32)
    # relu(z1) - relu(-z1) = z1: two hidden units carry z1 through the relu layer, z2 is dropped
    hidden = (np.array([[1.0, -1.0], [0.0, 0.0]], np.float32), np.zeros(2, np.float32))
    out = (np.stack([slope, -slope]), np.asarray(logit_bias, np.float32))
    return NumpyVAE(
        encoder=[(zeros, np.zeros(2, np.float32))],
        z_mean=(np.zeros((2, 2), np.float32), np.full(2, 0.2, np.float32)),
        z_log_var=(np.zeros((2, 2), np.float32), np.full(2, 0.2, np.float32)),
        decoder=[hidden, out],
    )


# ------------------------------------------------------------------------ no data needed


def test_a_decoder_that_ignores_z_gives_the_known_answers():
    """p(x) = p(x|z) for every z, p(z|x) is the prior, and the whole gap is KL(q || prior)."""
    rng = np.random.default_rng(0)
    bias = rng.normal(0, 2, 784)
    model = hand_made_vae(bias)
    x = (rng.random(784) < 0.3).astype(np.float32)
    truth = -float(x @ bias - np.logaddexp(0, bias).sum())
    kl = 2 * 0.5 * (math.exp(0.2) + 0.2**2 - 1 - 0.2)

    terms = digit_bound(model, x, k=1000)
    assert set(terms) == KEYS
    assert terms["exact_nll"] == pytest.approx(truth, abs=1e-3)
    assert terms["reconstruction"] == pytest.approx(truth, abs=1e-3)
    assert terms["kl"] == pytest.approx(kl, rel=1e-6) and terms["gap"] == pytest.approx(kl, abs=1e-3)
    assert terms["iwae"] == pytest.approx(truth, abs=0.01)  # q is near the posterior: k=1000 closes the gap

    z1, z2, density = exact_posterior(model, x, n=40, extent=3.0)
    nodes = np.stack(np.meshgrid(z1, z2, indexing="ij"), axis=-1)
    prior = np.exp(-0.5 * np.square(nodes).sum(-1))
    np.testing.assert_allclose(density, prior / prior.sum(), rtol=1e-5)
    assert z1 == pytest.approx(-3.0 + 0.075 + 0.15 * np.arange(40)) and z2 == pytest.approx(z1)


def test_posterior_axes_are_z1_then_z2():
    """A decoder that reads only z1: p(z|x) is narrow along z1 and the prior along z2, so density[i, j]
    must be indexed (z1, z2) and its z2 marginal must be N(0, 1) on the grid."""
    rng = np.random.default_rng(1)
    model = hand_made_vae(rng.normal(0, 1, 784), z1_slope=rng.normal(0, 1, 784))
    x = (rng.random(784) < 0.5).astype(np.float32)
    z1, z2, density = exact_posterior(model, x, n=120, extent=4.0)
    z2_marginal = np.exp(-0.5 * z2**2)
    np.testing.assert_allclose(density.sum(axis=0), z2_marginal / z2_marginal.sum(), rtol=1e-4)
    z1_marginal = density.sum(axis=1)
    z1_sd = math.sqrt(z1_marginal @ z1**2 - (z1_marginal @ z1) ** 2)
    assert z1_sd < 0.2  # 784 pixels pin z1 down; z2's sd is the prior's 1


def test_same_seed_same_figures_and_k_matters():
    model, x = random_numpy_vae(seed=2), np.random.default_rng(2).random(784).astype(np.float32)
    assert digit_bound(model, x, seed=5) == digit_bound(model, x, seed=5)
    assert digit_bound(model, x, k=10, seed=5)["iwae"] != digit_bound(model, x, k=10, seed=6)["iwae"]


def test_other_latent_sizes_are_refused_with_a_message():
    model, x = random_numpy_vae(latent_dim=3), np.zeros(784, np.float32)
    with pytest.raises(ValueError, match="latent_dim 2, not 3"):
        digit_bound(model, x)
    with pytest.raises(ValueError, match="latent_dim 2, not 3"):
        exact_posterior(model, x)


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (np.zeros(783), r"784 pixels.*\(783,\)"),
        (np.zeros((2, 784)), r"784 pixels.*\(2, 784\)"),
        (np.zeros((28, 27)), "784 pixels"),
        ("a digit", "array of pixel values"),
        (np.full(784, np.nan), r"finite values in \[0, 1\]"),
        (np.full(784, 255.0), r"finite values in \[0, 1\]"),
    ],
)
def test_bad_digits_are_refused_with_a_message(x, message):
    model = random_numpy_vae()
    with pytest.raises(ValueError, match=message):
        digit_bound(model, x)
    with pytest.raises(ValueError, match=message):
        exact_posterior(model, x)


def test_bad_settings_are_refused_with_a_message():
    model, x = random_numpy_vae(), np.zeros((28, 28), np.float32)
    for k in (0, 1.5, 10**6, True):
        with pytest.raises(ValueError, match="k must be a whole number"):
            digit_bound(model, x, k=k)
    for n in (1, 1000, "64"):
        with pytest.raises(ValueError, match="n must be a whole number"):
            exact_posterior(model, x, n=n)
    for extent in (0, -1.0, float("inf"), "3"):
        with pytest.raises(ValueError, match="extent must be a positive number"):
            exact_posterior(model, x, extent=extent)
    with pytest.raises(TypeError, match="NumpyVAE or a Keras"):
        digit_bound(object(), x)


# ------------------------------------------------------------------- the default run, MNIST


def test_terms_are_ordered_on_test_digits(served, test_digits):
    """exact_nll <= iwae <= neg_elbo, within Monte-Carlo error. IWAE shares its k draws with the
    reconstruction term, so iwae <= neg_elbo up to the noise of a sampled KL against the closed form;
    iwae >= exact only in expectation: one k=1000 estimate may fall below it (heavy-tailed weights),
    and the 300 x 300 grid is itself off by tenths of a nat for the narrowest posteriors."""
    terms = [digit_bound(served.model, x) for x in test_digits]
    for t in terms:
        assert t["neg_elbo"] == pytest.approx(t["reconstruction"] + t["kl"])
        assert t["gap"] == pytest.approx(t["neg_elbo"] - t["exact_nll"])
        assert t["iwae"] <= t["neg_elbo"] + 0.1
        assert t["iwae"] >= t["exact_nll"] - 0.5
        assert t["gap"] > -0.5  # KL(q(z|x) || p(z|x)) >= 0
    above = np.array([t["iwae"] - t["exact_nll"] for t in terms])
    assert above.mean() > 0  # Jensen: IWAE is an upper bound on average
    assert np.mean([t["neg_elbo"] - t["iwae"] for t in terms]) > 0.5  # and a real gain over the ELBO


def test_exact_nll_and_iwae_are_the_evaluators(served, test_digits):
    """The same quadrature rule as vae.evaluate (which sums in TensorFlow): the same image gives the same
    figure; and the same draws give vae.likelihood's importance weights. A Keras model works as the numpy one."""
    import keras
    import tensorflow as tf

    import vae.model  # noqa: F401  (registers the VAE class)
    from vae import likelihood

    keras_model = keras.models.load_model(DEFAULT_RUN / "model.keras", compile=False)
    log_weights = likelihood.importance_weights_fn(keras_model)
    eps = np.random.default_rng(0).standard_normal((500, 1, 2)).astype(np.float32)
    for x in test_digits[:3]:
        ours = digit_bound(served.model, x)
        same_rule = -bound.integrate_one(served.model, x[None]).log_px  # the default grid, as vae.likelihood's
        assert same_rule == pytest.approx(likelihood.exact_nll(keras_model, x[None])["nll"], abs=0.05)
        assert digit_bound(keras_model, x) == pytest.approx(ours, abs=1e-3)
        z_mean, z_log_var = keras_model.encoder(x[None], training=False)
        theirs = log_weights(tf.constant(x[None]), z_mean, z_log_var, tf.constant(eps)).numpy()[:, 0]
        np.testing.assert_allclose(bound.importance_weights(served.model, x[None], eps[:, 0])[1], theirs, atol=0.02)


def test_a_narrow_posterior_is_integrated_on_a_fitted_grid_that_agrees_with_a_fine_full_one(served, test_digits):
    """The shipped model's posteriors are often narrower than the default grid's cells: digit_bound's exact
    figure then comes from a fitted finer square, and matches the full grid at a quarter of the spacing."""
    from vae import evaluate

    narrow = min(test_digits[:20], key=lambda x: bound.integrate_one(served.model, x[None]).sd.min())
    assert bound.integrate_one(served.model, narrow[None]).sd.min() < bound.REFINE_BELOW * bound.Quadrature().spacing
    fine = -bound.integrate_one(served.model, narrow[None], bound.Quadrature(grid=1200)).log_px
    assert digit_bound(served.model, narrow)["exact_nll"] == pytest.approx(fine, abs=0.1)
    assert bound.EXACT_GRID == bound.Quadrature().grid == evaluate.EXACT_GRID


def test_posterior_sums_to_one_and_its_mode_sits_in_q_where_q_fits(served, test_digits):
    """The fitted window holds the posterior (almost nothing on its border). Where q fits the posterior
    (gap under 1 nat) and the picture resolves q (cells no wider than q's sd), the posterior's mean lies
    within q's 2-sigma ellipse; for many digits the gap is larger and it does not: the panel's point. The
    shipped model's posteriors are often narrower than the picture's cells, where it cannot be judged."""
    fitting = 0
    for x in test_digits:
        z1, z2, density = exact_posterior(served.model, x)
        assert density.shape == (bound.POSTERIOR_N, bound.POSTERIOR_N) and z1.shape == z2.shape == (bound.POSTERIOR_N,)
        assert density.sum() == pytest.approx(1.0, abs=1e-9) and density.min() >= 0
        assert np.all(np.diff(z1) > 0) and np.all(np.diff(z2) > 0)
        border = density[0].sum() + density[-1].sum() + density[:, 0].sum() + density[:, -1].sum()
        assert border < 0.02
        mean, log_var = (a[0] for a in served.model.encode(x[None]))
        resolved = np.exp(0.5 * log_var).min() >= z1[1] - z1[0]  # the picture's cells are no wider than q
        if resolved and digit_bound(served.model, x)["gap"] < 1.0:
            fitting += 1
            g1, g2 = np.meshgrid(z1, z2, indexing="ij")  # density[i, j] is at (z1[i], z2[j])
            centre = np.array([(density * g1).sum(), (density * g2).sum()])  # the posterior's mean
            assert np.sum(np.square((centre - mean) / np.exp(0.5 * log_var))) <= 4.0
    assert fitting >= 3  # so the ellipse check above ran on several digits
