"""The explorer: two numbers make a digit, where the test digits land, your own digit, a walk, the map decoded."""

import streamlit as st

from vae.ui import explore, frame, present
from vae.ui.i18n import t

info = frame.current().info
if present.presenting():
    present.controls()
else:
    title, reset = st.columns([6, 1], vertical_alignment="bottom")
    title.title(t("frame.title"))
    reset.button(t("frame.reset"), on_click=explore.reset_page, key="reset", help=t("frame.reset_help"))
    st.caption(t("frame.intro"))
if info is None:
    st.info(t("frame.no_run"))
else:
    explore.point_panels(info)
    if present.shows("grid"):
        explore.grid_panel(info)
