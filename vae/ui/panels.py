"""Which explorer panels a change redraws: the one rule, so a change costs only the panels that show it.

Each explorer panel is a fragment with a key (the keys below). A widget callback that changes shared
state ends with ``redraw(...)``, naming what it changed; Streamlit then reruns just the panels that
show it (``st.rerun`` with fragment keys, from a callback) instead of the fragment the widget sits in.
One drawing or picture in a hall of students thus redraws its own panel and the map, not the pad, the
walk and the bound (tests/stress/load_sessions.py --moves 0 prints the server's and the pages' CPU per
picture).

What can change:
    "heard"   the point, moved in the page (the pad already shows it)
    "moved"   the point, moved by the server (the pad must follow)
    "picked"  the test digit clicked on the map
    "own"     the own digit (drawn, or a picture opened on the pad)
    "path"    the walk's endpoints or steps (drawn on the map)

A panel that shows the point, the own digit or the picked digit only when the user chose it (the walk,
the bound) says so each time it is drawn with ``reads(panel, ...)``. Their choices are the same whether
or not there is an own or a picked digit yet, so a digit that comes or goes does not redraw them.
"""

from __future__ import annotations

import streamlit as st

from vae.ui import present

PAD, MAP, OWN, WALK, BOUND, GRID = "pad", "map", "own", "walk", "bound", "grid"
SECTION = {PAD: "point", MAP: "point", OWN: "own", WALK: "walk", BOUND: "bound", GRID: "grid"}  # vae.ui.present
# What each panel shows whatever the user chose in it. In the order they rerun: the walk before the map,
# which draws the path the walk has just stored.
ALWAYS = {
    WALK: {"path"},
    BOUND: set(),
    OWN: {"own"},
    PAD: {"moved"},
    MAP: {"heard", "moved", "picked", "own", "path"},  # the marker, the picked digit, the star, the path
    GRID: {"heard", "moved"},  # the ring on the decoded grid
}
READS_KEY = "_panel_reads"  # {panel: changes it shows because of what the user chose in it}
POINT_CHANGES = {"heard", "moved"}


def reads(panel: str, *changes: str) -> None:
    """Called by a panel as it is drawn: what it shows now depends on these changes too ("point" for both
    kinds of move, "picked", "own")."""
    expanded = set()
    for change in changes:
        expanded |= POINT_CHANGES if change == "point" else {change}
    st.session_state.setdefault(READS_KEY, {})[panel] = expanded


def affected(changed: set[str]) -> list[str]:
    """The panels that show any of ``changed``."""
    chosen = st.session_state.get(READS_KEY, {})
    return [panel for panel, shows in ALWAYS.items() if (shows | chosen.get(panel, set())) & changed]


def redraw(*changed: str) -> None:
    """From a widget callback: rerun only the panels that show what changed (those on screen now: the
    presenter view draws one section). Must be the callback's last statement: st.rerun ends it."""
    panels = [panel for panel in affected(set(changed)) if present.shows(SECTION[panel])]
    if panels:
        st.rerun(panels)
