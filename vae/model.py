"""The VAE: a Dense encoder to (z_mean, z_log_var), the reparameterization trick, a Dense decoder;
optionally a small label head that reads the digit from the sampled code (label_weight > 0).

Keras 3 can only save a subclassed model it can rebuild: so the class is registered,
builds its own encoder and decoder from plain numbers in ``__init__`` and returns those
numbers from ``get_config``. ``model.save("x.keras")`` / ``keras.models.load_model``
then round-trip config, weights and optimizer state with no custom_objects, as long as
this module is imported (``import vae.model``; ``vae.load_run`` does it).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from vae.batches import unpack_batch
from vae.config import N_CLASSES, N_PIXELS
from vae.losses import vae_loss

LABEL_HEAD_WIDTH = 64


@keras.saving.register_keras_serializable(package="vae")
class Sampling(layers.Layer):
    """z = mean + sigma * eps: the noise is an input, so gradients flow to mean and log_var."""

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        eps = keras.random.normal(tf.shape(z_mean), seed=self.seed_generator)
        return z_mean + tf.exp(0.5 * z_log_var) * eps

    def get_config(self) -> dict:
        return super().get_config() | {"seed": self.seed}


def build_encoder(latent_dim: int, hidden: tuple[int, ...]) -> keras.Model:
    x = inputs = keras.Input(shape=(N_PIXELS,), name="image")
    for i, width in enumerate(hidden):
        x = layers.Dense(width, activation="relu", name=f"enc_{i}")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    return keras.Model(inputs, [z_mean, z_log_var], name="encoder")


def build_decoder(latent_dim: int, hidden: tuple[int, ...]) -> keras.Model:
    """Mirror of the encoder; returns logits (sigmoid gives pixel probabilities)."""
    x = inputs = keras.Input(shape=(latent_dim,), name="z")
    for i, width in enumerate(reversed(hidden)):
        x = layers.Dense(width, activation="relu", name=f"dec_{i}")(x)
    logits = layers.Dense(N_PIXELS, name="logits")(x)
    return keras.Model(inputs, logits, name="decoder")


def build_label_head(latent_dim: int, classes: int = N_CLASSES) -> keras.Model:
    """The digit from a code: two small ReLU layers, so the classes may take any shape on the 2-D map
    rather than the convex cells a linear softmax would cut."""
    x = inputs = keras.Input(shape=(latent_dim,), name="z")
    for i in range(2):
        x = layers.Dense(LABEL_HEAD_WIDTH, activation="relu", name=f"label_{i}")(x)
    return keras.Model(inputs, layers.Dense(classes, name="label_logits")(x), name="label_head")


@keras.saving.register_keras_serializable(package="vae")
class VAE(keras.Model):
    def __init__(
        self,
        latent_dim: int = 2,
        hidden: tuple[int, ...] = (512, 256),
        kl_weight: float = 1.0,
        seed: int | None = None,
        code_consistency: float = 0.0,
        label_weight: float = 0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.code_consistency = float(code_consistency)
        self.label_weight = float(label_weight)
        self.latent_dim = int(latent_dim)
        self.hidden = tuple(int(h) for h in hidden)
        self.kl_weight = float(kl_weight)
        self.seed = seed
        self.encoder = build_encoder(self.latent_dim, self.hidden)
        self.decoder = build_decoder(self.latent_dim, self.hidden)
        self.sampling = Sampling(seed=seed, name="sampling")
        # built only when used: a run without it keeps the weight list of the runs saved before it existed
        self.label_head = build_label_head(self.latent_dim) if self.label_weight > 0 else None
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.label_tracker = keras.metrics.Mean(name="label")  # the label head's cross-entropy, training only
        # Encoder and decoder are functional models, built on creation; saying so lets
        # save_weights / load_model work before the first call.
        self.built = True
        # The KL warm-up's factor on kl_weight in training steps (vae.training sets it each epoch). A plain
        # tf.Variable, not a Keras weight: one compiled step serves every factor, and runs saved before
        # warm-up existed load with the same weight list.
        self.kl_warmup = tf.Variable(1.0, trainable=False, dtype=tf.float32, name="kl_warmup")
        # kl_weight too, for train_step and test_step: compiled in as a Python float it would be a constant,
        # and every new weight would compile a step of its own (benchmarks/retrain_pause.py, run twice).
        self.kl_weight_variable = tf.Variable(self.kl_weight, trainable=False, dtype=tf.float32, name="kl_weight")
        self._decode_fn = None
        self._encode_fn = None

    def get_config(self) -> dict:
        return super().get_config() | {
            "latent_dim": self.latent_dim,
            "hidden": list(self.hidden),
            "kl_weight": self.kl_weight,
            "seed": self.seed,
            "code_consistency": self.code_consistency,
            "label_weight": self.label_weight,
        }

    @property
    def metrics(self) -> list:
        trackers = [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker]
        return trackers + ([self.label_tracker] if self.label_head is not None else [])

    def call(self, x, training: bool = False):
        """Reconstruction logits of x through a sampled z."""
        z_mean, z_log_var = self.encoder(x, training=training)
        return self.decoder(self.sampling([z_mean, z_log_var]), training=training)

    def _step_losses(self, x, target, kl_weight, training: bool, codes: tuple | None = None):
        """(loss, reconstruction, kl) of reconstructing target from the code of x (the same images unless
        augmenting), and the sampled code z. codes: x's (z_mean, z_log_var) if already encoded."""
        z_mean, z_log_var = codes if codes is not None else self.encoder(x, training=training)
        z = self.sampling([z_mean, z_log_var])
        logits = self.decoder(z, training=training)
        return vae_loss(target, logits, z_mean, z_log_var, kl_weight), z

    def _label_loss(self, z, labels):
        """Mean cross-entropy of the label head reading each sampled code's digit: on the sample, not the
        mean, so that the classes stay apart by more than a code's own uncertainty."""
        logits = self.label_head(z, training=True)
        return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))

    def _consistency(self, distorted, clean_mean, clean_log_var):
        """Mean over the batch of -log q(mu(distorted) | clean) + const: how far, in the clean digit's own
        posterior standard deviations, the distorted digit's code lands. The clean code is held fixed, so
        only the distorted code moves towards it."""
        mean, _ = self.encoder(distorted, training=True)
        clean_mean, clean_log_var = tf.stop_gradient(clean_mean), tf.stop_gradient(clean_log_var)
        return tf.reduce_mean(0.5 * tf.reduce_sum(tf.square(mean - clean_mean) * tf.exp(-clean_log_var), axis=-1))

    def _report(self, loss, reconstruction, kl, label=None) -> dict:
        self.loss_tracker.update_state(loss)
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        if label is not None:
            self.label_tracker.update_state(label)
        return {m.name: m.result() for m in self.metrics if label is not None or m is not self.label_tracker}

    def train_step(self, data):
        # vae.batches: images, or (encoder input, reconstruction target[, labels]); the input is a distorted
        # copy of the target with augment, the labels are there for the label head
        x, target, labels = unpack_batch(data)
        if self.label_head is not None and labels is None:
            raise ValueError("this VAE trains a label head (label_weight > 0): its batches need the labels")
        kl_weight = self.kl_weight_variable * self.kl_warmup
        with tf.GradientTape() as tape:
            if self.code_consistency > 0:  # VAEConfig allows it with augment only
                # the ELBO of the clean image, and the distorted one's code pulled onto the clean one's
                codes = self.encoder(target, training=True)
                (loss, reconstruction, kl), z = self._step_losses(target, target, kl_weight, True, codes)
                loss += self.code_consistency * self._consistency(x, *codes)
            else:
                (loss, reconstruction, kl), z = self._step_losses(x, target, kl_weight, training=True)
            # the objective, loss + label_weight * label; "loss" stays the VAE's own, comparable to the test's
            label = self._label_loss(z, labels) if self.label_head is not None else None
            objective = loss if label is None else loss + self.label_weight * label
        grads = tape.gradient(objective, self.trainable_weights)
        self.optimizer.apply(grads, self.trainable_weights)
        return self._report(loss, reconstruction, kl, label)

    def test_step(self, data):
        # the run's own objective at its full kl_weight, warm-up or not: test curves stay comparable
        x, _, _ = unpack_batch(data)
        losses, _ = self._step_losses(x, x, self.kl_weight_variable, training=False)
        return self._report(*losses)

    # ---- the public fast paths: numpy in, numpy out, one compiled graph each ----

    def decode(self, z) -> np.ndarray:
        """(N, latent_dim) latent points -> (N, 784) pixel probabilities."""
        if self._decode_fn is None:
            spec = tf.TensorSpec([None, self.latent_dim], tf.float32)
            self._decode_fn = tf.function(lambda z: tf.sigmoid(self.decoder(z, training=False)), input_signature=[spec])
        z = np.asarray(z, dtype=np.float32).reshape(-1, self.latent_dim)
        return self._decode_fn(z).numpy()

    def encode(self, x) -> tuple[np.ndarray, np.ndarray]:
        """(N, 784) images in [0, 1] -> (z_mean, z_log_var), each (N, latent_dim)."""
        if self._encode_fn is None:
            spec = tf.TensorSpec([None, N_PIXELS], tf.float32)
            self._encode_fn = tf.function(lambda x: self.encoder(x, training=False), input_signature=[spec])
        x = np.asarray(x, dtype=np.float32).reshape(-1, N_PIXELS)
        z_mean, z_log_var = self._encode_fn(x)
        return z_mean.numpy(), z_log_var.numpy()


def build_vae(config, jit_compile: bool = True) -> VAE:
    """A fresh, compiled VAE for a VAEConfig."""
    model = VAE(
        latent_dim=config.latent_dim,
        hidden=config.hidden,
        kl_weight=config.kl_weight,
        seed=config.seed,
        code_consistency=config.code_consistency,
        label_weight=config.label_weight,
    )
    # XLA fuses the small Dense layers' kernels, and steps_per_execution=10 runs ten steps per call from
    # Python; with and without XLA: benchmarks/batch_elbo.py --settings 128:0.001 128:0.001:noxla.
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=config.lr), jit_compile=jit_compile, steps_per_execution=10
    )
    return model
