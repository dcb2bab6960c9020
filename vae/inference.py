"""The saved encoder, decoder and digit classifier as numpy forward passes, for serving.

The app only ever runs the trained networks forward. In numpy that needs the weights and
a few matmuls; in TensorFlow it needs TensorFlow: ~6 s to import on an idle core, ~600 MiB
per server, and Streamlit calls ``keras.backend.clear_session()`` (a full garbage
collection, ~0.3 s holding the GIL) after every script run once Keras is imported.
So the explorer reads the weights straight out of the .keras file (a zip holding
``model.weights.h5``) and never imports TensorFlow; training and evaluation keep Keras.
tests/test_inference.py checks every forward pass against Keras on the same file.

    model = NumpyVAE.load("pretrained/elbo-kl1/model.keras")
    model.decode(z)            # (N, latent_dim) -> (N, 784) pixel probabilities
    model.encode(x)            # (N, 784) in [0, 1] -> (z_mean, z_log_var)
    NumpyClassifier.load("pretrained/classifier.keras").predict(images)   # (N, 10) softmax
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vae.config import IMAGE_SIZE, N_PIXELS

CLASSIFIER_PATH = Path(__file__).resolve().parents[1] / "pretrained" / "classifier.keras"  # python -m vae.classifier
Dense = tuple[np.ndarray, np.ndarray]  # (kernel (inputs, outputs), bias (outputs,)), float32


class WeightsError(Exception):
    """A .keras file whose weights this module cannot read; the message says why."""


def read_keras_file(path: str | Path) -> dict[str, list[np.ndarray]]:
    """{layer path: [weights...]} of a .keras archive, without Keras.

    Layer paths are as Keras stores them: "encoder/layers/dense_1", in creation order per
    sub-model (dense, dense_1, dense_2, ...).
    """
    import h5py  # a Keras dependency; imported here so that `import vae.inference` stays cheap

    try:
        with zipfile.ZipFile(path) as archive:
            weights_file = io.BytesIO(archive.read("model.weights.h5"))
    except (OSError, KeyError, zipfile.BadZipFile) as err:
        raise WeightsError(f"{Path(path).name} is not a readable .keras archive: {err}") from err
    layers: dict[str, list[np.ndarray]] = {}

    def collect(name: str, item) -> None:
        if isinstance(item, h5py.Group) and name.endswith("/vars") and len(item):
            layers[name.removesuffix("/vars")] = [np.asarray(item[str(i)], np.float32) for i in range(len(item))]

    try:
        with h5py.File(weights_file, "r") as h5:
            h5.visititems(collect)
    except (OSError, KeyError, ValueError) as err:  # h5py's errors for a damaged file
        raise WeightsError(f"{Path(path).name}: its weights (model.weights.h5) are unreadable: {err}") from err
    return layers


def numbered(layers: dict[str, list[np.ndarray]], prefix: str, kind: str = "dense") -> list[Dense]:
    """(kernel, bias) of the layers of a kind under prefix ("decoder/layers/"), in creation order:
    Keras numbers them dense, dense_1, ..., dense_10 (so not in string order)."""
    pattern = re.compile(re.escape(prefix) + kind + r"(?:_(\d+))?")
    found = sorted((int(m.group(1) or 0), name) for name in layers if (m := pattern.fullmatch(name)))
    return [(layers[name][0], layers[name][1]) for _, name in found]


def keras_dense_stack(model, linear_tail: int = 1) -> list[Dense]:
    """The Dense layers of a Keras (sub-)model in order, checked to be relu ... relu then linear_tail linear ones."""
    dense = [layer for layer in model.layers if layer.get_weights()]
    for i, layer in enumerate(dense):
        activation = layer.get_config().get("activation")
        expected = "linear" if i >= len(dense) - linear_tail else "relu"
        if activation != expected:
            raise ValueError(f"expected Dense({expected}) layers; layer {layer.name!r} has activation {activation!r}")
    return [tuple(np.asarray(w, np.float32) for w in layer.get_weights()) for layer in dense]


def relu_stack(x: np.ndarray, stack: list[Dense]) -> np.ndarray:
    for kernel, bias in stack:
        x = np.maximum(x @ kernel + bias, 0.0)
    return x


def sigmoid(logits: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -logits))  # no overflow warning for very negative logits


@dataclass(eq=False)  # identity: caches key on the model object, and arrays have no plain ==
class NumpyVAE:
    """A VAE's forward passes: encoder Dense(relu)... then two heads, decoder Dense(relu)... Dense(logits)."""

    encoder: list[Dense]
    z_mean: Dense
    z_log_var: Dense
    decoder: list[Dense]  # the last layer gives logits

    @property
    def latent_dim(self) -> int:
        return self.z_mean[0].shape[1]

    @classmethod
    def from_keras(cls, model) -> NumpyVAE:
        """The same weights as a vae.model.VAE in memory (tests, and the pad given a Keras model)."""
        encoder = keras_dense_stack(model.encoder, linear_tail=2)
        return cls(encoder[:-2], encoder[-2], encoder[-1], keras_dense_stack(model.decoder))

    @classmethod
    def load(cls, path: str | Path) -> NumpyVAE:
        """From a .keras file saved by vae.model.VAE. WeightsError if it does not hold one."""
        layers = read_keras_file(path)
        encoder, decoder = numbered(layers, "encoder/layers/"), numbered(layers, "decoder/layers/")
        if len(encoder) < 3 or len(decoder) < 2:
            raise WeightsError(f"{Path(path).name} does not hold a vae.model.VAE: no Dense encoder and decoder")
        # build_encoder creates z_mean before z_log_var: they are the last two encoder layers, in that order
        model = cls(encoder[:-2], encoder[-2], encoder[-1], decoder)
        model.check(Path(path).name)
        return model

    def check(self, name: str) -> None:
        """Every layer's inputs match the previous layer's outputs, 784 pixels in and out."""

        def chains(stack: list[Dense], start: int) -> bool:
            widths = [start] + [kernel.shape[1] for kernel, _ in stack]
            return all(kernel.shape[0] == width for (kernel, _), width in zip(stack, widths, strict=False))

        encoder, decoder = [*self.encoder, self.z_mean], self.decoder
        ok = chains(encoder, N_PIXELS) and chains(decoder, self.latent_dim) and decoder[-1][0].shape[1] == N_PIXELS
        if not ok or self.z_log_var[0].shape != self.z_mean[0].shape:
            shapes = [kernel.shape for kernel, _ in [*encoder, self.z_log_var, *decoder]]
            raise WeightsError(f"{name}: layer shapes {shapes} do not chain from 784 pixels to 784 pixels")

    def decode(self, z) -> np.ndarray:
        """(N, latent_dim) latent points -> (N, 784) pixel probabilities, as VAE.decode."""
        z = np.asarray(z, np.float32).reshape(-1, self.latent_dim)
        kernel, bias = self.decoder[-1]
        return sigmoid(relu_stack(z, self.decoder[:-1]) @ kernel + bias)

    def encode(self, x) -> tuple[np.ndarray, np.ndarray]:
        """(N, 784) images in [0, 1] -> (z_mean, z_log_var), as VAE.encode."""
        h = relu_stack(np.asarray(x, np.float32).reshape(-1, N_PIXELS), self.encoder)
        return h @ self.z_mean[0] + self.z_mean[1], h @ self.z_log_var[0] + self.z_log_var[1]


