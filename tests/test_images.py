"""vae.images: a user's picture becomes an MNIST-style digit, and a hostile file becomes a clear ImageError."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.helpers import draw_digit
from tests.upload_files import exif_rotated_jpeg, nasty_corpus
from vae.images import ImageError, digit_from_upload, preprocess_digit


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
