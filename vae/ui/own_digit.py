"""Your own digit: drawn in the page or opened there as a picture, made MNIST-like and encoded in the page,
then heard here as a 28x28: the star on the map, "move the point to my digit", the class board.

A digit reaches this session only as a 28x28 in [0, 1] from the drawing pad (vae.drawpad checks it):
a picture is decoded and preprocessed by the browser (vae/static/photo.mjs), so the server never
parses an image. ``take_digit`` encodes it and files it under STAR_KEY for the map; it runs in the
pad's callback, before the fragment that draws the map runs. Nothing of a drawing or a picture
outlives the session.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from vae import catalog
from vae.drawpad import draw_pad, picture_messages
from vae.io import Run
from vae.limits import MAX_UPLOAD_MB, Z_LIMIT
from vae.ui import board_send, loaders, panels, point, present
from vae.ui.i18n import language, message, t
from vae.ui.widgets import fresh

DRAW_KEY = "draw"
DRAWPAD_TEXTS = ("canvas", "undo", "clear", "open", "seen", "reconstruction", "plane", "loading", "empty")
STAR_KEY = "star"  # {"mean", "log_var"} of the own digit: the map draws it
DIGIT_KEY = "own_digit"  # {"digit": 28x28, "mean", "log_var", "reconstruction", "run"}


def take_digit(info: catalog.RunInfo, digit: np.ndarray) -> None:
    """Encode a 28x28 and make it this session's own digit (the star on the map)."""
    code = loaders.encode_digit(info, digit)
    st.session_state[DIGIT_KEY] = code | {"run": info.name}
    st.session_state[STAR_KEY] = {"mean": code["mean"], "log_var": code["log_var"]}


def refresh(info: catalog.RunInfo) -> None:
    """Another run was picked: the same digit, encoded by that run's encoder."""
    result = st.session_state.get(DIGIT_KEY)
    if result is not None and result["run"] != info.name:
        take_digit(info, result["digit"])


def forget_digit() -> None:
    st.session_state.pop(DIGIT_KEY, None)
    st.session_state.pop(STAR_KEY, None)


def move_to_digit() -> None:
    """A callback: the point jumps to the own digit's code (a server move: the page follows)."""
    star = st.session_state.get(STAR_KEY)
    if star is not None:
        point.move_to(float(star["mean"][0]), float(star["mean"][1]))
        panels.redraw("moved")


def on_drawing(info: catalog.RunInfo, digit: np.ndarray | None) -> None:
    """The pad's callback when a stroke ends or a picture is opened: it becomes the own digit; a cleared pad
    forgets it."""
    if digit is None:
        forget_digit()
    else:
        take_digit(info, digit)
    panels.redraw("own")


def pad_texts() -> dict[str, str]:
    return {name: t(f"drawpad.{name}") for name in DRAWPAD_TEXTS} | picture_messages(language())


def own_digit_panel(info: catalog.RunInfo, run: Run) -> None:
    """The drawing pad (left: the page shows the 28x28, the code and the reconstruction while the pen is
    down, or of a picture opened on it) and what the server heard (right)."""
    st.subheader(t("own.header"))
    left, right = st.columns([3, 2], gap="large")
    with left:
        draw_pad(
            run.model, latents=run.latents["mean"], labels=run.latents["labels"], key=fresh(DRAW_KEY),
            extent=Z_LIMIT, on_change=lambda digit: on_drawing(info, digit), texts=pad_texts(), message=message,
        )  # fmt: skip
        present.caption(t("own.draw_caption"))
    with right:
        present.caption(t("own.caption", mb=MAX_UPLOAD_MB))
        result = st.session_state.get(DIGIT_KEY)
        if result is None:
            return
        (m1, m2), (s1, s2) = result["mean"][:2], np.exp(0.5 * result["log_var"][:2])
        st.markdown(t("own.code", m1=m1, m2=m2, s1=s1, s2=s2))
        st.button(t("own.move_here"), on_click=move_to_digit, key="move_to_digit")
        board_send.send_panel(info, result["digit"], (result["mean"], result["log_var"]))
