"""The bound made visible for one digit: how far the ELBO sits from the true -log p(x), and why.

For one image x of a 2-D latent model, in nats, with the Bernoulli likelihood on continuous
pixels that training (vae.losses) and vae.evaluate use:

    reconstruction  E_q[-log p(x|z)], the mean over k draws z_i ~ q(z|x)
    kl              KL(q(z|x) || N(0, I)), closed form
    neg_elbo        reconstruction + kl: an upper bound on -log p(x)
    iwae            -log (1/k) sum_i p(x, z_i) / q(z_i|x) over the same k draws: a tighter upper bound
    exact_nll       -log p(x), p(x) = integral of p(x|z) p(z) dz by the midpoint rule on the latent plane
    gap             neg_elbo - exact_nll = KL(q(z|x) || p(z|x)): what the encoder's Gaussian costs

``exact_posterior`` gives p(z|x) = p(x|z) p(z) / p(x) on a grid, for drawing beside q(z|x).

Numpy only: the app's server never imports TensorFlow. ``Quadrature`` is the one midpoint rule
(cells, their area, how partial sums combine); vae.evaluate integrates with it too, summing the
log-likelihood for 10,000 images in TensorFlow (XLA fuses that sum; benchmarks/bound_latency.py
times both), and tests/test_bound.py checks the two agree on the same image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.ndimage import binary_dilation
from scipy.special import logsumexp

from vae.config import IMAGE_SIZE, N_PIXELS
from vae.densities import (
    Decoded,
    decoded,
    kl_to_prior,
    likelihood_at,
    log_gaussian,
    log_joint,
    log_likelihood,
    log_prior,
)
from vae.inference import NumpyVAE
from vae.limits import BOUND_SAMPLES, POSTERIOR_GRID_SIDE

# Fine enough for posteriors a few hundredths wide, wide enough for every test code; the
# convergence (finer grid, wider square) is in benchmarks/README.md.
EXACT_GRID = 300
EXACT_EXTENT = 6.0
# One digit's integral reads the grid in tiles: one node per SCAN_STRIDE x SCAN_STRIDE tile first,
# then every node of the tiles within SCAN_MARGIN nats of the best one, and of their neighbours
# (a peak may sit between scanned nodes). A tile left out holds under e^-SCAN_MARGIN of the peak
# node's mass, so the sum equals the whole grid's (benchmarks/bound_latency.py checks it on test
# digits) at a fraction of the decodes.
SCAN_STRIDE = 6
SCAN_MARGIN = 30.0
POSTERIOR_N = 48  # exact_posterior's cells per side: smooth in its fitted window, and n * n decodes per picture


@dataclass(frozen=True)
class Quadrature:
    """The midpoint rule on grid x grid square cells tiling [-extent, extent]^2 shifted to center."""

    grid: int = EXACT_GRID
    extent: float = EXACT_EXTENT
    center: tuple[float, float] = (0.0, 0.0)

    @property
    def spacing(self) -> float:
        return 2.0 * self.extent / self.grid

    @property
    def axes(self) -> tuple[np.ndarray, np.ndarray]:
        """The cell centres along z1 and along z2."""
        offsets = -self.extent + self.spacing * (np.arange(self.grid) + 0.5)
        return self.center[0] + offsets, self.center[1] + offsets

    def points(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """(len(i), 2) float32 centres of the cells (i[m], j[m]): i along z1, j along z2."""
        z1, z2 = self.axes
        return np.stack([z1[i], z2[j]], axis=1).astype(np.float32)

    def nodes(self) -> np.ndarray:
        """All grid * grid centres, (i, j) in row-major order: reshape values to (grid, grid), [i, j]."""
        i, j = np.divmod(np.arange(self.grid * self.grid), self.grid)
        return self.points(i, j)

    def nodes_coarse_first(self) -> tuple[np.ndarray, int]:
        """All centres, those with even i and even j first (the rule at spacing 2h), and how many those are."""
        i, j = np.divmod(np.arange(self.grid * self.grid), self.grid)
        coarse = (i % 2 == 0) & (j % 2 == 0)
        order = np.concatenate([np.flatnonzero(coarse), np.flatnonzero(~coarse)])
        return self.points(i[order], j[order]), int(coarse.sum())

    def log_integral(self, log_values: np.ndarray, stride: int = 1) -> np.ndarray:
        """log of the integral from the log integrand at nodes (last axis; or log partial sums of them):
        logsumexp times the cell area. stride 2: the coarse rule on every other node, cells of side 2h."""
        return logsumexp(np.asarray(log_values, np.float64), axis=-1) + 2.0 * math.log(stride * self.spacing)


# ------------------------------------------------------------------------------- checked inputs


def numpy_model(model) -> NumpyVAE:
    """The model as a NumpyVAE: as is, or a Keras vae.model.VAE's weights read into one."""
    if isinstance(model, NumpyVAE):
        return model
    if not (hasattr(model, "encoder") and hasattr(model, "decoder")):
        raise TypeError(f"expected a vae.inference.NumpyVAE or a Keras vae.model.VAE, not {type(model).__name__}")
    return NumpyVAE.from_keras(model)


