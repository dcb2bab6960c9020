"""The app serves numpy forward passes read from .keras files: they must equal Keras on the same file."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import randomized, skip_or_fail
from vae.classifier import build_classifier
from vae.inference import CLASSIFIER_PATH, NumpyClassifier, NumpyVAE, WeightsError
from vae.io import RunError, atomic_save_model, load_run
from vae.model import VAE

TOLERANCE = 1e-5  # float32 matmuls summed in another order than Keras': a few roundings, no more


@pytest.mark.parametrize(
    "latent_dim, hidden",
    [(2, (512, 256)), (2, (16,)), (5, (32, 24, 16)), (2, tuple(range(30, 8, -2)))],  # the last: 11 layers, dense_10
)
def test_saved_vae_decodes_and_encodes_like_keras(tmp_path, latent_dim, hidden):
    model = randomized(VAE(latent_dim=latent_dim, hidden=hidden))
    atomic_save_model(model, tmp_path / "model.keras")
    served = NumpyVAE.load(tmp_path / "model.keras")

    rng = np.random.default_rng(1)
    z = rng.normal(0, 2, (200, latent_dim)).astype(np.float32)
    assert served.latent_dim == latent_dim
    assert np.abs(served.decode(z) - model.decode(z)).max() <= TOLERANCE
    x = rng.uniform(0, 1, (200, 784)).astype(np.float32)
    for ours, theirs in zip(served.encode(x), model.encode(x), strict=True):  # mean first, then log-variance
        assert np.abs(ours - theirs).max() <= TOLERANCE
    assert np.abs(NumpyVAE.from_keras(model).decode(z) - model.decode(z)).max() <= TOLERANCE


def test_decode_is_finite_far_outside_the_prior(tmp_path):
    model = randomized(VAE(latent_dim=2, hidden=(16,)), seed=3)
    atomic_save_model(model, tmp_path / "model.keras")
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # no overflow warning from the sigmoid
        pixels = NumpyVAE.load(tmp_path / "model.keras").decode([[1e4, -1e4], [0.0, 0.0]])
    assert np.isfinite(pixels).all() and pixels.min() >= 0 and pixels.max() <= 1


def test_classifier_reads_like_keras(tmp_path):
    model = randomized(build_classifier(), seed=2)
    model.save(tmp_path / "classifier.keras")
    images = np.random.default_rng(0).uniform(0, 1, (300, 784)).astype(np.float32)
    ours = NumpyClassifier.load(tmp_path / "classifier.keras").predict(images, batch=128)  # several batches
    theirs = model.predict(images, verbose=0)
    assert ours.shape == (300, 10)
    assert np.abs(ours - theirs).max() <= TOLERANCE
    assert np.allclose(ours.sum(axis=1), 1, atol=1e-5)


def test_shipped_classifier_still_reads_real_digits(mnist_dir):
    from vae import data

    if not CLASSIFIER_PATH.is_file():
        skip_or_fail(f"{CLASSIFIER_PATH} missing: python -m vae.classifier trains it")
    x, labels = data.load_vectors("test", subset=1000)
    accuracy = (NumpyClassifier.load().predict(x).argmax(axis=1) == labels).mean()
    assert accuracy > 0.98


def garbage_weights(path: Path) -> None:
    """A whole zip whose model.weights.h5 is not HDF5 at all."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", "{}")
        archive.writestr("model.weights.h5", b"\x89HDF\r\n" + b"garbage" * 100)


@pytest.mark.parametrize(
    "damage, reason",
    [
        (lambda p: p.write_bytes(p.read_bytes()[:1000]), "not a readable .keras archive"),
        (lambda p: p.write_bytes(b"not a zip at all"), "not a readable .keras archive"),
        (lambda p: zipfile.ZipFile(p, "w").writestr("config.json", "{}"), "not a readable .keras archive"),
        (lambda p: garbage_weights(p), "weights .* are unreadable"),
    ],
)
def test_damaged_files_are_refused_with_a_reason(tmp_path, damage, reason):
    path = tmp_path / "model.keras"
    atomic_save_model(VAE(latent_dim=2, hidden=(8,)), path)
    damage(path)
    with pytest.raises(WeightsError, match=reason):
        NumpyVAE.load(path)


def test_a_classifier_file_is_not_taken_for_a_vae(tmp_path):
    build_classifier().save(tmp_path / "classifier.keras")
    with pytest.raises(WeightsError, match="does not hold a vae.model.VAE"):
        NumpyVAE.load(tmp_path / "classifier.keras")


def test_load_run_serves_numpy_and_reports_broken_models(tiny_run, tmp_path):
    tiny_run = Path(shutil.copytree(tiny_run, tmp_path / "run"))  # the shared run stays whole
    run = load_run(tiny_run, numpy=True)
    keras_run = load_run(tiny_run, compile=False)
    z = np.random.default_rng(0).normal(size=(50, 2))
    assert isinstance(run.model, NumpyVAE)
    assert np.abs(run.model.decode(z) - keras_run.model.decode(z)).max() <= TOLERANCE

    model_file = tiny_run / run.model_file
    model_file.write_bytes(model_file.read_bytes()[:-500])
    with pytest.raises(RunError, match=run.model_file):
        load_run(tiny_run, numpy=True)


def test_perf_guard_the_explorer_never_imports_tensorflow():
    """Checks sys.modules on purpose: the app's whole first screen, the classifier layer and a grid resize,
    in a fresh process, without TensorFlow, whose import would cost start-up time and memory in every
    server (benchmarks/cold_start.py, benchmarks/memory_sessions.py)."""
    script = """
import sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file("app.py", default_timeout=60).run()
at.toggle(key="digit_map").set_value(True).run()
at.slider(key="grid_n").set_value(12).run()
assert not at.exception, [e.value for e in at.exception]
heavy = sorted(m for m in ("tensorflow", "keras") if m in sys.modules)
print("imported:", heavy or "neither")
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "imported: neither" in result.stdout, result.stdout
