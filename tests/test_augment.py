"""vae.augment: the distortions the encoder sees in training, and vae.data's (distorted, clean) pairs."""

import dataclasses

import numpy as np
import tensorflow as tf

from vae import batches
from vae.augment import DEFAULT, Distortion, distort

NONE = Distortion(max_shift=0, max_rotation_deg=0, scale=(1, 1), max_shear=0, stroke=(0, 0), plain_share=0)


def digits(n: int = 64) -> np.ndarray:
    """Blocky fake digits: a bright bar at a random place in each 28x28 (no MNIST needed)."""
    rng = np.random.default_rng(0)
    x = np.zeros((n, 28, 28), np.float32)
    for image, (row, col) in zip(x, rng.integers(8, 16, size=(n, 2)), strict=True):
        image[row : row + 8, col : col + 3] = 1.0
    return x.reshape(n, 784)


def test_distortions_keep_shape_and_range_and_follow_the_seed():
    x = tf.constant(digits())
    a, b = distort(x, tf.constant([1, 2])).numpy(), distort(x, tf.constant([1, 2])).numpy()
    c = distort(x, tf.constant([3, 4])).numpy()
    assert a.shape == x.shape and a.dtype == np.float32 and 0 <= a.min() and a.max() <= 1
    np.testing.assert_array_equal(a, b)  # reproducible from the seed
    assert np.abs(a - c).max() > 0.5  # another seed, other distortions
    changed = np.abs(a - x.numpy()).max(axis=1) > 1e-3
    assert 0.5 < changed.mean() < 1.0  # most images distorted, a share (plain_share) left plain


def test_no_distortion_is_the_identity_and_each_range_acts():
    x = tf.constant(digits())
    np.testing.assert_allclose(distort(x, tf.constant([0, 0]), NONE).numpy(), x.numpy(), atol=1e-5)
    thick = distort(x, tf.constant([0, 0]), dataclasses.replace(NONE, stroke=(1, 1))).numpy()
    thin = distort(x, tf.constant([0, 0]), dataclasses.replace(NONE, stroke=(-1, -1))).numpy()
    assert (thick.sum(axis=1) > x.numpy().sum(axis=1)).all() and (thin.sum(axis=1) < x.numpy().sum(axis=1)).all()
    shifted = distort(x, tf.constant([5, 6]), dataclasses.replace(NONE, max_shift=3)).numpy()

    def centres(images: np.ndarray) -> np.ndarray:
        grid = np.arange(28, dtype=np.float32)
        images = images.reshape(-1, 28, 28)
        mass = images.sum(axis=(1, 2))
        return np.stack([(images.sum(axis=2) * grid).sum(1) / mass, (images.sum(axis=1) * grid).sum(1) / mass], 1)

    moved = np.abs(centres(shifted) - centres(x.numpy()))
    assert moved.max() <= 3.01 and moved.max() > 1.0  # within max_shift, and it does move
    # the ink survives a typical distortion: nothing is pushed off the 28x28
    typical = distort(x, tf.constant([7, 8]), dataclasses.replace(DEFAULT, plain_share=0)).numpy()
    assert (typical.sum(axis=1) > 0.3 * x.numpy().sum(axis=1)).all()


def test_an_augmented_dataset_pairs_distorted_inputs_with_the_clean_images():
    x = digits(40)
    dataset = batches.make_dataset(x, 16, shuffle=False, seed=0, augment=True)
    pairs = list(dataset)
    assert len(pairs) == 3 and all(isinstance(b, tuple) and len(b) == 2 for b in pairs)
    clean = np.concatenate([b[1].numpy() for b in pairs])
    np.testing.assert_array_equal(clean, x)  # the loss's target: the images themselves, untouched
    distorted = np.concatenate([b[0].numpy() for b in pairs])
    assert distorted.shape == x.shape and np.abs(distorted - x).max() > 0.5
    # the next epoch (another pass over the same dataset) draws new distortions; the same seed, the same run
    again = np.concatenate([b[0].numpy() for b in dataset])
    assert np.abs(again - distorted).max() > 0.5
    rerun = np.concatenate([b[0].numpy() for b in batches.make_dataset(x, 16, shuffle=False, seed=0, augment=True)])
    np.testing.assert_array_equal(rerun, distorted)
    # without augment the batches stay plain tensors, as before
    plain = next(iter(batches.make_dataset(x, 16, shuffle=False)))
    assert not isinstance(plain, tuple)