def conv3x3_relu(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """'valid' 3x3 convolution, channels last: (N, H, W, C) -> (N, H-2, W-2, filters)."""
    n, h, w, c = x.shape
    windows = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(1, 2))  # (N, H-2, W-2, C, 3, 3)
    columns = windows.reshape(n * (h - 2) * (w - 2), c * 9)  # one copy, then a single BLAS matmul
    out = columns @ kernel.transpose(2, 0, 1, 3).reshape(c * 9, -1) + bias
    return np.maximum(out, 0.0).reshape(n, h - 2, w - 2, -1)


def max_pool2(x: np.ndarray) -> np.ndarray:
    """2x2 max pooling, stride 2, odd edges dropped (Keras' 'valid')."""
    n, h, w, c = x.shape
    return x[:, : h // 2 * 2, : w // 2 * 2].reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


@dataclass(eq=False)  # identity: caches key on the model object, and arrays have no plain ==
class NumpyClassifier:
    """vae.classifier's net (conv3x3-relu, pool, conv3x3-relu, pool, flatten, dense softmax), forward only."""

    convs: list[Dense]
    dense: Dense

    @classmethod
    def load(cls, path: str | Path = CLASSIFIER_PATH) -> NumpyClassifier:
        layers = read_keras_file(path)
        convs, dense = numbered(layers, "layers/", "conv2d"), numbered(layers, "layers/")
        if len(convs) != 2 or len(dense) != 1:
            raise WeightsError(f"{Path(path).name} is not vae.classifier's net (2 conv layers, 1 dense)")
        return cls(convs, dense[0])

    def predict(self, images, batch: int = 500) -> np.ndarray:
        """(N, 784) images in [0, 1] -> (N, 10) class probabilities, in batches to bound memory."""
        images = np.asarray(images, np.float32).reshape(-1, IMAGE_SIZE, IMAGE_SIZE, 1)
        return np.concatenate([self._forward(images[i : i + batch]) for i in range(0, len(images), batch)] or [[]])

    def _forward(self, x: np.ndarray) -> np.ndarray:
        for kernel, bias in self.convs:
            x = max_pool2(conv3x3_relu(x, kernel, bias))
        logits = x.reshape(len(x), -1) @ self.dense[0] + self.dense[1]  # Flatten is row-major, channels last
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        return probs / probs.sum(axis=1, keepdims=True)
