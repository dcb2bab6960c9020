"""A picture opened on the pad, preprocessed in the page (vae/static/photo.mjs, run here under node) and in Python.

One specification (vae/images.py's docstring), two implementations: pictures built here as PIL
images go through vae.images.preprocess_digit and, as the RGBA bytes the browser decodes them to,
through photo.mjs's digitFromPicture; the 28x28s and the codes must agree, and each step of P1-P4
must agree with Pillow's and scipy's on its own. The figures are printed (pytest -s).
"""

from __future__ import annotations

import json
import subprocess

import numpy as np
from PIL import Image
from scipy import ndimage

from tests.helpers import (
    CODE_TOLERANCE,
    DEFAULT_MODEL,
    PHOTO_FLAWS,
    PIXEL_TOLERANCE,
    ROOT,
    arc,
    digit_photo,
    pad_drawing,
    skip_or_fail,
)
from vae.images import PHOTO, RULES, ImageError, ink_map, preprocess_digit, shrink, to_grayscale
from vae.inference import NumpyVAE
from vae.packing import layers_of, pack_network

STATIC = ROOT / "vae" / "static"
# The 28x28s are held to a drawing's PIXEL_TOLERANCE: steps P1-P4 repeat Pillow's integer formulas and numpy's
# float32 rounding operation by operation, so the ink maps agree bit for bit (test_ink_map_is_scipys_bit_for_bit
# and the two tests after it), and what is left is steps 5-7's summation order, as for a drawing.
GRAY_ULPS = 2  # the alpha path's weighted sum rounds as the BLAS kernel numpy's matmul calls does: CPUs differ
# Runs one of photo.mjs's functions per job; big arrays travel as files, the rest as JSON on stdout.
NODE_DRIVER = """
import { readFileSync, writeFileSync } from "node:fs";
const [staticUrl, manifestPath] = process.argv.slice(1);
const photo = await import(new URL("photo.mjs", staticUrl));
const { makeEncoder } = await import(new URL("digit.mjs", staticUrl));
const { unpackNetwork } = await import(new URL("network.mjs", staticUrl));
const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
const encode = manifest.encoder && makeEncoder(unpackNetwork(new Uint8Array(readFileSync(manifest.encoder))));
const bytes = (path) => new Uint8Array(readFileSync(path));
const floats = (path) => new Float32Array(bytes(path).buffer);
const save = (path, array) => writeFileSync(path, new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
const results = manifest.jobs.map(({ kind, input, width, height, side, output }) => {
  if (kind === "shrink") {
    const small = photo.shrinkRGBA(bytes(input), width, height, side);
    save(output, small.rgba);
    return { width: small.width, height: small.height };
  }
  if (kind === "gray") {
    const { gray, transparent } = photo.grayFromRGBA(bytes(input), width, height);
    save(output, gray);
    return { transparent };
  }
  if (kind === "ink") {
    save(output, photo.inkMap(floats(input), width, height, manifest.photo, manifest.rules));
    return {};
  }
  const rgba = bytes(input);
  const start = performance.now();
  const { digit, notes, picture } = photo.digitFromPicture(rgba, width, height, manifest.rules, manifest.photo);
  const ms = performance.now() - start;
  const shape = [picture.width, picture.height];
  if (digit === null) return { digit: null, notes, ms, shape };
  const { mean, logVar } = encode(digit);
  return { digit: Array.from(digit), mean: Array.from(mean), logVar: Array.from(logVar), notes, ms, shape };
});
console.log(JSON.stringify(results));
"""


