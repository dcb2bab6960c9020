"""Property: whatever bytes are uploaded, the result is a valid 28x28 digit in [0, 1] or an ImageError.

The strategies are shared with tests/stress/upload_fuzz.py, which runs over 1,000 of these cases
and measures time and memory; here a few hundred run in seconds.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from tests.test_images import draw_digit
from vae.images import ImageError, digit_from_upload, preprocess_digit

# Modes each format can store, as Pillow writes them.
FORMAT_MODES = {
    "PNG": ["1", "L", "LA", "P", "RGB", "RGBA", "I;16"],
    "JPEG": ["L", "RGB", "CMYK"],
    "BMP": ["1", "L", "P", "RGB", "RGBA"],
    "GIF": ["L", "P"],
    "WEBP": ["RGB", "RGBA"],
}
SIGNATURES = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"BM", b"RIFF\x00\x00\x00\x00WEBPVP8 ", b""]
SETTINGS = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


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


def assert_digit_or_image_error(data: bytes) -> None:
    try:
        digit, image, notes = digit_from_upload(data)
    except ImageError as err:
        assert str(err)  # a message for the user
        return
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert np.isfinite(digit).all() and 0.0 <= digit.min() and digit.max() <= 1.0
    assert digit.max() == 1.0  # a digit was found, so it has full ink somewhere
    assert image.mode == "F" and all(isinstance(note, str) for note in notes)


@SETTINGS
@given(image_files())
def test_real_image_files(data):
    assert_digit_or_image_error(data)


@SETTINGS
@given(damaged_files())
def test_damaged_image_files(data):
    assert_digit_or_image_error(data)


@SETTINGS
@given(random_files())
def test_random_bytes(data):
    assert_digit_or_image_error(data)


@SETTINGS
@given(
    hnp.arrays(
        st.sampled_from([np.float32, np.uint8, np.uint16, np.int32]),
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=80),
    )
)
def test_preprocess_any_array(pixels):
    """preprocess_digit on any 2-d array Pillow accepts, NaN and infinities included."""
    try:
        digit = preprocess_digit(Image.fromarray(pixels))
    except ImageError:
        return
    assert digit.shape == (28, 28) and np.isfinite(digit).all() and 0.0 <= digit.min() and digit.max() <= 1.0
