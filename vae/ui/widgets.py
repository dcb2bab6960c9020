"""Small display helpers shared by the panels."""

from __future__ import annotations

import base64

import numpy as np
import streamlit as st

from vae import generate

GENERATION_KEY = "_generation"  # bumped by the page's reset: widgets keyed with fresh() start empty
DIGIT_SCALE = 10  # 28 px -> 280 px, nearest neighbour: every pixel of the model visible


def show(where, image: np.ndarray, caption: str = "", scale: int = DIGIT_SCALE, width: int | str = "content") -> None:
    """A [0, 1] grayscale image as PNG with crisp pixels (st.image would re-encode it as JPEG), sent inline
    as a data: URL: a media file would cost the browser a second request and the server a copy per rerun."""
    png = base64.b64encode(generate.to_png(image, scale=scale)).decode()
    where.image(f"data:image/png;base64,{png}", caption=caption, width=width)


def fresh(name: str) -> str:
    """The key of a widget the reset empties (an uploader, the map's selection, the drawing): Streamlit cannot
    clear their values, so the reset gives them new keys."""
    return f"{name}-{st.session_state.get(GENERATION_KEY, 0)}"


def renew_widgets() -> None:
    st.session_state[GENERATION_KEY] = st.session_state.get(GENERATION_KEY, 0) + 1
