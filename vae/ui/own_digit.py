"""Your own digit: drawn in the page or uploaded, made MNIST-like, encoded, shown as a star on the map and
on the drawing pad's plane (an upload is put on the pad, so both are drawn the same way).

A digit reaches this session as a 28x28 in [0, 1] (a drawing's pixels from the page, checked on the
server, or an upload after vae.images). ``take_digit`` encodes it and files it under STAR_KEY for
the map; it runs in the widgets' callbacks, before the fragment that draws the map runs.
Nothing of a drawing or an upload outlives the session.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from vae import catalog
from vae.drawpad import draw_pad
from vae.io import Run
from vae.limits import MAX_UPLOAD_MB, UPLOAD_EXTENSIONS, Z_LIMIT
from vae.ui import board_send, loaders, panels, point, present
from vae.ui.i18n import message, t
from vae.ui.widgets import fresh, show

UPLOAD_KEY = "upload"
DRAW_KEY = "draw"
SHOWN_KEY = "_shown_upload"  # counts uploads: the pad puts a new one on its canvas when this changes
DRAWPAD_TEXTS = ("canvas", "undo", "clear", "seen", "reconstruction", "plane", "loading", "empty")
STAR_KEY = "star"  # {"mean", "log_var"} of the own digit: the map draws it
DIGIT_KEY = "own_digit"  # {"digit": 28x28, "source": "upload" | "drawing", "notes": [...]} or {"error": ...}


def take_digit(info: catalog.RunInfo, digit: np.ndarray, source: str, notes: list[str] | None = None) -> None:
    """Encode a 28x28 and make it this session's own digit (the star on the map)."""
    code = loaders.encode_digit(info, digit)
    st.session_state[DIGIT_KEY] = code | {"source": source, "notes": notes or [], "run": info.name}
    st.session_state[STAR_KEY] = {"mean": code["mean"], "log_var": code["log_var"]}


def refresh(info: catalog.RunInfo) -> None:
    """Another run was picked: the same digit, encoded by that run's encoder."""
    result = st.session_state.get(DIGIT_KEY)
    if result is not None and "digit" in result and result["run"] != info.name:
        kept = {key: result[key] for key in ("original",) if key in result}
        take_digit(info, result["digit"], result["source"], result["notes"])
        st.session_state[DIGIT_KEY] |= kept


def forget_digit() -> None:
    st.session_state.pop(DIGIT_KEY, None)
    st.session_state.pop(STAR_KEY, None)


def on_upload(info: catalog.RunInfo) -> None:
    """The uploader's callback: a new file is read, checked and encoded; removing it forgets the digit."""
    file = st.session_state.get(fresh(UPLOAD_KEY))
    result = None if file is None else loaders.read_upload(file.file_id, file.getvalue())
    if result is None or "error" in result:
        forget_digit()
        if result is not None:
            st.session_state[DIGIT_KEY] = {"error": result["error"], "source": "upload"}
    else:
        take_digit(info, result["digit"], "upload", result["notes"])
        st.session_state[DIGIT_KEY]["original"] = result["original"]
        st.session_state[SHOWN_KEY] = st.session_state.get(SHOWN_KEY, 0) + 1  # the pad shows the new upload
    panels.redraw("own")


def move_to_digit() -> None:
    """A callback: the point jumps to the own digit's code (a server move: the page follows)."""
    star = st.session_state.get(STAR_KEY)
    if star is not None:
        point.move_to(float(star["mean"][0]), float(star["mean"][1]))
        panels.redraw("moved")


def on_drawing(info: catalog.RunInfo, digit: np.ndarray | None) -> None:
    """The pad's callback when a stroke ends: the drawing becomes the own digit; a cleared pad forgets it."""
    if digit is None:
        forget_digit()
    else:
        take_digit(info, digit, "drawing")
    panels.redraw("own")


def pad_texts() -> dict[str, str]:
    return {name: t(f"drawpad.{name}") for name in DRAWPAD_TEXTS}


def own_digit_panel(info: catalog.RunInfo, run: Run) -> None:
    """The drawing pad (left: the page shows the 28x28, the code and the reconstruction while the pen is
    down), the uploader and what the server made of the digit (right)."""
    st.subheader(t("own.header"))
    result = st.session_state.get(DIGIT_KEY)
    upload = result if result is not None and result.get("source") == "upload" and "digit" in result else None
    left, right = st.columns([3, 2], gap="large")
    with left:
        draw_pad(
            run.model, latents=run.latents["mean"], labels=run.latents["labels"], key=fresh(DRAW_KEY),
            extent=Z_LIMIT, on_change=lambda digit: on_drawing(info, digit), texts=pad_texts(), message=message,
            shown=None if upload is None else upload["digit"], shown_version=st.session_state.get(SHOWN_KEY, 0),
        )  # fmt: skip
        present.caption(t("own.draw_caption"))
    with right:
        st.file_uploader(
            t("own.upload_label", mb=MAX_UPLOAD_MB), type=list(UPLOAD_EXTENSIONS), key=fresh(UPLOAD_KEY),
            max_upload_size=MAX_UPLOAD_MB, on_change=on_upload, args=(info,),
        )  # fmt: skip
        present.caption(t("own.caption"))
        if result is None:
            return
        if "error" in result:
            st.error(message(result["error"]))
            return
        for note in result["notes"]:
            st.info(message(note))
        if "original" in result:
            show(st, result["original"], t("own.your_image"), scale=1)
        (m1, m2), (s1, s2) = result["mean"][:2], np.exp(0.5 * result["log_var"][:2])
        st.markdown(t("own.code", m1=m1, m2=m2, s1=s1, s2=s2))
        st.button(t("own.move_here"), on_click=move_to_digit, key="move_to_digit")
        board_send.send_panel(info, result["digit"], (result["mean"], result["log_var"]))
