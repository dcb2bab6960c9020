"""What the board accepts from a browser: everything a student's page sends is checked here, on the server.

Each check returns the value in the form the store keeps, or raises BoardError with a message a
student can read. Nothing is coerced: "4" or True is not a digit, a list of strings is not an image.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Collection

import numpy as np

from vae.limits import MAX_LATENT_DIM
from vae.messages import Message, UserError

IMAGE_SIDE = 28
IMAGE_PIXELS = IMAGE_SIDE * IMAGE_SIDE
BOARD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")  # what new_session_id makes, with room for longer ones
MAX_RUN_NAME = 200  # catalog run names are a root, a slash and at most 100 characters
DEFAULT_BOARD = "default"


class BoardError(UserError, ValueError):
    """A submission or a presenter action the board refuses; the message says why, for the page."""


def new_session_id() -> str:
    """A random id for one browser session: unguessable, and no name in it."""
    return secrets.token_urlsafe(16)


def check_board(board: object) -> str:
    if not isinstance(board, str) or not BOARD_NAME.fullmatch(board):
        raise BoardError(
            "board.bad_name", "a board name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return board


def check_session_id(session_id: object) -> str:
    if not isinstance(session_id, str) or not SESSION_ID.fullmatch(session_id):
        raise BoardError("board.bad_session", "this page's session id is not valid: reload the page")
    return session_id


def check_digit(digit: object) -> int:
    """An int 0-9 (numpy integers too); not a bool, a float or a string."""
    if isinstance(digit, bool | np.bool_) or not isinstance(digit, int | np.integer) or not 0 <= digit <= 9:
        raise BoardError("board.bad_digit", "say which digit you meant: a whole number from 0 to 9")
    return int(digit)


def check_run(run: object, known_runs: Collection[str]) -> str:
    if not isinstance(run, str) or len(run) > MAX_RUN_NAME or run not in known_runs:
        raise BoardError("board.unknown_run", "{run!r} is not a model this server knows", run=str(run)[:MAX_RUN_NAME])
    return run


def _numeric_array(values: object, what: Message) -> np.ndarray:
    """values as a float64 array, or BoardError: ragged lists, strings, bools and objects are refused."""
    try:
        array = np.asarray(values)
    except (ValueError, TypeError) as err:  # ragged nesting ("inhomogeneous shape"), unconvertible objects
        raise BoardError("board.not_a_list", "{what} must be a flat list of numbers", what=what) from err
    if array.dtype.kind not in "iuf":
        raise BoardError(
            "board.not_numbers", "{what} must be numbers, not {kind!r}-type values", what=what, kind=array.dtype.kind
        )
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise BoardError("board.not_finite", "{what} must be finite numbers (no NaN or infinity)", what=what)
    return array


def check_pixels(pixels: object) -> np.ndarray:
    """Exactly 784 finite values in [0, 1], as (784,) or (28, 28) -> float64 (28, 28)."""
    array = _numeric_array(pixels, Message("board.the_image", "the image"))
    if array.shape not in ((IMAGE_PIXELS,), (IMAGE_SIDE, IMAGE_SIDE)):
        raise BoardError(
            "board.image_shape", "the image must be {side}x{side} = {n} values, got shape {shape}",
            side=IMAGE_SIDE, n=IMAGE_PIXELS, shape=array.shape,
        )  # fmt: skip
    if array.min() < 0.0 or array.max() > 1.0:
        raise BoardError("board.image_range", "the image's values must lie between 0 (black) and 1 (white)")
    return array.reshape(IMAGE_SIDE, IMAGE_SIDE)


def check_code(code: object) -> tuple[np.ndarray, np.ndarray]:
    """(z_mean, z_log_var): two finite vectors of one length 1..MAX_LATENT_DIM -> float32 each."""
    if not isinstance(code, tuple | list) or len(code) != 2:
        raise BoardError("board.code_pair", "the code must be a pair (z_mean, z_log_var)")
    z_mean, z_log_var = (_numeric_array(part, Message("board.the_code", "the code")).reshape(-1) for part in code)
    if len(z_mean) != len(z_log_var) or not 1 <= len(z_mean) <= MAX_LATENT_DIM:
        raise BoardError(
            "board.code_length", "z_mean and z_log_var must have one length from 1 to {most}", most=MAX_LATENT_DIM
        )
    return z_mean.astype(np.float32), z_log_var.astype(np.float32)


def pixels_to_bytes(pixels: np.ndarray) -> bytes:
    """(28, 28) in [0, 1] -> 784 bytes. 8 bits per pixel is MNIST's own precision (its images are
    integers / 255), so the model never saw finer steps; a stored pixel is within 1/510 of the sent one."""
    return np.rint(pixels * 255.0).astype(np.uint8).tobytes()


def pixels_from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.uint8).reshape(IMAGE_SIDE, IMAGE_SIDE).astype(np.float32) / 255.0


def code_to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()  # float32: the encoder's own precision, nothing lost


def code_from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<f4").astype(np.float32)
