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
from PIL import Image, ImageFilter, ImageOps

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# Pixels decoded at most (after JPEG's cheap reduced-scale decoding): 4000 x 3000 costs ~48 MB
# as RGBA and a fraction of a second; a small file can claim far more (a "decompression bomb").
MAX_PIXELS = 12_000_000
WORK_SIDE = 1024  # images are box-shrunk to this before any float work: a 20x20 digit needs no more
ALLOWED_FORMATS = ("PNG", "JPEG", "BMP", "WEBP", "GIF")  # no other Pillow parser ever sees upload bytes
INK_THRESHOLD = 0.2  # share of the full ink level below which a pixel counts as background


class ImageError(ValueError):
    """An upload that cannot become a digit; str(err) is shown to the user as is."""


def open_image(data: bytes, max_bytes: int = MAX_UPLOAD_BYTES) -> tuple[Image.Image, list[str]]:
    """Decode untrusted upload bytes to a grayscale image (mode 'F', values in [0, 1], at most
    WORK_SIDE pixels a side); returns (image, notes for the user). Raises ImageError only."""
    if not data:
        raise ImageError("The file is empty.")
    if len(data) > max_bytes:
        raise ImageError(f"The file is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB.")
    notes: list[str] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
            if getattr(image, "is_animated", False):  # not n_frames: counting walks every frame
                notes.append("The file holds several frames (an animation or a multi-picture photo): using the first.")
                image.seek(0)
            if image.format in ("JPEG", "MPO"):  # MPO: a phone's JPEG with extra pictures
                image.draft(image.mode, (WORK_SIDE, WORK_SIDE))  # libjpeg decodes at 1/2..1/8 scale
            if image.width * image.height > MAX_PIXELS:
                raise ImageError(
                    f"The image is {image.width} x {image.height} pixels; the limit is {MAX_PIXELS / 1e6:.0f} megapixels."
                )
            image.load()
            image = shrink(image)
            image = upright(image, notes)
            return to_grayscale(image, notes), notes
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError("The image is far too large to decode safely.") from None
    except MemoryError:
        raise ImageError("The image needs more memory to decode than this server allows.") from None
    except Exception as err:  # Pillow raises OSError, SyntaxError, ValueError, EOFError... for broken files
        raise ImageError(
            f"This is not a readable PNG, JPEG, GIF, BMP or WebP image ({type(err).__name__}). It may be damaged."
        ) from None


def shrink(image: Image.Image, side: int = WORK_SIDE) -> Image.Image:
    """Box-average an image down to at most ``side`` pixels a side, in its own mode where Pillow can.

    Box averaging keeps a thin stroke as a fainter line; nearest-neighbour (all Pillow offers for
    1-bit, palette and 16-bit images) would drop it, so those are widened to a mode that averages.
    """
    factor = -(-max(image.size) // side)
    if factor <= 1:
        return image
    if image.mode == "1":
        image = image.convert("L")
    elif image.mode in ("P", "PA"):  # averaging palette indices would mix unrelated colours
        image = image.convert("RGBA" if image.mode == "PA" or "transparency" in image.info else "RGB")
    elif image.mode.startswith("I;16"):
        image = image.convert("I")
    return image.reduce(factor)


def upright(image: Image.Image, notes: list[str]) -> Image.Image:
    """Apply a photo's EXIF orientation; a damaged EXIF block is no reason to refuse the picture."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # Pillow's EXIF parser raises many types on garbage
        notes.append("The photo's orientation tag is unreadable: using the image as stored.")
        return image


def to_grayscale(image: Image.Image, notes: list[str] | None = None) -> Image.Image:
    """Any PIL mode (16-bit, float, CMYK, palette, alpha...) -> mode 'F' with values in [0, 1]."""
    notes = notes if notes is not None else []
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        pixels = np.asarray(image, dtype=np.float64)
        finite = pixels[np.isfinite(pixels)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
        if lo < 0 or hi > 1 or finite.size < pixels.size:
            pixels = np.clip((pixels - lo) / (hi - lo), 0, 1) if hi > lo else np.zeros_like(pixels)
            notes.append(f"High bit-depth image ({image.mode}): rescaled to its own range.")
        return Image.fromarray(np.nan_to_num(pixels).astype(np.float32), mode="F")
    if image.mode in ("P", "PA", "La", "RGBa"):  # palette and premultiplied alpha: Pillow converts these via RGBA
        image = image.convert("LA" if image.mode == "La" else "RGBA")
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
    pixels = np.asarray(to_grayscale(shrink(image)), dtype=np.float32)
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
    # Grainy paper, sensor noise and dithering scatter specks that would stretch the digit's box. Find
    # the digit on a blurred copy, where specks average away and strokes survive; keep only its pixels.
    radius = max(ink.shape) / 200
    found = ink
    if radius >= 1:
        found = np.asarray(Image.fromarray(np.uint8(ink * 255)).filter(ImageFilter.GaussianBlur(radius)), np.float32)
    ink[(ink < INK_THRESHOLD) | (found < INK_THRESHOLD * found.max())] = 0.0  # also drops paper texture, shadows
    rows, cols = np.nonzero(ink)
    crop = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]

    # Fit into 20x20 keeping the aspect ratio, with antialiasing as NIST's scanner did.
    height, width = crop.shape
    scale = 20.0 / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = np.asarray(Image.fromarray(crop, mode="F").resize(size, Image.Resampling.LANCZOS), dtype=np.float32)
    small = np.clip(small, 0.0, None)
    if small.max() <= 0:  # Lanczos' negative lobes can cancel a lone faint speck; a box average cannot
        small = np.asarray(Image.fromarray(crop, mode="F").resize(size, Image.Resampling.BOX), dtype=np.float32)
    small /= float(small.max())

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
    """Upload bytes -> (28x28 digit, the decoded image as grayscale, notes). Raises ImageError only."""
    image, notes = open_image(data, max_bytes)
    return preprocess_digit(image), image, notes
