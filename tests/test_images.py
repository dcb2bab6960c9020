"""vae.images: a user's picture becomes an MNIST-style digit, and a hostile file becomes a clear ImageError."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.helpers import (
    PHOTO_FLAWS,
    aligned_difference,
    arc,
    digit_photo,
    draw_digit,
    pad_drawing,
)
from tests.upload_files import exif_rotated_jpeg, nasty_corpus
from vae.images import ImageError, area_weights, digit_from_upload, preprocess_digit

# Mean |difference| at the best one-pixel alignment between a flawed photo's 28x28 and the clean one's.
# For scale: a digit against itself shifted by one pixel differs by about 0.1 (benchmarks/preprocess_robustness.py).
PHOTO_TOLERANCE = 0.03


def assert_mnist_like(digit: np.ndarray) -> None:
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert np.isfinite(digit).all() and digit.min() >= 0.0 and digit.max() <= 1.0


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
    pixels[1, [0, 1, 2, 4997, 4998, 4999]] = 1.0  # the bounding box spans 5000 pixels with nothing between
    assert_mnist_like(preprocess_digit(Image.fromarray(pixels, mode="F")))


# ------------------------------------------------------------------ the specification's exact rules


def test_area_averaging_gives_each_output_pixel_the_mean_of_its_share():
    np.testing.assert_array_equal(area_weights(3, 2), [[2 / 3, 1 / 3, 0], [0, 1 / 3, 2 / 3]])
    np.testing.assert_array_equal(area_weights(2, 4), [[1, 0], [1, 0], [0, 1], [0, 1]])  # enlarging repeats
    assert np.allclose(area_weights(97, 20).sum(axis=1), 1.0)  # a mean: uniform ink stays uniform


def as_image(ink: np.ndarray) -> Image.Image:
    return Image.fromarray(np.asarray(ink, np.float32), mode="F")


def test_the_shorter_side_rounds_half_up_and_a_flat_block_stays_flat():
    block = np.zeros((60, 60), np.float32)
    block[10:50, 20:25] = 1.0  # 40 x 5: the width becomes 5 * 20 / 40 = 2.5 -> 3 (round() would give 2)
    digit = preprocess_digit(as_image(block))
    rows, cols = np.nonzero(digit)
    assert (rows.max() - rows.min() + 1, cols.max() - cols.min() + 1) == (20, 3)
    assert digit[digit > 0].min() == 1.0  # area averaging of a flat block: no ringing, no soft edge


def test_a_centre_of_mass_halfway_between_pixels_rounds_up():
    bar = np.zeros((100, 100), np.float32)
    bar[10:90, 45:55] = 1.0  # fitted to 20 x 3: its centre of mass is at row 9.5, column 1
    rows, cols = np.nonzero(preprocess_digit(as_image(bar)))
    assert (rows.min(), cols.min()) == (5, 13)  # 14 - 9.5 = 4.5 -> 5 (round() would give 4); 14 - 1 = 13


# ------------------------------------------------------------------ the digit's parts


def digit_box(digit: np.ndarray) -> tuple[int, int]:
    rows, cols = np.nonzero(digit > 0.05)
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1


def test_a_stray_tap_far_from_the_digit_is_dropped():
    three = [arc(140, 95, 50, 45, -160, 90), arc(140, 185, 55, 50, -90, 160)]
    clean = preprocess_digit(as_image(pad_drawing(three) / 255))
    tapped = preprocess_digit(as_image(pad_drawing([*three, [(25, 260)]]) / 255))
    np.testing.assert_array_equal(tapped, clean)


def test_the_pieces_of_a_digit_drawn_apart_are_kept():
    body = [(110, 50), (100, 130), *arc(140, 170, 50, 50, -120, 140)]
    five = preprocess_digit(as_image(pad_drawing([body, [(118, 45), (200, 45)]]) / 255))
    body_only = preprocess_digit(as_image(pad_drawing([body]) / 255))
    assert five.sum() > body_only.sum() + 5  # the bar is there
    four = preprocess_digit(as_image(pad_drawing([[(150, 40), (70, 160), (200, 160)], [(180, 100), (180, 250)]]) / 255))
    assert digit_box(four)[0] == 20 and four[18:24].sum() > 5  # the upright reaches below the first stroke


# ------------------------------------------------------------------ photos real people take

SOURCES = {  # digits as a pen draws them, white on black
    "7": pad_drawing([[(80, 60), (200, 60), (120, 230)]]),
    "0": pad_drawing([arc(140, 140, 60, 95)]),
    "2": pad_drawing([[*arc(140, 95, 55, 50, 180, 380), (80, 230), (210, 230)]]),
}


@pytest.mark.parametrize("side", [160, 400, 1000])
@pytest.mark.parametrize("flaw", sorted(PHOTO_FLAWS))
def test_a_flawed_photo_gives_the_clean_photos_digit(flaw, side):
    for name, source in SOURCES.items():
        photo, box = digit_photo(source, side)
        clean = preprocess_digit(as_image(photo))
        flawed = preprocess_digit(as_image(np.clip(PHOTO_FLAWS[flaw](photo, box), 0, 1)))
        difference = aligned_difference(flawed, clean)
        assert difference <= PHOTO_TOLERANCE, f"a {name} at {side} px with {flaw}: {difference:.3f}"


def test_a_digit_on_unevenly_lit_dark_paper_is_found_too():
    photo, _ = digit_photo(SOURCES["7"], 300)
    chalk = 1.0 - photo  # light ink on dark paper
    clean = preprocess_digit(as_image(chalk))
    lit = preprocess_digit(as_image(chalk + 0.45 * np.indices(chalk.shape)[1] / chalk.shape[1]))
    assert aligned_difference(lit, clean) <= PHOTO_TOLERANCE


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
