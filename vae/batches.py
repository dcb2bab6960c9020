"""The batches training and evaluation read: a tf.data pipeline over an in-memory (N, 784) array.

vae.data loads and checks the images (and needs no TensorFlow); this turns them into batches,
optionally binarized or paired with vae.augment's distortions.
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
):
    """A tf.data pipeline over an in-memory (N, 784) array.

    augment: each batch becomes (distorted, clean), vae.augment's distortions for the encoder and
    the clean images for the loss (VAE.train_step); for training only, never for the test set.

    Shuffling and batching run on indices and each batch is one gather from a single
    tensor: the same order as shuffling the rows, without copying 784 floats per
    element through a shuffle buffer (which made the seed's pipeline the bottleneck).
    """
    data = tf.constant(x)
    ds = tf.data.Dataset.range(len(x))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size).map(lambda idx: tf.gather(data, idx), num_parallel_calls=tf.data.AUTOTUNE)
    if binarize:
        # Dynamic binarization: a fresh Bernoulli draw of every pixel each time it is seen.
        ds = ds.map(lambda b: tf.cast(tf.random.uniform(tf.shape(b)) < b, tf.float32))
    if augment:
        # one int64 per batch seeds its distortions, a fresh stream every epoch (rerandomize_each_iteration)
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
        ds = tf.data.Dataset.zip(ds, seeds).map(lambda b, s: (distort(b, tf.stack([s, s // 2])), b))
    # tf.data's autotuner keeps a thread that held back fit's return when the iterator is torn down
    # at the end of each epoch (vae.training fits one epoch per call), and a gather per batch needs
    # no tuning (benchmarks/train_throughput.py; benchmarks/README.md has its epoch times before and after).
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.prefetch(tf.data.AUTOTUNE).with_options(options)