def run_node(node: str, jobs: list[dict], tmp_path, model=None) -> list[dict]:
    """jobs: {"kind", "input" (an array: uint8 RGBA or float32 gray), ...}; returns each job's JSON answer,
    with "output" read back as an array where the job writes one."""
    manifest = {"rules": RULES.to_json(), "photo": PHOTO.to_json(), "jobs": []}
    if model is not None:
        manifest["encoder"] = str(tmp_path / "encoder.bin")
        (tmp_path / "encoder.bin").write_bytes(pack_network(*layers_of(model, "encoder")))
    for i, job in enumerate(jobs):
        path = tmp_path / f"input-{i}.bin"
        path.write_bytes(np.ascontiguousarray(job["input"]).tobytes())
        height, width = job["input"].shape[:2]
        manifest["jobs"].append({**job, "input": str(path), "width": width, "height": height})
        manifest["jobs"][-1]["output"] = str(tmp_path / f"output-{i}.bin")
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    command = [node, "--input-type=module", "-e", NODE_DRIVER, "--", STATIC.as_uri() + "/"]
    result = subprocess.run([*command, str(tmp_path / "manifest.json")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout)
    for i, answer in enumerate(answers):
        if (tmp_path / f"output-{i}.bin").exists():
            answer["output"] = (tmp_path / f"output-{i}.bin").read_bytes()
    return answers


def rgba_of(image: Image.Image) -> np.ndarray:
    """The bytes a canvas's getImageData gives for the picture: unpremultiplied RGBA, uint8."""
    return np.asarray(image.convert("RGBA"))


# ----------------------------------------------------------------- the corpus


def camera(photo: np.ndarray, tint: tuple[float, float, float] | None) -> Image.Image:
    """A float32 grayscale photo as a camera's picture: L, or RGB under light of the given tint."""
    if tint is None:
        return Image.fromarray(np.round(np.clip(photo, 0, 1) * 255).astype(np.uint8), mode="L")
    pixels = np.clip(photo[..., None] * np.asarray(tint, np.float32), 0, 1)
    return Image.fromarray(np.round(pixels * 255).astype(np.uint8), mode="RGB")


TINTS = (None, (1.0, 1.0, 1.0), (1.0, 0.93, 0.8))  # grayscale, neutral, warm indoor light


def on_transparent(mask: np.ndarray, colour: tuple[int, int, int], opacity: float = 1.0) -> Image.Image:
    """Strokes (a uint8 coverage mask) painted in colour on a fully transparent canvas, as a PNG holds them."""
    rgba = np.zeros((*mask.shape, 4), np.uint8)
    rgba[mask > 0, :3] = colour
    rgba[..., 3] = np.round(mask * opacity).astype(np.uint8)
    return Image.fromarray(rgba, mode="RGBA")


SEVEN = [[(80, 60), (200, 60), (120, 230)]]  # strokes on a 280 px canvas, for tests/helpers.pad_drawing
THREE = [arc(140, 95, 50, 45, -160, 90), arc(140, 185, 55, 50, -90, 160)]


def scaled(strokes: list, factor: float) -> list:
    return [[(x * factor, y * factor) for x, y in stroke] for stroke in strokes]


def lit(photo: np.ndarray, depth: float) -> np.ndarray:
    """Light falling off by depth from the top left corner to the bottom right one, whatever the aspect ratio."""
    rows, cols = np.indices(photo.shape)
    return (photo * (1 - depth * (rows / photo.shape[0] + cols / photo.shape[1]) / 2)).astype(np.float32)


def pictures(mnist: np.ndarray) -> dict[str, Image.Image]:
    """MNIST digits photographed with every flaw of tests/helpers.PHOTO_FLAWS, and the awkward cases of P1-P4."""
    corpus = {}
    for index, tint in zip((0, 3, 4), TINTS, strict=True):
        for side in (160, 700):  # 700: shrunk (by 2, with partial boxes at the right and bottom edge)
            photo, box = digit_photo(mnist[index], side, seed=index)
            mode = "L" if tint is None else "RGB" if tint == (1.0, 1.0, 1.0) else "RGB tinted"
            flaws = {"clean": lambda photo, box: photo, **PHOTO_FLAWS}
            for flaw, apply in flaws.items():
                corpus[f"#{index} {side}px {mode}: {flaw}"] = camera(apply(photo, box), tint)
    photo, box = digit_photo(mnist[8], 1030, seed=8)
    corpus["1030 px, all flaws (by 3 to 344: 1-px partial boxes)"] = camera(
        PHOTO_FLAWS["all of them"](photo, box), TINTS[2]
    )
    photo, box = digit_photo(mnist[8], 1024, seed=8)
    corpus["1024 px (shrunk to 512: window 128)"] = camera(PHOTO_FLAWS["all of them"](photo, box), TINTS[1])
    chalk = 1 - digit_photo(mnist[7], 240, seed=7)[0]  # white chalk on a dark board
    corpus["chalk on a board"] = camera(chalk, (0.85, 1.0, 0.9))
    lamp = chalk + 0.2 * np.indices(chalk.shape)[1] / chalk.shape[1]  # a lamp on the right: uneven dark paper
    corpus["chalk on a board, lit from the right"] = camera(lamp.astype(np.float32), (0.85, 1.0, 0.9))
    corpus["transparent PNG, dark strokes"] = on_transparent(pad_drawing(SEVEN), (20, 30, 120))
    corpus["transparent PNG, white strokes"] = on_transparent(pad_drawing(THREE), (255, 255, 255))
    corpus["transparent PNG, strokes at 50 % opacity"] = on_transparent(pad_drawing(THREE), (0, 0, 0), 0.5)
    corpus["transparent PNG, 700 px (shrunk premultiplied)"] = on_transparent(
        pad_drawing(scaled(SEVEN, 2.5), side=700, pen=50), (200, 20, 20)
    )
    corpus["small photo, 80 px (no P4)"] = camera(digit_photo(mnist[1], 80, seed=1)[0], TINTS[1])
    hairline = 235 - pad_drawing(scaled(THREE, 400 / 280), side=400, pen=1.2) * (200 / 255)
    corpus["hairline drawing, 400 px"] = Image.fromarray(hairline.astype(np.uint8), mode="L")
    corpus["faint dots beside a faint wash (P4's exception)"] = camera(faint_dots_and_wash(), None)
    wide = np.full((60, 490), 0.85, np.float32)  # window round(122.5) = 122 (half to even), wider than 60
    wide[8:52, 200:244] -= 0.7 * np.asarray(Image.fromarray(mnist[2]).resize((44, 44), Image.BILINEAR)) / 255
    corpus["490 x 60 strip, window 122 > 60"] = camera(lit(wide, 0.2), TINTS[2])
    corpus["blank paper"] = Image.new("RGB", (300, 200), (250, 250, 250))
    corpus["flat grey"] = Image.new("L", (128, 128), 128)
    return corpus


# ----------------------------------------------------------------- the tests


def test_pictures_give_the_same_digit_and_code_in_the_page_as_in_python(node, tmp_path, mnist_dir):
    from vae import data

    if not DEFAULT_MODEL.exists():
        skip_or_fail(f"{DEFAULT_MODEL} is missing: the shipped pretrained run is needed")
    model = NumpyVAE.load(DEFAULT_MODEL)
    corpus = pictures(data.load_split("test", download=False).images)
    answers = run_node(
        node, [{"kind": "picture", "input": rgba_of(image)} for image in corpus.values()], tmp_path, model
    )
    rows, worst = [], np.zeros(3)
    for (name, image), page in zip(corpus.items(), answers, strict=True):
        notes: list = []
        small = to_grayscale(shrink(image), notes)
        assert page["notes"] == [note.key for note in notes], name
        assert page["shape"] == [small.width, small.height], name
        try:
            digit = preprocess_digit(image)
        except ImageError:
            digit = None
        assert (digit is None) == (page["digit"] is None), f"{name}: one side found no digit"
        if digit is None:
            rows.append((name, None, page["ms"]))
            continue
        mean, log_var = model.encode(digit.reshape(1, -1))
        pixels = np.abs(np.array(page["digit"]).reshape(28, 28) - digit)
        code = max(np.abs(np.array(page["mean"]) - mean[0]).max(), np.abs(np.array(page["logVar"]) - log_var[0]).max())
        figures = (pixels.max(), np.sqrt((pixels**2).mean()), code)
        worst = np.maximum(worst, figures)
        rows.append((name, figures, page["ms"]))
    print(f"\npictures: {len(rows)}; page (node) vs Python, pretrained/elbo-kl1")
    print(f"  {'picture':52s} {'max |px|':>9s} {'rms px':>9s} {'max |code|':>10s} {'node ms':>8s}")
    for name, figures, ms in rows:
        shown = "no digit on both sides" if figures is None else "{:9.2e} {:9.2e} {:10.2e}".format(*figures)
        print(f"  {name[:52]:52s} {shown:>30s} {ms:8.1f}")
    print(f"  {'worst':52s} {worst[0]:9.2e} {worst[1]:9.2e} {worst[2]:10.2e}")
    assert worst[0] <= PIXEL_TOLERANCE, f"28x28s differ by up to {worst[0]:.2e}"
    assert worst[2] <= CODE_TOLERANCE, f"codes differ by up to {worst[2]:.2e} (mean or log_var)"
    assert sum(figures is None for _, figures, _ in rows) == 2  # the blank and the flat grey pictures


EXCEPTION = "400 x 400 faint dots beside a faint wash (P4 keeps them whole)"


def faint_dots_and_wash() -> np.ndarray:
    """P4's exception: the blur's maximum is a wash too faint to be a digit, beside which a dotted line is thin;
    dropping the dots would leave nothing, so P4 keeps them (a real photo rarely comes this close)."""
    photo = np.full((400, 400), 0.9, np.float32)
    photo[50:350, 220:380] = 0.855
    photo[100:300:4, 120] = 0.8
    return photo


# (height, width). Windows: 40; 128 (even); 75 (odd); round(50.5) = 50 (half to even); 122, wider than 60;
# 24, without P4 (sigma under half a pixel); 128, reflected past a 40 px side twice; 75 and a blur reaching past
# a 5 px side; 3, the smallest.
GRAY_SHAPES = ((160, 160), (512, 512), (301, 205), (202, 150), (60, 490), (90, 94), (512, 40), (5, 300), (3, 7))


def gray_photos() -> dict[str, np.ndarray]:
    """float32 grayscale photos for P2-P4 alone: both papers, flat and uneven light, even and odd windows."""
    rng = np.random.default_rng(0)
    stroke = pad_drawing(THREE).astype(np.float32) / 255
    photos = {}
    for height, width in GRAY_SHAPES:
        ink = np.asarray(Image.fromarray(stroke, mode="F").resize((width, height), Image.BILINEAR))
        light = (0.9 - 0.75 * ink + rng.normal(0, 0.01, ink.shape)).astype(np.float32)
        photos[f"{width} x {height} light"] = light
        photos[f"{width} x {height} light, shadow"] = lit(light, 0.4)
        photos[f"{width} x {height} dark, lamp"] = (1 - light + 0.2 * np.indices(light.shape)[1] / width).astype(
            np.float32
        )
    ruled = photos["512 x 512 light"].copy()
    ruled[::40] *= 0.7  # ruled lines that P4 removes
    photos["512 x 512 light, ruled"] = ruled
    hair = np.full((400, 400), 0.9, np.float32)
    hair[100:300, 200] = 0.1
    photos["400 x 400 one hair (not thin beside itself)"] = hair
    photos[EXCEPTION] = faint_dots_and_wash()
    photos["100 x 100 flat"] = np.full((100, 100), 0.5, np.float32)
    return photos


def test_ink_map_is_scipys_bit_for_bit(node, tmp_path):
    """P2-P4 alone: the median, the closing or opening (even and odd windows, windows wider than the picture),
    the flattening, the Gaussian blur and the thin-line rule give the very same float32 ink."""
    photos = gray_photos()
    answers = run_node(node, [{"kind": "ink", "input": photo} for photo in photos.values()], tmp_path)
    for (name, photo), answer in zip(photos.items(), answers, strict=True):
        page = np.frombuffer(answer["output"], np.float32).reshape(photo.shape)
        python = ink_map(photo)
        assert np.array_equal(page, python), f"{name}: {np.abs(page - python).max():.2e} apart"
    blurred = ndimage.gaussian_filter(kept := ink_map(photos[EXCEPTION]), PHOTO.thin_line_blur * 400)
    assert kept[blurred < RULES.ink_threshold * blurred.max()].max() >= RULES.min_peak  # the exception was taken


def random_pictures(rng) -> dict[str, Image.Image]:
    pictures = {}
    for height, width in ((700, 700), (517, 1031), (37, 5), (999, 64)):
        for mode in ("L", "RGB", "RGBA"):
            pixels = rng.integers(0, 256, (height, width, 4), dtype=np.uint8)
            if mode == "RGBA":  # every alpha, and whole runs of the two that Pillow's unpremultiply passes through
                pixels[: height // 3, :, 3] = 0
                pixels[height // 3 : height // 2, :, 3] = 255
            image = Image.fromarray(pixels, "RGBA")
            pictures[f"{width} x {height} {mode}"] = image if mode == "RGBA" else image.convert(mode)
    return pictures


def test_shrink_is_pillows_reduce_exactly(node, tmp_path):
    pictures = random_pictures(np.random.default_rng(1))
    jobs = []
    for image in pictures.values():
        for side in (512, 300, 207, 100, 7):  # factors 1 to 148 (2-5: Pillow's own loops), partial boxes
            jobs.append({"kind": "shrink", "input": rgba_of(image), "side": side, "image": image})
    answers = run_node(node, [{key: value for key, value in job.items() if key != "image"} for job in jobs], tmp_path)
    for job, answer in zip(jobs, answers, strict=True):
        python = rgba_of(shrink(job["image"], job["side"]))
        page = np.frombuffer(answer["output"], np.uint8).reshape(answer["height"], answer["width"], 4)
        assert page.shape == python.shape
        assert np.array_equal(page, python), f"{job['image'].size} to {job['side']}: {(page != python).sum()} differ"


def test_grayscale_is_to_grayscales(node, tmp_path):
    """Opaque pictures bit for bit; with alpha, the same up to the rounding of one weighted sum, and the same
    background (white behind dark strokes, black behind light ones) and note."""
    rng = np.random.default_rng(2)
    pictures = random_pictures(rng)
    pictures["dark strokes on transparent"] = on_transparent(pad_drawing(SEVEN), (20, 30, 120))
    pictures["white strokes on transparent"] = on_transparent(pad_drawing(SEVEN), (255, 255, 255))
    answers = run_node(node, [{"kind": "gray", "input": rgba_of(image)} for image in pictures.values()], tmp_path)
    for (name, image), answer in zip(pictures.items(), answers, strict=True):
        notes: list = []
        python = np.asarray(to_grayscale(image, notes))
        page = np.frombuffer(answer["output"], np.float32).reshape(python.shape)
        assert answer["transparent"] == (image.mode == "RGBA") == bool(notes), name
        if image.mode != "RGBA":
            assert np.array_equal(page, python), name
        else:
            ulps = np.abs(page - python) / np.spacing(np.float32(1))  # float32 ulps of 1: gray is in [0, 1]
            assert ulps.max() <= GRAY_ULPS, f"{name}: {ulps.max():.0f} float32 ulps apart"
    corners = [np.frombuffer(answer["output"], np.float32)[0] for answer in answers[-2:]]
    assert corners == [1.0, 0.0]  # the transparent corner: white behind dark strokes, black behind white ones
