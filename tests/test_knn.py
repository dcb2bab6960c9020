import numpy as np
import pytest

from vae.knn import knn_vote


def brute_force_vote(points, reference, labels, k):
    distances = ((points[:, None, :] - reference[None, :, :]) ** 2).sum(-1)
    nearest = np.argsort(distances, axis=1, kind="stable")[:, :k]
    return np.array([np.bincount(labels[row], minlength=10).argmax() for row in nearest])


def test_vote_agrees_with_a_brute_force_count():
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(500, 2))
    labels = rng.integers(0, 10, 500)
    points = rng.normal(size=(200, 2))
    np.testing.assert_array_equal(
        knn_vote(points, reference, labels, k=15), brute_force_vote(points, reference, labels, 15)
    )


def test_points_inside_a_cluster_take_its_label_and_non_integer_labels_work():
    reference = np.concatenate([np.zeros((20, 3)), np.full((20, 3), 10.0)])
    labels = np.array(["four"] * 20 + ["seven"] * 20)
    votes = knn_vote(np.array([[0.1, 0, 0], [9.9, 10, 10]]), reference, labels, k=15)
    assert votes.tolist() == ["four", "seven"]


def test_a_tie_goes_to_the_smaller_label():
    reference = np.array([[1.0, 0.0], [-1.0, 0.0]])
    assert knn_vote(np.zeros((1, 2)), reference, np.array([7, 3]), k=2).tolist() == [3]


def test_a_full_board_in_high_dimensions_agrees_too():
    rng = np.random.default_rng(1)
    reference, labels, points = rng.normal(size=(300, 16)), rng.integers(0, 10, 300), rng.normal(size=(50, 16))
    np.testing.assert_array_equal(
        knn_vote(points, reference, labels, k=1), brute_force_vote(points, reference, labels, 1)
    )
    np.testing.assert_array_equal(knn_vote(points, reference, labels), brute_force_vote(points, reference, labels, 15))


def test_k_beyond_the_reference_set_uses_all_of_it():
    assert knn_vote(np.zeros((1, 2)), np.ones((3, 2)), np.array([5, 5, 2]), k=15).tolist() == [5]


def test_mismatched_shapes_are_refused_with_a_message():
    with pytest.raises(ValueError, match="must be"):
        knn_vote(np.zeros((1, 3)), np.zeros((4, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="reference labels"):
        knn_vote(np.zeros((1, 2)), np.zeros((4, 2)), np.zeros(3))


def test_leave_one_out_leaves_each_point_out_of_its_own_vote():
    """Two tight clusters and one 7 among the 4s: left out of its own vote the 7 reads 4 (counted in it,
    at k=1 it reads itself); every other point still reads its own cluster."""
    rng = np.random.default_rng(2)
    reference = np.concatenate([rng.normal(0, 0.1, (10, 2)), rng.normal(5, 0.1, (10, 2))])
    labels = np.array([4] * 9 + [7] + [7] * 10)
    votes = knn_vote(reference, reference, labels, k=5, leave_one_out=True)
    assert votes[9] == 4 and (votes[:9] == 4).all() and (votes[10:] == 7).all()
    assert knn_vote(reference, reference, labels, k=1)[9] == 7  # counted with itself, it votes for itself
    with pytest.raises(ValueError, match="reference points themselves"):
        knn_vote(reference[:3], reference, labels, leave_one_out=True)
