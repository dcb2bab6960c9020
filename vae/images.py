"""User images -> MNIST-style 28x28 digits, the way MNIST itself was made.

MNIST digits are white on black, fitted into a 20x20 box keeping their aspect ratio,
then placed in a 28x28 frame with their centre of mass at the centre. A photo or a
drawing is none of that, so ``preprocess_digit`` redoes each step. ``open_image``
turns untrusted upload bytes into a safe, plain grayscale picture or refuses it with
a message meant for the user.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 25_000_000  # 5000 x 5000: decoding more would cost ~100 MB and seconds
ALLOWED_FORMATS = {"PNG", "JPEG", "BMP", "WEBP", "GIF"}
INK_THRESHOLD = 0.2  # share of the full ink level below which a pixel counts as background


class ImageError(ValueError):
    """An upload that cannot become a digit; str(err) is shown to the user as is."""


def open_image(data: bytes, max_bytes: int = MAX_UPLOAD_BYTES) -> tuple[Image.Image, list[str]]:
    """Decode upload bytes to a grayscale float-ready image; returns (image, notes for the user)."""
    if not data:
        raise ImageError("The file is empty.")
    if len(data) > max_bytes:
        raise ImageError(f"The file is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB.")
    notes: list[str] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in ALLOWED_FORMATS:
                raise ImageError(f"{image.format} images are not accepted; use PNG, JPEG, BMP or WebP.")
            if image.width * image.height > MAX_PIXELS:
                raise ImageError(
                    f"The image is {image.width} x {image.height} pixels; the limit is {MAX_PIXELS / 1e6:.0f} megapixels."
                )
            if getattr(image, "n_frames", 1) > 1:
                notes.append(f"Animated image ({image.n_frames} frames): using the first frame.")
                image.seek(0)
            image.load()
            image = ImageOps.exif_transpose(image)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError("The image is far too large to decode safely.") from None
    except Exception as err:  # PIL raises OSError, SyntaxError, ValueError... for broken files
        raise ImageError(f"This is not a readable image ({type(err).__name__}). Try a PNG or JPEG.") from None
    return to_grayscale(image, notes), notes


def to_grayscale(image: Image.Image, notes: list[str] | None = None) -> Image.Image:
    """Any PIL mode (16-bit, float, CMYK, palette, alpha...) -> mode 'F' with values in [0, 1]."""
    notes = notes if notes is not None else []
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        pixels = np.asarray(image, dtype=np.float64)
        lo, hi = float(np.nanmin(pixels)), float(np.nanmax(pixels))
        scaled = (pixels - lo) / (hi - lo) if hi > lo else np.zeros_like(pixels)
        notes.append(f"High bit-depth image ({image.mode}): rescaled to its own range.")
        return Image.fromarray(np.nan_to_num(scaled).astype(np.float32), mode="F")
    if image.mode == "P" or image.mode == "PA":
        image = image.convert("RGBA")
    if "A" in image.mode or "transparency" in image.info:
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0
        alpha = rgba[..., 3]
        gray = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        # Strokes drawn on a transparent background: put them on the background they stand out from.
        ink = float((gray * alpha).sum() / max(alpha.sum(), 1e-6))
        background = 1.0 if ink < 0.5 else 0.0
        notes.append("Transparent image: flattened onto a plain background.")
        return Image.fromarray(gray * alpha + background * (1 - alpha), mode="F")
    if image.mode != "L":
        image = image.convert("RGB").convert("L")  # CMYK, YCbCr, 1-bit... all via RGB
    return Image.fromarray(np.asarray(image, dtype=np.float32) / 255.0, mode="F")


def preprocess_digit(image: Image.Image) -> np.ndarray:
    """Any PIL image of one digit -> (28, 28) float32 in [0, 1], white digit on black, MNIST-style.

    Raises ImageError when there is no digit to find (a blank image).
    """
    if image.mode != "F" or np.asarray(image).max(initial=0) > 1.0:
        image = to_grayscale(image)
    pixels = np.asarray(image, dtype=np.float32)
    # MNIST is light ink on dark paper: judge the paper by the border and invert if it is light.
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    paper = float(np.median(border))
    ink = (paper - pixels) if paper > 0.5 else (pixels - paper)
    ink = np.clip(ink, 0.0, None)
    peak = float(ink.max())
    if peak < 0.05:
        raise ImageError(
            "No digit found: the image is one flat colour. Draw a dark digit on light paper or vice versa."
        )
    ink /= peak
    ink[ink < INK_THRESHOLD] = 0.0  # paper texture, JPEG noise, shadows
    rows, cols = np.nonzero(ink)
    crop = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]

    # Fit into 20x20 keeping the aspect ratio, with antialiasing as NIST's scanner did.
    height, width = crop.shape
    scale = 20.0 / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = np.asarray(Image.fromarray(crop, mode="F").resize(size, Image.Resampling.LANCZOS), dtype=np.float32)
    small = np.clip(small, 0.0, None)
    small /= max(float(small.max()), 1e-6)

    # Place in 28x28 with the centre of mass at the centre (clamped to stay in the frame).
    total = float(small.sum())
    ys, xs = np.indices(small.shape)
    com_y, com_x = (ys * small).sum() / total, (xs * small).sum() / total
    top = int(np.clip(round(14 - com_y), 0, 28 - small.shape[0]))
    left = int(np.clip(round(14 - com_x), 0, 28 - small.shape[1]))
    digit = np.zeros((28, 28), dtype=np.float32)
    digit[top : top + small.shape[0], left : left + small.shape[1]] = small
    return np.clip(digit, 0.0, 1.0)


def digit_from_upload(data: bytes, max_bytes: int = MAX_UPLOAD_BYTES) -> tuple[np.ndarray, Image.Image, list[str]]:
    """Upload bytes -> (28x28 digit, the decoded original, notes). Raises ImageError only."""
    image, notes = open_image(data, max_bytes)
    return preprocess_digit(image), image, notes
