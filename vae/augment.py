"""Training-time distortions of MNIST digits: small shifts, rotations, scaling, shear and stroke width.

Only the encoder sees the distorted digit; the loss still reconstructs the clean one (vae.data pairs
them, VAE.train_step reads the pair). So the decoder, and with it p(x) and the exact NLL, models plain
MNIST, while the encoder learns to give a shifted, slanted or bolder digit the code of the digit
itself (the denoising criterion for VAEs, Im et al. 2017). Uploads and drawings differ from MNIST in
exactly these ways after vae.images.preprocess_digit (the foreign-digit evaluation, vae.foreign).

Everything is TensorFlow on whole batches inside the tf.data pipeline, with stateless random ops
seeded per batch, so a run is reproducible from its seed and no Python runs per image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import tensorflow as tf

from vae.config import IMAGE_SIZE, N_PIXELS


@dataclass(frozen=True)
class Distortion:
    """The ranges one distortion is drawn from, each uniformly and independently per image."""

    max_shift: float = 2.0  # pixels, each axis: preprocess_digit centres by mass, which misses MNIST's by 1-2 px
    max_rotation_deg: float = 12.0
    scale: tuple[float, float] = (0.85, 1.15)  # digit height relative to MNIST's 20 px box
    max_shear: float = 0.25  # x += shear * y: slanted handwriting and italic fonts
    stroke: tuple[float, float] = (-0.5, 1.0)  # < 0 thins towards a 3x3 erosion, > 0 thickens towards a dilation
    plain_share: float = 0.25  # images passed through untouched, so plain MNIST stays in the encoder's diet


DEFAULT = Distortion()


def _uniform(seed: tf.Tensor, n: tf.Tensor, low: float, high: float) -> tf.Tensor:
    return tf.random.stateless_uniform([n], seed=seed, minval=low, maxval=high)


def _inverse_affines(seed: tf.Tensor, n: tf.Tensor, d: Distortion) -> tf.Tensor:
    """(n, 8) projective transforms (output pixel -> input pixel) of random affines about the image centre."""
    seeds = tf.random.experimental.stateless_split(seed, 5)
    angle = _uniform(seeds[0], n, -1.0, 1.0) * math.radians(d.max_rotation_deg)
    scale = _uniform(seeds[1], n, *d.scale)
    shear = _uniform(seeds[2], n, -d.max_shear, d.max_shear)
    shift_x = _uniform(seeds[3], n, -d.max_shift, d.max_shift)
    shift_y = _uniform(seeds[4], n, -d.max_shift, d.max_shift)
    cos, sin = tf.cos(angle), tf.sin(angle)
    # forward A = rotation @ shear @ scale; its inverse in closed form (det = scale^2)
    a, b = scale * cos, scale * (cos * shear - sin)
    c, e = scale * sin, scale * (sin * shear + cos)
    det = a * e - b * c
    ia, ib, ic, ie = e / det, -b / det, -c / det, a / det
    centre = (IMAGE_SIZE - 1) / 2.0
    # input = A^-1 (output - centre - shift) + centre
    ox, oy = centre + shift_x, centre + shift_y
    tx = centre - (ia * ox + ib * oy)
    ty = centre - (ic * ox + ie * oy)
    zeros = tf.zeros_like(ia)
    return tf.stack([ia, ib, tx, ic, ie, ty, zeros, zeros], axis=1)


def _restroke(images: tf.Tensor, amount: tf.Tensor) -> tf.Tensor:
    """Blend each (n, 28, 28, 1) image towards its 3x3 dilation (amount > 0) or erosion (amount < 0)."""
    dilated = tf.nn.max_pool2d(images, 3, 1, "SAME")
    eroded = -tf.nn.max_pool2d(-images, 3, 1, "SAME")
    amount = tf.reshape(amount, [-1, 1, 1, 1])
    target = tf.where(amount > 0, dilated, eroded)
    return images + tf.abs(amount) * (target - images)


def distort(x: tf.Tensor, seed: tf.Tensor, distortion: Distortion = DEFAULT) -> tf.Tensor:
    """(n, 784) images in [0, 1] -> the same images randomly distorted, still (n, 784) in [0, 1].

    seed: a shape-[2] integer tensor; the same seed gives the same distortions.
    """
    n = tf.shape(x)[0]
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 3)
    images = tf.reshape(x, [-1, IMAGE_SIZE, IMAGE_SIZE, 1])
    stroke = _uniform(seeds[1], n, *distortion.stroke)
    images = _restroke(images, stroke)
    images = tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=_inverse_affines(seeds[0], n, distortion),
        output_shape=[IMAGE_SIZE, IMAGE_SIZE],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )
    distorted = tf.clip_by_value(tf.reshape(images, [-1, N_PIXELS]), 0.0, 1.0)
    keep_plain = _uniform(seeds[2], n, 0.0, 1.0) < distortion.plain_share
    return tf.where(keep_plain[:, None], x, distorted)