def require_2d(model) -> None:
    if model.latent_dim != 2:
        raise ValueError(
            f"quadrature over the latent plane needs latent_dim 2, not {model.latent_dim}: "
            "the exact likelihood and posterior are shown only for 2-D models"
        )


def one_digit(x) -> np.ndarray:
    """One image as (1, 784) float32 in [0, 1]; ValueError saying what is wrong otherwise."""
    try:
        x = np.asarray(x, dtype=np.float32)
    except (TypeError, ValueError):
        raise ValueError("a digit must be an array of pixel values in [0, 1]") from None
    shapes = ((N_PIXELS,), (IMAGE_SIZE, IMAGE_SIZE), (1, N_PIXELS), (1, IMAGE_SIZE, IMAGE_SIZE))
    if x.shape not in shapes:
        raise ValueError(f"one digit is {N_PIXELS} pixels, shaped (784,) or (28, 28); got shape {x.shape}")
    if not np.isfinite(x).all() or x.min() < 0.0 or x.max() > 1.0:
        raise ValueError("a digit's pixels must be finite values in [0, 1] (MNIST-style: 0 black, 1 white ink)")
    return x.reshape(1, N_PIXELS)


def _count(value, allowed, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value not in allowed:
        raise ValueError(f"{name} must be a whole number from {allowed.low:g} to {allowed.high:g}, not {value!r}")
    return int(value)


# ------------------------------------------------------------------------------------ one digit


@dataclass(frozen=True)
class Posterior:
    """The grid's integral for one image and the moments of p(z|x) on the nodes it evaluated."""

    log_px: float
    mean: np.ndarray  # (2,)
    sd: np.ndarray  # (2,)
    nodes_evaluated: int


@lru_cache(maxsize=4)  # per served model: its scan nodes decoded once (a few MB), whatever the digit
def scan_basis(model: NumpyVAE, rule: Quadrature) -> tuple[np.ndarray, Decoded]:
    """log p(z) and the decoder at one node per SCAN_STRIDE x SCAN_STRIDE tile of the rule's grid, row-major."""
    tiles = -(-rule.grid // SCAN_STRIDE)
    scanned = np.minimum(np.arange(tiles) * SCAN_STRIDE + SCAN_STRIDE // 2, rule.grid - 1)
    ti, tj = np.divmod(np.arange(tiles * tiles), tiles)
    z = rule.points(scanned[ti], scanned[tj])
    return log_prior(z), decoded(model, z)


def integrate_one(model: NumpyVAE, x: np.ndarray, rule: Quadrature = Quadrature()) -> Posterior:
    """log p(x) for one (1, 784) image by `rule`, decoding only the tiles that hold its mass (SCAN_*)."""
    tiles = -(-rule.grid // SCAN_STRIDE)
    scan_log_prior, scan_decoded = scan_basis(model, rule)
    scan = (likelihood_at(model, x, scan_decoded)[0] + scan_log_prior).reshape(tiles, tiles)
    keep = scan >= scan.max() - SCAN_MARGIN
    # The scan's nodes lie SCAN_STRIDE cells apart and can step over a posterior narrower than that: the
    # tiles around q(z|x), which sits near the posterior, are kept too.
    mean, log_var = (a[0].astype(np.float64) for a in model.encode(x))
    q_sd = np.exp(0.5 * log_var)
    (low_i, low_j), (high_i, high_j) = (
        np.clip(
            ((mean + side * 4 * q_sd - np.array(rule.center) + rule.extent) / rule.spacing) // SCAN_STRIDE, 0, tiles - 1
        ).astype(int)
        for side in (-1, 1)
    )
    keep[low_i : high_i + 1, low_j : high_j + 1] = True
    keep = binary_dilation(keep, structure=np.ones((3, 3), bool))
    rows, cols = np.nonzero(keep)
    offsets = np.arange(SCAN_STRIDE)
    i = (rows[:, None, None] * SCAN_STRIDE + offsets[None, :, None]) + 0 * offsets[None, None, :]
    j = (cols[:, None, None] * SCAN_STRIDE + offsets[None, None, :]) + 0 * offsets[None, :, None]
    inside = (i < rule.grid) & (j < rule.grid)  # the last tiles are cut when the stride does not divide grid
    z = rule.points(i[inside], j[inside])
    values = log_joint(model, x, z)[0]
    weights = np.exp(values - logsumexp(values))
    mean = weights @ z
    sd = np.sqrt(np.maximum(weights @ np.square(z - mean), 0.0))
    return Posterior(float(rule.log_integral(values)), mean, sd, len(z))


def importance_weights(model: NumpyVAE, x: np.ndarray, eps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For z = mean + sd * eps ~ q(z|x) (eps (k, 2)): log p(x|z) and log p(x, z) - log q(z|x), each (k,)."""
    mean, log_var = (a.astype(np.float64) for a in model.encode(x))
    z = mean + np.exp(0.5 * log_var) * eps
    log_px_z = log_likelihood(model, x, z)[0]
    return log_px_z, log_px_z + log_prior(z) - log_gaussian(z, mean, log_var)


REFINE_BELOW = 4  # posterior sd in default-grid cells under which one digit's integral is redone finer
REFINED_CELLS_PER_SD = 4  # the fitted grid's spacing: a quarter of the posterior's sd
MAX_REFINED_GRID = 600


@lru_cache(maxsize=2)  # the bound panel asks digit_bound, then exact_posterior, about the same digit
def located(model: NumpyVAE, pixels: bytes) -> Posterior:
    """log p(x) for the (1, 784) float32 image whose bytes these are: the default grid, then, where the
    posterior is narrower than a few of its cells (a sharp model's often is), again on a square fitted
    around it, fine enough to resolve it; the midpoint rule's error grows with (spacing / sd)^2
    (tests/test_bound.py checks the fitted figure against a fine full grid)."""
    x = np.frombuffer(pixels, np.float32).reshape(1, N_PIXELS)
    first = integrate_one(model, x)
    spacing = Quadrature().spacing
    if first.sd.min() >= REFINE_BELOW * spacing:
        return first
    step = max(float(first.sd.min()) / REFINED_CELLS_PER_SD, 1e-4)
    half = 8.0 * max(float(first.sd.max()), step)
    grid = int(min(math.ceil(2 * half / step), MAX_REFINED_GRID))
    return integrate_one(model, x, Quadrature(grid, half, center=(float(first.mean[0]), float(first.mean[1]))))


def digit_bound(model, x, k: int = 1000, seed: int = 0) -> dict[str, float]:
    """The terms of the bound for one digit, in nats (see the module docstring for each key).

    model: a vae.inference.NumpyVAE (the app's) or a Keras vae.model.VAE, latent_dim 2.
    x: one image, (784,) or (28, 28), pixels in [0, 1]. The same seed gives the same figures.
    """
    model = numpy_model(model)
    require_2d(model)
    x = one_digit(x)
    k = _count(k, BOUND_SAMPLES, "k")
    mean, log_var = (a.astype(np.float64) for a in model.encode(x))
    log_px_z, log_weights = importance_weights(model, x, np.random.default_rng(seed).standard_normal((k, 2)))
    reconstruction = float(-log_px_z.mean())
    kl = float(kl_to_prior(mean, log_var)[0])
    exact = -located(model, x.tobytes()).log_px
    return {
        "reconstruction": reconstruction,
        "kl": kl,
        "neg_elbo": reconstruction + kl,
        "iwae": float(math.log(k) - logsumexp(log_weights)),
        "exact_nll": exact,
        "gap": reconstruction + kl - exact,
    }


def exact_posterior(
    model, x, n: int = POSTERIOR_N, extent: float | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """p(z|x) on an n x n grid: (z1 (n,), z2 (n,), density (n, n)), density[i, j] at (z1[i], z2[j]).

    The density is p(x|z) p(z) at the cell centres, normalised to sum to 1 over the grid (plot it
    as an image with density.T, z2 upwards). extent None: a square fitted around both q(z|x)'s
    3-sigma box and where the exact posterior lies, so either can be seen; a number: the square
    [-extent, extent]^2, as vae.likelihood's. 2-D models only.
    """
    model = numpy_model(model)
    require_2d(model)
    x = one_digit(x)
    n = _count(n, POSTERIOR_GRID_SIDE, "n")
    if extent is None:
        window = fitted_window(model, x, n)
    elif isinstance(extent, (int, float)) and math.isfinite(extent) and extent > 0:
        window = Quadrature(n, float(extent))
    else:
        raise ValueError(f"extent must be a positive number of prior standard deviations, not {extent!r}")
    values = log_joint(model, x, window.nodes())[0]
    density = np.exp(values - logsumexp(values)).reshape(n, n)
    z1, z2 = window.axes
    return z1, z2, density


def fitted_window(model: NumpyVAE, x: np.ndarray, n: int) -> Quadrature:
    """The smallest square holding q(z|x)'s 3-sigma box and the exact posterior's 4-sigma box, plus a margin."""
    mean, log_var = (a[0].astype(np.float64) for a in model.encode(x))
    q_sd = np.exp(0.5 * log_var)
    posterior = located(model, x.tobytes())
    # The grid resolves the posterior only to its spacing: never pad it by less.
    p_sd = np.maximum(posterior.sd, Quadrature().spacing)
    low = np.minimum(mean - 3 * q_sd, posterior.mean - 4 * p_sd)
    high = np.maximum(mean + 3 * q_sd, posterior.mean + 4 * p_sd)
    half = 0.55 * float((high - low).max())
    center = (low + high) / 2
    return Quadrature(n, half, (float(center[0]), float(center[1])))
