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
# The page's copies of the preprocessing and the encoder against Python's (tests/test_preprocess_parity.py,
# tests/test_photo_parity.py, tests/e2e/test_browser.py): codes per coordinate, what the drawing issue asks of
# the two sides; 28x28 pixels, where both do the same float arithmetic and only summation orders differ.
CODE_TOLERANCE = 0.02
PIXEL_TOLERANCE = 1e-5
DEFAULT_MODEL = ROOT / "pretrained" / "elbo-kl1" / "model.keras"  # the shipped default run's model


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


def make_run(
    run_dir: Path,
    kl_weight: float = 1.0,
    epochs: int = 2,
    seed: int = 0,
    latent_dim: int = 2,
    label_weight: float = 0.0,
) -> Path:
    """A complete run directory built in-process (a 16-unit model, random latents): no MNIST, no train.py."""
    from vae.model import build_vae  # imports TensorFlow: only the tests that build a run pay for it

    config = VAEConfig(
        latent_dim=latent_dim, hidden=(16,), kl_weight=kl_weight, epochs=epochs, seed=seed, label_weight=label_weight
    )
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


def random_numpy_vae(seed: int = 0, hidden: tuple[int, ...] = (64, 32), latent_dim: int = 2):
    """A vae.inference.NumpyVAE (784 -> hidden -> latent_dim -> reversed hidden -> 784) with random weights
    and biases, no TensorFlow: fresh Keras biases are zero and would hide a bias read from the wrong layer."""
    from vae.inference import NumpyVAE

    rng = np.random.default_rng(seed)

    def dense(inputs: int, outputs: int) -> tuple[np.ndarray, np.ndarray]:
        kernel = rng.normal(0, inputs**-0.5, (inputs, outputs)).astype(np.float32)
        return kernel, rng.normal(0, 0.3, outputs).astype(np.float32)

    widths = [784, *hidden]
    back = [latent_dim, *reversed(hidden), 784]
    return NumpyVAE(
        [dense(a, b) for a, b in zip(widths, widths[1:], strict=False)],
        dense(hidden[-1], latent_dim),
        dense(hidden[-1], latent_dim),
        [dense(a, b) for a, b in zip(back, back[1:], strict=False)],
    )


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


def pad_drawing(strokes: list[list[tuple[float, float]]], side: int = 280, pen: float = 24) -> np.ndarray:
    """Strokes (points in a side x side canvas) drawn white on black with a round pen, antialiased by 4x
    supersampling: a drawing as a canvas holds it (uint8, side x side; the pad's own canvas has
    vae.drawpad's INK_SIDE and PEN)."""
    supersample = 4
    big = Image.new("L", (side * supersample, side * supersample), 0)
    draw = ImageDraw.Draw(big)
    width = round(pen * supersample)
    for stroke in strokes:
        points = [(x * supersample, y * supersample) for x, y in stroke]
        if len(points) > 1:
            draw.line(points, fill=255, width=width, joint="curve")
        for x, y in (points[0], points[-1]):  # round caps
            draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=255)
    return np.asarray(big.reduce(supersample))


def arc(cx: float, cy: float, rx: float, ry: float, start: float = 0, end: float = 360, n: int = 40) -> list:
    """Points along an ellipse's arc (degrees, clockwise on screen), for pad_drawing's strokes."""
    angles = np.radians(np.linspace(start, end, n))
    return [(cx + rx * np.cos(a), cy + ry * np.sin(a)) for a in angles]


# ----------------------------------------------------------------- what the drawing pad's page sends, in AppTest


def page_digit(**drawing) -> list[float]:
    """The 784 numbers the pad sends for a digit picture opened on it (or drawn): its 28x28 after the
    preprocessing, rounded as the page rounds them."""
    from vae.images import preprocess_digit

    return [round(float(v), 6) for v in preprocess_digit(draw_digit(**drawing)).ravel()]


