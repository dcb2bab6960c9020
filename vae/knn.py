"""The k-nearest-neighbour vote: which label do a point's nearest reference codes carry?

One place for it: the class board (does a student's 4 land among the test 4s?) and the
foreign-digit view ask the same question of the same test codes.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import KDTree

K_NEIGHBOURS = 15


def knn_vote(
    points: np.ndarray,
    reference_points: np.ndarray,
    reference_labels: np.ndarray,
    k: int = K_NEIGHBOURS,
    leave_one_out: bool = False,
) -> np.ndarray:
    """The majority label among each point's k nearest reference points (Euclidean), shape (N,).

    points (N, d), reference_points (M, d), reference_labels (M,). Ties go to the smaller label,
    as scikit-learn's KNeighborsClassifier does. k larger than M uses all M reference points.
    leave_one_out: the points are the reference points themselves, each voted on by the others
    (its own entry, its nearest neighbour at distance 0, left out): the reference set's own figure.
    """
    points = np.asarray(points, dtype=np.float64)
    reference = np.asarray(reference_points, dtype=np.float64)
    labels = np.asarray(reference_labels)
    if points.ndim != 2 or reference.ndim != 2 or points.shape[1] != reference.shape[1]:
        raise ValueError(f"points {points.shape} and reference points {reference.shape} must be (N, d) and (M, d)")
    if labels.shape != (len(reference),):
        raise ValueError(f"{len(reference)} reference points but reference labels of shape {labels.shape}")
    if leave_one_out and points.shape != reference.shape:
        raise ValueError("leave_one_out votes on the reference points themselves: pass them as points too")
    if len(reference) - leave_one_out < 1 or k < 1:
        raise ValueError("the vote needs at least one reference point and k >= 1")
    k = min(k, len(reference) - leave_one_out)
    first = 1 + leave_one_out
    classes, label_index = np.unique(labels, return_inverse=True)
    # A k-d tree rather than all N x M distances: a full board against 10,000 test codes on every poll.
    _, nearest = KDTree(reference).query(points, k=[*range(first, first + k)])  # a list keeps (N, k) even for k = 1
    neighbour_classes = label_index[nearest]
    # One bincount over all rows: row i's classes are offset by i * n_classes.
    offsets = np.arange(len(points))[:, None] * len(classes)
    tally = np.bincount((neighbour_classes + offsets).ravel(), minlength=len(points) * len(classes))
    return classes[tally.reshape(len(points), len(classes)).argmax(axis=1)]
