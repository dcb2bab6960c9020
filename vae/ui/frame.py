"""What every page shares, set up by app.py on each run: the language, the runs, the picked run.

app.py calls ``setup()`` before ``st.navigation(...).run()``; a page calls ``current()`` for what the
frame found, so no page lists or opens runs itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from vae import catalog, presenter
from vae.io import RunError
from vae.ui import i18n, loaders, point, present, sidebar
from vae.ui import presenter as presenter_ui
from vae.ui.i18n import message, t

# Streamlit's default page padding (6rem on top, 5rem at the sides) would push the latent plane below the
# fold of a 1280x720 projector; tests/e2e/test_layout.py checks the digit and the plane are both on screen.
LAYOUT_CSS = """<style>
  .block-container { padding: 3rem 2rem 2rem 2rem; }
  header[data-testid="stHeader"] { background: transparent; height: 2.5rem; }
  h1 { font-size: 2rem !important; padding-top: 0 !important; }
</style>"""
FRAME_KEY = "_frame"  # underscore: no widget has this key, so no page can send a value for it


@dataclass
class Frame:
    runs: list[catalog.RunInfo]
    info: catalog.RunInfo | None  # the picked run, if it could be opened


def choose_language() -> None:
    """?lang= or the browser's language on the first run of a session, the switch after that."""
    if i18n.STATE_KEY not in st.session_state:
        lang, note = i18n.pick_language(st.query_params.get("lang"), st.context.locale)
        st.session_state[i18n.STATE_KEY] = lang
        if note:
            st.toast(note)
    st.sidebar.selectbox("Language / 语言", list(i18n.LANGUAGES), key=i18n.STATE_KEY, format_func=i18n.LANGUAGES.get)
    st.query_params["lang"] = st.session_state[i18n.STATE_KEY]


def first_visit() -> None:
    """A link that reopens a state: the point from ?z1=&z2=, once per session (later moves are the user's)."""
    if st.session_state.get("_url_read"):
        return
    st.session_state["_url_read"] = True
    if not point.from_query(st.query_params):
        st.toast(t("frame.bad_point"))


def setup() -> Frame:
    presenter.announce()  # beyond loopback, the first run makes the presenter key and prints it on the terminal
    choose_language()
    st.set_page_config(page_title=t("frame.page_title"), page_icon=":material/scatter_plot:", layout="wide")
    st.html(LAYOUT_CSS)
    runs = catalog.list_runs()
    info = sidebar.run_picker(runs)
    if info is not None:
        st.query_params["run"] = info.name
        try:
            loaders.run_of(info)
        except RunError as err:
            st.error(t("frame.cannot_open", name=info.name, error=message(err)))
            info = None
    if info is not None:
        sidebar.run_facts(info)
    first_visit()
    st.query_params.update({key: f"{value:.2f}" for key, value in zip(point.Z_KEYS, point.here(), strict=True)})
    present.from_query()
    st.sidebar.toggle(t("present.toggle"), key=present.PRESENT_KEY, help=t("present.help"))
    present.sync_query()
    presenter_ui.key_field()
    frame = st.session_state[FRAME_KEY] = Frame(runs, info)
    return frame


def current() -> Frame:
    return st.session_state[FRAME_KEY]
