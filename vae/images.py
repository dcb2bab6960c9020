"""User images -> MNIST-style 28x28 digits, the way MNIST itself was made; one specification, two implementations.

MNIST digits are white on black, fitted into a 20x20 box keeping their aspect ratio, then
placed in a 28x28 frame with their centre of mass at the centre. A photo or a drawing is none
of that, so ``preprocess_digit`` redoes each step. The drawing pad does the same in the page
(vae/static/digit.mjs, on every stroke update; a picture opened on the pad goes through P1-P4 in the
page too, vae/static/photo.mjs); tests/test_preprocess_parity.py and tests/test_photo_parity.py run
both sides on one corpus. ``open_image`` turns untrusted upload bytes into a plain grayscale picture
or refuses it with a message meant for the user. Names in capitals are fields of PhotoRules and DigitRules.

The specification. Photos only (a drawing on the pad's clean canvas is already an ink map):

  P1. Box-shrunk to at most WORK_SIDE pixels a side (Pillow's reduce: RGBA premultiplied), then
      grayscale in [0, 1]: Pillow's convert("L") / 255, or with transparency the 0.299/0.587/0.114
      weights, flattened onto the background the strokes stand out from (``open_image``).
  P2. Paper: the median of the border pixels. Light paper (> 0.5) means dark ink.
  P3. Lighting: the paper's brightness is estimated everywhere by a grey closing (light paper;
      a grey opening on dark paper) with a square window of FLATTEN_WINDOW times the longer
      side: it removes every stroke narrower than the window and keeps shadow edges and
      gradients as they are. Where that estimate is uneven along the border (its max - min
      there exceeds UNEVEN_PAPER), it is divided out: ink = 1 - pixels / paper (light paper),
      ink = pixels - paper (dark paper). Otherwise ink = paper - pixels or pixels - paper
      with the median paper of P2. Negative ink is 0.
  P4. Thin lines: ink whose Gaussian blur (sigma THIN_LINE_BLUR times the longer side, when that
      is at least half a pixel) falls below INK_THRESHOLD times the blur's maximum is 0: beside a pen
      stroke, a ruled line or a hair averages away. A drawing all in hairlines keeps them (the rule is
      relative), and nothing is dropped where what would be left is fainter than MIN_PEAK. On the
      pad's canvas (one pen, at least 6 px wide) P4 changes nothing.

  The page decodes with the browser, and parts from Python's P1 on purpose there: it applies EXIF
  orientation before the shrink (Python after: a rotated picture's partial boxes fall on other
  edges), decodes a JPEG in full (Python at a reduced DCT scale, ``draft``), sees 8 bits a channel
  (Python rescales a 16-bit picture to its own range), reads a canvas, which keeps colour premultiplied
  (a semi-transparent pixel's colour comes back rounded), and takes an alpha channel that is 255
  everywhere for an opaque picture (less than 1/255 apart).

Both implementations, from an ink map I (float32, 0 = paper; a drawing in the page: canvas alpha / 255).
Every step computes in float64 from the float32 values, so both sides make the same comparisons:

  1. peak = max(I). Below MIN_PEAK there is no digit.
  2. Ink pixels: I >= INK_THRESHOLD * peak. Every other pixel is 0.
  3. Parts: the 8-connected groups of ink pixels. The main part has the most pixels (a tie goes
     to the part met first in raster order). Another part is kept when it has at least
     PART_SHARE times the main part's pixels and its bounding box lies inside the main part's
     box grown on every side by NEAR_SHARE times the main part's longer side (rows and columns
     as indices, box edges inclusive). Pixels of the other parts are 0: specks, dust, a stray
     tap, a ruled line that runs past the digit without touching it.
  4. Crop to the bounding box of the kept parts: H x W.
  5. Fit: the longer side becomes BOX (20), the other floor(side * BOX / longer + 1/2), at least 1.
     Area averaging: output pixel i of n covers source [i * N / n, (i + 1) * N / n) of the N source
     pixels (each a unit square), and is the mean of the source over it; rows, then columns.
  6. Divide by the maximum of the fitted image.
  7. Centre of mass (row, column) in pixel indices; each is rounded to 1/1024 pixel
     (floor(x * 1024 + 1/2) / 1024, so that summation order cannot tip a tie) and the fitted
     image placed at offset floor(FRAME / 2 - centre + 1/2), clamped to stay inside the FRAME x FRAME
     frame (28 x 28), on black.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image, ImageOps
from scipy import ndimage

from vae.limits import MAX_UPLOAD_BYTES, MAX_UPLOAD_PIXELS, UPLOAD_FORMATS
from vae.messages import Message, UserError


@dataclass(frozen=True)
class DigitRules:
    """The numbers of steps 1-7 above; the page gets them from here (vae/drawpad.py), so one place holds them."""

    min_peak: float = 0.05  # less contrast than this is a flat picture, not a digit
    ink_threshold: float = 0.2  # share of the peak ink below which a pixel counts as paper
    part_share: float = 0.05  # pieces of a digit (a 5's bar, a 4's second stroke) carry more; a speck less
    near_share: float = 0.25
    box: int = 20
    frame: int = 28

    def to_json(self) -> dict:
        return asdict(self)


RULES = DigitRules()


@dataclass(frozen=True)
class PhotoRules:
    """The numbers of steps P1-P4 above; the page gets them from here too (vae/static/photo.mjs)."""

    work_side: int = 512  # images are box-shrunk to this before any float work: a 20x20 digit needs no more
    flatten_window: float = 0.25  # of the longer side: wider than any pen stroke, narrower than a shadow
    uneven_paper: float = 0.05  # the border's paper estimate varies more than this: lighting to flatten
    thin_line_blur: float = 1 / 200  # of the longer side: a ruled line's width on a photo of a page

    def to_json(self) -> dict:
        return asdict(self)


PHOTO = PhotoRules()


class ImageError(UserError, ValueError):
    """An upload that cannot become a digit; str(err) says why in English, its key in the page's language."""


