"""Your own digit: drawn in the page or uploaded, made MNIST-like, encoded, shown as a star on the map.

A digit reaches this session as a 28x28 in [0, 1] (a drawing's pixels from the page, checked on the
server, or an upload after vae.images). ``take_digit`` encodes it and files it under STAR_KEY for
the map; it runs in the widgets' callbacks, before the fragment that draws the map runs.
Nothing of a drawing or an upload outlives the session.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from vae import catalog
from vae.io import Run
from vae.limits import MAX_UPLOAD_MB, UPLOAD_EXTENSIONS
from vae.ui import loaders, point, present
from vae.ui.i18n import t
from vae.ui.widgets import fresh, show

UPLOAD_KEY = "upload"
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
    if file is None:
        forget_digit()
        return
    result = loaders.read_upload(file.file_id, file.getvalue())
    if "error" in result:
        forget_digit()
        st.session_state[DIGIT_KEY] = {"error": result["error"], "source": "upload"}
        return
    take_digit(info, result["digit"], "upload", result["notes"])
    st.session_state[DIGIT_KEY]["original"] = result["original"]


def move_to_digit() -> None:
    """A callback: the point jumps to the own digit's code (a server move: the page follows)."""
    star = st.session_state.get(STAR_KEY)
    if star is not None:
        point.move_to(float(star["mean"][0]), float(star["mean"][1]))


def own_digit_panel(info: catalog.RunInfo, run: Run) -> None:
    st.subheader(t("own.header"))
    left, right = st.columns([1, 3], gap="large")
    with left:
        st.file_uploader(
            t("own.upload_label", mb=MAX_UPLOAD_MB), type=list(UPLOAD_EXTENSIONS), key=fresh(UPLOAD_KEY),
            max_upload_size=MAX_UPLOAD_MB, on_change=on_upload, args=(info,),
        )  # fmt: skip
        present.caption(t("own.caption"))
    result = st.session_state.get(DIGIT_KEY)
    if result is None:
        return
    with right:
        if "error" in result:
            st.error(result["error"])
            return
        for note in result["notes"]:
            st.info(note)
        a, b, c = st.columns(3)
        if "original" in result:
            show(a, result["original"], t("own.your_image"), scale=1)
        show(b, result["digit"], t("own.as_mnist"), scale=8)
        show(c, result["reconstruction"], t("own.reconstruction"), scale=8)
        (m1, m2), (s1, s2) = result["mean"][:2], np.exp(0.5 * result["log_var"][:2])
        st.markdown(t("own.code", m1=m1, m2=m2, s1=s1, s2=s2))
        st.button(t("own.move_here"), on_click=move_to_digit, key="move_to_digit")
