"""The drawing pad: draw a digit in the page and watch its 28x28, its code and its reconstruction while the pen is down.

A server round trip per stroke update would cost far more than a frame (and a hall of students
share one server), so the preprocessing of vae.images (steps 1-7 of its specification) and the
encoder and decoder run in the page (vae/static/drawpad.mjs, digit.mjs, network.mjs). The
networks travel once per session (vae.packing); Python hears the drawing's 28x28 when a stroke
ends, on Undo and on Clear, checks it here and keeps it in session state only:

    digit = draw_pad(run.model, latents=run.latents["mean"], labels=run.latents["labels"],
                     key="draw", on_change=take)      # -> (28, 28) float32 in [0, 1], or None

``on_change(digit)`` runs before the rerun, like a widget callback (it may set st.session_state),
with the checked 28x28, or None when the pad was cleared. Its code and reconstruction are
``model.encode(digit.reshape(1, -1))`` and ``model.decode(mean)``.

A picture opened on the pad (a button, or a file dropped on it) takes the same road: the browser
decodes it, the page applies vae.images' whole specification (vae/static/photo.mjs, with the
numbers of vae.images.PHOTO and RULES and the limits of vae.limits, shipped from here), and Python
hears its 28x28 like a drawing's. The server never decodes the file, so no upload can reach an image
parser on it; what arrives is checked as a drawing is (``digit_from_page``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import streamlit as st

from vae.config import IMAGE_SIZE, N_PIXELS
from vae.images import PHOTO, RULES
from vae.limits import MAX_UPLOAD_BYTES, MAX_UPLOAD_PIXELS, UPLOAD_EXTENSIONS, UPLOAD_FORMATS
from vae.messages import UserError
from vae.packing import bundle, packed_network, ship
from vae.ui.i18n import t

JS = bundle("drawpad.mjs")
CSS = """
.drawpad { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; color: var(--st-text-color); }
.drawpad canvas { display: block; border-radius: 4px; }
.drawpad .draw { background: #000; touch-action: none; cursor: crosshair; }
.drawpad .buttons { display: flex; gap: 0.5rem; margin-top: 0.5rem; }
.drawpad button { font: inherit; padding: 0.25rem 0.9rem; border-radius: 0.5rem; cursor: pointer;
  border: 1px solid var(--st-border-color, #ccc); background: var(--st-secondary-background-color, #f0f2f6);
  color: inherit; }
.drawpad .views { display: flex; flex-direction: column; gap: 0.5rem; }
@media (max-width: 640px) { .drawpad .views { flex-direction: row; } }  /* a phone: both views under the pad */
.drawpad figure { margin: 0; width: 100px; }
.drawpad .seen, .drawpad .reconstruction { background: #000; }
.drawpad figcaption, .drawpad .readout { font-size: 0.85rem; margin-top: 0.25rem; }
.drawpad .readout { font-family: var(--st-code-font, monospace); }
.drawpad .note { font-size: 0.85rem; margin-top: 0.5rem; max-width: 280px; }
.drawpad .note.refused { color: var(--st-red-color, #d33); }
"""
TEXTS = {
    "canvas": "draw a digit",  # the canvas's accessible name
    "undo": "Undo",
    "clear": "Clear",
    "seen": "as the model sees it (28 x 28)",
    "reconstruction": "its reconstruction",
    "plane": "latent plane: your digit's code, a star with its 1-sigma ellipse",
    "loading": "loading the model…",
    "empty": "draw a digit: its code appears here",
    "open": "Open an image",
}
# What the page itself may have to say about a picture, by message key: vae.images raises the same keys with
# these texts (the catalogue's "errors.images" section), with {placeholders} the page fills in.
PICTURE_MESSAGES = ("images.empty", "images.too_large", "images.too_many_pixels", "images.unreadable",
                    "images.no_digit", "images.transparent", "images.animated")  # fmt: skip
# The canvas the model reads, whatever the pad's size on screen and the screen's pixel ratio: the work per
# frame is fixed and small (a digit across most of the pad is ~100 px tall: 5 source pixels per output pixel).
INK_SIDE = 140
# The pen, in those pixels: a digit drawn on the pad gets about the ink of an MNIST digit
# (benchmarks/preprocess_robustness.py prints both).
PEN = 14
_component = st.components.v2.component("vae.draw_pad", js=JS, css=CSS)


class DrawingError(UserError, ValueError):
    """What the page sent is not a 28x28 digit; str(err) says why, for the user (its key: in their language)."""


def digit_from_page(value) -> np.ndarray | None:
    """The page's drawing -> (28, 28) float32 in [0, 1]; None for a cleared pad. The page is untrusted:
    anything but exactly 784 finite numbers in [0, 1] raises DrawingError."""
    if value is None:
        return None
    if not isinstance(value, list | tuple) or len(value) != N_PIXELS:
        size = len(value) if isinstance(value, list | tuple) else type(value).__name__
        raise DrawingError(
            "drawpad.wrong_size", "The drawing did not arrive as {n} pixel values (got {size}); it was ignored.",
            n=N_PIXELS, size=size,
        )  # fmt: skip
    if not all(type(v) in (int, float) and math.isfinite(v) and 0 <= v <= 1 for v in value):  # bool is no number here
        raise DrawingError(
            "drawpad.out_of_range", "The drawing arrived with pixel values outside 0..1; it was ignored."
        )
    return np.asarray(value, np.float32).reshape(IMAGE_SIZE, IMAGE_SIZE)


def draw_pad(
    model,
    *,
    latents: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    key: str = "draw_pad",
    extent: float = 3.0,
    on_change: Callable[[np.ndarray | None], None] | None = None,
    size: int = 280,
    texts: dict[str, str] | None = None,
    message: Callable[[DrawingError], str] = str,
) -> np.ndarray | None:
    """Render the pad; return the last drawing Python heard, checked: (28, 28) float32 in [0, 1], or None.

    model: a vae.inference.NumpyVAE or a Keras vae.model.VAE (any latent_dim; the plane shows z1, z2).
    latents/labels: the test set's latent means and digit labels, drawn faintly behind the code.
    on_change(digit): called when a stroke ends, a picture is opened, on Undo or Clear (None), before the rerun.
    size: the pad's and the plane's side in CSS pixels; extent: the plane covers [-extent, extent]^2.
    texts: replacements for TEXTS (translations); "canvas" must keep the word "draw" for screen readers; and
        the templates of PICTURE_MESSAGES (English from vae.ui.i18n's catalogue unless given).
    message: the text shown for a drawing refused on the server (a translation of the DrawingError).
    """
    encoder = packed_network(model, "encoder")
    decoder = packed_network(model, "decoder", latents, labels)
    digit_key, error_key = f"{key}-digit", f"{key}-error"  # this session's state only

    def changed() -> None:
        try:
            digit = digit_from_page(st.session_state[key]["digit"])
        except DrawingError as err:
            st.session_state[error_key] = message(err)
            return
        st.session_state[digit_key] = digit
        if on_change is not None:
            on_change(digit)

    data = {
        "encoder": encoder[0],
        "decoder": decoder[0],
        "rules": RULES.to_json(),
        "photo": PHOTO.to_json(),
        "limits": {
            "maxBytes": MAX_UPLOAD_BYTES,
            "maxPixels": MAX_UPLOAD_PIXELS,
            "formats": list(UPLOAD_FORMATS),
            "accept": ",".join(f".{extension}" for extension in UPLOAD_EXTENSIONS),
        },  # fmt: skip
        "ink": {"side": INK_SIDE, "pen": PEN},
        "extent": float(extent),
        "size": int(size),
        "texts": TEXTS | picture_messages() | (texts or {}),
    }
    with st.container(gap=None):
        result = _component(key=key, data=data, on_digit_change=changed, on_missing_change=lambda: None)
        ship(_component, {f"{key}-encoder": encoder, f"{key}-decoder": decoder}, missing=result.missing)
        if error_key in st.session_state:
            st.warning(st.session_state.pop(error_key))
    return st.session_state.get(digit_key)


def picture_messages(lang: str = "en") -> dict[str, str]:
    """The catalogue's templates of PICTURE_MESSAGES in lang, unformatted: the page fills them in."""
    return {key: t(f"errors.{key}", lang=lang) for key in PICTURE_MESSAGES}