def open_image(data: bytes, max_bytes: int = MAX_UPLOAD_BYTES) -> tuple[Image.Image, list[Message]]:
    """Decode untrusted upload bytes to a grayscale image (mode 'F', values in [0, 1], at most
    PHOTO.work_side pixels a side); returns (image, notes for the user). Raises ImageError only."""
    if not data:
        raise ImageError("images.empty", "The file is empty.")
    if len(data) > max_bytes:
        raise ImageError(
            "images.too_large", "The file is {mb:.1f} MB; the limit is {limit:.0f} MB.",
            mb=len(data) / 1e6, limit=max_bytes / 1e6,
        )  # fmt: skip
    notes: list[Message] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=UPLOAD_FORMATS)
            if getattr(image, "is_animated", False):  # not n_frames: counting walks every frame
                notes.append(
                    Message(
                        "images.animated",
                        "The file holds several frames (an animation or a multi-picture photo): using the first.",
                    )
                )
                image.seek(0)
            if image.format in ("JPEG", "MPO"):  # MPO: a phone's JPEG with extra pictures
                image.draft(image.mode, (PHOTO.work_side, PHOTO.work_side))  # libjpeg decodes at 1/2..1/8 scale
            if image.width * image.height > MAX_UPLOAD_PIXELS:
                raise ImageError(
                    "images.too_many_pixels",
                    "The image is {width} x {height} pixels; the limit is {limit:.0f} megapixels.",
                    width=image.width, height=image.height, limit=MAX_UPLOAD_PIXELS / 1e6,
                )  # fmt: skip
            image.load()
            image = shrink(image)
            image = upright(image, notes)
            return to_grayscale(image, notes), notes
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError("images.bomb", "The image is far too large to decode safely.") from None
    except MemoryError:
        raise ImageError("images.no_memory", "The image needs more memory to decode than this server allows.") from None
    except Exception as err:  # Pillow raises OSError, SyntaxError, ValueError, EOFError... for broken files
        raise ImageError(
            "images.unreadable",
            "This is not a readable PNG, JPEG, GIF, BMP or WebP image ({kind}). It may be damaged.",
            kind=type(err).__name__,
        ) from None


def shrink(image: Image.Image, side: int = PHOTO.work_side) -> Image.Image:
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


