"""The evaluator: coverage must count right, and the CLI must merge its figures into metrics.json."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from tests.helpers import skip_or_fail
from vae import evaluate, likelihood
from vae.classifier import DEFAULT_PATH as CLASSIFIER_PATH
from vae.inference import NumpyClassifier

# ------------------------------------------------------------------------ no data needed


class _StripedModel:
    """Stands in for a VAE: 'decodes' each grid point to an image that carries its column index."""

    latent_dim = 2

    def decode(self, z):
        z = np.asarray(z)
        columns = np.searchsorted(np.unique(z[:, 0]), z[:, 0])
        images = np.zeros((len(z), 784), np.float32)
        images[:, 0] = columns
        return images


class _ColumnClassifier:
    """Reads the column index c: digit c % 10, confident (0.95) only in columns 0-4, else 0.6."""

    def predict(self, images):
        columns = np.asarray(images)[:, 0].astype(int)
        probs = np.full((len(columns), 10), 0.0, np.float32)
        confidence = np.where(columns < 5, 0.95, 0.6)
        probs[np.arange(len(columns)), columns % 10] = confidence
        probs[np.arange(len(columns)), (columns + 1) % 10] += 1 - confidence
        return probs


def test_latent_map_layout_and_coverage_counts():
    n = 12
    digit_map = evaluate.latent_map(_StripedModel(), _ColumnClassifier(), n=n, extent=2.0)
    assert digit_map.labels.shape == digit_map.confidence.shape == (n, n)
    assert np.all(np.diff(digit_map.z1) > 0) and np.all(np.diff(digit_map.z2) < 0)  # reading order
    assert digit_map.z1[0] == pytest.approx(-2.0) and digit_map.z2[0] == pytest.approx(2.0)
    assert digit_map.labels[0].tolist() == [c % 10 for c in range(n)]
    assert np.all(digit_map.labels == digit_map.labels[0])  # each column is one digit
    assert digit_map.confidence[:, :5] == pytest.approx(0.95)

    cov = evaluate.coverage(digit_map, threshold=0.9)
    assert cov["digits"] == [0, 1, 2, 3, 4]
    assert cov["n_digits"] == 5
    assert cov["confident_share"] == pytest.approx(5 / n)
    assert cov["cells_per_digit"] == {str(d): (n if d < 5 else 0) for d in range(10)}
    assert evaluate.coverage(digit_map, threshold=0.99)["n_digits"] == 0


# ------------------------------------------------------------------------------ on MNIST


@pytest.mark.slow
def test_coverage_sees_real_digits_with_the_shipped_classifier(mnist_dir):
    """A 'model' that decodes to real test digits must show all ten, nearly every cell confident."""
    from vae import data

    if not CLASSIFIER_PATH.is_file():
        skip_or_fail(f"{CLASSIFIER_PATH} missing: python -m vae.classifier trains it")
    x, labels = data.load_vectors("test", subset=400)

    class RealDigits:
        latent_dim = 2

        def decode(self, z):
            return x[: len(z)]

    digit_map = evaluate.latent_map(RealDigits(), NumpyClassifier.load(CLASSIFIER_PATH), n=20)
    assert (digit_map.labels.ravel() == labels).mean() > 0.97
    cov = evaluate.coverage(digit_map)
    assert cov["digits"] == list(range(10))
    assert cov["confident_share"] > 0.9


# ------------------------------------------------------------------------ metrics.json, CLI


@pytest.mark.slow
def test_train_writes_cheap_metrics_and_cli_merges_full_ones(tiny_run, tmp_path, capsys):
    cheap = json.loads((tiny_run / "metrics.json").read_text())
    assert {"test", "iwae"} <= set(cheap) and cheap["iwae"]["k"] == likelihood.CHEAP_K
    assert cheap["iwae"]["nll"] <= cheap["test"]["neg_elbo"] + 0.5

    run_dir = tmp_path / "run"
    shutil.copytree(tiny_run, run_dir)
    (run_dir / "metrics.json").write_text(json.dumps({"exact": "stale", "benchmark": {"p95_ms": 1.0}}))
    args = [str(run_dir), "--k", "20", "--grid", "60", "--images", "500"]
    assert evaluate.main([*args, "--no-write", "--no-foreign"]) == 0
    printed = capsys.readouterr().out
    assert "exact NLL" in printed and "IWAE k=20" in printed and "coverage" in printed
    assert "foreign digits" not in printed
    assert json.loads((run_dir / "metrics.json").read_text())["exact"] == "stale"  # --no-write wrote nothing

    assert evaluate.main(args) == 0
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["benchmark"] == {"p95_ms": 1.0}  # other tools' figures survive the merge
    assert metrics["exact"]["grid"] == 60 and metrics["test_images"] == 500
    assert metrics["exact"]["nll"] <= metrics["iwae"]["nll"] + 0.05 <= metrics["test"]["neg_elbo"] + 1.0
    foreign = metrics["foreign"]  # voted on by the 500 test codes evaluated
    assert foreign["mnist"]["images"] == 500 and foreign["printed"]["images"] > 0 and foreign["pen"]["images"] > 0
    assert 0 <= foreign["pen"]["accuracy"] <= 1 and "foreign digits" in capsys.readouterr().out


def test_cli_names_a_broken_run_and_exits_2(tmp_path, capsys):
    assert evaluate.main([str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "cannot evaluate" in err and "not a directory" in err
