"""What tests, benchmarks and load scripts share: the checkout, CI's rule, runs, random weights, digit pictures.

Import these from here (``from tests.helpers import ...``), never from conftest.py or from
another test module. The benchmarks and the tests/stress scripts use them too, which is why
nothing here imports TensorFlow until a function needs it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import numpy as np
import pytest
from PIL import Image, ImageDraw

from vae import catalog, io
from vae.config import VAEConfig

if TYPE_CHECKING:
    import keras

ROOT = Path(__file__).resolve().parents[1]  # the checkout: where `streamlit run app.py` and train.py run
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
TINY_RUN_ARGS = ("--subset", "2000", "--epochs", "2")  # the smallest training that still behaves like a real one


def skip_or_fail(reason: str) -> NoReturn:
    """Skip locally; in CI a missing prerequisite must not pass silently."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this prerequisite must be present)")
    pytest.skip(reason)


# ----------------------------------------------------------------- runs


def run_train(*args: str, timeout: float = 300, **popen) -> subprocess.CompletedProcess:
    """train.py in a fresh process, as a user runs it."""
    return subprocess.run(
        [sys.executable, str(ROOT / "train.py"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        **popen,
    )


def train_tiny_run(run_dir: Path) -> Path:
    """A real run trained now by train.py (TINY_RUN_ARGS; needs MNIST)."""
    result = run_train(*TINY_RUN_ARGS, "--out", str(run_dir))
    if result.returncode != 0:
        raise RuntimeError(f"train.py {' '.join(TINY_RUN_ARGS)} failed:\n{result.stderr[-3000:]}")
    return run_dir


def find_run(given: str | None = None) -> Path:
    """The run a benchmark or load script measures: --run, else the default (or first usable) pretrained run,
    else a tiny one trained now into a temporary folder (needs MNIST)."""
    if given:
        return Path(given).resolve()
    usable = [info for info in catalog.list_runs() if info.ok and info.name.startswith("pretrained/")]
    if usable:  # list_runs puts the default run first
        return usable[0].path
    run_dir = Path(tempfile.mkdtemp(prefix="tiny-run-")) / "tiny"
    print(f"no --run and no usable run in pretrained/: training a tiny one into {run_dir}", flush=True)
    return train_tiny_run(run_dir)


def make_run(run_dir: Path, kl_weight: float = 1.0, epochs: int = 2, seed: int = 0, latent_dim: int = 2) -> Path:
    """A complete run directory built in-process (a 16-unit model, random latents): no MNIST, no train.py."""
    from vae.model import build_vae  # imports TensorFlow: only the tests that build a run pay for it

    config = VAEConfig(latent_dim=latent_dim, hidden=(16,), kl_weight=kl_weight, epochs=epochs, seed=seed)
    io.atomic_write_json(run_dir / "config.json", config.to_dict())
    model = build_vae(config)
    rng = np.random.default_rng(seed)
    # An untrained decoder draws flat grey; a seed-dependent pixel bias makes each fake run's digits its own.
    model.decoder.get_layer("logits").bias.assign(rng.normal(0.0, 3.0, 784).astype(np.float32))
    history = []
    for epoch in range(1, epochs + 1):
        history.append({key: 100.0 / epoch + seed for key in io.HISTORY_KEYS} | {"epoch": epoch})
        io.commit_epoch(run_dir, model, history)
    io.atomic_save_npz(
        run_dir / "latents.npz",
        mean=rng.standard_normal((500, latent_dim)).astype(np.float32),
        log_var=np.full((500, latent_dim), -2.0, np.float32),
        labels=np.arange(500, dtype=np.uint8) % 10,
    )
    io.atomic_write_json(run_dir / "metrics.json", {"test": {"neg_elbo": 150.0 + seed, "reconstruction": 140.0}})
    io.write_status(run_dir, state="finished", epoch=epochs, epochs=epochs)
    return run_dir


def randomized(model: keras.Model, seed: int = 0, scale: float = 0.1) -> keras.Model:
    """The Keras model with every weight moved by N(0, scale): fresh models have zero biases, which would
    hide a bias read from the wrong layer or left out."""
    rng = np.random.default_rng(seed)
    model.set_weights([w + rng.normal(0, scale, w.shape).astype(np.float32) for w in model.get_weights()])
    return model


# ----------------------------------------------------------------- digit pictures


def draw_digit(
    size: tuple[int, int] = (300, 200),
    box: tuple[int, int, int, int] = (170, 20, 290, 190),
    ink: int = 30,
    paper: int = 235,
    mode: str = "L",
) -> Image.Image:
    """A '4'-like digit drawn with a thick pen inside ``box``: by default dark on white, off-centre, oversized,
    as in a photo of a sheet of paper: everything the upload path must fix."""
    image = Image.new("L", size, paper)
    x0, y0, x1, y1 = box
    pen = max(2, (x1 - x0) // 8)
    draw = ImageDraw.Draw(image)
    draw.line([(x0 + (x1 - x0) * 0.6, y0), (x0, y0 + (y1 - y0) * 0.65), (x1, y0 + (y1 - y0) * 0.65)], ink, pen)
    draw.line([(x0 + (x1 - x0) * 0.75, y0 + (y1 - y0) * 0.3), (x0 + (x1 - x0) * 0.75, y1)], ink, pen)
    return image if mode == "L" else image.convert(mode)


def image_bytes(image: Image.Image, fmt: str, **params) -> bytes:
    """The image as a file in fmt ("PNG", "JPEG", ...), with Pillow's save options."""
    buffer = BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def digit_png(**drawing) -> bytes:
    """draw_digit(**drawing) as a PNG file: what a user uploads."""
    return image_bytes(draw_digit(**drawing), "PNG")
