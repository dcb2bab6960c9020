"""A small conv net that reads MNIST digits: the evaluator's judge of what the VAE decodes.

    python -m vae.classifier --out pretrained/classifier.keras

Trains a few minutes on CPU, prints the test accuracy and records it beside the model
(pretrained/classifier.json), so anyone can see how far to trust its verdicts.
The model takes flat (N, 784) images in [0, 1], exactly what ``VAE.decode`` returns.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import keras
import numpy as np
from keras import layers

from vae.inference import CLASSIFIER_PATH as DEFAULT_PATH
from vae.io import atomic_write_json


def build_classifier() -> keras.Model:
    """Two conv blocks and one linear layer: ~35k weights (~170 KB file), ~99 % after a few epochs.

    No big dense layer: the 5x5x64 feature map goes straight to the 10 logits, which keeps
    the file small and the net quick (a 1,600-cell latent map in ~0.5 CPU-seconds here).
    """
    x = inputs = keras.Input(shape=(784,), name="image")
    x = layers.Reshape((28, 28, 1))(x)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(10, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="mnist_classifier")


def train_classifier(
    x_train: np.ndarray, y_train: np.ndarray, epochs: int = 4, batch_size: int = 128, seed: int = 0
) -> keras.Model:
    keras.utils.set_random_seed(seed)
    model = build_classifier()
    # Cosine decay to zero: the last steps at a tiny rate buy most of a short run's final accuracy.
    steps = epochs * -(-len(x_train) // batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(3e-3, decay_steps=steps)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, verbose=2)
    return model


def accuracy(model: keras.Model, x: np.ndarray, labels: np.ndarray) -> float:
    probs = model.predict(x, batch_size=1000, verbose=0)
    return float((probs.argmax(axis=1) == labels).mean())


def save_classifier(model: keras.Model, path: str | Path, record: dict) -> None:
    """Save the weights without optimizer state (Adam's two slots per weight would triple the file),
    and the record beside them."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = build_classifier()
    fresh.set_weights(model.get_weights())
    tmp = path.with_name(f".{path.stem}.tmp.keras")  # Keras insists on the suffix
    fresh.save(tmp)
    tmp.replace(path)
    atomic_write_json(path.with_suffix(".json"), record | {"file_bytes": path.stat().st_size})


def load_classifier(path: str | Path = DEFAULT_PATH) -> keras.Model:
    return keras.models.load_model(path, compile=False, safe_mode=True)


def main(argv: list[str] | None = None) -> int:
    from vae import data

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--out", default=str(DEFAULT_PATH), help="where to save the .keras file (a .json goes beside it)"
    )
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--subset", type=int, default=None, help="train on the first N images only (tests)")
    parser.add_argument("--data-dir", default=None, help="folder with the MNIST IDX files (else $VAE_DATA_DIR, ...)")
    args = parser.parse_args(argv)

    try:
        x_train, y_train = data.load_vectors("train", "mnist", args.data_dir, args.subset)
        x_test, y_test = data.load_vectors("test", "mnist", args.data_dir)
    except data.DataError as err:
        print(err, file=sys.stderr)
        return 2
    t0 = time.time()
    model = train_classifier(x_train, y_train, args.epochs, args.batch_size, args.seed)
    seconds = time.time() - t0
    test_accuracy = accuracy(model, x_test, y_test)
    record = {
        "test_accuracy": test_accuracy,
        "test_images": len(x_test),
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "seed": args.seed,
        "train_images": len(x_train),
        "parameters": model.count_params(),
        "train_seconds": round(seconds, 1),
        "keras": keras.__version__,
        "command": "python -m vae.classifier " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    save_classifier(model, args.out, record)
    print(json.dumps(record | {"file_bytes": Path(args.out).stat().st_size}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
