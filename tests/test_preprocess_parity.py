"""The drawing pad's preprocessing and encoder (vae/static/digit.mjs, run here under node) against Python's.

One specification (vae/images.py's docstring), two implementations: a corpus of drawings and
MNIST images goes through digit.mjs and through vae.preprocess_digit + model.encode, and the
28x28s and the codes must agree. The figures are printed (pytest -s) for benchmarks/README.md.
"""

from __future__ import annotations

import json
import subprocess

import numpy as np
from PIL import Image

from tests.helpers import (
    CODE_TOLERANCE,
    DEFAULT_MODEL,
    PIXEL_TOLERANCE,
    ROOT,
    arc,
    pad_drawing,
    random_numpy_vae,
    skip_or_fail,
)
from vae.drawpad import INK_SIDE, PEN
from vae.images import RULES, ImageError, preprocess_digit
from vae.inference import NumpyVAE
from vae.packing import layers_of, pack_network

DIGIT_JS = ROOT / "vae" / "static" / "digit.mjs"
# An enlarged picture run through the drawing's steps 1-7 alone: Python's step P4 (which the page runs for
# pictures, vae/static/photo.mjs, but not for drawings, which have no ruled lines) drops a few soft fringe pixels.
ENLARGED_PIXEL_TOLERANCE = 0.05
# Reads the rasters, runs the page's own functions on each, prints the 28x28s and codes.
NODE_DRIVER = """
import { readFileSync } from "node:fs";
const [digitUrl, networkUrl, manifestPath] = process.argv.slice(1);
const { preprocess, makeEncoder } = await import(digitUrl);
const { unpackNetwork } = await import(networkUrl);
const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
const encode = makeEncoder(unpackNetwork(new Uint8Array(readFileSync(manifest.encoder))));
const results = manifest.rasters.map(({ path, width, height }) => {
  const bytes = readFileSync(path);
  const ink = new Float32Array(width * height);
  for (let p = 0; p < ink.length; p++) ink[p] = bytes[p] / 255;
  const digit = preprocess(ink, width, height, manifest.rules);
  if (digit === null) return null;
  const { mean, logVar } = encode(digit);
  return { digit: Array.from(digit), mean: Array.from(mean), logVar: Array.from(logVar) };
});
console.log(JSON.stringify(results));
"""

# ----------------------------------------------------------------- the corpus


def drawings() -> dict[str, np.ndarray]:
    """Digits as people draw them on the pad, and the awkward cases of steps 3-7."""
    return {
        "7": pad_drawing([[(80, 60), (200, 60), (120, 230)]]),
        "1 upright (symmetric: a centring tie)": pad_drawing([[(140, 40), (140, 240)]]),
        "0": pad_drawing([arc(140, 140, 60, 95)]),
        "8": pad_drawing([arc(140, 90, 45, 45), arc(140, 185, 55, 50)]),
        "4 in two strokes that do not touch": pad_drawing(
            [[(150, 40), (70, 160), (200, 160)], [(180, 100), (180, 250)]]
        ),
        "5 with its bar apart": pad_drawing(
            [[(110, 50), (100, 130), *arc(140, 170, 50, 50, -120, 140)], [(118, 45), (200, 45)]]
        ),
        "3 with a stray tap far away": pad_drawing(
            [arc(140, 95, 50, 45, -160, 90), arc(140, 185, 55, 50, -90, 160), [(25, 260)]]
        ),
        "small 2 in a corner": pad_drawing([[*arc(60, 50, 25, 22, 180, 360), (35, 100), (90, 100)]]),
        "dash (wide and flat)": pad_drawing([[(40, 150), (240, 150)]]),
        "a dot": pad_drawing([[(200, 90)]]),
        "9 touching the border": pad_drawing([arc(140, 60, 70, 60), [(205, 60), (190, 279)]]),
        "thin pen": pad_drawing([[(80, 60), (200, 60), (120, 230)]], pen=6),
        "two equal dots (a tie for the main part)": pad_drawing([[(60, 140)], [(220, 140)]]),
        "small canvas (196 px)": pad_drawing([[(60, 40), (140, 40), (85, 160)]], side=196, pen=17),
        **{
            f"{name}, on the pad's own ink canvas": pad_drawing(scaled(strokes), INK_SIDE, PEN)
            for name, strokes in (
                ("7", [[(80, 60), (200, 60), (120, 230)]]),
                ("3", [arc(140, 95, 50, 45, -160, 90), arc(140, 185, 55, 50, -90, 160)]),
                ("4", [[(150, 40), (70, 160), (200, 160)], [(180, 100), (180, 250)]]),
            )
        },
    }


def scaled(strokes: list[list[tuple[float, float]]]) -> list[list[tuple[float, float]]]:
    """Strokes on a 280 px canvas, moved to the pad's ink canvas."""
    return [[(x * INK_SIDE / 280, y * INK_SIDE / 280) for x, y in stroke] for stroke in strokes]


# ----------------------------------------------------------------- running both sides


