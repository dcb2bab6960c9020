"""Digits the model never saw: do their codes land among the test codes of their own digit?

    python -m vae.foreign RUN_DIR [--seed 0] [--per-digit 30]

Two sets of digits that are not from MNIST, each made MNIST-style by vae.images.preprocess_digit,
as an upload or a drawing is:

  printed  0-9 in every TrueType/OpenType font installed (fonts lacking the digits are skipped),
           at a few sizes, lightly rotated
  pen      0-9 drawn as on the drawing pad: hand-made stroke lists, several variants per digit,
           a round antialiased pen of random width, random slant, size, position and hand tremor,
           white on a black canvas of a few hundred pixels

Each set's codes (the encoder's means) get the 15-nearest-neighbour vote (vae.knn) of the run's
10,000 MNIST test codes; beside it, MNIST's own test digits' vote with each left out of its own.
The same seed gives the same digits. vae.evaluate stores the report in metrics.json as "foreign".
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy.ndimage import gaussian_filter1d

from vae.images import preprocess_digit
from vae.knn import K_NEIGHBOURS, knn_vote

DIGITS = "0123456789"
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.fonts", "~/.local/share/fonts",
             "/Library/Fonts", "/System/Library/Fonts", "~/Library/Fonts", "C:/Windows/Fonts")  # fmt: skip
FONT_SUFFIXES = (".ttf", ".otf", ".ttc")
PRINTED_SIZES = (24, 48, 96)  # glyph heights in px: a small print, a screenshot, a photographed sign
PRINTED_ROTATION = 8.0  # degrees either way: a page not quite straight under the camera
PEN_PER_DIGIT = 30
NOT_A_GLYPH = "\U0010fffd"  # a private-use code point no font draws: what a font shows for a missing glyph


@dataclass(frozen=True)
class DigitSet:
    name: str
    images: np.ndarray  # (N, 28, 28) float32 in [0, 1], MNIST-style
    labels: np.ndarray  # (N,) int, the digit drawn
    sources: list[str]  # per image: the font file, or the stroke variant


# ------------------------------------------------------------------------------ printed digits


def installed_fonts(dirs: tuple[str, ...] = FONT_DIRS) -> list[Path]:
    """Every TrueType/OpenType file under the usual font folders, sorted (the same order on every run)."""
    found = set()
    for folder in dirs:
        root = Path(os.path.expanduser(folder))
        if root.is_dir():
            found.update(path for path in root.rglob("*") if path.suffix.lower() in FONT_SUFFIXES)
    return sorted(found)


def has_glyphs(font: ImageFont.FreeTypeFont, characters: str) -> bool:
    """Whether the font draws every character itself: a missing one comes out blank or as its .notdef box."""
    missing = font.getmask(NOT_A_GLYPH)
    for character in characters:
        mask = font.getmask(character)
        if mask.getbbox() is None or (mask.size == missing.size and bytes(mask) == bytes(missing)):
            return False
    return True


def printed_digits(seed: int = 0, fonts: list[Path] | None = None, sizes: tuple[int, ...] = PRINTED_SIZES) -> DigitSet:
    """0-9 in each font that has them, at each size, dark on white, rotated by up to PRINTED_ROTATION."""
    rng = np.random.default_rng(seed)
    images, labels, sources = [], [], []
    for path in installed_fonts() if fonts is None else fonts:
        try:
            faces = {size: ImageFont.truetype(str(path), size) for size in sizes}
        except OSError:  # a file FreeType cannot read
            continue
        if not has_glyphs(faces[sizes[0]], DIGITS):
            continue
        for size, face in faces.items():
            for digit in range(10):
                side = 3 * size
                page = Image.new("L", (side, side), 255)
                ImageDraw.Draw(page).text((side / 2, side / 2), DIGITS[digit], font=face, fill=0, anchor="mm")
                angle = rng.uniform(-PRINTED_ROTATION, PRINTED_ROTATION)
                page = page.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=255)
                images.append(preprocess_digit(page))
                labels.append(digit)
                sources.append(path.name)
    return DigitSet("printed", _stack(images), np.array(labels, dtype=np.int64), sources)


# ---------------------------------------------------------------------------------- pen digits


def arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float, n: int = 24) -> list:
    """Points along an ellipse from angle start to end (degrees; 0 is right, 90 down, as on a screen)."""
    angles = np.radians(np.linspace(start, end, n))
    return list(zip(cx + rx * np.cos(angles), cy + ry * np.sin(angles), strict=True))


def curve(p0: tuple, control: tuple, p1: tuple, n: int = 16) -> list:
    """A quadratic Bezier curve from p0 to p1 pulled towards control."""
    t = np.linspace(0, 1, n)[:, None]
    points = (1 - t) ** 2 * np.array(p0) + 2 * t * (1 - t) * np.array(control) + t**2 * np.array(p1)
    return [tuple(p) for p in points]


def _figure_eight(top: float, bottom: float, n: int = 48) -> list:
    """One stroke: the upper loop (half-width top) then the lower one (bottom), crossing in the middle."""
    t = np.linspace(0, 2 * np.pi, n)
    width = np.where(np.cos(t) > 0, top, bottom)
    return list(zip(0.5 + width * np.sin(2 * t), 0.5 - 0.45 * np.cos(t), strict=True))


# How people draw each digit, in a unit box (x right, y down): variants of stroke lists, each
# stroke a polyline in drawing order. Hand-made from the common school forms.
STROKES: dict[int, list[list[list[tuple]]]] = {
    0: [[arc(0.5, 0.5, 0.3, 0.45, -90, 270)], [arc(0.5, 0.5, 0.27, 0.45, -100, 290)],
        [arc(0.5, 0.5, 0.2, 0.45, -80, 285)]],
    1: [[[(0.5, 0.05), (0.5, 0.95)]], [[(0.3, 0.24), (0.52, 0.05), (0.52, 0.95)]],
        [[(0.33, 0.2), (0.55, 0.05), (0.55, 0.95)], [(0.33, 0.95), (0.77, 0.95)]], [[(0.6, 0.05), (0.44, 0.95)]]],
    2: [[arc(0.5, 0.3, 0.3, 0.25, 190, 390) + [(0.2, 0.95), (0.85, 0.95)]],
        [arc(0.5, 0.3, 0.28, 0.25, 180, 380) + curve((0.74, 0.42), (0.45, 0.7), (0.2, 0.93)) + [(0.85, 0.9)]],
        [arc(0.5, 0.26, 0.32, 0.21, 165, 375) + [(0.22, 0.95), (0.8, 0.95)]]],
    3: [[arc(0.5, 0.27, 0.27, 0.22, 200, 450) + arc(0.5, 0.72, 0.3, 0.25, -90, 160)],
        [[(0.22, 0.08), (0.78, 0.08), (0.45, 0.42)] + arc(0.5, 0.68, 0.3, 0.27, -90, 160)],
        [arc(0.47, 0.26, 0.25, 0.21, 190, 440) + arc(0.47, 0.7, 0.32, 0.25, -100, 150)]],
    4: [[[(0.55, 0.05), (0.18, 0.62), (0.85, 0.62)], [(0.65, 0.3), (0.65, 0.95)]],
        [[(0.65, 0.95), (0.65, 0.05), (0.15, 0.65), (0.85, 0.65)]],
        [[(0.25, 0.05), (0.22, 0.55), (0.8, 0.55)], [(0.68, 0.08), (0.68, 0.95)]]],
    5: [[[(0.3, 0.08), (0.27, 0.5)] + arc(0.5, 0.68, 0.3, 0.27, -140, 150), [(0.3, 0.08), (0.78, 0.08)]],
        [[(0.78, 0.08), (0.3, 0.08), (0.27, 0.48)] + arc(0.5, 0.68, 0.3, 0.27, -140, 150)],
        [[(0.32, 0.06), (0.26, 0.45)] + arc(0.48, 0.66, 0.33, 0.3, -135, 145), [(0.3, 0.07), (0.8, 0.03)]]],
    6: [[curve((0.72, 0.06), (0.2, 0.25), (0.24, 0.7)) + arc(0.5, 0.7, 0.26, 0.25, 180, -160)],
        [curve((0.68, 0.05), (0.3, 0.3), (0.25, 0.72)) + arc(0.5, 0.72, 0.25, 0.23, 180, -170)],
        [[(0.65, 0.05), (0.3, 0.55)] + arc(0.5, 0.7, 0.24, 0.25, 210, -150)]],
    7: [[[(0.18, 0.08), (0.82, 0.08), (0.4, 0.95)]],
        [[(0.18, 0.08), (0.82, 0.08), (0.42, 0.95)], [(0.35, 0.5), (0.75, 0.5)]],
        [[(0.2, 0.1), (0.8, 0.1)] + curve((0.8, 0.1), (0.5, 0.45), (0.45, 0.95))]],
    8: [[arc(0.5, 0.27, 0.22, 0.22, -90, 270)] + [arc(0.5, 0.72, 0.27, 0.24, -90, 270)],
        [_figure_eight(0.25, 0.25)], [_figure_eight(0.2, 0.3)]],
    9: [[arc(0.48, 0.3, 0.25, 0.23, 0, -360) + [(0.73, 0.3), (0.7, 0.95)]],
        [arc(0.48, 0.3, 0.25, 0.23, 0, -360) + curve((0.73, 0.3), (0.72, 0.7), (0.45, 0.95))],
        [arc(0.46, 0.28, 0.24, 0.22, 10, 370) + [(0.7, 0.3), (0.62, 0.95)]]],
}  # fmt: skip


def pen_drawing(strokes: list[list[tuple]], rng: np.random.Generator) -> Image.Image:
    """The strokes drawn as a student draws them on the pad: white on black, round antialiased pen."""
    side = int(rng.integers(256, 401))
    pen = side * rng.uniform(0.05, 0.12)  # the pad's 24 px on 280 is 0.086
    height = side * rng.uniform(0.55, 0.85)
    slant, angle = rng.uniform(-0.3, 0.3), np.radians(rng.uniform(-12, 12))
    aspect = rng.uniform(0.75, 1.25)
    tremor = rng.uniform(0.004, 0.02)  # of the digit's height
    centre = side / 2 + rng.uniform(-0.1, 0.1, 2) * side
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    supersample = 4
    canvas = Image.new("L", (side * supersample, side * supersample), 0)
    draw = ImageDraw.Draw(canvas)
    width = pen * supersample
    for stroke in strokes:
        points = _resample(np.array(stroke, dtype=np.float64), step=0.01)
        wobble = gaussian_filter1d(rng.normal(size=points.shape), sigma=4, axis=0, mode="nearest")
        points = points + tremor * wobble / max(float(wobble.std()), 1e-9)
        points[:, 0] = 0.5 + (points[:, 0] - 0.5) * aspect + slant * (0.5 - points[:, 1])
        points = (points - 0.5) @ rotation.T * height + centre
        xy = [(float(x), float(y)) for x, y in points * supersample]
        draw.line(xy, fill=255, width=round(width), joint="curve")  # round joins, as the pad's lineJoin
        for x, y in (xy[0], xy[-1]):  # and round caps, as its lineCap
            draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=255)
    return canvas.reduce(supersample)  # box average: the antialiasing of a canvas


def _resample(points: np.ndarray, step: float) -> np.ndarray:
    """The polyline as points every `step` along it, as pointer events along a drawn line."""
    lengths = np.r_[0, np.cumsum(np.linalg.norm(np.diff(points, axis=0), axis=1))]
    at = np.linspace(0, lengths[-1], max(2, int(lengths[-1] / step) + 1))
    return np.stack([np.interp(at, lengths, points[:, 0]), np.interp(at, lengths, points[:, 1])], axis=1)


def pen_digits(seed: int = 0, per_digit: int = PEN_PER_DIGIT) -> DigitSet:
    """per_digit drawings of each digit, cycling through its stroke variants, each with its own pen and hand."""
    rng = np.random.default_rng(seed)
    images, labels, sources = [], [], []
    for digit, variants in STROKES.items():
        for i in range(per_digit):
            images.append(preprocess_digit(pen_drawing(variants[i % len(variants)], rng)))
            labels.append(digit)
            sources.append(f"{digit}/variant {i % len(variants)}")
    return DigitSet("pen", _stack(images), np.array(labels, dtype=np.int64), sources)


def _stack(images: list[np.ndarray]) -> np.ndarray:
    return np.stack(images).astype(np.float32) if images else np.zeros((0, 28, 28), np.float32)


# ------------------------------------------------------------------------------------- the vote


def vote_accuracy(codes: np.ndarray, labels: np.ndarray, reference_codes, reference_labels, k: int = K_NEIGHBOURS):
    """Share of codes whose k nearest reference codes vote for their own label."""
    return float(np.mean(knn_vote(codes, reference_codes, reference_labels, k) == labels))


def foreign_report(model, reference_codes, reference_labels, seed: int = 0, per_digit: int = PEN_PER_DIGIT,
                   classifier=None, k: int = K_NEIGHBOURS) -> dict:  # fmt: skip
    """Both sets' vote accuracy among the reference (MNIST test) codes, MNIST's own leave-one-out figure,
    per digit, and (given a vae.inference.NumpyClassifier) how many a digit classifier reads right."""
    reference_codes, reference_labels = np.asarray(reference_codes), np.asarray(reference_labels)
    mnist = knn_vote(reference_codes, reference_codes, reference_labels, k, leave_one_out=True)
    report = {"k": k, "seed": seed, "mnist": {"images": len(reference_codes), **_scores(mnist, reference_labels)}}
    for digits in (printed_digits(seed), pen_digits(seed, per_digit)):
        if not len(digits.labels):
            report[digits.name] = {"images": 0}
            continue
        flat = digits.images.reshape(len(digits.images), -1)
        votes = knn_vote(np.asarray(model.encode(flat)[0]), reference_codes, reference_labels, k)
        entry = {"images": len(flat), "sources": len(set(digits.sources)), **_scores(votes, digits.labels)}
        if classifier is not None:
            entry["classifier_accuracy"] = float(np.mean(classifier.predict(flat).argmax(axis=1) == digits.labels))
        report[digits.name] = entry
    return report


def _scores(votes: np.ndarray, labels: np.ndarray) -> dict:
    per_digit = {str(d): float(np.mean(votes[labels == d] == d)) for d in range(10) if np.any(labels == d)}
    return {"accuracy": float(np.mean(votes == labels)), "per_digit": per_digit}


def format_table(report: dict) -> str:
    k = report["k"]
    lines = [f"{'set':<12} {'images':>7} {f'{k}-NN vote':>10} {'classifier':>10}   per digit 0-9"]
    for name, label in (("mnist", "MNIST test*"), ("printed", "printed"), ("pen", "pen")):
        entry = report[name]
        if not entry["images"]:
            lines.append(f"{label:<12} {0:>7}   (none" + (": no usable font found)" if name == "printed" else ")"))
            continue
        reader = f"{entry['classifier_accuracy']:>10.2f}" if "classifier_accuracy" in entry else f"{'-':>10}"
        digits = " ".join(f"{entry['per_digit'].get(str(d), float('nan')):.2f}" for d in range(10))
        lines.append(f"{label:<12} {entry['images']:>7} {entry['accuracy']:>10.3f} {reader}   {digits}")
    lines.append(f"* each test digit voted on by the other test codes (seed {report['seed']})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from vae.inference import CLASSIFIER_PATH, NumpyClassifier
    from vae.io import RunError, load_run

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir")
    parser.add_argument("--seed", type=int, default=0, help="rotations, pens and hands (default %(default)s)")
    parser.add_argument("--per-digit", type=int, default=PEN_PER_DIGIT, help="pen drawings per digit")
    args = parser.parse_args(argv)
    if args.per_digit < 1:
        parser.error(f"--per-digit must be at least 1, not {args.per_digit}")
    try:
        run = load_run(args.run_dir, numpy=True)
    except RunError as err:
        print(f"cannot evaluate {args.run_dir}: {err}", file=sys.stderr)
        return 2
    if run.latents is None:
        print(f"cannot evaluate {args.run_dir}: it has no latents.npz (the test codes to vote with)", file=sys.stderr)
        return 2
    classifier = NumpyClassifier.load(CLASSIFIER_PATH) if CLASSIFIER_PATH.is_file() else None
    report = foreign_report(
        run.model, run.latents["mean"], run.latents["labels"], args.seed, args.per_digit, classifier
    )
    print(f"{run.run_dir}: digits not from MNIST, their codes voted on by the {report['mnist']['images']} test codes")
    print(format_table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
