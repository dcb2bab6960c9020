"""The explorer: two numbers make a digit, where the test digits land, the map decoded, your own digit."""

import streamlit as st

from vae.ui import explore, frame
from vae.ui.i18n import t

st.title(t("frame.title"))
st.caption(t("frame.intro"))
info = frame.current().info
if info is None:
    st.info(t("frame.no_run"))
else:
    explore.point_panels(info)
    explore.grid_panel(info)