def run_page_code(node: str, model, rasters: dict[str, np.ndarray], tmp_path) -> dict[str, dict | None]:
    encoder_path = tmp_path / "encoder.bin"
    encoder_path.write_bytes(pack_network(*layers_of(model, "encoder")))
    manifest = {"encoder": str(encoder_path), "rules": RULES.to_json(), "rasters": []}
    for i, raster in enumerate(rasters.values()):
        path = tmp_path / f"raster-{i}.bin"
        path.write_bytes(np.ascontiguousarray(raster, np.uint8).tobytes())
        manifest["rasters"].append({"path": str(path), "width": raster.shape[1], "height": raster.shape[0]})
    manifest_path = tmp_path / "manifest.json"
    manifest_path.write_text(json.dumps(manifest))
    network_js = ROOT / "vae" / "static" / "network.mjs"
    command = [node, "--input-type=module", "-e", NODE_DRIVER, "--", DIGIT_JS.as_uri(), network_js.as_uri()]
    result = subprocess.run([*command, str(manifest_path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return dict(zip(rasters, json.loads(result.stdout), strict=True))


def python_side(model, raster: np.ndarray) -> dict | None:
    try:
        digit = preprocess_digit(Image.fromarray(np.ascontiguousarray(raster, np.uint8), mode="L"))
    except ImageError:
        return None
    mean, log_var = model.encode(digit.reshape(1, -1))
    return {"digit": digit, "mean": mean[0], "log_var": log_var[0]}


def compare(node, model, rasters, tmp_path, label: str, pixel_tolerance: float = PIXEL_TOLERANCE) -> None:
    """Both sides on every raster: the 28x28s within pixel_tolerance, the codes within CODE_TOLERANCE."""
    page = run_page_code(node, model, rasters, tmp_path)
    rows = []
    for name, raster in rasters.items():
        python, js = python_side(model, raster), page[name]
        assert (python is None) == (js is None), f"{name}: one side found no digit"
        if python is None:
            continue
        pixels = np.abs(np.array(js["digit"]).reshape(28, 28) - python["digit"])
        code = max(
            np.abs(np.array(js["mean"]) - python["mean"]).max(),
            np.abs(np.array(js["logVar"]) - python["log_var"]).max(),
        )
        rows.append((name, pixels.max(), np.sqrt((pixels**2).mean()), code))
    print(f"\n{label}: {len(rows)} images; page (node) vs Python")
    print(f"  {'image':44s} {'max |px|':>9s} {'rms px':>9s} {'max |code|':>10s}")
    for name, max_px, rms_px, code in rows:
        print(f"  {name[:44]:44s} {max_px:9.2e} {rms_px:9.2e} {code:10.2e}")
    worst = np.max([row[1:] for row in rows], axis=0)
    print(f"  {'worst':44s} {worst[0]:9.2e} {worst[1]:9.2e} {worst[2]:10.2e}")
    assert worst[0] <= pixel_tolerance, f"28x28s differ by up to {worst[0]:.2e}"
    assert worst[2] <= CODE_TOLERANCE, f"codes differ by up to {worst[2]:.2e} (mean or log_var)"


# ----------------------------------------------------------------- the tests


def test_drawings_give_the_same_digit_and_code_in_the_page_as_in_python(node, tmp_path):
    if not DEFAULT_MODEL.exists():
        skip_or_fail(f"{DEFAULT_MODEL} is missing: the shipped pretrained run is needed")
    compare(node, NumpyVAE.load(DEFAULT_MODEL), drawings(), tmp_path, "drawings, pretrained/elbo-kl1")


def test_random_weights_with_biases_and_four_latent_dimensions(node, tmp_path):
    compare(node, random_numpy_vae(latent_dim=4), drawings(), tmp_path, "drawings, random 784-64-32-(4+4) encoder")


def mnist_model():
    return NumpyVAE.load(DEFAULT_MODEL) if DEFAULT_MODEL.exists() else random_numpy_vae()


def test_mnist_test_images_give_the_same_digit_and_code(node, tmp_path, mnist_dir):
    from vae import data

    images = data.load_split("test", download=False).images
    rasters = {f"MNIST test #{i}": images[i] for i in range(0, 10_000, 250)}  # 40 images, every digit
    compare(node, mnist_model(), rasters, tmp_path, "MNIST test images")


def test_enlarged_images_differ_only_by_pythons_thin_line_step(node, tmp_path, mnist_dir):
    """A picture, unlike a drawing, may have soft edges that step P4 (not run on drawings) trims a little:
    the 28x28s then differ in a few fringe pixels, the codes still well within the tolerance."""
    from vae import data

    images = data.load_split("test", download=False).images
    rasters = {}
    for i in range(0, 10_000, 1000):  # as a photo of a screen gives them: enlarged, off-centre, in a bigger frame
        big = np.zeros((300, 220), np.uint8)
        big[40:208, 30:198] = np.asarray(Image.fromarray(images[i]).resize((168, 168), Image.Resampling.BILINEAR))
        rasters[f"MNIST test #{i}, 6x, off-centre"] = big
    compare(node, mnist_model(), rasters, tmp_path, "MNIST test images, 6x", pixel_tolerance=ENLARGED_PIXEL_TOLERANCE)


def test_nothing_drawn_is_no_digit_on_both_sides(node, tmp_path):
    rasters = {"empty": np.zeros((280, 280), np.uint8), "faint smudge": np.full((50, 50), 5, np.uint8)}
    page = run_page_code(node, random_numpy_vae(), rasters, tmp_path)
    assert page == {"empty": None, "faint smudge": None}
    assert all(python_side(random_numpy_vae(), raster) is None for raster in rasters.values())
