"""Send to the class board: under a drawn digit (or a picture opened on the pad), the student says which digit they meant and sends it.

The page offers the choice and the button; the store checks everything again (vae.board.validate:
784 values in [0, 1], a digit 0-9, a known run) and enforces the limits (one digit every few
seconds per session, a most per session and per board), and its message is shown as it is.
The digit goes to the board in the latent space of the board's run: encoded by that run's encoder
when the student is looking at another one.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from vae import catalog
from vae.board import BoardError
from vae.ui import board, frame, loaders
from vae.ui.i18n import message, t
from vae.ui.widgets import fresh

MEANT_KEY = "board_meant"  # the pills (widgets.fresh: the page's reset empties them)
SEND_KEY = "board_send"
DIGITS = tuple(range(10))


def send(info: catalog.RunInfo, pixels: np.ndarray, code: tuple[np.ndarray, np.ndarray], meant: int) -> int:
    """Store the digit on the board; returns its id. Raises BoardError with the store's reason."""
    store = board.store()
    runs = frame.current().runs
    target = board.board_run(runs, store.run(board.BOARD))
    if target is None:
        raise BoardError(t("board.no_run"))
    if target.name != info.name:  # the board shows another run's map: its encoder places the digit there
        encoded = loaders.encode_digit(target, pixels)
        code = (encoded["mean"], encoded["log_var"])
    known = board.usable(runs)
    return store.submit(board.BOARD, board.session_id(), meant, pixels, target.name, code, known_runs=known)


@st.fragment
def send_panel(info: catalog.RunInfo, pixels: np.ndarray, code: tuple[np.ndarray, np.ndarray]) -> None:
    """Which digit did you mean? and the send button, for the own digit (pixels 28x28, code (mean, log_var)).
    A fragment of its own: picking a digit and sending rerun these few lines, not the map and the pads around
    them (tests/stress/board_load.py measures the server's CPU per digit)."""
    st.markdown(t("board.send_header"))
    meant = st.pills(t("board.meant"), DIGITS, key=fresh(MEANT_KEY), help=t("board.meant_help"))
    if st.button(t("board.send"), key=SEND_KEY, type="primary", disabled=meant is None):
        try:
            send(info, pixels, code, meant)
        except BoardError as err:  # a limit, a store that is down, a check the page should not have failed
            st.warning(t("board.refused", reason=message(err)))
        else:
            st.success(t("board.sent", digit=meant))
    if meant is None:
        st.caption(t("board.pick_first"))