def upright(image: Image.Image, notes: list[Message]) -> Image.Image:
    """Apply a photo's EXIF orientation; a damaged EXIF block is no reason to refuse the picture."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # Pillow's EXIF parser raises many types on garbage
        notes.append(
            Message("images.bad_orientation", "The photo's orientation tag is unreadable: using the image as stored.")
        )
        return image


def to_grayscale(image: Image.Image, notes: list[Message] | None = None) -> Image.Image:
    """Any PIL mode (16-bit, float, CMYK, palette, alpha...) -> mode 'F' with values in [0, 1]."""
    notes = notes if notes is not None else []
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        pixels = np.asarray(image, dtype=np.float64)
        finite = pixels[np.isfinite(pixels)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
        if lo < 0 or hi > 1 or finite.size < pixels.size:
            pixels = np.clip((pixels - lo) / (hi - lo), 0, 1) if hi > lo else np.zeros_like(pixels)
            notes.append(
                Message(
                    "images.high_bit_depth",
                    "High bit-depth image ({mode}): rescaled to its own range.",
                    mode=image.mode,
                )
            )
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
        notes.append(Message("images.transparent", "Transparent image: flattened onto a plain background."))
        return Image.fromarray(gray * alpha + background * (1 - alpha), mode="F")
    if image.mode != "L":
        image = image.convert("RGB").convert("L")  # CMYK, YCbCr, 1-bit... all via RGB
    return Image.fromarray(np.asarray(image, dtype=np.float32) / 255.0, mode="F")


def ink_map(pixels: np.ndarray) -> np.ndarray:
    """Steps P2-P4: a grayscale photo (float32 in [0, 1]) -> float32 ink, 0 on the paper, lighting divided out."""
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    paper = float(np.median(border))
    light = paper > 0.5
    window = max(3, round(PHOTO.flatten_window * max(pixels.shape)))
    estimate = (ndimage.grey_closing if light else ndimage.grey_opening)(pixels, size=(window, window))
    edge = np.concatenate([estimate[0], estimate[-1], estimate[:, 0], estimate[:, -1]])
    if float(edge.max() - edge.min()) <= PHOTO.uneven_paper:
        ink = (paper - pixels) if light else (pixels - paper)
    elif light:  # reflected light: paper and ink darken by the same factor in a shadow
        ink = 1.0 - pixels / np.maximum(estimate, 1e-3)
    else:
        ink = pixels - estimate
    ink = np.clip(ink, 0.0, None).astype(np.float32)
    sigma = PHOTO.thin_line_blur * max(pixels.shape)
    if sigma >= 0.5:  # P4; on smaller pictures a line is as wide as a stroke
        blurred = ndimage.gaussian_filter(ink, sigma)
        thin = blurred < RULES.ink_threshold * blurred.max()
        if ink[~thin].max(initial=0.0) >= RULES.min_peak:  # a hairline drawing is all thin: keep it whole
            ink[thin] = 0.0
    return ink


def digit_parts(ink: np.ndarray, rules: DigitRules = RULES) -> np.ndarray:
    """Steps 2-3: the ink of the digit's parts (float64), every other pixel 0. Raises ImageError on a blank image."""
    ink = np.asarray(ink, np.float64)
    peak = float(ink.max()) if ink.size else 0.0
    if not peak >= rules.min_peak:  # also NaN
        raise ImageError(
            "images.no_digit",
            "No digit found: the image is one flat colour. Draw a dark digit on light paper or vice versa.",
        )
    labels, _ = ndimage.label(ink >= rules.ink_threshold * peak, structure=np.ones((3, 3)))  # raster order
    counts = np.bincount(labels.ravel())[1:]
    top, bottom, left, right = np.array(
        [(r.start, r.stop - 1, c.start, c.stop - 1) for r, c in ndimage.find_objects(labels)]
    ).T
    main = int(np.argmax(counts))  # the first of equal counts: the part met first
    reach = rules.near_share * max(bottom[main] - top[main] + 1, right[main] - left[main] + 1)
    near = (top >= top[main] - reach) & (bottom <= bottom[main] + reach)
    near &= (left >= left[main] - reach) & (right <= right[main] + reach)
    keep = (counts >= rules.part_share * counts[main]) & near
    keep[main] = True
    keep = np.concatenate([[False], keep])
    return np.where(keep[labels], ink, 0.0)


def area_weights(source: int, target: int) -> np.ndarray:
    """(target, source) matrix of step 5: each output pixel's mean over its share of the source.
    Overlaps are counted in units of 1/target source pixels, so every weight is an exact ratio."""
    edges = np.arange(source + 1) * target  # source pixel k: [k * target, (k + 1) * target)
    starts = np.arange(target)[:, None] * source  # output pixel i: [i * source, (i + 1) * source)
    overlap = np.minimum(edges[1:], starts + source) - np.maximum(edges[:-1], starts)
    return np.clip(overlap, 0, None) / source


def digit_from_ink(ink: np.ndarray, rules: DigitRules = RULES) -> np.ndarray:
    """Steps 1-7: an ink map (0 = paper) -> (28, 28) float32 in [0, 1]. Raises ImageError when blank."""
    parts = digit_parts(ink, rules)
    rows, cols = np.nonzero(parts)
    crop = parts[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    height, width = crop.shape
    longer = max(height, width)
    fitted = [max(1, (2 * side * rules.box + longer) // (2 * longer)) for side in (height, width)]
    small = area_weights(height, fitted[0]) @ crop @ area_weights(width, fitted[1]).T
    small /= small.max()

    ys, xs = np.indices(small.shape)
    total = small.sum()
    offsets = []
    for centre, room in ((float((ys * small).sum() / total), rules.frame - fitted[0]),
                         (float((xs * small).sum() / total), rules.frame - fitted[1])):  # fmt: skip
        centre = np.floor(centre * 1024 + 0.5) / 1024
        offsets.append(int(np.clip(np.floor(rules.frame / 2 - centre + 0.5), 0, room)))
    digit = np.zeros((rules.frame, rules.frame), np.float32)
    digit[offsets[0] : offsets[0] + fitted[0], offsets[1] : offsets[1] + fitted[1]] = small
    return np.clip(digit, 0.0, 1.0)


def preprocess_digit(image: Image.Image) -> np.ndarray:
    """Any PIL image of one digit -> (28, 28) float32 in [0, 1], white digit on black, MNIST-style.

    Raises ImageError when there is no digit to find (a blank image).
    """
    return digit_from_ink(ink_map(np.asarray(to_grayscale(shrink(image)), dtype=np.float32)))


def digit_from_upload(data: bytes, max_bytes: int = MAX_UPLOAD_BYTES) -> tuple[np.ndarray, Image.Image, list[Message]]:
    """Upload bytes -> (28x28 digit, the decoded image as grayscale, notes: vae.messages.Message, each a str).
    Raises ImageError only."""
    image, notes = open_image(data, max_bytes)
    return preprocess_digit(image), image, notes
