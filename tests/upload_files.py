"""Upload files that attack the image path: a named corpus of nasty files and hypothesis strategies for more.

Shared by tests/test_images.py, tests/test_images_fuzz.py and tests/stress/upload_fuzz.py (which
times every case); the digit they start from is tests.helpers.draw_digit.
"""

from __future__ import annotations

import functools
import io
import struct
import zipfile
import zlib

import numpy as np
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from tests.helpers import draw_digit, image_bytes
from vae.limits import MAX_UPLOAD_BYTES, MAX_UPLOAD_PIXELS

# ----------------------------------------------------------------- named files


def raw_png(width: int, height: int, bit_depth: int = 1, color_type: int = 0) -> bytes:
    """A valid PNG of all-zero pixels that claims any size in a small file (test_bombs_are_small_files).

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
    png = image_bytes(draw_digit(), "PNG")
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
    return image_bytes(image, "JPEG", quality=95, exif=exif.tobytes())


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("digit.png", image_bytes(draw_digit(), "PNG"))
    return buffer.getvalue()


def animated_gif() -> bytes:
    first = draw_digit()
    frames = [Image.new("L", first.size, 255), Image.effect_noise(first.size, 60)]
    return image_bytes(first, "GIF", save_all=True, append_images=frames, duration=100, loop=0)


def palette_with_transparency(ink_rgb=(0, 0, 0), clear_rgb=(255, 255, 255)) -> bytes:
    """Palette PNG: index 0 is the transparent background, index 1 the ink."""
    mask = draw_digit(ink=255, paper=0).point(lambda v: 1 if v > 128 else 0)
    image = Image.new("P", mask.size)
    image.putpalette([*clear_rgb, *ink_rgb] + [0] * 762)
    image.paste(mask)
    return image_bytes(image, "PNG", transparency=0)


@functools.cache
def nasty_corpus() -> dict[str, bytes]:
    """Named upload files that each break some naive image pipeline."""
    digit = draw_digit()
    png, jpeg = image_bytes(digit, "PNG"), image_bytes(digit.convert("RGB"), "JPEG", quality=90)
    sixteen = Image.fromarray(np.asarray(digit, dtype=np.uint16) * 257)
    cmyk = Image.merge("CMYK", [Image.new("L", digit.size, 0)] * 3 + [digit.point(lambda v: 255 - v)])
    side = int(MAX_UPLOAD_PIXELS**0.5)
    return {
        "png": png,
        "jpeg": jpeg,
        "bmp": image_bytes(digit, "BMP"),
        "webp": image_bytes(digit.convert("RGB"), "WEBP", quality=80),
        "gif": image_bytes(digit, "GIF"),
        "png 16-bit": image_bytes(sixteen, "PNG"),
        "png 16-bit rgba (all zero)": raw_png(1500, 1500, bit_depth=16, color_type=6),
        "jpeg cmyk": image_bytes(cmyk, "JPEG"),
        "png palette + transparency": palette_with_transparency(),
        "png palette + transparency, white ink": palette_with_transparency((255, 255, 255), (0, 0, 0)),
        "png rgba": image_bytes(digit.convert("RGBA"), "PNG"),
        "png gray + alpha": image_bytes(digit.convert("LA"), "PNG"),
        "png 1-bit": image_bytes(digit.convert("1"), "PNG"),
        "gif animated": animated_gif(),
        "jpeg exif rotated": exif_rotated_jpeg(),
        "jpeg multi-picture (mpo)": image_bytes(digit.convert("RGB"), "MPO", save_all=True, append_images=[digit]),
        "jpeg broken exif": jpeg[:2] + b"\xff\xe1\x00\x10Exif\x00\x00MM\x00*\xff\xff\xff\xff" + jpeg[2:],
        "1x1 white": image_bytes(Image.new("L", (1, 1), 255), "PNG"),
        "1x1 black": image_bytes(Image.new("L", (1, 1), 0), "PNG"),
        "all white": image_bytes(Image.new("RGB", (200, 200), "white"), "JPEG"),
        "all black": image_bytes(Image.new("RGB", (200, 200), "black"), "PNG"),
        "zero bytes": b"",
        "text": b"This is not an image.\n" * 50,
        "svg": b'<svg xmlns="http://www.w3.org/2000/svg"><text>7</text></svg>',
        "zip": zip_bytes(),
        "tiff (format not accepted)": image_bytes(digit, "TIFF"),
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
        "bomb bmp claiming 30000x30000": with_bmp_size(image_bytes(digit, "BMP"), 30_000, 30_000),
        "png with a zTXt bomb": png_with_ztxt_bomb(),
    }


# ----------------------------------------------------------------- generated files (hypothesis)

# Modes each format can store, as Pillow writes them.
FORMAT_MODES = {
    "PNG": ["1", "L", "LA", "P", "RGB", "RGBA", "I;16"],
    "JPEG": ["L", "RGB", "CMYK"],
    "BMP": ["1", "L", "P", "RGB", "RGBA"],
    "GIF": ["L", "P"],
    "WEBP": ["RGB", "RGBA"],
}
SIGNATURES = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"BM", b"RIFF\x00\x00\x00\x00WEBPVP8 ", b""]


@st.composite
def image_files(draw) -> bytes:
    """A real image file: random size, content, mode, format and encoder options."""
    width, height = draw(st.integers(1, 120)), draw(st.integers(1, 120))
    content = draw(st.sampled_from(["digit", "light digit on dark", "noise", "flat", "stripes"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if content.endswith("digit") or content == "light digit on dark":
        ink, paper = (230, 20) if content == "light digit on dark" else (draw(st.integers(0, 120)), 240)
        box = sorted(draw(st.lists(st.integers(0, max(width, height)), min_size=4, max_size=4)))
        pixels = np.asarray(draw_digit((width, height), (box[0], box[1], box[2] + 1, box[3] + 1), ink, paper))
        pixels = np.clip(pixels + rng.normal(0, draw(st.sampled_from([0, 5, 40])), pixels.shape), 0, 255)
    elif content == "noise":
        pixels = rng.integers(0, 256, (height, width))
    elif content == "flat":
        pixels = np.full((height, width), draw(st.integers(0, 255)))
    else:
        pixels = np.indices((height, width)).sum(0) % draw(st.integers(2, 9)) * 30
    image = Image.fromarray(pixels.astype(np.uint8))
    fmt = draw(st.sampled_from(sorted(FORMAT_MODES)))
    mode = draw(st.sampled_from(FORMAT_MODES[fmt]))
    image = Image.fromarray(pixels.astype(np.uint16) * 257) if mode == "I;16" else image.convert(mode)
    params = {}
    if fmt in ("JPEG", "WEBP"):
        params["quality"] = draw(st.integers(1, 100))
    if fmt in ("JPEG", "PNG", "WEBP") and draw(st.booleans()):
        exif = Image.Exif()
        exif[0x0112] = draw(st.integers(0, 10))  # 1-8 are orientations, the rest invalid
        params["exif"] = exif.tobytes()
    if fmt == "GIF" and draw(st.booleans()):
        params.update(save_all=True, append_images=[image.rotate(90), image], duration=50)
    if fmt in ("PNG", "GIF") and mode in ("P", "L") and draw(st.booleans()):
        params["transparency"] = draw(st.integers(0, 255))
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


@st.composite
def damaged_files(draw) -> bytes:
    """A real image file, then truncated, bit-flipped, spliced, or given a header claiming another size."""
    data = bytearray(draw(image_files()))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, max(0, len(data) - 1)))
        how = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "png size", "bmp size"]))
        if how == "truncate":
            data = data[:at]
        elif how == "flip":
            data[at : at + 8] = bytes(b ^ draw(st.integers(1, 255)) for b in data[at : at + 8])
        elif how == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif how == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif how == "png size" and data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 33:
            size = struct.pack(">II", draw(st.integers(1, 2**31 - 1)), draw(st.integers(1, 2**31 - 1)))
            data[16:24] = size  # and a valid CRC, so the claim is believed
            data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
        elif how == "bmp size" and data[:2] == b"BM" and len(data) >= 26:
            data[18:26] = struct.pack(
                "<ii", draw(st.integers(-(2**31), 2**31 - 1)), draw(st.integers(-(2**31), 2**31 - 1))
            )
    return bytes(data)


@st.composite
def random_files(draw) -> bytes:
    """Random bytes, often behind a real format's signature so the decoder goes further."""
    return draw(st.sampled_from(SIGNATURES)) + draw(st.binary(max_size=3000))
