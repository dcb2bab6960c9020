"""Walk between two digits: the straight line between their codes, decoded in one batch, drawn on the map."""

from __future__ import annotations

import numpy as np
import streamlit as st

from vae import catalog, generate
from vae.io import Run
from vae.ui import own_digit, panels, point
from vae.ui.i18n import keyed, language, t
from vae.ui.widgets import fresh, show

PATH_KEY = "walk_path"  # (z_start, z_end) of the walk shown, for the map
STEPS = (5, 20, 10)  # least, most, default


CHOSEN_ONLY = ("point", "own", "picked")  # always offered, so the choices stay put as digits come and go


def endpoints(run: Run) -> dict[str, np.ndarray]:
    """What a walk can start or end at now: a typical test digit of each class, the point, your digit and
    the picked test digit when there are. Keys are stable ids; labels come from the catalogue."""
    means, labels = run.latents["mean"], run.latents["labels"]
    found = {f"digit_{d}": code[:2] for d, code in generate.typical_codes(means, labels).items()}
    found["point"] = np.array(point.here(), np.float32)
    star = st.session_state.get(own_digit.STAR_KEY)
    if star is not None:
        found["own"] = np.asarray(star["mean"][:2], np.float32)
    row = point.picked(len(means))
    if row is not None:
        found["picked"] = means[row, :2]
    return found


def label(key: str, lang: str) -> str:
    if key.startswith("digit_"):
        return t("walk.digit", lang, digit=key.removeprefix("digit_"))
    return t(f"walk.{key}", lang)


def walk_panel(info: catalog.RunInfo, run: Run) -> None:
    st.subheader(t("walk.header"))
    if run.config.latent_dim != 2:
        st.caption(t("walk.two_d_only"))
        st.session_state.pop(PATH_KEY, None)
        return
    found = endpoints(run)
    keys = [key for key in found if key.startswith("digit_")] + list(CHOSEN_ONLY)
    start_col, end_col, steps_col = st.columns([2, 2, 3])
    default_start, default_end = (
        keys.index("digit_4") if "digit_4" in found else 0,
        keys.index("digit_9") if "digit_9" in found else 1,
    )
    lang = language()  # bound now: a format_func may be called outside this script run

    def named(key: str) -> str:
        return label(key, lang)

    path = {"on_change": panels.redraw, "args": ("path",)}  # the strip here and the path on the map
    start = start_col.selectbox(
        t("walk.from"), keys, default_start, key=fresh(keyed("walk_from")), format_func=named, **path
    )
    end = end_col.selectbox(t("walk.to"), keys, default_end, key=fresh(keyed("walk_to")), format_func=named, **path)
    steps = steps_col.slider(t("walk.steps"), *STEPS[:2], STEPS[2], key="walk_steps", **path)
    panels.reads(panels.WALK, *({start, end} & set(CHOSEN_ONLY)))
    missing = [key for key in (start, end) if key not in found]
    if missing:
        st.info(t(f"walk.missing_{missing[0]}"))
        st.session_state.pop(PATH_KEY, None)
        return
    z_start, z_end = found[start], found[end]
    st.session_state[PATH_KEY] = (z_start, z_end, steps)
    strip = generate.interpolate(run.model, z_start, z_end, steps)
    show(
        st,
        np.concatenate(list(strip.reshape(-1, 28, 28)), axis=1),
        t("walk.caption", steps=steps),
        scale=4,
        width="stretch",
    )
    st.download_button(
        t("walk.download"), generate.strip_png(strip), file_name=f"walk-{start}-{end}-{steps}.png",
        mime="image/png", key="walk_download",
    )  # fmt: skip
