"""The digit classifier that judges the latent grid: shipped, small, and as accurate as it says."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.helpers import skip_or_fail
from vae import classifier

RECORD = classifier.DEFAULT_PATH.with_suffix(".json")


@pytest.fixture(scope="module")
def shipped_record() -> dict:
    if not classifier.DEFAULT_PATH.is_file() or not RECORD.is_file():
        skip_or_fail(f"{classifier.DEFAULT_PATH} or its .json is missing: python -m vae.classifier trains them")
    return json.loads(RECORD.read_text())


def test_shipped_classifier_is_small_and_records_its_accuracy(shipped_record):
    assert shipped_record["test_accuracy"] >= 0.985
    assert shipped_record["test_images"] == 10_000 and shipped_record["train_images"] == 60_000
    assert shipped_record["file_bytes"] == classifier.DEFAULT_PATH.stat().st_size < 1_000_000


@pytest.mark.slow
def test_shipped_classifier_scores_what_it_records(shipped_record, mnist_dir):
    """The recorded accuracy is re-measured, not trusted: same 10,000 test images, same figure."""
    from vae import data

    x_test, y_test = data.load_vectors("test")
    model = classifier.load_classifier()
    assert classifier.accuracy(model, x_test, y_test) == pytest.approx(shipped_record["test_accuracy"], abs=2e-4)


def test_classifier_reads_flat_images_and_returns_probabilities():
    model = classifier.build_classifier()
    probs = np.asarray(model(np.random.default_rng(0).random((3, 784), dtype=np.float32), training=False))
    assert probs.shape == (3, 10)
    assert probs.sum(axis=1) == pytest.approx(1.0, abs=1e-5)
    assert model.count_params() < 100_000  # small enough to ship in the repository (file size: test above)


@pytest.mark.slow
def test_cli_trains_saves_and_records(mnist_dir, tmp_path, capsys):
    """One epoch on 2,000 images already reads most test digits; the saved file reloads to the same figure."""
    from vae import data

    out = tmp_path / "clf.keras"
    assert classifier.main(["--out", str(out), "--epochs", "1", "--subset", "2000"]) == 0
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["train_images"] == 2000 and record["file_bytes"] == out.stat().st_size
    assert record["test_accuracy"] > 0.7
    x_test, y_test = data.load_vectors("test")
    assert classifier.accuracy(classifier.load_classifier(out), x_test, y_test) == pytest.approx(
        record["test_accuracy"], abs=2e-4
    )
    assert '"test_accuracy"' in capsys.readouterr().out
