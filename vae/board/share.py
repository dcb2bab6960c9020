"""Did the hall's 4s land among the test 4s? The share of each digit's submissions whose 15 nearest
test codes vote for the digit the student meant."""

from __future__ import annotations

import numpy as np

from vae.knn import K_NEIGHBOURS, knn_vote


def landed_share(
    codes: np.ndarray, digits: np.ndarray, test_means: np.ndarray, test_labels: np.ndarray, k: int = K_NEIGHBOURS
) -> dict[int, float]:
    """{digit: share in [0, 1]} for each digit with at least one submission.

    codes (N, latent_dim): the submissions' z_mean; digits (N,): the digits the students meant;
    test_means (M, latent_dim) and test_labels (M,): the run's test codes (latents.npz).
    """
    digits = np.asarray(digits, dtype=np.int64).reshape(-1)
    if len(digits) == 0:
        return {}
    codes = np.asarray(codes, dtype=np.float64).reshape(len(digits), -1)
    landed = knn_vote(codes, test_means, test_labels, k) == digits
    sent = np.bincount(digits, minlength=10)
    hits = np.bincount(digits[landed], minlength=10)
    return {digit: float(hits[digit] / sent[digit]) for digit in np.flatnonzero(sent).tolist()}
