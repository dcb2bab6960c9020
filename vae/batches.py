"""The batches training and evaluation read: a tf.data pipeline over an in-memory (N, 784) array.

vae.data loads and checks the images (and needs no TensorFlow); this turns them into batches,
optionally binarized, paired with vae.augment's distortions, or with the labels for the label head.
What a batch is, and how VAE.train_step reads it, is unpack_batch.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from vae.augment import distort


def make_dataset(
    x: np.ndarray,
    batch_size: int,
    shuffle: bool = True,
    seed: int | None = None,
    binarize: bool = False,
    augment: bool = False,
    labels: np.ndarray | None = None,
):
    """A tf.data pipeline over an in-memory (N, 784) array.

    augment: each batch becomes (distorted, clean), vae.augment's distortions for the encoder and
    the clean images for the loss (VAE.train_step); for training only, never for the test set.
    labels: (N,) integer labels; each batch becomes (encoder input, clean, labels).

    Shuffling and batching run on indices and each batch is one gather from a single
    tensor: the same order as shuffling the rows, without copying 784 floats per
    element through a shuffle buffer (which made the seed's pipeline the bottleneck).
    """
    data = tf.constant(x)
    if labels is not None and len(labels) != len(x):
        raise ValueError(f"{len(labels)} labels for {len(x)} images")
    label_data = None if labels is None else tf.constant(np.asarray(labels, np.int32))

    def batch(idx, distortion_seed=None):
        images = tf.gather(data, idx)
        if binarize:  # dynamic binarization: a fresh Bernoulli draw of every pixel each time it is seen
            images = tf.cast(tf.random.uniform(tf.shape(images)) < images, tf.float32)
        inputs = distort(images, tf.stack([distortion_seed, distortion_seed // 2])) if augment else images
        if label_data is not None:
            return inputs, images, tf.gather(label_data, idx)
        return (inputs, images) if augment else images

    ds = tf.data.Dataset.range(len(x))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if augment:
        # one int64 per batch seeds its distortions, a fresh stream every epoch (rerandomize_each_iteration)
        ds = tf.data.Dataset.zip(ds, tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True))
    ds = ds.map(batch, num_parallel_calls=tf.data.AUTOTUNE)
    # tf.data's autotuner keeps a thread that held back fit's return when the iterator is torn down
    # at the end of each epoch (vae.training fits one epoch per call), and a gather per batch needs
    # no tuning (benchmarks/train_throughput.py; benchmarks/README.md has its epoch times before and after).
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.prefetch(tf.data.AUTOTUNE).with_options(options)


def unpack_batch(batch) -> tuple:
    """(encoder input, reconstruction target, labels or None) of a batch: make_dataset's images,
    (distorted, clean), (input, clean, labels), or the (images,) that Keras makes of fit(x)."""
    if not isinstance(batch, (tuple, list)):
        return batch, batch, None
    if len(batch) == 1:
        return batch[0], batch[0], None
    return batch[0], batch[1], (batch[2] if len(batch) > 2 else None)
