"""vae.images: a user's picture becomes an MNIST-style digit, and a hostile file becomes a clear ImageError.

``nasty_corpus()`` is shared with tests/stress/upload_fuzz.py, which measures time and memory per file.
"""

from __future__ import annotations

import functools
import io
import struct
import zipfile
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw

from vae.images import MAX_PIXELS, MAX_UPLOAD_BYTES, ImageError, digit_from_upload, preprocess_digit

# ----------------------------------------------------------------- making test files


def draw_digit(size=(300, 200), box=(170, 20, 290, 190), ink=30, paper=235, mode="L") -> Image.Image:
    """A '4'-like digit drawn with a thick pen inside ``box``: by default dark on white, off-centre, oversized."""
    image = Image.new("L", size, paper)
    x0, y0, x1, y1 = box
    pen = max(2, (x1 - x0) // 8)
    draw = ImageDraw.Draw(image)
    draw.line([(x0 + (x1 - x0) * 0.6, y0), (x0, y0 + (y1 - y0) * 0.65), (x1, y0 + (y1 - y0) * 0.65)], ink, pen)
    draw.line([(x0 + (x1 - x0) * 0.75, y0 + (y1 - y0) * 0.3), (x0 + (x1 - x0) * 0.75, y1)], ink, pen)
    return image if mode == "L" else image.convert(mode)


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def raw_png(width: int, height: int, bit_depth: int = 1, color_type: int = 0) -> bytes:
    """A valid PNG of all-zero pixels that claims any size: 30000 x 30000 costs ~100 KB.

    Its rows are all alike, so one compressed block of rows is written once and repeated:
    a raw deflate block ended by a full flush depends on nothing before it.
    """

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color_type]
    row = bytes(1 + (width * channels * bit_depth + 7) // 8)  # filter byte 0, then zero pixels
    rows_per_block = min(height, 256)
    repeats, rest = divmod(height, rows_per_block)
    deflate = zlib.compressobj(9, wbits=-15)
    block = deflate.compress(row * rows_per_block) + deflate.flush(zlib.Z_FULL_FLUSH)
    last = deflate.compress(row * rest) + deflate.flush()
    adler = 1
    for _ in range(repeats):
        adler = zlib.adler32(row * rows_per_block, adler)
    adler = zlib.adler32(row * rest, adler)
    idat = b"\x78\xda" + block * repeats + last + struct.pack(">I", adler)  # zlib header, deflate, checksum
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    palette = chunk(b"PLTE", bytes(6)) if color_type == 3 else b""
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + palette + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def flip_bytes(data: bytes, start: int, count: int = 16) -> bytes:
    return data[:start] + bytes(b ^ 0x5A for b in data[start : start + count]) + data[start + count :]


def with_jpeg_size(data: bytes, width: int, height: int) -> bytes:
    """A JPEG whose frame header claims another size (the scan data stays that of the small image)."""
    sof = data.index(b"\xff\xc0")
    return data[: sof + 5] + struct.pack(">HH", height, width) + data[sof + 9 :]


def with_bmp_size(data: bytes, width: int, height: int) -> bytes:
    return data[:18] + struct.pack("<ii", width, height) + data[26:]


def gif_claiming(width: int, height: int) -> bytes:
    """A tiny GIF whose screen and only frame claim width x height."""
    screen = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + bytes(6)  # 2-colour global palette
    frame = b"," + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x02\x02\x44\x01\x00"
    return screen + frame + b";"


def png_with_ztxt_bomb() -> bytes:
    """A small valid PNG carrying a compressed text chunk that inflates to 100 MB."""
    png = encode(draw_digit(), "PNG")
    body = b"Comment\x00\x00" + zlib.compress(bytes(100_000_000), 9)
    chunk = struct.pack(">I", len(body)) + b"zTXt" + body + struct.pack(">I", zlib.crc32(b"zTXt" + body))
    at = png.index(b"IDAT") - 4
    return png[:at] + chunk + png[at:]


def exif_rotated_jpeg(orientation: int = 6) -> bytes:
    """A wide bar, heavier at its left end, stored sideways with an EXIF orientation tag."""
    image = Image.new("L", (240, 120), 255)
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 50, 220, 70), fill=0)
    draw.rectangle((20, 30, 70, 90), fill=0)  # the heavy end
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(image, "JPEG", quality=95, exif=exif.tobytes())


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("digit.png", encode(draw_digit(), "PNG"))
    return buffer.getvalue()