def send_to_pad(at, state: dict | None = None, trigger: dict | None = None, key: str = "draw-0"):
    """What the pad's page sends (setStateValue's state, or a setTriggerValue event), as the browser sends
    it: a widget state, so the pad's callbacks run. Pins AppTest and Streamlit internals (_tree, _run, the
    trigger widget's id) on purpose: AppTest has no way to drive a custom component."""
    import json

    from streamlit.components.v2.bidi_component.main import _make_trigger_id

    states = at._tree.get_widget_states()
    widget = states.widgets.add()
    pad_id = next(e.proto.id for e in at.get("bidi_component") if e.key == key)
    if state is not None:
        widget.id, widget.json_value = pad_id, json.dumps(state)
    else:
        widget.id, widget.json_trigger_value = _make_trigger_id(pad_id, "events"), json.dumps([trigger])
    return at._run(states)


# ----------------------------------------------------------------- photos of a digit, and what real photos add

PHOTO_PAPER, PHOTO_INK = 0.88, 0.12  # grey paper and ink as a phone camera sees them


def digit_photo(digit: np.ndarray, side: int = 160, seed: int = 0) -> tuple[np.ndarray, tuple[int, int, int]]:
    """A digit (white on black, uint8 or [0, 1], any size) as a photo of pen on paper: dark ink on grey paper,
    the digit 55 % of the side, somewhere inside. Returns (float32 grayscale in [0, 1], (top, left, height))."""
    height = int(side * 0.55)
    scale = 255.0 if np.asarray(digit).dtype == np.uint8 else 1.0
    ink = Image.fromarray(np.asarray(digit, np.float32) / scale, mode="F").resize((height, height), Image.BILINEAR)
    top, left = np.random.default_rng(seed).integers(side // 8, side - height - side // 8, 2)
    photo = np.full((side, side), PHOTO_PAPER, np.float32)
    photo[top : top + height, left : left + height] -= (PHOTO_PAPER - PHOTO_INK) * np.clip(np.asarray(ink), 0, 1)
    return photo, (int(top), int(left), height)


def with_specks(photo: np.ndarray, box: tuple[int, int, int], count: int = 6, seed: int = 0) -> np.ndarray:
    """Dust and dirt: count dark squares of 2x2 to 6x6 pixels, anywhere they do not touch the digit."""
    rng, out, (top, left, height) = np.random.default_rng(seed), photo.copy(), box
    placed = 0
    while placed < count:
        size = int(rng.integers(2, 7))
        y, x = rng.integers(0, photo.shape[0] - size, 2)
        if top - size - 3 < y < top + height + 3 and left - size - 3 < x < left + height + 3:
            continue
        out[y : y + size, x : x + size] = PHOTO_INK
        placed += 1
    return out


def with_corner_shadow(photo: np.ndarray, depth: float, corner: tuple[int, int] = (1, 1)) -> np.ndarray:
    """A hand's or a phone's shadow: the picture darkened by depth (0.25: 25 %) inside a soft-edged disc of
    radius 0.55 side about a corner ((1, 1): bottom right)."""
    from scipy import ndimage

    rows, cols = np.indices(photo.shape) / photo.shape[0]
    inside = ((rows - corner[0]) ** 2 + (cols - corner[1]) ** 2 < 0.55**2).astype(np.float32)
    return (photo * (1 - depth * ndimage.gaussian_filter(inside, photo.shape[0] / 80))).astype(np.float32)


def with_gradient(photo: np.ndarray, depth: float) -> np.ndarray:
    """Light from one side: brightness falling linearly by depth from the top left to the bottom right."""
    rows, cols = np.indices(photo.shape) / photo.shape[0]
    return (photo * (1 - depth * (rows + cols) / 2)).astype(np.float32)


def with_ruled_lines(
    photo: np.ndarray, box: tuple[int, int, int], darkness: float, through_digit: bool = False
) -> np.ndarray:
    """Ruled paper: horizontal lines every side / 8 pixels, darkness (0.15: light blue) below the paper; by
    default none crosses the digit."""
    out, (top, _, height) = photo.copy(), box
    spacing, width = max(8, photo.shape[0] // 8), max(1, photo.shape[0] // 200)
    for y in range(spacing // 2, photo.shape[0], spacing):
        if through_digit or not top - 3 <= y <= top + height + 3:
            out[y : y + width] *= 1 - darkness
    return out


# The flaws of photos people take, as (photo, box) -> flawed photo: tests/test_images.py checks each against
# the clean photo's 28x28 and benchmarks/preprocess_robustness.py prints the table of them.
PHOTO_FLAWS = {
    "specks 2-6 px": lambda photo, box: with_specks(photo, box),
    "corner shadow 15 %": lambda photo, box: with_corner_shadow(photo, 0.15),
    "corner shadow 25 %": lambda photo, box: with_corner_shadow(photo, 0.25, corner=(0, 1)),
    "corner shadow 35 %": lambda photo, box: with_corner_shadow(photo, 0.35, corner=(1, 0)),
    "lighting gradient 40 %": lambda photo, box: with_gradient(photo, 0.4),
    "ruled paper, light lines": lambda photo, box: with_ruled_lines(photo, box, 0.15),
    "ruled paper, dark lines": lambda photo, box: with_ruled_lines(photo, box, 0.3),
    "ruled paper, dark lines through the digit": lambda photo, box: with_ruled_lines(photo, box, 0.3, True),
    "all of them": lambda photo, box: with_ruled_lines(
        with_gradient(with_corner_shadow(with_specks(photo, box), 0.25), 0.3), box, 0.3
    ),
}


def aligned_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two 28x28s at the best one-pixel shift: centring rounds to whole pixels."""
    shifts = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    return min(float(np.abs(np.roll(a, shift, axis=(0, 1)) - b).mean()) for shift in shifts)


# ----------------------------------------------------------------- a stand-in for train.py

# Stands in for train.py (its name must contain "train.py": vae.io.trainer_alive checks the command line).
# It writes status.json the way train.py does, an epoch every 0.2 s, and stops cleanly on SIGTERM.
FAKE_TRAIN = """
import json, os, signal, sys, time
if sys.argv[1:2] == ["--standby"]:  # as train.py does: warm up, wait for the job's arguments (vae.standby)
    sys.path.insert(0, ROOT)
    from vae import standby
    warm_up = lambda: time.sleep(float(os.environ.get("FAKE_TRAIN_WARM_UP", "0")))
    sys.argv[1:] = standby.wait_for_order(*sys.argv[2:], warm_up=warm_up)
print("training", os.getpid(), flush=True)
out = sys.argv[sys.argv.index("--out") + 1]
epochs = int(sys.argv[sys.argv.index("--epochs") + 1])
def status(**fields):
    with open(os.path.join(out, ".status.tmp"), "w") as f:
        json.dump(dict(fields, pid=os.getpid(), epochs=epochs, argv=sys.argv[1:], xla=os.environ.get("TF_XLA_FLAGS")), f)
    os.replace(os.path.join(out, ".status.tmp"), os.path.join(out, "status.json"))
stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
if os.environ.get("FAKE_TRAIN_CRASH"):
    sys.exit(3)
for epoch in range(epochs):
    status(state="running", epoch=epoch, progress=0.5)
    time.sleep(0.2)
    if stop:
        status(state="cancelled", epoch=epoch, message="cancelled")
        sys.exit(0)
status(state="finished", epoch=epochs, message="finished")
time.sleep(float(os.environ.get("FAKE_TRAIN_LINGER", "0")))  # TensorFlow takes a moment to tear down
"""


def write_fake_trainer(path: Path) -> Path:
    """FAKE_TRAIN as a script at path (named *train.py-like by the caller's choice of path), importing vae from
    the checkout when it stands by."""
    path.write_text(FAKE_TRAIN.replace("ROOT", repr(str(ROOT))))
    return path
