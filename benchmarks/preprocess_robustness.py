"""Photos as people take them: how far a flaw moves the 28x28 from the clean photo's, and what a classifier reads.

    VAE_DATA_DIR=... python -m benchmarks.preprocess_robustness [--digits 50] [--sides 160 400 1000]

MNIST test digits (or, without MNIST, three drawn digits) become photos of pen on grey paper
(tests.helpers.digit_photo) at each side, then get each flaw of tests/test_images.py: specks,
corner shadows, a lighting gradient, ruled paper, all at once; and one beyond what vae.images
promises (a speck touching the digit, which becomes part of it). Per flaw and size: the mean
|difference| of the 28x28 from the clean photo's at the best one-pixel alignment (mean and worst
over the digits), and the share of digits the pretrained classifier reads right. The baseline,
in the same run: vae/images.py as it was before the specification (git show BASELINE:vae/images.py).
For scale, the clean digit against itself shifted by one pixel. First, the drawing pad's pen against
MNIST's strokes: the ink of digits drawn on the pad beside MNIST's. Figures: benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import subprocess
import time
import types

import numpy as np
from PIL import Image

from benchmarks._browser import load_average
from tests.helpers import (
    PHOTO_FLAWS,
    ROOT,
    aligned_difference,
    arc,
    digit_photo,
    pad_drawing,
)
from vae import images
from vae.inference import CLASSIFIER_PATH, NumpyClassifier

BASELINE = "53334d6"  # the last commit before the specification in vae/images.py


def touching_speck(photo: np.ndarray, box: tuple[int, int, int]) -> np.ndarray:
    """A 6x6 speck just left of the digit's leftmost ink, at that ink's row: it joins the digit's part."""
    out, (top, left, height) = photo.copy(), box
    rows, cols = np.nonzero(photo[top : top + height, left : left + height] < 0.5)
    row, col = top + rows[np.argmin(cols)], left + cols.min()
    out[max(row - 3, 0) : row + 3, max(col - 6, 0) : col] = photo.min()
    return out


def baseline_images() -> types.ModuleType | None:
    """vae/images.py as it was at BASELINE, as a module (it needs only numpy and Pillow); None outside git."""
    try:
        source = subprocess.run(
            ["git", "show", f"{BASELINE}:vae/images.py"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType("images_baseline")
    exec(compile(source, f"{BASELINE}:vae/images.py", "exec"), module.__dict__)
    return module


def sources(count: int) -> tuple[list[np.ndarray], list[int], str]:
    from vae import data

    try:
        test = data.load_split("test", download=False)
    except data.DataError:
        drawn = [
            pad_drawing([[(80, 60), (200, 60), (120, 230)]]),
            pad_drawing([arc(140, 140, 60, 95)]),
            pad_drawing([[*arc(140, 95, 55, 50, 180, 380), (80, 230), (210, 230)]]),
        ]
        return drawn, [7, 0, 2], "three drawn digits (no MNIST on this machine)"
    pen_ink(test)
    step = len(test.images) // count
    picks = range(0, step * count, step)
    return [test.images[i] for i in picks], [int(test.labels[i]) for i in picks], f"{count} MNIST test digits"


def pen_ink(test) -> None:
    """The pad's pen against MNIST: the ink (sum of the 28x28) of a 7, a 0 and a 1 drawn on the pad's canvas,
    beside the ink of MNIST's test digits of that class (their 10th, 50th and 90th percentiles)."""
    from vae.drawpad import INK_SIDE, PEN

    scale = INK_SIDE / 280
    drawn = {
        7: [[(80, 60), (200, 60), (120, 230)]],
        0: [arc(140, 140, 60, 95)],
        1: [[(140, 40), (140, 240)]],
    }
    print(f"the pad's pen ({PEN} px on its {INK_SIDE} px canvas) against MNIST: ink of the 28x28")
    for label, strokes in drawn.items():
        raster = pad_drawing([[(x * scale, y * scale) for x, y in stroke] for stroke in strokes], INK_SIDE, PEN)
        ink = float(images.preprocess_digit(Image.fromarray(raster)).sum())
        p10, p50, p90 = np.percentile(test.images[test.labels == label].sum(axis=(1, 2)) / 255, [10, 50, 90])
        print(f"  a {label}: drawn {ink:5.1f}   MNIST test {label}s: p10 {p10:5.1f}, median {p50:5.1f}, p90 {p90:5.1f}")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=50, help="MNIST test digits per size (evenly spaced)")
    parser.add_argument("--sides", type=int, nargs="+", default=[160, 400, 1000], help="photo sizes in pixels")
    args = parser.parse_args()

    digits, labels, described = sources(args.digits)
    classifier = NumpyClassifier.load() if CLASSIFIER_PATH.exists() else None
    implementations = {"now": images}
    if (old := baseline_images()) is not None:
        implementations[f"before ({BASELINE})"] = old
    print(f"{described}; photos {args.sides} px; {load_average()} (start)")
    print("mean |28x28 - clean photo's 28x28| at the best 1-px alignment: mean / worst over the digits; read: the")
    print("classifier's share right (pretrained/classifier.keras); a failed preprocess counts as 1.0 and wrong\n")

    for side in args.sides:
        photos = [digit_photo(digit, side, seed=i) for i, digit in enumerate(digits)]
        header = "".join(f" | {name:>24s}" for name in implementations)
        print(f"{side} x {side} px{' ' * 30}{header}")
        rows = {"clean": lambda photo, box: photo, **PHOTO_FLAWS}
        timings = {name: [] for name in implementations}
        clean = {}
        for flaw, make in rows.items():
            cells = []
            for name, module in implementations.items():
                out, differences = [], []
                for i, (photo, box) in enumerate(photos):
                    started = time.perf_counter()
                    try:
                        digit = module.preprocess_digit(Image.fromarray(np.clip(make(photo, box), 0, 1), mode="F"))
                    except module.ImageError:
                        digit = None
                    timings[name].append(time.perf_counter() - started)
                    if flaw == "clean":
                        clean[name, i] = digit
                    differences.append(1.0 if digit is None else aligned_difference(digit, clean[name, i]))
                    out.append(np.zeros((28, 28), np.float32) if digit is None else digit)
                read = "  n/a"
                if classifier is not None:
                    read = f"{(classifier.predict(np.stack(out)).argmax(1) == labels).mean():5.0%}"
                cells.append(f"{np.mean(differences):.3f} / {np.max(differences):.3f}  read {read}")
            print(f"  {flaw:40s}" + "".join(f" | {cell:>24s}" for cell in cells))
        shifted = [
            float(np.abs(np.roll(clean["now", i], 1, axis=1) - clean["now", i]).mean()) for i in range(len(photos))
        ]
        print(f"  {'for scale: clean, shifted by 1 px':40s} | {np.mean(shifted):.3f} / {np.max(shifted):.3f}")
        print(
            "  preprocess per photo, median: "
            + ", ".join(f"{name} {1000 * np.median(t):.1f} ms" for name, t in timings.items())
        )
        print()
    print(f"{load_average()} (end)")


if __name__ == "__main__":
    main()
