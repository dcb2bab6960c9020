"""The presenter view (a toggle, or ?present=1): one section at a time, as large as the screen allows.

For a hall: the sidebar hidden, text at least 24 px, teaching captions folded away (``caption``), the
explorer's sections stepped with N and P, the point moved with the arrow keys, the classifier layer
toggled with L. Shortcuts are Streamlit buttons with ``shortcut=``, so every key is also a click.
"""

from __future__ import annotations

import streamlit as st

from vae.ui import point
from vae.ui.i18n import t

PRESENT_KEY = "present"
SECTION_KEY = "_section"
SECTIONS = ("point", "own", "walk", "grid", "bound")  # the explorer's sections, in lecture order
ARROW_STEP = 0.25  # in z units: 16 presses cross the plane's +/-2 sigma core
CSS = """
<style>
  [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"] { display: none; }
  html { font-size: 24px; }
  .block-container { padding-top: 0.5rem; padding-bottom: 0.5rem; max-width: 100%; }
  h1 { font-size: 1.6rem !important; padding: 0 !important; }
  h3 { font-size: 1.3rem !important; padding: 0.2rem 0 !important; }
  .st-key-present-controls button { font-size: 14px; min-height: 0; padding: 0.1rem 0.6rem; }
  .st-key-present-controls button p { font-size: 14px; }
</style>
"""


def from_query() -> None:
    """?present=1 on a session's first run."""
    st.session_state.setdefault(PRESENT_KEY, st.query_params.get("present") == "1")


def presenting() -> bool:
    return bool(st.session_state.get(PRESENT_KEY))


def sync_query() -> None:
    if presenting():
        st.query_params["present"] = "1"
    else:
        st.query_params.pop("present", None)


def caption(text: str, where=st) -> None:
    """A teaching caption: shown on a student's screen, folded away on the projector."""
    if not presenting():
        where.caption(text)


def section() -> str:
    return SECTIONS[st.session_state.get(SECTION_KEY, 0) % len(SECTIONS)]


def step_section(by: int) -> None:
    st.session_state[SECTION_KEY] = (st.session_state.get(SECTION_KEY, 0) + by) % len(SECTIONS)


def toggle_layer() -> None:
    st.session_state["digit_map"] = not st.session_state.get("digit_map", False)


def shows(name: str) -> bool:
    """Whether the explorer draws a section now: all of them for a student, the current one on the projector."""
    return not presenting() or section() == name


def controls() -> None:
    """The presenter's keys, as a row of buttons: N/P sections, arrows move the point, L the classifier layer,
    Esc leaves the presenter view."""
    st.html(CSS)
    with st.container(horizontal=True, key="present-controls", gap="small"):
        st.button(t("present.previous"), on_click=step_section, args=(-1,), shortcut="P", key="present_prev")
        st.button(t("present.next"), on_click=step_section, args=(1,), shortcut="N", key="present_next")
        arrows = {"Left": (-ARROW_STEP, 0), "Right": (ARROW_STEP, 0), "Up": (0, ARROW_STEP), "Down": (0, -ARROW_STEP)}
        for (key, (dz1, dz2)), icon in zip(arrows.items(), "←→↑↓", strict=True):
            st.button(icon, on_click=point.nudge, args=(dz1, dz2), shortcut=key, key=f"present_{key}")
        st.button(t("present.layer"), on_click=toggle_layer, shortcut="L", key="present_layer")
        leave = {PRESENT_KEY: False}
        st.button(
            t("present.leave"), on_click=st.session_state.update, args=(leave,), shortcut="Esc", key="present_leave"
        )