def animated_gif() -> bytes:
    first = draw_digit()
    frames = [Image.new("L", first.size, 255), Image.effect_noise(first.size, 60)]
    return encode(first, "GIF", save_all=True, append_images=frames, duration=100, loop=0)


def palette_with_transparency(ink_rgb=(0, 0, 0), clear_rgb=(255, 255, 255)) -> bytes:
    """Palette PNG: index 0 is the transparent background, index 1 the ink."""
    mask = draw_digit(ink=255, paper=0).point(lambda v: 1 if v > 128 else 0)
    image = Image.new("P", mask.size)
    image.putpalette([*clear_rgb, *ink_rgb] + [0] * 762)
    image.paste(mask)
    return encode(image, "PNG", transparency=0)


@functools.cache
def nasty_corpus() -> dict[str, bytes]:
    """Named upload files that each break some naive image pipeline."""
    digit = draw_digit()
    png, jpeg = encode(digit, "PNG"), encode(digit.convert("RGB"), "JPEG", quality=90)
    sixteen = Image.fromarray(np.asarray(digit, dtype=np.uint16) * 257)
    cmyk = Image.merge("CMYK", [Image.new("L", digit.size, 0)] * 3 + [digit.point(lambda v: 255 - v)])
    side = int(MAX_PIXELS**0.5)
    return {
        "png": png,
        "jpeg": jpeg,
        "bmp": encode(digit, "BMP"),
        "webp": encode(digit.convert("RGB"), "WEBP", quality=80),
        "gif": encode(digit, "GIF"),
        "png 16-bit": encode(sixteen, "PNG"),
        "png 16-bit rgba (all zero)": raw_png(1500, 1500, bit_depth=16, color_type=6),
        "jpeg cmyk": encode(cmyk, "JPEG"),
        "png palette + transparency": palette_with_transparency(),
        "png palette + transparency, white ink": palette_with_transparency((255, 255, 255), (0, 0, 0)),
        "png rgba": encode(digit.convert("RGBA"), "PNG"),
        "png gray + alpha": encode(digit.convert("LA"), "PNG"),
        "png 1-bit": encode(digit.convert("1"), "PNG"),
        "gif animated": animated_gif(),
        "jpeg exif rotated": exif_rotated_jpeg(),
        "jpeg multi-picture (mpo)": encode(digit.convert("RGB"), "MPO", save_all=True, append_images=[digit]),
        "jpeg broken exif": jpeg[:2] + b"\xff\xe1\x00\x10Exif\x00\x00MM\x00*\xff\xff\xff\xff" + jpeg[2:],
        "1x1 white": encode(Image.new("L", (1, 1), 255), "PNG"),
        "1x1 black": encode(Image.new("L", (1, 1), 0), "PNG"),
        "all white": encode(Image.new("RGB", (200, 200), "white"), "JPEG"),
        "all black": encode(Image.new("RGB", (200, 200), "black"), "PNG"),
        "zero bytes": b"",
        "text": b"This is not an image.\n" * 50,
        "svg": b'<svg xmlns="http://www.w3.org/2000/svg"><text>7</text></svg>',
        "zip": zip_bytes(),
        "tiff (format not accepted)": encode(digit, "TIFF"),
        "over the byte limit": png + bytes(MAX_UPLOAD_BYTES),
        "png truncated": png[: len(png) // 2],
        "png corrupt": flip_bytes(png, png.index(b"IDAT") + 20),
        "png header only": png[:33],
        "jpeg truncated": jpeg[: len(jpeg) // 2],
        "jpeg corrupt": flip_bytes(jpeg, len(jpeg) // 2, 64),
        "bomb png 30000x30000 1-bit": raw_png(30_000, 30_000),
        "bomb png just over the pixel limit": raw_png(side + 1, side + 1, bit_depth=8),
        "largest png accepted, rgba": raw_png(side, side, bit_depth=8, color_type=6),
        "largest png accepted, palette": raw_png(side, side, bit_depth=8, color_type=3),
        "bomb jpeg claiming 60000x60000": with_jpeg_size(jpeg, 60_000, 60_000),
        "jpeg claiming 12000x12000": with_jpeg_size(jpeg, 12_000, 12_000),
        "bomb gif claiming 65535x65535": gif_claiming(65_535, 65_535),
        "bomb bmp claiming 30000x30000": with_bmp_size(encode(digit, "BMP"), 30_000, 30_000),
        "png with a zTXt bomb": png_with_ztxt_bomb(),
    }


def assert_mnist_like(digit: np.ndarray) -> None:
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert np.isfinite(digit).all() and digit.min() >= 0.0 and digit.max() <= 1.0


def aligned_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference at the best one-pixel shift: centring rounds to whole pixels."""
    shifts = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    return min(float(np.abs(np.roll(a, shift, axis=(0, 1)) - b).mean()) for shift in shifts)


# ------------------------------------------------------------------ the digit itself


def test_off_centre_oversized_dark_digit_becomes_centred_white_on_black():
    digit = preprocess_digit(draw_digit())
    assert_mnist_like(digit)
    ys, xs = np.indices(digit.shape)
    com = ((ys * digit).sum() / digit.sum(), (xs * digit).sum() / digit.sum())
    assert abs(com[0] - 14) < 1 and abs(com[1] - 14) < 1, com
    rows, cols = np.nonzero(digit)
    height, width = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
    assert max(height, width) == 20 and min(height, width) <= 20  # fitted to the 20x20 box, aspect kept
    ring = np.concatenate([digit[:2].ravel(), digit[-2:].ravel(), digit[:, :2].ravel(), digit[:, -2:].ravel()])
    assert ring.max() == 0.0  # MNIST's empty margin
    assert (digit < 0.05).mean() > 0.6  # background black
    assert digit.max() == 1.0 and np.quantile(digit[digit > 0.05], 0.5) > 0.5  # strokes bright


def test_light_on_dark_and_dark_on_light_give_the_same_digit():
    dark_on_light = preprocess_digit(draw_digit(ink=20, paper=240))
    light_on_dark = preprocess_digit(draw_digit(ink=240, paper=20))
    np.testing.assert_allclose(dark_on_light, light_on_dark, atol=1e-5)


def test_an_mnist_style_digit_passes_through_almost_unchanged():
    once = preprocess_digit(draw_digit())
    twice = preprocess_digit(Image.fromarray(once))
    assert aligned_difference(once, twice) < 0.01


def test_faint_pencil_on_grey_paper_and_paper_texture():
    rng = np.random.default_rng(0)
    photo = np.asarray(draw_digit(ink=120, paper=170), dtype=np.float32) + rng.normal(0, 6, (200, 300))
    digit = preprocess_digit(Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8)))
    clean = preprocess_digit(draw_digit())
    assert_mnist_like(digit)
    assert np.abs(digit - clean).mean() < 0.05


def test_preprocess_takes_any_mode_and_value_range():
    reference = preprocess_digit(draw_digit())
    pixels = np.asarray(draw_digit(), dtype=np.float32)
    for image in (
        Image.fromarray(pixels * 1000 - 5, mode="F"),  # float outside [0, 1]
        Image.fromarray((pixels * 257).astype(np.uint16)),
        draw_digit().convert("RGB"),
        draw_digit().convert("CMYK"),
        draw_digit().convert("LA"),
        draw_digit().convert("P"),
    ):
        np.testing.assert_allclose(preprocess_digit(image), reference, atol=0.02, err_msg=image.mode)


def test_not_a_number_pixels_are_not_a_digit():
    image = Image.fromarray(np.full((30, 30), np.nan, dtype=np.float32), mode="F")
    with pytest.raises(ImageError, match="No digit"):
        preprocess_digit(image)


def test_a_lone_speck_in_a_wide_image_still_gives_a_valid_digit():
    pixels = np.zeros((3, 5000), dtype=np.float32)
    pixels[1, [0, 4999]] = 1.0  # the bounding box spans 5000 pixels with nothing between
    assert_mnist_like(preprocess_digit(Image.fromarray(pixels, mode="F")))


# ----------------------------------------------------------------- the upload path


def test_every_accepted_format_gives_the_same_digit():
    corpus = nasty_corpus()
    reference, _, _ = digit_from_upload(corpus["png"])
    for name, tolerance in [("bmp", 1e-6), ("gif", 1e-6), ("png 1-bit", 0.01), ("jpeg", 0.01), ("webp", 0.01)]:
        digit, _, _ = digit_from_upload(corpus[name])
        assert np.abs(digit - reference).mean() < tolerance, name


@pytest.mark.parametrize(
    "name",
    [
        "png 16-bit",
        "jpeg cmyk",
        "png palette + transparency",
        "png palette + transparency, white ink",
        "png rgba",
        "png gray + alpha",
        "jpeg broken exif",
        "jpeg multi-picture (mpo)",
    ],
)
def test_awkward_but_valid_files_give_the_digit(name):
    reference, _, _ = digit_from_upload(nasty_corpus()["png"])
    digit, image, notes = digit_from_upload(nasty_corpus()[name])
    assert_mnist_like(digit)
    assert image.mode == "F" and all(isinstance(note, str) for note in notes)
    assert np.abs(digit - reference).mean() < 0.01, name


def test_animated_gif_uses_the_first_frame_and_says_so():
    digit, _, notes = digit_from_upload(nasty_corpus()["gif animated"])
    reference, _, _ = digit_from_upload(nasty_corpus()["gif"])
    assert any("several frames" in note for note in notes)
    np.testing.assert_allclose(digit, reference, atol=1e-6)


def test_exif_orientation_is_applied():
    stored = Image.open(io.BytesIO(exif_rotated_jpeg()))
    clockwise = preprocess_digit(stored.transpose(Image.Transpose.ROTATE_270))  # what orientation 6 asks for
    anticlockwise = preprocess_digit(stored.transpose(Image.Transpose.ROTATE_90))
    digit, _, _ = digit_from_upload(exif_rotated_jpeg(orientation=6))
    assert np.abs(digit - clockwise).mean() < 0.01
    assert np.abs(digit - anticlockwise).mean() > 0.05  # the heavy end tells the two turns apart
    as_stored, _, _ = digit_from_upload(exif_rotated_jpeg(orientation=1))
    assert np.abs(as_stored - preprocess_digit(stored)).mean() < 0.01


@pytest.mark.parametrize(
    "name, message",
    [
        ("zero bytes", "empty"),
        ("over the byte limit", "limit"),
        ("text", "not a readable"),
        ("svg", "not a readable"),
        ("zip", "not a readable"),
        ("tiff (format not accepted)", "not a readable"),
        ("png truncated", "not a readable"),
        ("png corrupt", "not a readable"),
        ("png header only", "not a readable"),
        ("jpeg truncated", "not a readable"),
        ("1x1 white", "No digit"),
        ("1x1 black", "No digit"),
        ("all white", "No digit"),
        ("all black", "No digit"),
        ("bomb png 30000x30000 1-bit", "too large|megapixels"),
        ("bomb png just over the pixel limit", "megapixels"),
        ("bomb jpeg claiming 60000x60000", "too large|megapixels"),
        ("bomb gif claiming 65535x65535", "too large|megapixels"),
        ("bomb bmp claiming 30000x30000", "too large|megapixels"),
        ("largest png accepted, rgba", "No digit"),  # decoded (all zero), then found blank
        ("largest png accepted, palette", "No digit"),
    ],
)
def test_bad_files_get_a_clear_message(name, message):
    with pytest.raises(ImageError, match=message) as caught:
        digit_from_upload(nasty_corpus()[name])
    assert "Traceback" not in str(caught.value) and len(str(caught.value)) < 200


@pytest.mark.parametrize("name", sorted(nasty_corpus()))
def test_every_corpus_file_gives_a_digit_or_an_image_error(name):
    try:
        digit, _, _ = digit_from_upload(nasty_corpus()[name])
    except ImageError:
        return
    assert_mnist_like(digit)


def test_bombs_are_small_files():  # the point of a bomb: the limit on bytes alone does not stop it
    assert len(nasty_corpus()["bomb png 30000x30000 1-bit"]) < 200_000
