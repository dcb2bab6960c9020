"""Would better inference put foreign digits in the right cluster? The encoder's codes against the true posterior's.

    VAE_DATA_DIR=... python -m benchmarks.foreign_posterior [--run pretrained/elbo-kl1] [--grid 160]

vae.foreign votes with the encoder's mean codes. The encoder is trained on MNIST only, so a printed
digit may land where the decoder would not put it: an amortization gap. In two dimensions the true
posterior p(z|x), proportional to p(x|z) p(z), can be summed on a grid, so this prints the 15-NN vote
accuracy (vae.knn) of both sets of foreign digits with
  encoder       their encoder means among the test set's encoder means (vae.foreign's figure, the baseline)
  mean          their posterior means among the test set's encoder means
  mean, mean    their posterior means among the test set's posterior means
  mode, mode    their posterior modes (the best grid node) among the test set's posterior modes
If the posterior's figures are not much better than the encoder's, the decoder itself puts these
digits among the wrong class: the model is the limit, not the inference (pretrained/README.md).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.special import logsumexp

from tests.helpers import find_run
from vae import data, densities, foreign
from vae.config import N_PIXELS
from vae.inference import NumpyVAE
from vae.knn import K_NEIGHBOURS, knn_vote

EXTENT = 5.0  # the grid covers [-EXTENT, EXTENT]^2: the prior's mass and every test code of the shipped runs
BATCH = 1000  # images per likelihood matrix (BATCH x grid nodes, float64)


def posterior_codes(model: NumpyVAE, images: np.ndarray, grid: int) -> tuple[np.ndarray, np.ndarray]:
    """(N, 784) images -> the posterior means and modes of their codes, by the midpoint rule on a grid x grid
    lattice, with the bound panel's own likelihood and prior (vae.densities)."""
    axis = np.linspace(-EXTENT, EXTENT, grid)
    nodes = np.stack(np.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2).astype(np.float32)
    at, log_prior = densities.decoded(model, nodes), densities.log_prior(nodes)
    means, modes = [], []
    for start in range(0, len(images), BATCH):
        x = images[start : start + BATCH].reshape(-1, N_PIXELS).astype(np.float32)
        log_joint = densities.likelihood_at(model, x, at) + log_prior
        weights = np.exp(log_joint - logsumexp(log_joint, axis=1, keepdims=True))
        means.append(weights @ nodes)
        modes.append(nodes[np.argmax(log_joint, axis=1)])
    return np.concatenate(means), np.concatenate(modes)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", help="run directory (default: the default pretrained run)")
    p.add_argument("--grid", type=int, default=160, help="grid nodes per axis")
    args = p.parse_args()
    run_dir = find_run(args.run)
    model = NumpyVAE.load(run_dir / "model.keras")
    if model.latent_dim != 2:
        p.error(f"{run_dir} has latent_dim {model.latent_dim}: the posterior is summed on a 2-D grid")
    started = time.perf_counter()
    x_test, y_test = data.load_vectors("test")
    test_encoder = model.encode(x_test)[0]
    test_mean, test_mode = posterior_codes(model, x_test, args.grid)
    print(f"{run_dir}: {len(x_test)} test codes, grid {args.grid} x {args.grid} over [-{EXTENT:g}, {EXTENT:g}]^2")
    print(f"{'set':8s} {'images':>6s} {'encoder':>8s} {'mean':>8s} {'mean, mean':>11s} {'mode, mode':>11s}")
    for digits in (foreign.printed_digits(), foreign.pen_digits()):
        flat = digits.images.reshape(len(digits.images), -1)
        mean, mode = posterior_codes(model, flat, args.grid)

        votes = [
            knn_vote(codes, reference, y_test, K_NEIGHBOURS)
            for codes, reference in ((model.encode(flat)[0], test_encoder), (mean, test_encoder),
                                     (mean, test_mean), (mode, test_mode))
        ]  # fmt: skip
        figures = [float(np.mean(vote == digits.labels)) for vote in votes]
        widths = (8, 8, 11, 11)
        print(
            f"{digits.name:8s} {len(flat):6d} " + " ".join(f"{f:>{w}.3f}" for f, w in zip(figures, widths, strict=True))
        )
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
