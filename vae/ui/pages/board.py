"""The class board: every digit the hall sent, live on the board run's map; the presenter's controls above it."""

import streamlit as st

from vae.ui import board_view, frame, present
from vae.ui.i18n import t

runs = frame.current().runs
st.title(t("board.title"))
present.caption(t("board.intro"))
board_view.controls(runs)
board_view.live_panel(runs)
