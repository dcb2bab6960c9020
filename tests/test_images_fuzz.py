"""Property: whatever bytes are uploaded, the result is a valid 28x28 digit in [0, 1] or an ImageError.

The strategies live in tests/upload_files.py; tests/stress/upload_fuzz.py runs many more of their
cases and measures time and memory, here a few hundred run in seconds.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from tests.upload_files import damaged_files, image_files, random_files
from vae.images import ImageError, digit_from_upload, preprocess_digit

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


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
